/**
 * The kernel profiler names each phase of a step and counts its multiply-adds from the pair lists; the
 * counts are checked against the pixels of hand-made images, and evaluations are tallied apart.
 */

import { describe, expect, it } from 'vitest';
import { detectWasmFeatures, wasmBackend } from '@core/engine/backends';
import { Engine } from '@core/engine/engine';
import { initParameters, type MlpParameters, mlpShape } from '@core/shared/mlp';

const settings = { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** Image i has exactly 3·(i + 1) non-zero pixels, spread over the picture. */
function countedImages(count: number): {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  nonZeros: number[];
  source: string;
} {
  const images = new Uint8Array(count * 784);
  const nonZeros: number[] = [];
  for (let i = 0; i < count; i++) {
    const n = 3 * (i + 1);
    for (let k = 0; k < n; k++) images[i * 784 + ((k * 37 + i) % 784)] = 1 + ((k * 11) % 255);
    nonZeros.push(new Set(Array.from({ length: n }, (_, k) => (k * 37 + i) % 784)).size);
  }
  return { images, labels: Uint8Array.from({ length: count }, (_, i) => i % 10), count, nonZeros, source: 'counted' };
}

/** Hidden units with a positive pre-activation, summed over the images, in float64 from the parameters. */
function activeUnits(params: MlpParameters, images: Uint8Array, count: number): number {
  const units = params.biases[0].length;
  let active = 0;
  for (let s = 0; s < count; s++) {
    for (let j = 0; j < units; j++) {
      let z = params.biases[0][j];
      for (let k = 0; k < 784; k++) z += (images[s * 784 + k] / 255) * params.weights[0][k * units + j];
      if (z > 0) active++;
    }
  }
  return active;
}

describe('kernel profiler', () => {
  it('names every phase of a step and counts the first layer’s multiply-adds from the pixels', async () => {
    const data = countedImages(8);
    const shape = mlpShape([40]); // 40 hidden units: two tiles of 28
    const engine = await Engine.create({ shape, batchSize: 8, threads: 1, datasets: [data, data] });
    engine.setParameters(initParameters(shape, 3));
    const { profiler, timing } = engine.profile(1);
    const indices = Int32Array.from({ length: 8 }, (_, i) => i);
    // Layer 1's weight gradient runs over the non-zeros of dZ1: the active hidden units (dA1 is never 0 here).
    let active = activeUnits(engine.getParameters(), data.images, 8);
    engine.trainBatch(0, indices, 1, settings);
    active += activeUnits(engine.getParameters(), data.images, 8);
    engine.trainBatch(0, indices, 2, settings);
    engine.evaluate(1, null);
    const phases = new Map(profiler.phases().map((p) => [p.phase, p]));
    expect([...phases.keys()]).toEqual([
      'gather the batch (pixels to pairs)',
      'layer 1 forward',
      'layer 1 activations to pairs',
      'layer 2 forward',
      'softmax, cost and dZ of the output',
      'layer 2 dZ to pairs',
      'layer 2 input gradient (dZ·Wᵀ)',
      'layer 1 dZ to pairs',
      'layer 1 weight gradient + Adam',
      'layer 1 bias gradient + Adam',
      'layer 2 weight gradient + Adam',
      'layer 2 bias gradient + Adam',
      'evaluation (forward only)',
    ]);
    // Two steps over the 8 images; every non-zero pixel meets the 40 units forward (the second tile only
    // its 12 real columns), where Layer 1's 784 rows are read in 4 chunks per tile. The weight gradient meets
    // every pixel (28 tiles of 28) once for each active unit.
    const pixels = data.nonZeros.reduce((a, b) => a + b, 0);
    expect(pixels).toBe(3 * (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8));
    expect(active).toBeGreaterThan(0);
    expect(active).toBeLessThan(2 * 8 * 40);
    expect(phases.get('layer 1 forward')).toMatchObject({ calls: 2 * 2 * 4, multiplyAdds: 2 * pixels * 40 });
    expect(phases.get('layer 1 weight gradient + Adam')).toMatchObject({ calls: 2 * 28, multiplyAdds: active * 784 });
    // The bias gradient sums the 8 rows of dZ for each of the two tiles (the second: 12 columns).
    expect(phases.get('layer 1 bias gradient + Adam')).toMatchObject({ calls: 2 * 2, multiplyAdds: 2 * 8 * (28 + 12) });
    // The mean pair list of a call's row: forward, 16 calls of 8 rows went through each pixel once per tile (2);
    // the weight gradient, 56 calls of the 40 units' rows through each active unit once per tile (28); the bias
    // gradient, one row of the 8 samples' ones per call.
    expect(phases.get('layer 1 forward')!.pairsPerRow).toBeCloseTo((2 * 2 * pixels) / (16 * 8), 12);
    expect(phases.get('layer 1 weight gradient + Adam')!.pairsPerRow).toBeCloseTo((active * 28) / (2 * 28 * 40), 12);
    expect(phases.get('layer 1 bias gradient + Adam')!.pairsPerRow).toBe(8);
    expect(phases.get('gather the batch (pixels to pairs)')!.pairsPerRow).toBe(0);
    expect(phases.get('evaluation (forward only)')!.calls).toBeGreaterThan(0);
    expect(timing()).toEqual({ waitedMs: 0, helperBusyMs: [] });
    profiler.reset();
    expect(profiler.phases()).toEqual([]);
    await engine.dispose();
  });

  it.skipIf(!detectWasmFeatures().threads)(
    'reports the waits of the calling thread and the busy time of each helper',
    async () => {
      const data = countedImages(8);
      const shape = mlpShape([40]);
      const engine = await Engine.create({
        shape,
        batchSize: 8,
        threads: 2,
        datasets: [data],
        backend: wasmBackend({ fusedMultiplyAdd: false }),
      });
      engine.setParameters(initParameters(shape, 3));
      const { timing } = engine.profile();
      const before = timing();
      const indices = Int32Array.from({ length: 8 }, (_, i) => i);
      for (let step = 1; step <= 20; step++) engine.trainBatch(0, indices, step, settings);
      const after = timing();
      expect(after.helperBusyMs).toHaveLength(1);
      expect(after.helperBusyMs[0]).toBeGreaterThan(before.helperBusyMs[0]);
      expect(after.waitedMs).toBeGreaterThanOrEqual(before.waitedMs);
      await engine.dispose();
    },
  );
});
