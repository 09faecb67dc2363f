import { describe, expect, it } from 'vitest';
import { IMAGE_SIZE, IMAGE_WIDTH, type LabelledDataset } from '@core/shared/dataset';
import { detectWasmFeatures, selectBackend } from '@core/engine/backends';
import { Engine, type KernelChoice, type StepRecipes } from '@core/engine/engine';
import { augmentationOf, dropoutKeeps, dropoutThreshold, mix32, stepKey } from '@core/engine/recipes';
import { initParameters, mlpShape } from '@core/shared/mlp';
import { costAndGradients } from '@core/model/reference';
import { adamScalars, adamUpdate } from '@core/optimizer/adam';
import { denseInputs, randomDataset } from '../../../helpers/data';
import { maxRelativeError } from '../../../helpers/numeric';

/** An image moved by hand: mirrored when asked, then shifted right by dx and down by dy, zeros shifted in. */
function movedImage(dataset: LabelledDataset, index: number, dx: number, dy: number, flip: boolean): Uint8Array {
  const source = dataset.images.subarray(index * IMAGE_SIZE, (index + 1) * IMAGE_SIZE);
  const mirrored = new Uint8Array(IMAGE_SIZE);
  for (let y = 0; y < IMAGE_WIDTH; y++) {
    for (let x = 0; x < IMAGE_WIDTH; x++)
      mirrored[y * IMAGE_WIDTH + x] = source[y * IMAGE_WIDTH + (flip ? IMAGE_WIDTH - 1 - x : x)];
  }
  const moved = new Uint8Array(IMAGE_SIZE);
  for (let y = 0; y < IMAGE_WIDTH; y++) {
    for (let x = 0; x < IMAGE_WIDTH; x++) {
      const ty = y + dy;
      const tx = x + dx;
      if (ty >= 0 && ty < IMAGE_WIDTH && tx >= 0 && tx < IMAGE_WIDTH)
        moved[ty * IMAGE_WIDTH + tx] = mirrored[y * IMAGE_WIDTH + x];
    }
  }
  return moved;
}

describe('recipe random choices', () => {
  it('are the published lowbias32 mixer', () => {
    // lowbias32(0) = 0, and the mixer is a bijection: no two of 2^16 inputs collide.
    expect(mix32(0)).toBe(0);
    const seen = new Set<number>();
    for (let x = 0; x < 1 << 16; x++) seen.add(mix32(x * 65537));
    expect(seen.size).toBe(1 << 16);
  });

  it('drop a fraction p of the units, independently of rows, units and steps', () => {
    for (const p of [0.1, 0.5, 0.8]) {
      const threshold = dropoutThreshold(p);
      let dropped = 0;
      let both = 0;
      const n = 200 * 768;
      for (let row = 0; row < 200; row++) {
        const key = stepKey(3, 'dropout', 17);
        for (let unit = 0; unit < 768; unit++) {
          const a = !dropoutKeeps(key, row, unit, threshold);
          const b = !dropoutKeeps(stepKey(3, 'dropout', 18), row, unit, threshold);
          if (a) dropped++;
          if (a && b) both++;
        }
      }
      // Binomial standard deviation is below 0.0015 here; 5 of them.
      expect(Math.abs(dropped / n - p)).toBeLessThan(0.0075);
      expect(Math.abs(both / n - p * p)).toBeLessThan(0.0075);
    }
    expect(dropoutThreshold(0)).toBe(0);
  });

  it('shift each row uniformly within the limit and flip half of them', () => {
    const counts = new Map<string, number>();
    let flips = 0;
    const key = stepKey(1, 'augment', 5);
    for (let row = 0; row < 25000; row++) {
      const a = augmentationOf(key, row, 2, true);
      counts.set(`${a.dx},${a.dy}`, (counts.get(`${a.dx},${a.dy}`) ?? 0) + 1);
      if (a.flip) flips++;
    }
    expect(counts.size).toBe(25); // every shift in −2…2 × −2…2
    for (const count of counts.values()) expect(Math.abs(count - 1000)).toBeLessThan(150);
    expect(Math.abs(flips - 12500)).toBeLessThan(400);
    expect(augmentationOf(key, 7, 0, false)).toEqual({ dx: 0, dy: 0, flip: false });
  });
});

