/**
 * Every kernel, on random shapes (1, odd and non-multiple-of-tile sizes, empty rows), against a naive
 * float64 reference; the WebAssembly kernels must equal the TypeScript ones bit for bit (without fused
 * multiply-add) or to float rounding (with it).
 */

import { describe, expect, it } from 'vitest';
import { createWasmKernels, detectWasmFeatures } from '@core/engine/backends';
import {
  createTypeScriptKernels,
  Epilogue,
  GATHER,
  type Kernel,
  MASKED,
  Op,
  SOFTMAX,
  SPARSIFY,
  SPMM,
} from '@core/engine/kernels';
import { ADAM, PAIR_BYTES, TILE, TILE_BYTES } from '@core/engine/layout';
import { Random } from '@core/shared/random';

const BYTES = 4 << 20;
const features = detectWasmFeatures();

interface Lab {
  memory: WebAssembly.Memory;
  i32: Int32Array;
  f32: Float32Array;
  f64: Float64Array;
  u8: Uint8Array;
  kernels: Kernel[];
}

type KernelSet = 'typescript' | 'wasm' | 'wasm-fma';

function lab(set: KernelSet): Lab {
  const memory = new WebAssembly.Memory({ initial: BYTES / 65536, maximum: BYTES / 65536 });
  const kernels =
    set === 'typescript'
      ? createTypeScriptKernels(memory.buffer)
      : createWasmKernels(memory, false, set === 'wasm-fma').kernels;
  const buffer = memory.buffer;
  return {
    memory,
    i32: new Int32Array(buffer),
    f32: new Float32Array(buffer),
    f64: new Float64Array(buffer),
    u8: new Uint8Array(buffer),
    kernels,
  };
}

/** Runs the same setup and kernel call in a TypeScript and a WebAssembly lab; returns both. */
function twin(set: Exclude<KernelSet, 'typescript'>, setup: (l: Lab) => number, op: Op): [Lab, Lab] {
  const a = lab('typescript');
  const b = lab(set);
  const argsA = setup(a);
  const argsB = setup(b);
  a.kernels[op](argsA);
  b.kernels[op](argsB);
  return [a, b];
}

const wasmSets: Exclude<KernelSet, 'typescript'>[] = ['wasm', ...(features.relaxedSimd ? (['wasm-fma'] as const) : [])];
// Leaving out the fused kernels is a skip vitest cannot see: the run's output says so.
if (!features.relaxedSimd)
  console.info('fused multiply-add kernels not checked: this runtime has no WebAssembly relaxed SIMD');

/** A bump allocator over a lab's memory, 64-byte aligned. */
function allocator(start = 1024): (bytes: number) => number {
  let next = start;
  return (bytes) => {
    const address = next;
    next = Math.ceil((next + bytes) / 64) * 64;
    if (next > BYTES) throw new Error('test memory exhausted');
    return address;
  };
}

interface SpmmCase {
  rows: number;
  segments: number;
  matrixRows: number;
  accumulate: 0 | 1;
  epilogue: Epilogue;
  /** Vectors of 4 columns computed (7: the whole tile). */
  vectors: number;
  seed: number;
}

