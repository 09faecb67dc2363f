import { describe, expect, it } from 'vitest';
import { detectWasmFeatures, openEngine, selectBackend } from '@core/engine/backends';
import { Engine, type KernelChoice } from '@core/engine/engine';
import { initParameters, mlpShape } from '@core/shared/mlp';
import { costAndGradients } from '@core/model/reference';
import { denseInputs, randomDataset } from '../../../helpers/data';
import { maxRelativeError } from '../../../helpers/numeric';

describe('engine gradients', () => {
  it.each([[[40, 30]], [[29]], [[64, 33, 17]], [[]]])('match the reference for hidden sizes %j', async (hidden) => {
    const data = randomDataset(40);
    const shape = mlpShape(hidden);
    const params = initParameters(shape, 3);
    const engine = await Engine.create({ shape, batchSize: 32, threads: 1, datasets: [data] });
    try {
      engine.setParameters(params);
      const indices = Int32Array.from([5, 1, 9, 30, 2, 17, 22, 39, 0, 11, 12, 13, 14, 15, 16, 8, 3, 4, 6, 7, 10]);
      const got = engine.gradients(0, indices);
      const want = costAndGradients(
        params,
        denseInputs(data, indices),
        Array.from(indices, (i) => data.labels[i]),
        indices.length,
      );
      expect(got.cost).toBeCloseTo(want.cost, 5);
      for (let l = 0; l < want.gradients.weights.length; l++) {
        expect(maxRelativeError(got.weights[l], want.gradients.weights[l])).toBeLessThan(1e-4);
        expect(maxRelativeError(got.biases[l], want.gradients.biases[l])).toBeLessThan(1e-4);
      }
    } finally {
      await engine.dispose();
    }
  });
});

describe('engine on real data', () => {
  it('matches the reference gradients of the default network on a real batch', async () => {
    const { realDataset } = await import('../../../helpers/data');
    const train = await realDataset('train');
    const shape = mlpShape([512, 256]);
    const params = initParameters(shape, 1);
    const engine = await Engine.create({ shape, batchSize: 64, threads: 1, datasets: [train] });
    try {
      engine.setParameters(params);
      const indices = Int32Array.from({ length: 64 }, (_, i) => i * 937);
      const got = engine.gradients(0, indices);
      const want = costAndGradients(
        params,
        denseInputs(train, indices),
        Array.from(indices, (i) => train.labels[i]),
        64,
      );
      expect(got.cost).toBeCloseTo(want.cost, 5);
      for (let l = 0; l < 3; l++) {
        expect(maxRelativeError(got.weights[l], want.gradients.weights[l])).toBeLessThan(1e-4);
        expect(maxRelativeError(got.biases[l], want.gradients.biases[l])).toBeLessThan(1e-4);
      }
    } finally {
      await engine.dispose();
    }
  });
});