describe('engine with recipes', () => {
  const settings = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

  it('computes the gradients of the float64 reference with dropout, shifted and flipped images, and smoothed targets', async () => {
    const data = randomDataset(40, 3);
    const shape = mlpShape([40, 30]);
    const params = initParameters(shape, 5);
    params.biases.forEach((b) => b.forEach((_, i) => (b[i] = ((i % 7) - 3) * 0.01)));
    const engine = await Engine.create({ shape, batchSize: 24, threads: 1, datasets: [data] });
    try {
      engine.setParameters(params);
      const indices = Int32Array.from({ length: 21 }, (_, i) => (i * 13) % 40);
      const recipes: StepRecipes = {
        weightDecay: 0,
        dropout: { probability: 0.3, key: stepKey(9, 'dropout', 4) },
        augment: { shift: 2, flip: true, key: stepKey(9, 'augment', 4) },
        labelSmoothing: 0.1,
      };
      const got = engine.gradients(0, indices, recipes);

      // The reference gets the moved images and the dropout mask, built here from the choices' definitions.
      const moved: LabelledDataset = {
        ...data,
        images: new Uint8Array(indices.length * IMAGE_SIZE),
        count: indices.length,
      };
      indices.forEach((index, row) => {
        const { dx, dy, flip } = augmentationOf(recipes.augment!.key, row, 2, true);
        moved.images.set(movedImage(data, index, dx, dy, flip), row * IMAGE_SIZE);
      });
      const rows = Int32Array.from(indices, (_, r) => r);
      const threshold = dropoutThreshold(0.3);
      const want = costAndGradients(
        params,
        denseInputs(moved, rows),
        Array.from(indices, (i) => data.labels[i]),
        indices.length,
        {
          keeps: (row, unit) => dropoutKeeps(recipes.dropout!.key, row, unit, threshold),
          dropoutScale: 1 / 0.7,
          labelSmoothing: 0.1,
        },
      );
      expect(got.cost).toBeCloseTo(want.cost, 5);
      for (let l = 0; l < 3; l++) {
        expect(maxRelativeError(got.weights[l], want.gradients.weights[l])).toBeLessThan(1e-4);
        expect(maxRelativeError(got.biases[l], want.gradients.biases[l])).toBeLessThan(1e-4);
      }
      // The recipes changed something: the plain gradients differ.
      const plain = engine.gradients(0, indices);
      expect(maxRelativeError(plain.weights[0], want.gradients.weights[0])).toBeGreaterThan(0.05);
    } finally {
      await engine.dispose();
    }
  });

  it('decays weights, not biases, by lr·λ before the Adam step (AdamW), exactly', async () => {
    const data = randomDataset(30, 8);
    const shape = mlpShape([20]);
    const engine = await Engine.create({ shape, batchSize: 16, threads: 1, datasets: [data] });
    try {
      engine.setParameters(initParameters(shape, 2));
      const expected = engine.getParameters();
      const { m, v } = engine.getMoments();
      const recipes: StepRecipes = { weightDecay: 0.05, dropout: null, augment: null, labelSmoothing: 0 };
      for (const step of [1, 2]) {
        const batch = Int32Array.from({ length: 16 }, (_, i) => (i * step * 7) % 30);
        const gradients = engine.gradients(0, batch);
        const scalars = adamScalars(settings, step);
        for (let l = 0; l < 2; l++) {
          adamUpdate(expected.weights[l], gradients.weights[l], m.weights[l], v.weights[l], scalars, 0.05);
          adamUpdate(expected.biases[l], gradients.biases[l], m.biases[l], v.biases[l], scalars, 0);
        }
        engine.trainBatch(0, batch, step, settings, recipes);
        const got = engine.getParameters();
        for (let l = 0; l < 2; l++) {
          expect(got.weights[l]).toEqual(expected.weights[l]);
          expect(got.biases[l]).toEqual(expected.biases[l]);
        }
      }
      // By hand, for one weight with a zero gradient history: θ·(1 − 0.01·0.05) is the whole decay.
      expect(Math.fround(0.5 * Math.fround(1 - 0.01 * 0.05))).toBe(Math.fround(0.49975));
    } finally {
      await engine.dispose();
    }
  });
});

describe('recipes on every kernel set and thread count', () => {
  const settings = { learningRate: 0.003, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
  const features = detectWasmFeatures();

  async function trainSteps(choice: KernelChoice, threads: number) {
    const data = randomDataset(90, 31);
    const shape = mlpShape([57, 30]);
    const { backend, threads: used } = selectBackend(choice, threads, features);
    const engine = await Engine.create({ shape, batchSize: 33, threads: used, datasets: [data], backend });
    try {
      engine.setParameters(initParameters(shape, 12));
      let costSum = 0;
      let step = 0;
      for (let start = 0; start < 90; start += 33) {
        step++;
        const batch = Int32Array.from({ length: Math.min(33, 90 - start) }, (_, i) => ((start + i) * 7) % 90);
        const recipes: StepRecipes = {
          weightDecay: 0.01,
          dropout: { probability: 0.25, key: stepKey(4, 'dropout', step) },
          augment: { shift: 3, flip: true, key: stepKey(4, 'augment', step) },
          labelSmoothing: 0.05,
        };
        costSum += engine.trainBatch(0, batch, step, settings, recipes).costSum;
      }
      return { costSum, parameters: engine.getParameters(), moments: engine.getMoments(), backend: engine.backendName };
    } finally {
      await engine.dispose();
    }
  }

  it('train bit-identically on TypeScript and WebAssembly, 1 to 3 threads', async () => {
    const reference = await trainSteps('typescript', 1);
    for (const threads of [1, 2, 3]) {
      const run = await trainSteps('wasm', threads);
      expect(run.backend).toBe('wasm-simd');
      expect(run.costSum).toBe(reference.costSum);
      expect(run.parameters.weights).toEqual(reference.parameters.weights);
      expect(run.parameters.biases).toEqual(reference.parameters.biases);
      expect(run.moments.v.weights).toEqual(reference.moments.v.weights);
    }
  });

  it('train identically on 1 and 2 threads with fused multiply-add', async (ctx) => {
    ctx.skip(!features.relaxedSimd, 'this runtime has no WebAssembly relaxed SIMD');
    const one = await trainSteps('wasm-fma', 1);
    const two = await trainSteps('wasm-fma', 2);
    expect(two.costSum).toBe(one.costSum);
    expect(two.parameters.weights).toEqual(one.parameters.weights);
  });
});