/** Writes a random SPMM problem into a lab, deterministically from the seed; returns the argument block. */
function setupSpmm(
  l: Lab,
  c: SpmmCase,
): { args: number; expected: Float64Array[]; out: number; moments: number; wt: number; before: Float32Array } {
  const rng = Random.fromSeed(c.seed, 'spmm');
  const take = allocator();
  const matrix = take(c.matrixRows * TILE_BYTES);
  for (let i = 0; i < c.matrixRows * TILE; i++) l.f32[(matrix >> 2) + i] = rng.nextFloat() * 2 - 1;
  const descriptors = take(c.segments * c.rows * 8);
  const segmentStride = c.rows * 8;
  const sums = Array.from({ length: c.rows }, () => new Float64Array(TILE));
  for (let seg = 0; seg < c.segments; seg++) {
    for (let r = 0; r < c.rows; r++) {
      const count = rng.nextInt(c.matrixRows + 1); // 0 to all rows
      const pairs = take(c.matrixRows * PAIR_BYTES);
      const ks = Array.from({ length: c.matrixRows }, (_, k) => k).filter(() => rng.nextFloat() < count / c.matrixRows);
      ks.forEach((k, j) => {
        const value = Math.fround(rng.nextFloat() - 0.3);
        l.i32[(pairs >> 2) + 2 * j] = k * TILE_BYTES;
        l.f32[(pairs >> 2) + 2 * j + 1] = value;
        for (let col = 0; col < TILE; col++) sums[r][col] += value * l.f32[(matrix >> 2) + k * TILE + col];
      });
      const d = (descriptors + seg * segmentStride + r * 8) >> 2;
      l.i32[d] = pairs;
      l.i32[d + 1] = pairs + ks.length * PAIR_BYTES;
    }
  }
  const paramBytes = c.rows * TILE_BYTES;
  const out = take(3 * paramBytes); // parameters (or outputs), then m, then v for the Adam epilogues
  for (let i = 0; i < c.rows * TILE; i++) {
    l.f32[(out >> 2) + i] = rng.nextFloat() - 0.5;
    l.f32[((out + paramBytes) >> 2) + i] = (rng.nextFloat() - 0.5) * 0.01;
    l.f32[((out + 2 * paramBytes) >> 2) + i] = rng.nextFloat() * 1e-4;
  }
  const aux = take(c.rows * TILE_BYTES);
  for (let i = 0; i < c.rows * TILE; i++) l.f32[(aux >> 2) + i] = rng.nextFloat() < 0.4 ? 0 : rng.nextFloat() - 0.5;
  const adam = take(64);
  // Step 3 of Adam with lr 0.01, β 0.9 and 0.999, ε 1e-8; AdamW's shrink 0.999.
  const scalars: [number, number][] = [
    [ADAM.stepSize, (0.01 * Math.sqrt(1 - 0.999 ** 3)) / (1 - 0.9 ** 3)],
    [ADAM.beta1, 0.9],
    [ADAM.beta2, 0.999],
    [ADAM.epsilonHat, 1e-8 * Math.sqrt(1 - 0.999 ** 3)],
    [ADAM.oneMinusBeta1, 0.1],
    [ADAM.oneMinusBeta2, 0.001],
    [ADAM.decay, 0.999],
  ];
  scalars.forEach(([offset, value]) => (l.f32[(adam + offset) >> 2] = value));
  l.i32[(adam + ADAM.momentOffset) >> 2] = paramBytes;
  const wtTileStride = 64 * TILE_BYTES;
  const wt = take(4 * wtTileStride);
  const k0 = 5;

  const expected = sums.map((sum, r) => {
    const start = Float64Array.from({ length: TILE }, (_, col) =>
      c.accumulate ? l.f32[(out >> 2) + r * TILE + col] : 0,
    );
    return start.map((s, col) => s + sum[col]);
  });
  const args = take(SPMM.words * 4);
  const words = new Array(SPMM.words).fill(0);
  words[SPMM.descriptors] = descriptors;
  words[SPMM.segmentStride] = segmentStride;
  words[SPMM.segments] = c.segments;
  words[SPMM.rows] = c.rows;
  words[SPMM.matrix] = matrix;
  words[SPMM.out] = out;
  words[SPMM.accumulate] = c.accumulate;
  words[SPMM.epilogue] = c.epilogue;
  words[SPMM.aux0] = c.epilogue === Epilogue.AdamTransposed ? wt : aux;
  words[SPMM.aux1] = wtTileStride;
  words[SPMM.aux2] = k0;
  words[SPMM.adam] = adam;
  words[SPMM.vectors] = c.vectors;
  words.forEach((w, i) => (l.i32[(args >> 2) + i] = w));
  // Outputs, moments and the transposed copy as they were, for the columns the call must leave alone.
  const before = l.f32.slice(out >> 2, (out + 3 * paramBytes) >> 2);
  return { args, expected, out, moments: paramBytes, wt, before };
}

const EPILOGUES: [string, Epilogue][] = [
  ['store', Epilogue.Store],
  ['bias+ReLU', Epilogue.BiasRelu],
  ['bias', Epilogue.Bias],
  ['mask', Epilogue.Mask],
  ['Adam', Epilogue.Adam],
  ['Adam with transposed copy', Epilogue.AdamTransposed],
];