describe('engine training step', () => {
  const settings = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

  it('applies exactly the gradient followed by Adam, for a full and a partial batch', async () => {
    const { adamScalars, adamUpdate } = await import('@core/optimizer/adam');
    const data = randomDataset(50, 9);
    const shape = mlpShape([33, 20]);
    const engine = await Engine.create({ shape, batchSize: 16, threads: 1, datasets: [data] });
    try {
      engine.setParameters(initParameters(shape, 4));
      const expected = engine.getParameters();
      const m = engine.getMoments().m;
      const v = engine.getMoments().v;
      for (const [step, batch] of [
        [1, Int32Array.from({ length: 16 }, (_, i) => i)],
        [2, Int32Array.from([40, 41, 42, 7, 3])],
      ] as const) {
        const gradients = engine.gradients(0, batch);
        const scalars = adamScalars(settings, step);
        for (let l = 0; l < 3; l++) {
          adamUpdate(expected.weights[l], gradients.weights[l], m.weights[l], v.weights[l], scalars);
          adamUpdate(expected.biases[l], gradients.biases[l], m.biases[l], v.biases[l], scalars);
        }
        const result = engine.trainBatch(0, batch, step, settings);
        expect(result.costSum / batch.length).toBeCloseTo(gradients.cost, 6);
        const got = engine.getParameters();
        for (let l = 0; l < 3; l++) {
          expect(got.weights[l]).toEqual(expected.weights[l]);
          expect(got.biases[l]).toEqual(expected.biases[l]);
        }
        expect(engine.getMoments().v.weights[0]).toEqual(v.weights[0]);
      }
    } finally {
      await engine.dispose();
    }
  });

  it('evaluates like the reference forward pass, with probabilities that sum to one', async () => {
    const { forward, softmax } = await import('@core/model/reference');
    const data = randomDataset(300, 13); // more than one evaluation buffer of 256 rows
    const shape = mlpShape([40]);
    const params = initParameters(shape, 8);
    const engine = await Engine.create({ shape, batchSize: 8, threads: 1, datasets: [data] });
    try {
      engine.setParameters(params);
      const result = engine.evaluate(0, null, { probabilities: true });
      const all = Int32Array.from({ length: 300 }, (_, i) => i);
      const logits = forward(params, denseInputs(data, all), 300)[2];
      let correct = 0;
      for (let r = 0; r < 300; r++) {
        const p = softmax(logits.subarray(r * 10, r * 10 + 10));
        for (let c = 0; c < 10; c++) expect(result.probabilities![r * 10 + c]).toBeCloseTo(p[c], 5);
        const best = p.indexOf(Math.max(...p));
        expect(result.predictions[r]).toBe(best);
        if (best === data.labels[r]) correct++;
      }
      expect(result.correct).toBe(correct);
      const subset = engine.evaluate(0, Int32Array.from([299, 0, 5]));
      expect(Array.from(subset.predictions)).toEqual([
        result.predictions[299],
        result.predictions[0],
        result.predictions[5],
      ]);
    } finally {
      await engine.dispose();
    }
  });

  it('evaluates other data sets, subsets and outputs one after another as each alone (programs kept between chunks)', async () => {
    const { forward, softmax } = await import('@core/model/reference');
    const sets = [randomDataset(300, 21), randomDataset(300, 22)];
    const shape = mlpShape([24]);
    const params = initParameters(shape, 5);
    /** The reference's class probabilities of every sample of each data set. */
    const expected = sets.map((data) => {
      const logits = forward(
        params,
        denseInputs(
          data,
          Int32Array.from({ length: 300 }, (_, i) => i),
        ),
        300,
      )[2];
      return Array.from({ length: 300 }, (_, r) => softmax(logits.subarray(r * 10, r * 10 + 10)));
    });
    const classOf = (p: ArrayLike<number>): number => Array.from(p).indexOf(Math.max(...Array.from(p)));
    // Two threads where the WebAssembly kernels run (the TypeScript ones run on one).
    const engine = await openEngine({ shape, batchSize: 8, threads: 2, kernels: 'auto', datasets: sets });
    try {
      engine.setParameters(params);
      // Each evaluation differs from the one before in its data set, its rows or its probabilities, and what is left
      // in the engine from the ones before is wrong for it.
      const ascending = Int32Array.from({ length: 256 }, (_, i) => i);
      const descending = Int32Array.from({ length: 256 }, (_, i) => 299 - i);
      const evaluations: [number, Int32Array | null, boolean][] = [
        [0, ascending, false],
        [1, ascending, false],
        [1, ascending, true],
        [0, Int32Array.from([7, 299, 3]), true],
        [0, descending, true],
        [0, null, false],
        [1, null, true],
      ];
      for (const [dataset, indices, probabilities] of evaluations) {
        const result = engine.evaluate(dataset, indices, { probabilities });
        const rows = indices ? Array.from(indices) : expected[dataset].map((_, i) => i);
        expect(Array.from(result.predictions)).toEqual(rows.map((r) => classOf(expected[dataset][r])));
        expect(result.probabilities === null).toBe(!probabilities);
        if (result.probabilities)
          rows.forEach((r, k) => {
            for (let c = 0; c < 10; c++)
              expect(result.probabilities![k * 10 + c]).toBeCloseTo(expected[dataset][r][c], 5);
          });
      }
    } finally {
      await engine.dispose();
    }
  });

  it('refuses a batch larger than it was created for, and use after dispose', async () => {
    const data = randomDataset(20);
    const engine = await Engine.create({ shape: mlpShape([8]), batchSize: 4, threads: 1, datasets: [data] });
    engine.setParameters(initParameters(mlpShape([8]), 1));
    expect(() => engine.trainBatch(0, Int32Array.from([1, 2, 3, 4, 5]), 1, settings)).toThrow(/1 to 4 samples/);
    await engine.dispose();
    expect(() => engine.evaluate(0, null)).toThrow(/disposed/);
  });
});

