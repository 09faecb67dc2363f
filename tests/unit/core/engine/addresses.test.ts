/**
 * An engine memory above 2 GiB: an address there is negative as an i32 (how programs store it), so every
 * place that turns one into an index must treat it as unsigned. Hidden 1024 with batch 65536 (both admitted,
 * 2.7 GiB) puts the output layer's pair lists, the batch's costs, the programs and the data sets past 2 GiB;
 * only a few images are used, so the memory is reserved but hardly touched.
 */

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { detectWasmFeatures, wasmBackend } from '@core/engine/backends';
import { type Backend, Engine, typeScriptBackend } from '@core/engine/engine';
import { initParameters, mlpShape } from '@core/shared/mlp';
import { forward, costAndGradients, softmax } from '@core/model/reference';
import { denseInputs, randomDataset } from '../../../helpers/data';
import { maxRelativeError } from '../../../helpers/numeric';

const features = detectWasmFeatures();
const settings = { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const TWO_GIB = 2 ** 31;

/** Gradients, two steps (a full and a partial batch), an evaluation and a prediction, hashed to compare. */
async function run(backend: Backend, threads: number): Promise<string> {
  const shape = mlpShape([1024]);
  const train = randomDataset(12, 21);
  const predicted = randomDataset(5, 22);
  const unlabelled = { ...predicted, labels: null };
  const engine = await Engine.create({ shape, batchSize: 65536, threads, datasets: [train, unlabelled], backend });
  try {
    const layout = engine.layout;
    expect(layout.totalBytes).toBeGreaterThan(TWO_GIB);
    const second = layout.layers[1];
    for (const high of [
      second.inputCsr.descriptors,
      second.inputCsc!.pairs,
      second.deltaCsr!.pairs,
      layout.ones,
      layout.costs,
      layout.programs,
      layout.datasets[0].images,
    ]) {
      expect(high.address).toBeGreaterThan(TWO_GIB);
    }
    const params = initParameters(shape, 9);
    engine.setParameters(params);
    const indices = Int32Array.from([3, 0, 11, 7, 5]);
    const got = engine.gradients(0, indices);
    const want = costAndGradients(
      params,
      denseInputs(train, indices),
      Array.from(indices, (i) => train.labels[i]),
      indices.length,
    );
    expect(got.cost).toBeCloseTo(want.cost, 5);
    for (let l = 0; l < 2; l++) {
      expect(maxRelativeError(got.weights[l], want.gradients.weights[l])).toBeLessThan(1e-4);
      expect(maxRelativeError(got.biases[l], want.gradients.biases[l])).toBeLessThan(1e-4);
    }
    const steps = [
      engine.trainBatch(
        0,
        Int32Array.from({ length: 12 }, (_, i) => i),
        1,
        settings,
      ),
      engine.trainBatch(0, indices, 2, settings),
    ];
    const evaluation = engine.evaluate(0, null);
    const prediction = engine.evaluate(1, null, { probabilities: true });
    const trained = engine.getParameters();
    const logits = forward(
      trained,
      denseInputs(
        predicted,
        Int32Array.from({ length: 5 }, (_, i) => i),
      ),
      5,
    ).at(-1)!;
    for (let r = 0; r < 5; r++) {
      expect(
        maxRelativeError(
          prediction.probabilities!.subarray(r * 10, (r + 1) * 10),
          softmax(logits.subarray(r * 10, (r + 1) * 10)),
        ),
      ).toBeLessThan(1e-4);
    }
    const totals = Float64Array.from([
      ...steps.flatMap((s) => [s.costSum, s.correct]),
      evaluation.costSum,
      evaluation.correct,
    ]);
    const hash = createHash('sha256');
    for (const a of [totals, ...trained.weights, ...trained.biases, ...got.weights, prediction.probabilities!])
      hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return hash.digest('hex');
  } finally {
    await engine.dispose();
  }
}

describe('an engine memory above 2 GiB', () => {
  it('trains, evaluates and predicts as the reference, bit for bit alike on TypeScript and WebAssembly kernels, 1 and 3 threads', async (ctx) => {
    const typescript = await run(typeScriptBackend, 1);
    ctx.skip(!features.simd, 'this runtime has no WebAssembly SIMD: the TypeScript kernels alone were checked');
    const plain = wasmBackend({ fusedMultiplyAdd: false });
    // Without fused multiply-add the WebAssembly kernels round as the TypeScript ones do, on any thread count.
    expect(await run(plain, 1)).toBe(typescript);
    if (features.threads) expect(await run(plain, 3)).toBe(typescript);
  });
});