const SHAPES: [number, number, number][] = [
  // rows, segments, matrix rows
  [1, 1, 1],
  [3, 1, 5],
  [7, 2, 31],
  [13, 3, 60],
  // From row 5 to 34: whole groups of four rows (8…27, 28…31) and loose rows around them, across a tile.
  [30, 2, 40],
];

describe('SPMM kernel', () => {
  for (const [name, epilogue] of EPILOGUES) {
    it.each(SHAPES)(
      `${name}: rows %i, segments %i, matrix rows %i agree with float64 and across kernels`,
      (rows, segments, matrixRows) => {
        for (const [accumulate, vectors] of [
          [0, 7],
          [1, 7],
          [0, 2],
          [1, 5],
        ] as const) {
          const spec: SpmmCase = {
            rows,
            segments,
            matrixRows,
            accumulate,
            epilogue,
            vectors,
            seed: rows * 1000 + matrixRows * 10 + accumulate,
          };
          const columns = 4 * vectors;
          for (const set of wasmSets) {
            let info!: ReturnType<typeof setupSpmm>;
            const [ts, wasm] = twin(set, (l) => (info = setupSpmm(l, spec)).args, Op.Spmm);
            if (set === 'wasm') {
              expect(Buffer.from(wasm.u8).equals(Buffer.from(ts.u8))).toBe(true);
            } else {
              for (let i = 0; i < rows * TILE * 3; i++) {
                expect(wasm.f32[(info.out >> 2) + i]).toBeCloseTo(ts.f32[(info.out >> 2) + i], 4);
              }
            }
            // Against float64 (the Adam epilogues are checked against Adam in the engine tests).
            if (epilogue <= Epilogue.Mask) {
              const aux = ts.i32[(info.args >> 2) + SPMM.aux0] >> 2;
              for (let r = 0; r < rows; r++) {
                for (let col = 0; col < columns; col++) {
                  let want = info.expected[r][col];
                  if (epilogue === Epilogue.BiasRelu) want = Math.max(want + ts.f32[aux + col], 0);
                  if (epilogue === Epilogue.Bias) want += ts.f32[aux + col];
                  if (epilogue === Epilogue.Mask) want = ts.f32[aux + r * TILE + col] > 0 ? want : 0;
                  const got = ts.f32[(info.out >> 2) + r * TILE + col];
                  expect(Math.abs(got - want)).toBeLessThan(
                    1e-5 * (1 + Math.abs(want)) * Math.sqrt(matrixRows * segments + 1),
                  );
                }
              }
            }
            // The columns after the call's vectors: outputs (and moments) untouched.
            for (let r = 0; r < rows; r++) {
              for (let col = columns; col < TILE; col++) {
                for (let block = 0; block < 3; block++) {
                  const i = block * rows * TILE + r * TILE + col;
                  expect(Object.is(ts.f32[(info.out >> 2) + i], info.before[i])).toBe(true);
                  expect(Object.is(wasm.f32[(info.out >> 2) + i], info.before[i])).toBe(true);
                }
              }
            }
            if (epilogue === Epilogue.AdamTransposed) {
              for (let r = 0; r < rows; r++) {
                const k = 5 + r;
                for (let col = 0; col < columns; col++) {
                  const t = (info.wt + Math.floor(k / TILE) * 64 * TILE_BYTES + (k % TILE) * 4 + col * TILE_BYTES) >> 2;
                  expect(ts.f32[t]).toBe(ts.f32[(info.out >> 2) + r * TILE + col]);
                  expect(wasm.f32[t]).toBe(wasm.f32[(info.out >> 2) + r * TILE + col]);
                }
              }
            }
          }
        }
      },
    );
  }
});

interface SparseCase {
  first: number;
  rows: number;
  columns: number;
  chunkRows: number;
  csc: boolean;
  /** false: CSC only (the CSR arguments are 0 and nothing of a CSR may be written). */
  csr?: boolean;
  seed: number;
}

