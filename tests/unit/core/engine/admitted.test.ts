/**
 * Every network the settings admit trains, evaluates and predicts, as long as its engine fits in memory:
 * shapes drawn at the edges of what the validator admits (1 and 4096 units, a tile's 28 ± 1, 0 to 8 hidden
 * layers, batch sizes 1 to 65536, 1 to 3 threads, each kind of kernels), each given one training step, an
 * evaluation and a prediction of a few synthetic images: finite numbers throughout and, for the smaller
 * networks, the float64 reference's gradients and probabilities. Also the two the issue named: hidden
 * 4096,4096, and a weights-only PyTorch state dict of 784-10000-10 (wider than the settings admit) run as
 * `fmnist predict` runs it; and the largest admitted network that fits, 8 layers of 4096.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '@core/checkpoint/checkpoint';
import { encodeSafetensors } from '@core/checkpoint/safetensors';
import { LIMITS, resolveRunConfig } from '@core/shared/config';
import type { Dataset, LabelledDataset } from '@core/shared/dataset';
import { detectWasmFeatures, openEngine, selectBackend } from '@core/engine/backends';
import { Engine, type KernelChoice } from '@core/engine/engine';
import { engineMemoryBytes, MAX_ENGINE_BYTES } from '@core/engine/memory';
import { layerSizes, type MlpParameters, type MlpShape, mlpShape, parameterCount } from '@core/shared/mlp';
import { forward, costAndGradients, softmax } from '@core/model/reference';
import { denseInputs, randomDataset } from '../../../helpers/data';
import { maxRelativeError } from '../../../helpers/numeric';

const features = detectWasmFeatures();
const settings = { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
/** The edges: one unit, a tile (28) and its neighbours, the 2048, the most the settings admit and one less. */
const UNITS = [1, 2, 27, 28, 29, 100, 2048, 4095, 4096];
const BATCH_SIZES = [1, 2, 127, 128, 4096, 65536];
const KERNELS: KernelChoice[] = features.simd ? ['auto', 'wasm', 'typescript'] : ['typescript'];
/** Drawn networks stay below this (two layers of 4096 in a row at most) so that each run takes about a second. */
const MOST_PARAMETERS = 20_000_000;
/** Below this the float64 reference checks the numbers too (it is slow: plain loops in float64). */
const REFERENCE_PARAMETERS = 400_000;
const TRAIN_IMAGES = 6;
const PREDICT_IMAGES = 3;

interface Case {
  hidden: number[];
  batchSize: number;
  threads: number;
  kernels: KernelChoice;
}

/**
 * Weights of He's variance 2/fan-in, uniform, from a multiplicative hash of their index and the layer; zero
 * biases. As good a start as initParameters's normal draws for these checks, and twenty times faster to make
 * for the 118 million weights of 8 layers of 4096.
 */
function hashedWeights(inputs: number, outputs: number, salt: number): Float32Array {
  const weights = new Float32Array(inputs * outputs);
  const range = Math.sqrt(24 / inputs);
  for (let i = 0; i < weights.length; i++)
    weights[i] = ((Math.imul(i + salt, 2654435761) >>> 0) / 2 ** 32 - 0.5) * range;
  return weights;
}

function hashedParameters(shape: MlpShape, seed: number): MlpParameters {
  const sizes = layerSizes(shape);
  const weights = sizes.slice(1).map((outputs, l) => hashedWeights(sizes[l], outputs, seed * 7919 + l * 104729));
  return { shape, weights, biases: sizes.slice(1).map((outputs) => new Float32Array(outputs)) };
}

const fits = (c: Case): boolean =>
  engineMemoryBytes(mlpShape(c.hidden), c.batchSize, c.threads, [TRAIN_IMAGES, PREDICT_IMAGES]) <= MAX_ENGINE_BYTES;

