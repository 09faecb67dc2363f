/**
 * The engine's memory, planned before anything is allocated: what a network, batch size, thread count and
 * data sets need, the 4 GiB a 32-bit WebAssembly memory can have (what V8 really gives a shared one), and
 * the one-line refusal, naming what is too large and what to change, of every engine that would not fit,
 * whether its network comes from the settings or from a loaded model, on WebAssembly and TypeScript kernels.
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { detectWasmFeatures, openEngine, wasmBackend } from '@core/engine/backends';
import { type Backend, Engine, typeScriptBackend } from '@core/engine/engine';
import {
  engineMemoryBytes,
  engineMemoryProblem,
  MAX_ENGINE_BYTES,
  MAX_ENGINE_PAGES,
  planEngine,
} from '@core/engine/memory';
import type { UnreadDataset } from '@core/shared/dataset';
import { FmnistError } from '@core/shared/errors';
import { LIMITS } from '@core/shared/config';
import { mlpShape } from '@core/shared/mlp';
import { randomDataset } from '../../../helpers/data';

const features = detectWasmFeatures();
const LARGEST = new Array<number>(LIMITS.maxHiddenLayers).fill(LIMITS.maxHiddenUnits);
const FASHION_MNIST = [60000, 10000];

/** The refusal of the largest network the settings admit at the largest batch they admit. */
const LARGEST_REFUSAL =
  /^hidden layers 4096,4096,4096,4096,4096,4096,4096,4096 with batch size 65536 need (\d+\.\d) GiB of engine memory, more than the 4 GiB the engine can address: use a batch size of at most (\d+), or smaller or fewer hidden layers$/;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('engine memory', () => {
  it('is held to what V8 gives a shared WebAssembly memory: 65536 pages (4 GiB), not one more', (ctx) => {
    ctx.skip(!features.threads, 'this runtime has no shared WebAssembly memory');
    expect(MAX_ENGINE_BYTES).toBe(2 ** 32);
    // Only the maximum is reserved (address space, not memory): one page is committed.
    expect(new WebAssembly.Memory({ initial: 1, maximum: MAX_ENGINE_PAGES, shared: true }).buffer.byteLength).toBe(
      65536,
    );
    expect(() => new WebAssembly.Memory({ initial: 1, maximum: MAX_ENGINE_PAGES + 1, shared: true })).toThrow(
      RangeError,
    );
  });

  it('is planned as whole pages that grow with the batch size, the data sets and the threads, programs included', () => {
    const shape = mlpShape([4096, 4096]);
    let previous = 0;
    for (const batchSize of [1, 2, 127, 128, 256, 257, 4096, 16198]) {
      const bytes = engineMemoryBytes(shape, batchSize, 2, FASHION_MNIST);
      expect(bytes % 65536).toBe(0);
      expect(bytes).toBeGreaterThanOrEqual(previous);
      previous = bytes;
    }
    expect(engineMemoryBytes(shape, 128, 2, [60000])).toBeLessThan(engineMemoryBytes(shape, 128, 2, FASHION_MNIST));
    expect(engineMemoryBytes(shape, 128, 1, FASHION_MNIST)).toBeLessThan(
      engineMemoryBytes(shape, 128, 3, FASHION_MNIST),
    );
    const plan = planEngine(shape, 128, 3, FASHION_MNIST);
    expect(plan.bytes).toBe(plan.layout!.totalBytes);
    // 2 hidden layers of 4096 take 57760 words to train
    expect(plan.layout!.programs.bytes).toBeGreaterThan(3 * 57760 * 4);
  });

  it('fits the largest admitted network at the default batch size on the most threads the settings admit', () => {
    expect(engineMemoryProblem(mlpShape(LARGEST), 128, LIMITS.maxThreads, FASHION_MNIST)).toBeNull();
    expect(engineMemoryProblem(mlpShape([10000]), 256, LIMITS.maxThreads, [10000])).toBeNull();
    expect(engineMemoryProblem(mlpShape([1]), LIMITS.maxBatchSize, 3, FASHION_MNIST)).toBeNull();
  });

  it('keeps the 4 bytes after every pair list in memory, which the WebAssembly product reads ahead', () => {
    for (const [hidden, batchSize, threads, datasets] of [
      [[512, 256], 128, 2, FASHION_MNIST],
      [[1], 1, 1, []],
      [[30, 20, 10], 7, 3, [100]],
    ] as [number[], number, number, number[]][]) {
      const layout = planEngine(mlpShape(hidden), batchSize, threads, datasets).layout!;
      const pairRegions = [
        layout.ones,
        ...layout.layers.flatMap((layer) =>
          [layer.inputCsr, layer.inputCsc, layer.deltaCsr, layer.deltaCsc].flatMap((rows) =>
            rows ? [rows.pairs] : [],
          ),
        ),
      ];
      expect(pairRegions.length).toBeGreaterThan(hidden.length + 1);
      for (const region of pairRegions)
        expect(region.address + region.bytes + 4).toBeLessThanOrEqual(layout.totalBytes);
    }
  });

  it('refuses 8 layers of 4096 with batch 65536 in one line that names them and the largest batch that fits', () => {
    const problem = engineMemoryProblem(mlpShape(LARGEST), LIMITS.maxBatchSize, 2, FASHION_MNIST)!;
    const match = LARGEST_REFUSAL.exec(problem);
    expect(match, problem).not.toBeNull();
    expect(Number(match![1]) * 2 ** 30).toBeGreaterThanOrEqual(
      engineMemoryBytes(mlpShape(LARGEST), LIMITS.maxBatchSize, 2, FASHION_MNIST),
    );
    const most = Number(match![2]);
    expect(engineMemoryBytes(mlpShape(LARGEST), most, 2, FASHION_MNIST)).toBeLessThanOrEqual(MAX_ENGINE_BYTES);
    expect(engineMemoryBytes(mlpShape(LARGEST), most + 1, 2, FASHION_MNIST)).toBeGreaterThan(MAX_ENGINE_BYTES);
    expect(engineMemoryProblem(mlpShape(LARGEST), most, 2, FASHION_MNIST)).toBeNull();
  });

  it('refuses a network too large at any batch size, and data sets too large for any batch, saying what to change', () => {
    expect(engineMemoryProblem(mlpShape([300000]), 256, 1, [10])).toMatch(
      /^hidden layers 300000 need \d+\.\d GiB of engine memory even with batch size 1, more than the 4 GiB the engine can address: use smaller or fewer hidden layers$/,
    );
    expect(engineMemoryProblem(mlpShape([512, 256]), 128, 1, [6_000_000])).toMatch(
      /^hidden layers 512,256 with 6000000 images need \d+\.\d GiB of engine memory even with batch size 1, more than .*: use fewer images, or smaller or fewer hidden layers$/,
    );
    expect(engineMemoryProblem(mlpShape([]), 128, 1, [6_000_000])).toMatch(
      /^a network without hidden layers with 6000000 images needs /,
    );
  });

  it.each(['wasm', 'typescript'] as const)(
    'is refused by Engine.create in one line at once, before any memory is allocated or image read (%s kernels)',
    async (kernels) => {
      if (kernels === 'wasm' && !features.simd) return;
      const base = kernels === 'wasm' ? wasmBackend({ fusedMultiplyAdd: false }) : typeScriptBackend;
      const createMemory = vi.fn(base.createMemory);
      const backend: Backend = { ...base, createMemory };
      const memories = vi.spyOn(WebAssembly, 'Memory');
      const readImages = vi.fn(async (into?: Uint8Array) => into ?? new Uint8Array(0));
      const unread: UnreadDataset = {
        count: 60000,
        labels: new Uint8Array(60000),
        source: 'train-images-idx3-ubyte.gz',
        readImages,
      };
      const started = performance.now();
      const refusal = await Engine.create({
        shape: mlpShape(LARGEST),
        batchSize: LIMITS.maxBatchSize,
        threads: kernels === 'wasm' ? 2 : 1,
        datasets: [unread, randomDataset(3)],
        backend,
      }).catch((error: unknown) => error);
      const ms = performance.now() - started;
      expect(refusal).toBeInstanceOf(FmnistError);
      expect((refusal as FmnistError).kind).toBe('bad-option');
      expect((refusal as FmnistError).message).toMatch(LARGEST_REFUSAL);
      expect(createMemory).not.toHaveBeenCalled();
      expect(memories).not.toHaveBeenCalled();
      expect(readImages).not.toHaveBeenCalled();
      expect(ms).toBeLessThan(1000);
    },
  );

  it('refuses a loaded model too wide for the engine as evaluate and predict open it (openEngine)', async () => {
    const memories = vi.spyOn(WebAssembly, 'Memory');
    const refusal = await openEngine({
      shape: mlpShape([300000]),
      batchSize: 256,
      threads: 2,
      datasets: [randomDataset(3)],
    }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(FmnistError);
    expect((refusal as FmnistError).kind).toBe('bad-option');
    expect((refusal as FmnistError).message).toMatch(
      /^hidden layers 300000 need .* even with batch size 1, more than .*: use smaller or fewer hidden layers$/,
    );
    // Choosing the kernels probes for shared memory with a memory of one page; no other memory is made.
    expect(
      memories.mock.calls.filter(([descriptor]) => descriptor.initial > 1 || (descriptor.maximum ?? 0) > 1),
    ).toEqual([]);
  });
});