/** Checks CSR (and CSC) output against the dense values the kernel read. */
function checkSparse(
  l: Lab,
  c: SparseCase,
  dense: (s: number, k: number) => number,
  layout: {
    csrPairs: number;
    csrPairStride: number;
    csrDescriptors: number;
    chunks: number;
    descriptorStride: number;
    cscPairs: number;
    cscDescriptors: number;
    cscPairStride: number;
  },
): void {
  const csc = new Map<number, [number, number][]>();
  for (let s = c.first; s < c.first + c.rows; s++) {
    const want: [number, number][] = [];
    for (let k = 0; k < c.columns; k++) if (dense(s, k) !== 0) want.push([k * TILE_BYTES, dense(s, k)]);
    const got: [number, number][] = [];
    for (let chunk = 0; chunk < (c.csr === false ? 0 : layout.chunks); chunk++) {
      const d = (layout.csrDescriptors + chunk * layout.descriptorStride + s * 8) >> 2;
      for (let p = l.i32[d]; p < l.i32[d + 1]; p += PAIR_BYTES) {
        const k = l.i32[p >> 2] / TILE_BYTES;
        expect(Math.floor(k / c.chunkRows)).toBe(chunk);
        got.push([l.i32[p >> 2], l.f32[(p >> 2) + 1]]);
      }
    }
    if (c.csr !== false) expect(got).toEqual(want.map(([k, v]) => [k, Math.fround(v)]));
    for (const [k, v] of want) {
      const list = csc.get(k / TILE_BYTES) ?? [];
      list.push([s * TILE_BYTES, Math.fround(v)]);
      csc.set(k / TILE_BYTES, list);
    }
  }
  if (c.csc) {
    for (let k = 0; k < c.columns; k++) {
      const d = (layout.cscDescriptors + k * 8) >> 2;
      expect(l.i32[d]).toBe(layout.cscPairs + k * layout.cscPairStride + c.first * PAIR_BYTES);
      const got: [number, number][] = [];
      for (let p = l.i32[d]; p < l.i32[d + 1]; p += PAIR_BYTES) got.push([l.i32[p >> 2], l.f32[(p >> 2) + 1]]);
      expect(got).toEqual(csc.get(k) ?? []);
    }
  }
}

describe('GATHER kernel', () => {
  it.each([
    [0, 1, true, false],
    [3, 5, true, false],
    [2, 17, false, false],
    [1, 9, false, true],
  ])(
    'first %i, rows %i (CSC %s, dense %s): pairs of pixel/255 and labels, equal across kernels',
    (first, rows, withCsc, withDense) => {
      const spec: SparseCase = { first, rows, columns: 784, chunkRows: 196, csc: withCsc, seed: first + rows };
      const images = 1 << 20;
      const build = (l: Lab) => {
        const rng = Random.fromSeed(spec.seed, 'gather');
        const take = allocator(2 << 20);
        for (let i = 0; i < 30 * 784; i++) l.u8[images + i] = rng.nextFloat() < 0.55 ? 0 : rng.nextInt(256);
        for (let i = 0; i < 784; i++) l.u8[images + 7 * 784 + i] = 0; // an all-black image
        const labels = take(30);
        for (let i = 0; i < 30; i++) l.u8[labels + i] = rng.nextInt(10);
        const indices = take(64 * 4);
        for (let s = 0; s < 64; s++) l.i32[(indices >> 2) + s] = s === first ? 7 : rng.nextInt(30);
        const scale = take(1024);
        for (let b = 0; b < 256; b++) l.f32[(scale >> 2) + b] = b / 255;
        const words = new Array(GATHER.words).fill(0);
        words[GATHER.images] = images;
        words[GATHER.labels] = labels;
        words[GATHER.indices] = indices;
        words[GATHER.first] = first;
        words[GATHER.rows] = rows;
        words[GATHER.csrPairs] = take(64 * 784 * 8);
        words[GATHER.csrPairStride] = 784 * 8;
        words[GATHER.csrDescriptors] = take(4 * 64 * 8);
        words[GATHER.csrDescriptorStride] = 64 * 8;
        words[GATHER.chunkRows] = 196;
        words[GATHER.chunks] = 4;
        words[GATHER.cscPairs] = withCsc ? take(784 * 64 * 8) : 0;
        words[GATHER.cscDescriptors] = take(784 * 8);
        words[GATHER.cscPairStride] = 64 * 8;
        words[GATHER.labelsOut] = take(64 * 4);
        words[GATHER.scaleTable] = scale;
        words[GATHER.dense] = withDense ? take(28 * 64 * TILE_BYTES) : 0;
        words[GATHER.denseTileStride] = 64 * TILE_BYTES;
        const args = take(GATHER.words * 4);
        words.forEach((w, i) => (l.i32[(args >> 2) + i] = w));
        return { args, words, labels, indices };
      };
      let info!: ReturnType<typeof build>;
      const [ts, wasm] = twin('wasm', (l) => (info = build(l)).args, Op.Gather);
      expect(Buffer.from(wasm.u8).equals(Buffer.from(ts.u8))).toBe(true);
      const w = info.words;
      const indexOf = (s: number): number => ts.i32[(info.indices >> 2) + s];
      checkSparse(ts, spec, (s, k) => ts.u8[images + indexOf(s) * 784 + k] / 255, {
        csrPairs: w[GATHER.csrPairs],
        csrPairStride: w[GATHER.csrPairStride],
        csrDescriptors: w[GATHER.csrDescriptors],
        chunks: 4,
        descriptorStride: w[GATHER.csrDescriptorStride],
        cscPairs: w[GATHER.cscPairs],
        cscDescriptors: w[GATHER.cscDescriptors],
        cscPairStride: w[GATHER.cscPairStride],
      });
      for (let s = first; s < first + rows; s++)
        expect(ts.i32[(w[GATHER.labelsOut] >> 2) + s]).toBe(ts.u8[info.labels + indexOf(s)]);
      if (withDense) {
        // Image row y of batch row s in tile y: (s, 28y + x) at dense + y·stride + s·TILE_BYTES + 4x; other rows
        // untouched.
        let nonZero = 0;
        for (let s = 0; s < 64; s++) {
          for (let k = 0; k < 784; k++) {
            const got =
              ts.f32[
                (w[GATHER.dense] + Math.floor(k / 28) * w[GATHER.denseTileStride] + s * TILE_BYTES + (k % 28) * 4) >> 2
              ];
            const inBatch = s >= first && s < first + rows;
            expect(got).toBe(inBatch ? Math.fround(ts.u8[images + indexOf(s) * 784 + k] / 255) : 0);
            if (got !== 0) nonZero++;
          }
        }
        expect(nonZero).toBeGreaterThan(rows * 200);
      }
    },
  );
});

