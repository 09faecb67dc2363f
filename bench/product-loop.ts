/**
 * The kernels' product loop on its own: the WebAssembly `spmm` kernel, as the training calls it for a layer's
 * forward product, on data made to keep everything but the loop out of its time. One call covers 64 rows (a
 * thread's half of a batch of 128); each row's pair list has the same length and points into a block of
 * MAX_CHUNK_ROWS matrix rows of one tile, which stays in the L1 cache, as the training's passes are sized to. What
 * the training loses beside that (lists of uneven length, a matrix that comes from further away, the other phases
 * between its calls) is then the difference between this figure and the phase's own in `bench:profile`.
 */

import { performance } from 'node:perf_hooks';
import { Epilogue, SPMM } from '@core/engine/kernels';
import { MAX_CHUNK_ROWS, PAIR_BYTES, TILE, TILE_BYTES } from '@core/engine/layout';
import { PAGE_BYTES } from '@core/engine/memory';
import { buildKernelModule } from '@core/engine/wasm/kernels';
import { Random } from '@core/shared/random';

const ROWS = 64;

export interface ProductLoopTiming {
  /** GFLOP/s of the loop's multiply-adds (2 FLOP each). */
  gflops: number;
  /** Nanoseconds per pair: one value times a row of the tile's 28 columns. */
  nanosecondsPerPair: number;
  /** The largest error of the products against float64 sums of the same terms, relative to the sum of their sizes. */
  largestError: number;
}

/** Times `spmm` on pair lists of `pairsPerRow` pairs a row (rounded; at most MAX_CHUNK_ROWS), fused where asked. */
export function measureProductLoop(pairsPerRow: number, fusedMultiplyAdd: boolean): ProductLoopTiming {
  const length = Math.min(MAX_CHUNK_ROWS, Math.max(1, Math.round(pairsPerRow)));
  // Seeded, so that every run times the same lists.
  const random = Random.fromSeed(1, 'product-loop');
  // The matrix block, the output rows, the descriptors, the pair lists and the argument block, one after the other.
  const matrix = 0;
  const out = matrix + MAX_CHUNK_ROWS * TILE_BYTES;
  const descriptors = out + ROWS * TILE_BYTES;
  const pairs = descriptors + ROWS * 8;
  const args = pairs + ROWS * length * PAIR_BYTES;
  const pages = Math.ceil((args + SPMM.words * 4) / PAGE_BYTES);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const module = new WebAssembly.Module(
    buildKernelModule({ memory: { pages, maximumPages: pages, shared: true }, fusedMultiplyAdd }),
  );
  const instance = new WebAssembly.Instance(module, { env: { memory, exp: Math.exp, log: Math.log } });
  const spmm = instance.exports.spmm as (args: number) => void;
  const f32 = new Float32Array(memory.buffer);
  const i32 = new Int32Array(memory.buffer);

  for (let i = 0; i < MAX_CHUNK_ROWS * TILE; i++) f32[matrix / 4 + i] = 2 * random.nextFloat() - 1;
  const lists: { row: number; value: number }[][] = [];
  let p = pairs;
  for (let r = 0; r < ROWS; r++) {
    // `length` distinct matrix rows in ascending order, as a sparse row lists its columns.
    const rows = new Set<number>();
    while (rows.size < length) rows.add(random.nextInt(MAX_CHUNK_ROWS));
    const list = [...rows].sort((a, b) => a - b).map((row) => ({ row, value: random.nextFloat() }));
    i32[descriptors / 4 + 2 * r] = p;
    for (const { row, value } of list) {
      i32[p / 4] = row * TILE_BYTES;
      f32[p / 4 + 1] = value;
      p += PAIR_BYTES;
    }
    i32[descriptors / 4 + 2 * r + 1] = p;
    lists.push(list);
  }
  const a = args / 4;
  i32[a + SPMM.descriptors] = descriptors;
  i32[a + SPMM.segments] = 1;
  i32[a + SPMM.rows] = ROWS;
  i32[a + SPMM.matrix] = matrix;
  i32[a + SPMM.out] = out;
  i32[a + SPMM.accumulate] = 0;
  i32[a + SPMM.epilogue] = Epilogue.Store;
  i32[a + SPMM.vectors] = TILE / 4;

  // Short calls until V8 has tiered the kernel up, then the best of 5 timings of about 40 ms each.
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) spmm(args);
  const calls = Math.max(1, Math.round(4e6 / (ROWS * length)));
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    for (let c = 0; c < calls; c++) spmm(args);
    best = Math.min(best, (performance.now() - start) / calls);
  }

  let largestError = 0;
  lists.forEach((list, r) => {
    for (let c = 0; c < TILE; c++) {
      let sum = 0;
      let size = 0;
      for (const { row, value } of list) {
        const term = Math.fround(value) * f32[matrix / 4 + row * TILE + c];
        sum += term;
        size += Math.abs(term);
      }
      const error = Math.abs(f32[out / 4 + r * TILE + c] - sum) / (size || 1);
      largestError = Math.max(largestError, error);
    }
  });
  const pairsPerCall = ROWS * length;
  const seconds = best / 1000;
  return {
    gflops: (pairsPerCall * TILE * 2) / seconds / 1e9,
    nanosecondsPerPair: (seconds * 1e9) / pairsPerCall,
    largestError,
  };
}