describe('kernel sets and threads', () => {
  const settings = { learningRate: 0.003, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
  const features = detectWasmFeatures();

  async function trainSteps(choice: KernelChoice, threads: number, hidden: number[], batchSize: number) {
    const data = randomDataset(90, 31);
    const shape = mlpShape(hidden);
    const { backend, threads: used } = selectBackend(choice, threads, features);
    const engine = await Engine.create({ shape, batchSize, threads: used, datasets: [data], backend });
    try {
      engine.setParameters(initParameters(shape, 12));
      let costSum = 0;
      let step = 0;
      for (let start = 0; start < 90; start += batchSize) {
        const batch = Int32Array.from({ length: Math.min(batchSize, 90 - start) }, (_, i) => ((start + i) * 7) % 90);
        costSum += engine.trainBatch(0, batch, ++step, settings).costSum;
      }
      const evaluation = engine.evaluate(0, null, { probabilities: true });
      return {
        costSum,
        parameters: engine.getParameters(),
        moments: engine.getMoments(),
        evaluation,
        threads: engine.threads,
        backend: engine.backendName,
      };
    } finally {
      await engine.dispose();
    }
  }

  it.each([
    [[57, 30], 33],
    [[1], 1],
    [[29, 3, 28], 7],
  ])(
    'train bit-identically with hidden %j and batch %i on TypeScript and WebAssembly, 1 to 3 threads',
    async (hidden, batchSize) => {
      const reference = await trainSteps('typescript', 1, hidden, batchSize);
      for (const threads of [1, 2, 3]) {
        const run = await trainSteps('wasm', threads, hidden, batchSize);
        expect(run.backend).toBe('wasm-simd');
        expect(run.threads).toBe(threads);
        expect(run.costSum).toBe(reference.costSum);
        expect(run.parameters.weights).toEqual(reference.parameters.weights);
        expect(run.parameters.biases).toEqual(reference.parameters.biases);
        expect(run.moments.v.weights).toEqual(reference.moments.v.weights);
        expect(run.evaluation.probabilities).toEqual(reference.evaluation.probabilities);
      }
    },
  );

  it('train to float rounding with fused multiply-add, identically on 1 and 2 threads', async (ctx) => {
    ctx.skip(!features.relaxedSimd, 'this runtime has no WebAssembly relaxed SIMD');
    const reference = await trainSteps('typescript', 1, [57, 30], 33);
    const one = await trainSteps('wasm-fma', 1, [57, 30], 33);
    const two = await trainSteps('wasm-fma', 2, [57, 30], 33);
    expect(one.backend).toBe('wasm-simd-fma');
    expect(two.parameters.weights).toEqual(one.parameters.weights);
    expect(one.costSum).toBeCloseTo(reference.costSum, 3);
    for (let l = 0; l < 3; l++)
      expect(maxRelativeError(one.parameters.weights[l], reference.parameters.weights[l])).toBeLessThan(1e-3);
  });

  it('falls back to the TypeScript kernels on one thread where WebAssembly SIMD is missing', () => {
    const none = { simd: false, relaxedSimd: false, threads: false };
    expect(selectBackend('auto', 4, none)).toMatchObject({ threads: 1, backend: { name: 'typescript' } });
    expect(() => selectBackend('wasm', 4, none)).toThrow(/no WebAssembly SIMD/);
    expect(() => selectBackend('wasm-fma', 2, { simd: true, relaxedSimd: false, threads: true })).toThrow(
      /no relaxed-SIMD/,
    );
    expect(selectBackend('auto', 2, { simd: true, relaxedSimd: true, threads: true })).toMatchObject({
      threads: 2,
      backend: { name: 'wasm-simd-fma' },
    });
    expect(selectBackend('auto', 2, { simd: true, relaxedSimd: false, threads: false })).toMatchObject({
      threads: 1,
      backend: { name: 'wasm-simd' },
    });
  });
});