describe('SPARSIFY kernel', () => {
  it.each([
    [0, 1, 28, 28, true],
    [1, 6, 56, 20, true],
    [4, 9, 84, 44, true],
    [2, 7, 56, 56, false],
  ])(
    'first %i, rows %i, columns %i, chunks of %i (CSR %s): non-zeros of a tiled matrix, equal across kernels',
    (first, rows, columns, chunkRows, csr) => {
      const spec: SparseCase = { first, rows, columns, chunkRows, csc: true, csr, seed: columns + rows };
      const chunks = Math.ceil(columns / chunkRows);
      const bufferRows = 16;
      const source = 1 << 20;
      const tileStride = bufferRows * TILE_BYTES;
      const build = (l: Lab) => {
        const rng = Random.fromSeed(spec.seed, 'sparsify');
        const take = allocator(2 << 20);
        for (let i = 0; i < (columns / TILE) * bufferRows * TILE; i++) {
          const u = rng.nextFloat();
          l.f32[(source >> 2) + i] = u < 0.6 ? 0 : u < 0.65 ? -0 : rng.nextFloat() - 0.5;
        }
        const words = new Array(SPARSIFY.words).fill(0);
        words[SPARSIFY.source] = source;
        words[SPARSIFY.sourceTileStride] = tileStride;
        words[SPARSIFY.columns] = columns;
        words[SPARSIFY.first] = first;
        words[SPARSIFY.rows] = rows;
        const csrPairs = take(bufferRows * columns * 8);
        const csrDescriptors = take(chunks * bufferRows * 8);
        words[SPARSIFY.csrPairs] = csr ? csrPairs : 0;
        words[SPARSIFY.csrPairStride] = csr ? columns * 8 : 0;
        words[SPARSIFY.csrDescriptors] = csr ? csrDescriptors : 0;
        words[SPARSIFY.csrDescriptorStride] = csr ? bufferRows * 8 : 0;
        words[SPARSIFY.chunkRows] = chunkRows;
        words[SPARSIFY.chunks] = chunks;
        words[SPARSIFY.cscPairs] = take(columns * bufferRows * 8);
        words[SPARSIFY.cscDescriptors] = take(columns * 8);
        words[SPARSIFY.cscPairStride] = bufferRows * 8;
        const args = take(SPARSIFY.words * 4);
        words.forEach((w, i) => (l.i32[(args >> 2) + i] = w));
        return { args, words, csrRoom: { from: csrPairs, to: csrDescriptors + chunks * bufferRows * 8 } };
      };
      let info!: ReturnType<typeof build>;
      const [ts, wasm] = twin('wasm', (l) => (info = build(l)).args, Op.Sparsify);
      expect(Buffer.from(wasm.u8).equals(Buffer.from(ts.u8))).toBe(true);
      const w = info.words;
      const value = (s: number, k: number): number =>
        ts.f32[(source + Math.floor(k / TILE) * tileStride + s * TILE_BYTES + (k % TILE) * 4) >> 2];
      checkSparse(ts, spec, value, {
        csrPairs: w[SPARSIFY.csrPairs],
        csrPairStride: w[SPARSIFY.csrPairStride],
        csrDescriptors: w[SPARSIFY.csrDescriptors],
        chunks,
        descriptorStride: w[SPARSIFY.csrDescriptorStride],
        cscPairs: w[SPARSIFY.cscPairs],
        cscDescriptors: w[SPARSIFY.cscDescriptors],
        cscPairStride: w[SPARSIFY.cscPairStride],
      });
      const csrBytes = ts.u8.subarray(info.csrRoom.from, info.csrRoom.to);
      if (!csr) expect(csrBytes.every((b) => b === 0)).toBe(true);
      else expect(csrBytes.some((b) => b !== 0)).toBe(true);
    },
  );
});