/** Probabilities of each row: finite, between 0 and 1, summing to 1. */
function expectDistributions(probabilities: Float32Array, rows: number): void {
  expect(probabilities.length).toBe(rows * 10);
  for (let r = 0; r < rows; r++) {
    const row = probabilities.subarray(r * 10, (r + 1) * 10);
    expect(row.every((p) => Number.isFinite(p) && p >= 0 && p <= 1)).toBe(true);
    expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  }
}

/** The reference's probabilities for the images of a data set under the given parameters. */
function expectReferenceProbabilities(
  params: MlpParameters,
  images: LabelledDataset,
  probabilities: Float32Array,
  rows: number,
): void {
  const logits = forward(
    params,
    denseInputs(
      images,
      Int32Array.from({ length: rows }, (_, i) => i),
    ),
    rows,
  ).at(-1)!;
  for (let r = 0; r < rows; r++) {
    const want = softmax(logits.subarray(r * 10, (r + 1) * 10));
    expect(maxRelativeError(probabilities.subarray(r * 10, (r + 1) * 10), want)).toBeLessThan(1e-4);
  }
}

/** One training step, an evaluation of the training images and a prediction of unlabelled ones. */
async function stepEvaluatePredict(c: Case, seed: number): Promise<void> {
  // Every drawn case is one the settings admit (and the engine is given what the trainer would give it).
  resolveRunConfig({ hiddenSizes: c.hidden, batchSize: c.batchSize, threads: c.threads });
  const shape = mlpShape(c.hidden);
  const train = randomDataset(TRAIN_IMAGES, seed);
  const toPredict = randomDataset(PREDICT_IMAGES, seed + 1);
  const unlabelled: Dataset = { ...toPredict, labels: null };
  const { backend, threads } = selectBackend(c.kernels, c.threads, features);
  const engine = await Engine.create({
    shape,
    batchSize: c.batchSize,
    threads,
    datasets: [train, unlabelled],
    backend,
  });
  try {
    const params = hashedParameters(shape, seed);
    engine.setParameters(params);
    const batch = Int32Array.from({ length: Math.min(c.batchSize, TRAIN_IMAGES) }, (_, i) => (i * 5) % TRAIN_IMAGES);
    const small = parameterCount(shape) <= REFERENCE_PARAMETERS;
    if (small) {
      const got = engine.gradients(0, batch);
      const want = costAndGradients(
        params,
        denseInputs(train, batch),
        Array.from(batch, (i) => train.labels[i]),
        batch.length,
      );
      expect(got.cost).toBeCloseTo(want.cost, 4);
      for (let l = 0; l < want.gradients.weights.length; l++) {
        expect(maxRelativeError(got.weights[l], want.gradients.weights[l])).toBeLessThan(1e-4);
        expect(maxRelativeError(got.biases[l], want.gradients.biases[l])).toBeLessThan(1e-4);
      }
    }
    const step = engine.trainBatch(0, batch, 1, settings);
    expect(Number.isFinite(step.costSum)).toBe(true);
    const evaluation = engine.evaluate(0, null);
    expect(Number.isFinite(evaluation.costSum)).toBe(true);
    expect(evaluation.predictions.every((p) => p >= 0 && p < 10)).toBe(true);
    const prediction = engine.evaluate(1, null, { probabilities: true });
    expectDistributions(prediction.probabilities!, PREDICT_IMAGES);
    if (small)
      expectReferenceProbabilities(engine.getParameters(), toPredict, prediction.probabilities!, PREDICT_IMAGES);
  } finally {
    await engine.dispose();
  }
}

