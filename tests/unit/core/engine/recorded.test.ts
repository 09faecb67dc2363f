/**
 * Training steps on the real data give the bits recorded from an earlier engine: a change of the kernels'
 * formulation that keeps every sum's terms and order (as the first layer's transposed weight gradient did)
 * must not move a single bit; one that changes an order is recorded again, saying why.
 */

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { detectWasmFeatures, selectBackend } from '@core/engine/backends';
import { Engine, type KernelChoice, NO_RECIPES, type StepRecipes } from '@core/engine/engine';
import { initParameters, mlpShape } from '@core/shared/mlp';
import { realDataset } from '../../../helpers/data';

const settings = { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** A few steps (the last a partial batch), then gradients and probabilities, all hashed. */
async function run(
  choice: KernelChoice,
  threads: number,
  recipes: StepRecipes,
  steps: number,
  hidden = [512, 256],
): Promise<string> {
  const train = await realDataset('train');
  const shape = mlpShape(hidden);
  const { backend, threads: used } = selectBackend(choice, threads, detectWasmFeatures());
  const engine = await Engine.create({ shape, batchSize: 128, threads: used, datasets: [train], backend });
  try {
    engine.setParameters(initParameters(shape, 5));
    const h = createHash('sha256');
    for (let s = 0; s < steps; s++) {
      const batch = Int32Array.from({ length: s === steps - 1 ? 77 : 128 }, (_, i) => (s * 131 + i * 467) % 60000);
      const r = engine.trainBatch(0, batch, s + 1, settings, recipes);
      h.update(String(r.costSum)).update(String(r.correct));
    }
    const p = engine.getParameters();
    const m = engine.getMoments();
    for (const a of [...p.weights, ...p.biases, ...m.m.weights, ...m.v.weights, ...m.m.biases])
      h.update(new Uint8Array(a.buffer));
    const g = engine.gradients(
      0,
      Int32Array.from({ length: 50 }, (_, i) => i * 1000),
    );
    for (const a of [...g.weights, ...g.biases]) h.update(new Uint8Array(a.buffer));
    const ev = engine.evaluate(
      0,
      Int32Array.from({ length: 3000 }, (_, i) => i * 20),
      { probabilities: true },
    );
    h.update(new Uint8Array(ev.probabilities!.buffer));
    return h.digest('hex').slice(0, 16);
  } finally {
    await engine.dispose();
  }
}
const recipes: StepRecipes = {
  weightDecay: 0.01,
  dropout: { probability: 0.2, key: 77 },
  augment: { shift: 2, flip: true, key: 99 },
  labelSmoothing: 0.1,
};

/**
 * Hashes of the costs, parameters, moments, gradients and probabilities after a few steps on the real data.
 * First recorded with the engine of commit 7fd1bef (before the first layer's weight gradient was summed from
 * dZ1's sparsity), which the transposed weight gradient matched bit for bit; recorded again when the hidden
 * layers' input gradient became masked dot products, which sum each dZ in a new order (four lanes, then
 * across them), and when Adam took the paper's efficient form (both bias corrections folded into the step
 * size and ε): both round differently. The TypeScript and WebAssembly kernels give the same hash. Without
 * fused multiply-add only, whose rounding the hardware decides.
 */
describe('engine against its recorded results', () => {
  it.each([
    ['wasm', 2, 'plain', 12, [512, 256], 'a3574ef85b60ed0a'],
    ['wasm', 1, 'plain', 12, [512, 256], 'a3574ef85b60ed0a'],
    ['wasm', 3, 'recipes', 12, [512, 256], 'b88db80352fe370f'],
    ['typescript', 1, 'recipes', 3, [512, 256], 'bc641b75725e8147'],
    ['typescript', 1, 'plain', 3, [30, 17], '5cb212381e4ff254'],
    ['wasm', 2, 'plain', 3, [30, 17], '5cb212381e4ff254'],
  ] as const)(
    '%s kernels, %i threads, %s, %i steps, hidden %j',
    async (kernels, threads, kind, steps, hidden, hash) => {
      expect(await run(kernels, threads, kind === 'recipes' ? recipes : NO_RECIPES, steps, [...hidden])).toBe(hash);
    },
    120_000,
  );
});