describe('SOFTMAX kernel', () => {
  it.each([
    [0, 1],
    [2, 9],
  ])(
    'first %i, rows %i: cost, prediction, dZ and probabilities agree with float64 and across kernels',
    (first, rows) => {
      const take0 = allocator(2 << 20);
      const logits = take0(16 * TILE_BYTES);
      const labels = take0(16 * 4);
      const deltas = take0(16 * TILE_BYTES);
      const costs = take0(16 * 8);
      const correct = take0(16 * 4);
      const probabilities = take0(16 * 10 * 4);
      const predicted = take0(16 * 4);
      const args = take0(SOFTMAX.words * 4);
      const build = (l: Lab) => {
        const rng = Random.fromSeed(first + rows, 'softmax');
        for (let s = 0; s < 16; s++) {
          const scale = s === first ? 300 : 5; // huge logits stay finite
          for (let c = 0; c < 10; c++) l.f32[(logits >> 2) + s * TILE + c] = (rng.nextFloat() - 0.5) * scale;
          l.i32[(labels >> 2) + s] = rng.nextInt(10);
        }
        const words = new Array(SOFTMAX.words).fill(0);
        Object.assign(words, {
          [SOFTMAX.logits]: logits,
          [SOFTMAX.first]: first,
          [SOFTMAX.rows]: rows,
          [SOFTMAX.classes]: 10,
          [SOFTMAX.labels]: labels,
          [SOFTMAX.deltas]: deltas,
          [SOFTMAX.costs]: costs,
          [SOFTMAX.correct]: correct,
          [SOFTMAX.probabilities]: probabilities,
          [SOFTMAX.predicted]: predicted,
        });
        words.forEach((w, i) => (l.i32[(args >> 2) + i] = w));
        l.f32[(args >> 2) + SOFTMAX.inverseBatch] = 1 / rows;
        return args;
      };
      const [ts, wasm] = twin('wasm', build, Op.Softmax);
      expect(Buffer.from(wasm.u8).equals(Buffer.from(ts.u8))).toBe(true);
      for (let s = first; s < first + rows; s++) {
        const z = Array.from({ length: 10 }, (_, c) => ts.f32[(logits >> 2) + s * TILE + c]);
        const label = ts.i32[(labels >> 2) + s];
        const max = Math.max(...z);
        const sum = z.reduce((a, v) => a + Math.exp(v - max), 0);
        expect(ts.f64[(costs >> 3) + s]).toBeCloseTo(max + Math.log(sum) - z[label], 9);
        expect(ts.i32[(predicted >> 2) + s]).toBe(z.indexOf(max));
        expect(ts.i32[(correct >> 2) + s]).toBe(z.indexOf(max) === label ? 1 : 0);
        for (let c = 0; c < 10; c++) {
          const p = Math.exp(z[c] - max) / sum;
          expect(ts.f32[(probabilities >> 2) + s * 10 + c]).toBeCloseTo(p, 6);
          expect(ts.f32[(deltas >> 2) + s * TILE + c]).toBeCloseTo((p - (c === label ? 1 : 0)) / rows, 6);
        }
      }
    },
  );
});

