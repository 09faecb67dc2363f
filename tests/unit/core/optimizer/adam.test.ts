import { describe, expect, it } from 'vitest';
import { adamScalars, adamUpdate } from '@core/optimizer/adam';

const settings = { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

describe('Adam', () => {
  it('matches two steps computed by hand', () => {
    const param = Float32Array.of(1);
    const m = new Float32Array(1);
    const v = new Float32Array(1);
    // Step 1, g = 0.5: m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25, θ = 1 − 0.001·0.5/(0.5 + 1e-8) = 0.999.
    adamUpdate(param, [0.5], m, v, adamScalars(settings, 1));
    expect(m[0]).toBeCloseTo(0.05, 7);
    expect(v[0]).toBeCloseTo(0.00025, 9);
    expect(param[0]).toBeCloseTo(0.999, 6);
    // Step 2, g = −0.25: m = 0.02, v = 0.00031225, m̂ = 0.02/0.19, v̂ = 0.00031225/0.001999,
    // θ = 0.999 − 0.001·0.1052632/(0.3952253 + 1e-8) = 0.9987337.
    adamUpdate(param, [-0.25], m, v, adamScalars(settings, 2));
    expect(m[0]).toBeCloseTo(0.02, 7);
    expect(v[0]).toBeCloseTo(0.00031225, 9);
    expect(param[0]).toBeCloseTo(0.9987337, 6);
  });

  it('moves each parameter by about the learning rate on the first step, whatever the gradient scale', () => {
    const param = Float32Array.of(0, 0, 0);
    adamUpdate(param, [1e-6, -3, 1000], new Float32Array(3), new Float32Array(3), adamScalars(settings, 1));
    expect(param[0]).toBeCloseTo(-0.001 * (1e-6 / (1e-6 + 1e-8)), 6);
    expect(param[1]).toBeCloseTo(0.001, 6);
    expect(param[2]).toBeCloseTo(-0.001, 6);
  });

  it('rejects a step count below 1', () => {
    expect(() => adamScalars(settings, 0)).toThrow(RangeError);
  });
});
