import { describe, expect, it } from 'vitest';
import { initParameters, mlpShape } from '@core/shared/mlp';
import { inspectImage } from '@core/shared/insight/inspect';
import { forward, softmax } from '@core/model/reference';
import { Random } from '@core/shared/random';

describe('one image through the network', () => {
  it('matches the float64 reference: every hidden activation and every probability', () => {
    const parameters = initParameters(mlpShape([40, 24]), 5);
    // Biases of both signs, so ReLU cuts some units off.
    const rng = Random.fromSeed(9, 'test');
    for (const b of parameters.biases) for (let j = 0; j < b.length; j++) b[j] = rng.nextNormal() * 0.3;
    const pixels = new Uint8Array(784);
    for (let i = 0; i < 784; i++) pixels[i] = i % 3 === 0 ? 0 : rng.nextInt(256);
    const got = inspectImage(parameters, pixels);
    const reference = forward(
      parameters,
      Float64Array.from(pixels, (p) => p / 255),
      1,
    );
    expect(got.hidden).toHaveLength(2);
    for (let l = 0; l < 2; l++) {
      expect(got.hidden[l]).toHaveLength(reference[l + 1].length);
      reference[l + 1].forEach((value, j) => expect(got.hidden[l][j]).toBeCloseTo(value, 5));
    }
    expect(got.hidden[0].some((a) => a === 0) && got.hidden[0].some((a) => a > 0)).toBe(true);
    const expected = softmax(reference[3]);
    expected.forEach((p, c) => expect(got.probabilities[c]).toBeCloseTo(p, 10));
  });

  it('gives a blank image the biases’ answer and refuses a wrong size', () => {
    const parameters = initParameters(mlpShape([8]), 1);
    parameters.biases[1][3] = Math.log(9); // with zero biases elsewhere: class 3 gets 9/(9+9) = 0.5
    const blank = inspectImage(parameters, new Uint8Array(784));
    expect(blank.hidden[0].every((a) => a === 0)).toBe(true);
    expect(blank.probabilities[3]).toBeCloseTo(0.5, 7); // ln 9 rounded to float32
    expect(blank.probabilities[0]).toBeCloseTo(0.5 / 9, 7);
    expect(() => inspectImage(parameters, new Uint8Array(100))).toThrow('an image has 784 pixels, got 100');
  });
});