describe('MASKED kernel', () => {
  // [first, rows, units below, layer outputs, chunk rows, scale, CSC]: groups of 7 pairs with and without a
  // remainder, several chunks, one tile or several, a last tile full or cut short, dropout's scale or 1.
  it.each([
    [0, 1, 5, 10, 28, 1, true],
    [2, 9, 60, 70, 32, 1.25, true],
    [1, 12, 84, 56, 84, 1, false],
    [3, 5, 28, 100, 12, 2, true],
  ])(
    'first %i, rows %i, %i units, %i outputs, chunks of %i, scale %f (CSC %s): dZ below where A is non-zero, equal across kernels',
    (first, rows, units, outputs, chunkRows, scale, csc) => {
      const tiles = Math.ceil(outputs / TILE);
      // Columns the kernel reads: the real outputs rounded up to whole vectors. The ones after them hold
      // values here (in the engine they are 0), so the test sees whether the kernel stops.
      const lastTileBytes = Math.ceil((outputs - (tiles - 1) * TILE) / 4) * 16;
      const columnsRead = (tiles - 1) * TILE + lastTileBytes / 4;
      const bufferRows = 16;
      const inputRows = Math.ceil(units / TILE) * TILE;
      const chunks = Math.ceil(inputRows / chunkRows);
      const deltaTileStride = bufferRows * TILE_BYTES;
      const weightTileStride = inputRows * TILE_BYTES;
      const outTiles = inputRows / TILE;
      const GARBAGE = 7.5;
      const build = (l: Lab) => {
        const rng = Random.fromSeed(units + rows * 7 + tiles, 'masked');
        const take = allocator();
        const deltas = take(tiles * deltaTileStride);
        for (let i = 0; i < tiles * bufferRows * TILE; i++)
          l.f32[(deltas >> 2) + i] = rng.nextFloat() < 0.4 ? 0 : rng.nextFloat() - 0.5;
        // One row's dZ is all zero: its active units get exactly 0, which the CSC leaves out.
        l.f32.fill(0, (deltas >> 2) + (first + rows - 1) * TILE, (deltas >> 2) + (first + rows) * TILE);
        for (let t = 1; t < tiles; t++)
          l.f32.fill(
            0,
            ((deltas + t * deltaTileStride) >> 2) + (first + rows - 1) * TILE,
            ((deltas + t * deltaTileStride) >> 2) + (first + rows) * TILE,
          );
        const weights = take(tiles * weightTileStride);
        for (let i = 0; i < tiles * inputRows * TILE; i++) l.f32[(weights >> 2) + i] = rng.nextFloat() * 2 - 1;
        const out = take(outTiles * deltaTileStride);
        l.f32.fill(GARBAGE, out >> 2, (out + outTiles * deltaTileStride) >> 2);
        // The CSR of A: the first row has every unit, the others a random share (some none).
        const descriptors = take(chunks * bufferRows * 8);
        const active: number[][] = [];
        for (let s = 0; s < bufferRows; s++) {
          const density = s === first ? 1 : [0, 0.1, 0.5, 0.9][rng.nextInt(4)];
          const list = Array.from({ length: units }, (_, u) => u).filter(() => rng.nextFloat() < density);
          active.push(list);
          const pairs = take(Math.max(1, list.length) * PAIR_BYTES);
          let p = pairs;
          for (let chunk = 0; chunk < chunks; chunk++) {
            const d = (descriptors + chunk * bufferRows * 8 + s * 8) >> 2;
            l.i32[d] = p;
            for (const u of list.filter((u) => Math.floor(u / chunkRows) === chunk)) {
              l.i32[p >> 2] = u * TILE_BYTES;
              l.f32[(p >> 2) + 1] = rng.nextFloat() + 0.01;
              p += PAIR_BYTES;
            }
            l.i32[d + 1] = p;
          }
        }
        const cscPairs = take(inputRows * bufferRows * PAIR_BYTES);
        const cscDescriptors = take(inputRows * 8);
        const words = new Array(MASKED.words).fill(0);
        Object.assign(words, {
          [MASKED.descriptors]: descriptors,
          [MASKED.descriptorStride]: bufferRows * 8,
          [MASKED.chunks]: chunks,
          [MASKED.first]: first,
          [MASKED.rows]: rows,
          [MASKED.deltas]: deltas,
          [MASKED.deltaTileStride]: deltaTileStride,
          [MASKED.tiles]: tiles,
          [MASKED.weights]: weights,
          [MASKED.weightTileStride]: weightTileStride,
          [MASKED.out]: out,
          [MASKED.outTileStride]: deltaTileStride,
          [MASKED.outTiles]: outTiles,
          [MASKED.cscPairs]: csc ? cscPairs : 0,
          [MASKED.cscDescriptors]: csc ? cscDescriptors : 0,
          [MASKED.cscPairStride]: csc ? bufferRows * PAIR_BYTES : 0,
          [MASKED.cscColumns]: csc ? units : 0,
          [MASKED.lastTileBytes]: lastTileBytes,
        });
        const args = take(MASKED.words * 4);
        words.forEach((w, i) => (l.i32[(args >> 2) + i] = w));
        l.f32[(args >> 2) + MASKED.scale] = scale;
        return { args, deltas, weights, out, active, cscPairs, cscDescriptors };
      };
      let info!: ReturnType<typeof build>;
      const [ts, wasm] = twin('wasm', (l) => (info = build(l)).args, Op.Masked);
      expect(Buffer.from(wasm.u8).equals(Buffer.from(ts.u8))).toBe(true);

      const at = (base: number, tileStride: number, r: number, k: number): number =>
        (base + Math.floor(k / TILE) * tileStride + r * TILE_BYTES + (k % TILE) * 4) >> 2;
      const expected = (l: Lab, s: number, u: number): number => {
        let sum = 0;
        for (let k = 0; k < columnsRead; k++)
          sum += l.f32[at(info.deltas, deltaTileStride, s, k)] * l.f32[at(info.weights, weightTileStride, u, k)];
        return sum * scale;
      };
      const check = (l: Lab): void => {
        for (let s = 0; s < bufferRows; s++) {
          const inRange = s >= first && s < first + rows;
          for (let u = 0; u < inputRows; u++) {
            const got = l.f32[at(info.out, deltaTileStride, s, u)];
            if (!inRange) expect(got).toBe(GARBAGE);
            else if (!info.active[s].includes(u)) expect(Object.is(got, 0)).toBe(true);
            else expect(got).toBeCloseTo(expected(l, s, u), 5);
          }
        }
        if (!csc) return;
        for (let u = 0; u < units; u++) {
          const d = (info.cscDescriptors >> 2) + 2 * u;
          const list: [number, number][] = [];
          for (let q = l.i32[d]; q < l.i32[d + 1]; q += PAIR_BYTES)
            list.push([l.i32[q >> 2] / TILE_BYTES, l.f32[(q >> 2) + 1]]);
          const want: [number, number][] = [];
          for (let s = first; s < first + rows; s++) {
            const value = l.f32[at(info.out, deltaTileStride, s, u)];
            if (info.active[s].includes(u) && value !== 0) want.push([s, value]);
          }
          expect(l.i32[d]).toBe(info.cscPairs + u * bufferRows * PAIR_BYTES + first * PAIR_BYTES);
          expect(list).toEqual(want);
        }
      };
      check(ts);
      const lastRow = first + rows - 1;
      expect(info.active[lastRow].every((u) => ts.f32[at(info.out, deltaTileStride, lastRow, u)] === 0)).toBe(true);
      if (features.relaxedSimd) {
        const [, fused] = twin('wasm-fma', (l) => (info = build(l)).args, Op.Masked);
        check(fused);
      }
    },
  );
});