describe('every network the settings admit', () => {
  it('trains, evaluates and predicts at the edges of the limits, wherever its engine fits', async () => {
    const arbitrary = fc
      .record({
        hidden: fc.array(fc.constantFrom(...UNITS), { minLength: 0, maxLength: LIMITS.maxHiddenLayers }),
        batchSize: fc.constantFrom(...BATCH_SIZES),
        threads: fc.integer({ min: 1, max: 3 }),
        kernels: fc.constantFrom(...KERNELS),
      })
      .filter((c) => parameterCount(mlpShape(c.hidden)) <= MOST_PARAMETERS && fits(c));
    let seed = 100;
    await fc.assert(
      fc.asyncProperty(arbitrary, async (c) => {
        await stepEvaluatePredict(c, seed++);
      }),
      {
        seed: 2101,
        numRuns: 24,
        examples: [
          [{ hidden: [4096, 4096], batchSize: 128, threads: 2, kernels: KERNELS[0] }],
          [{ hidden: [4096, 4096], batchSize: 1, threads: 1, kernels: 'typescript' }],
          [{ hidden: [1, 1, 1, 1, 1, 1, 1, 1], batchSize: 65536, threads: 3, kernels: KERNELS[0] }],
          [{ hidden: [], batchSize: 65536, threads: 2, kernels: 'typescript' }],
          [{ hidden: [4096, 29, 4096], batchSize: 4096, threads: 3, kernels: KERNELS[0] }],
          // Near the top of the 4 GiB: 3.9 GiB each, the batch's buffers, the programs and the data above 2 GiB.
          [{ hidden: [100, 2048], batchSize: 65536, threads: 3, kernels: KERNELS[0] }],
          [{ hidden: [4096, 4096], batchSize: 16000, threads: 1, kernels: 'typescript' }],
        ],
      },
    );
  });

  it('predicts with a weights-only PyTorch state dict of 784-10000-10 as `fmnist predict` opens it, and trains it a step', async () => {
    const sizes = [784, 10000, 10];
    // Weights in PyTorch's [out, in] order, as a bare state dict (no optimizer state).
    const tensors = sizes.slice(1).flatMap((outputs, l) => {
      const inputs = sizes[l];
      const weight = hashedWeights(inputs, outputs, l);
      const bias = Float32Array.from({ length: outputs }, (_, i) => ((i % 7) - 3) / 100);
      return [
        [`${2 * l}.weight`, { dtype: 'F32' as const, shape: [outputs, inputs], data: weight }],
        [`${2 * l}.bias`, { dtype: 'F32' as const, shape: [outputs], data: bias }],
      ] as [string, { dtype: 'F32'; shape: number[]; data: Float32Array }][];
    });
    const model = decodeCheckpoint(encodeSafetensors(tensors, {}), 'wide.safetensors');
    expect(model.optimizer).toBeNull();
    expect(model.parameters.shape.hiddenSizes).toEqual([10000]);
    const images = randomDataset(PREDICT_IMAGES, 41);
    const engine = await openEngine({
      shape: model.parameters.shape,
      batchSize: 256,
      threads: 2,
      datasets: [{ ...images, labels: null }, images],
    });
    try {
      engine.setParameters(model.parameters);
      const prediction = engine.evaluate(0, null, { probabilities: true });
      expectDistributions(prediction.probabilities!, PREDICT_IMAGES);
      expectReferenceProbabilities(model.parameters, images, prediction.probabilities!, PREDICT_IMAGES);
      const evaluation = engine.evaluate(1, null);
      expect(Number.isFinite(evaluation.costSum)).toBe(true);
      expect(Array.from(evaluation.predictions)).toEqual(Array.from(prediction.predictions));
      expect(Number.isFinite(engine.trainBatch(1, Int32Array.from([2, 0, 1]), 1, settings).costSum)).toBe(true);
      expectDistributions(engine.evaluate(0, null, { probabilities: true }).probabilities!, PREDICT_IMAGES);
    } finally {
      await engine.dispose();
    }
  });

  it('trains, evaluates and predicts the largest admitted network that fits: 8 hidden layers of 4096 at batch 128', async () => {
    const largest = new Array<number>(LIMITS.maxHiddenLayers).fill(LIMITS.maxHiddenUnits);
    await stepEvaluatePredict({ hidden: largest, batchSize: 128, threads: 2, kernels: KERNELS[0] }, 7);
  });
});
