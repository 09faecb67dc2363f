/**
 * Kernel threads that die or are merely slow: a lost helper fails the run within about a second with a
 * message naming it (at once when its exit is already known), later runs fail at once, dispose does not
 * hang, and a helper that is slow but alive is waited for.
 */

import { beforeEach, describe, expect, it } from 'vitest';
import { createWasmKernels, detectWasmFeatures, wasmBackend } from '@core/engine/backends';
import { type Backend, Engine } from '@core/engine/engine';
import type { Executor } from '@core/engine/executor';
import { ThreadedExecutor, type ThreadOptions } from '@core/engine/threads';
import { FmnistError } from '@core/shared/errors';
import { initParameters, mlpShape } from '@core/shared/mlp';
import { randomDataset } from '../../../helpers/data';

const features = detectWasmFeatures();
const missing = [!features.simd && 'WebAssembly SIMD', !features.threads && 'shared WebAssembly memory'].filter(
  Boolean,
);
const threadsAvailable = missing.length === 0;

const settings = { learningRate: 0.003, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** A multi-threaded WebAssembly engine whose executor the test can reach. */
async function threadedEngine(options: {
  threads: number;
  hidden: number[];
  batchSize: number;
  count?: number;
  executor?: ThreadOptions;
}) {
  const data = randomDataset(options.count ?? 60, 5);
  const shape = mlpShape(options.hidden);
  const plain = wasmBackend({ fusedMultiplyAdd: false });
  let executor: ThreadedExecutor | null = null;
  const backend: Backend = {
    ...plain,
    async createExecutor(layout, memory): Promise<Executor> {
      const { module, kernels } = createWasmKernels(memory.memory!, true, false);
      executor = await ThreadedExecutor.create(module, memory.memory!, kernels, layout, options.executor);
      return executor;
    },
  };
  const engine = await Engine.create({
    shape,
    batchSize: options.batchSize,
    threads: options.threads,
    datasets: [data],
    backend,
  });
  engine.setParameters(initParameters(shape, 2));
  return { engine, executor: executor! as ThreadedExecutor };
}

function batch(size: number, offset = 0): Int32Array {
  return Int32Array.from({ length: size }, (_, i) => offset + i);
}

/** The error a synchronous call throws, and how long it took to throw it. */
function timedFailure(call: () => unknown): { error: unknown; ms: number } {
  const t0 = performance.now();
  try {
    call();
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
  return { error: null, ms: performance.now() - t0 };
}

describe('kernel threads', () => {
  beforeEach((ctx) => ctx.skip(!threadsAvailable, `this runtime has no ${missing.join(' and no ')}`));
  it('fail the run within about a second when a helper dies unseen, then at once with its exit code', async () => {
    const { engine, executor } = await threadedEngine({ threads: 3, hidden: [24], batchSize: 12 });
    engine.trainBatch(0, batch(12), 1, settings);
    // Killed and then used without a turn of the event loop: the engine cannot have heard of the exit.
    const dying = executor.workers[1].terminate();
    let failure = timedFailure(() => engine.trainBatch(0, batch(12, 12), 2, settings));
    // Termination is asynchronous: the helper may finish one more program before it stops.
    for (let step = 3; failure.error === null && step < 6; step++)
      failure = timedFailure(() => engine.trainBatch(0, batch(12), step, settings));
    expect(failure.error).toBeInstanceOf(FmnistError);
    expect((failure.error as Error).message).toBe('kernel thread 2 stopped responding');
    expect(failure.ms).toBeGreaterThanOrEqual(1000);
    expect(failure.ms).toBeLessThan(3000);
    console.info(`a helper lost during a run was detected after ${failure.ms.toFixed(0)} ms`);

    expect(await dying).toBe(1);
    // Now its exit is known: every later run fails at once and says how it ended.
    const again = timedFailure(() => engine.evaluate(0, null));
    expect((again.error as Error).message).toBe('kernel thread 2 stopped (exit code 1)');
    expect(again.ms).toBeLessThan(100);
    const t0 = performance.now();
    await engine.dispose();
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('fail at once when a helper died between runs and its exit was seen', async () => {
    const { engine, executor } = await threadedEngine({ threads: 2, hidden: [16], batchSize: 10 });
    engine.trainBatch(0, batch(10), 1, settings);
    const before = engine.getParameters();
    expect(await executor.workers[0].terminate()).toBe(1);
    const failure = timedFailure(() => engine.trainBatch(0, batch(10, 10), 2, settings));
    expect(failure.error).toBeInstanceOf(FmnistError);
    expect((failure.error as FmnistError).kind).toBe('io');
    expect((failure.error as Error).message).toBe('kernel thread 1 stopped (exit code 1)');
    expect(failure.ms).toBeLessThan(100);
    // Refused before any kernel ran: the parameters are untouched and still readable.
    expect(engine.getParameters()).toEqual(before);
    const t0 = performance.now();
    await engine.dispose();
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('wait for a helper that is slow but alive, however short the least stall time', async () => {
    // A least stall time far below a step's duration: only the scaling with the step's own time and the
    // helpers' progress counts keep these helpers from being declared lost.
    const minStallMs = 5;
    const options = { threads: 2, hidden: [2048], batchSize: 1024, count: 1100 };
    const threaded = await threadedEngine({ ...options, executor: { minStallMs } });
    const single = await Engine.create({
      shape: mlpShape(options.hidden),
      batchSize: options.batchSize,
      threads: 1,
      datasets: [randomDataset(options.count, 5)],
      backend: wasmBackend({ fusedMultiplyAdd: false }),
    });
    single.setParameters(initParameters(mlpShape(options.hidden), 2));
    try {
      const stepsMs: number[] = [];
      for (let step = 1; step <= 3; step++) {
        const indices = batch(options.batchSize, step * 5);
        const t0 = performance.now();
        const got = threaded.engine.trainBatch(0, indices, step, settings);
        stepsMs.push(performance.now() - t0);
        expect(got).toEqual(single.trainBatch(0, indices, step, settings));
      }
      // The test means something only if each of a step's two programs outlasts the least stall time.
      expect(Math.min(...stepsMs)).toBeGreaterThan(8 * minStallMs);
      // Bit for bit (compared as bytes: element-wise comparison of 1.6 million weights is slow).
      const bytes = (e: Engine) => Buffer.concat(e.getParameters().weights.map((w) => new Uint8Array(w.buffer)));
      expect(bytes(threaded.engine).equals(bytes(single))).toBe(true);
    } finally {
      await threaded.engine.dispose();
      await single.dispose();
    }
  });
});
