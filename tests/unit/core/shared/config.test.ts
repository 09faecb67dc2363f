import { describe, expect, it } from 'vitest';
import { parseHiddenSizes, resolveRunConfig } from '@core/shared/config';

describe('run config', () => {
  it('fills the defaults of the reference notebook: 784-512-256-10, 50 epochs, batch 128, Adam 0.001 (0.9, 0.999, 1e-8), no recipes', () => {
    expect(resolveRunConfig()).toEqual({
      hiddenSizes: [512, 256],
      epochs: 50,
      batchSize: 128,
      learningRate: 0.001,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      seed: 1,
      validationFraction: 0,
      limit: 0,
      threads: 0,
      schedule: 'constant',
      warmupEpochs: 0,
      stepEpochs: 10,
      stepFactor: 0.5,
      weightDecay: 0,
      dropout: 0,
      shiftPixels: 0,
      flip: false,
      patience: 0,
      restoreBest: false,
      labelSmoothing: 0,
    });
  });

  it.each([
    [{ epochs: -1 }, /epochs must be between 1 and/],
    [{ epochs: 2.5 }, /epochs must be a whole number, got 2.5/],
    [{ batchSize: 0 }, /batch size must be between 1 and/],
    [{ learningRate: 0 }, /learning rate must be greater than 0/],
    [{ learningRate: Number.NaN }, /learning rate must be a number/],
    [{ validationFraction: 1 }, /validation split must be at most 0.9/],
    [{ schedule: 'linear' }, /learning-rate schedule must be one of constant, step, cosine, got "linear"/],
    [{ dropout: 0.95 }, /dropout must be at most 0.9/],
    [{ shiftPixels: 5 }, /shift pixels must be between 0 and 4/],
    [{ flip: 'yes' }, /flip must be true or false/],
    [{ labelSmoothing: -0.1 }, /label smoothing must be at least 0/],
    [{ patience: 3 }, /patience needs a validation split/],
    [{ restoreBest: true }, /restore best needs a validation split/],
    [
      { schedule: 'cosine', epochs: 5, warmupEpochs: 5 },
      /warm-up epochs must be fewer than the epochs \(5\) for the cosine schedule/,
    ],
    [{ stepFactor: 0 }, /step-decay factor must be greater than 0/],
    [{ hiddenSizes: [0] }, /hidden layer sizes must be between 1 and 4096, got 0/],
    [{ seed: -1 }, /seed must be between 0 and/],
    [{ unknown: 1 }, /unknown is not a known setting/],
    [{ toString: 1 }, /toString is not a known setting/],
    [JSON.parse('{"__proto__": {"epochs": 3}}'), /__proto__ is not a known setting/],
  ])('rejects %j', (partial, message) => {
    expect(() => resolveRunConfig(partial as Record<string, unknown>)).toThrow(message);
  });

  it.each([
    [{ epochs: { n: 1 } }, 'epochs must be a whole number, got an object'],
    [{ learningRate: [0.1] }, 'learning rate must be a number, got [0.1]'],
    [{ hiddenSizes: [[64]] }, 'hidden layer sizes must be a whole number, got [64]'],
    [{ hiddenSizes: { 0: 64 } }, 'hidden layer sizes must be a list of layer sizes like 512,256'],
    [{ seed: null }, 'seed must be a whole number, got null'],
    [{ batchSize: 'x'.repeat(100) }, `batch size must be a whole number, got "${'x'.repeat(40)}…"`],
    [{ 'line\nbreak': 1 }, '"line\\nbreak" is not a known setting'],
  ])('describes the odd value of %j briefly', (partial, message) => {
    let error: unknown;
    try {
      resolveRunConfig(partial as Record<string, unknown>);
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toBe(message);
  });

  it('parses hidden sizes', () => {
    expect(parseHiddenSizes('512, 256')).toEqual([512, 256]);
    expect(parseHiddenSizes('none')).toEqual([]);
    expect(() => parseHiddenSizes('512,,256')).toThrow(/comma-separated whole numbers/);
  });
});
