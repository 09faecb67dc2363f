/**
 * The engine's five kernels, their argument blocks, and their TypeScript implementation.
 *
 * A kernel is called with the address of its argument block (i32 words; f32 where noted) in the engine's
 * memory, so the same call works from any thread and from a program stored in memory. Addresses are unsigned
 * 32-bit (the memory may be 4 GiB): read back from an Int32Array one is negative above 2 GiB, so the
 * TypeScript kernels turn addresses into indices with `>>> 2`, never `>> 2`, as WebAssembly does. The TypeScript
 * kernels round every f32 operation exactly as WebAssembly's f32x4 does (products and sums rounded to f32
 * in that order), so they and the WebAssembly kernels without fused multiply-add give bit-identical results.
 *
 * SPMM: out[i, 0..4·vectors) = epilogue( Σ_seg Σ_{(k,v) in pairs(seg, i)} v · M[k, 0..4·vectors) )
 *   — every matrix product of training: forward (CSR of inputs × W), input gradients (CSR of dZ × Wᵀ),
 *   weight gradients (CSC of inputs × dZ, with Adam fused in) and bias gradients (pairs of ones × dZ).
 *   The WebAssembly SPMM also reads the 4 bytes after each pair list (it reads ahead), so they must be in memory.
 * GATHER: batch rows from the u8 data set → CSR pairs of pixel/255 (and CSC pairs or a dense copy), and the labels.
 * SPARSIFY: dense tiled rows (activations or dZ) → CSR and/or CSC pairs of the non-zero entries.
 * SOFTMAX: per row, stable log-softmax cost, correctness, dZ = (p − onehot)/m, optional probabilities.
 * MASKED: a hidden layer's input gradient only where it survives the ReLU below: for each non-zero A[s, u]
 *   of the layer's input, dZ_below[s, u] = scale · (dZ[s, ·] · W[u, ·]), a dot product over the layer's
 *   outputs; the other entries are 0. Optionally appends the values to a CSC by unit, as SPARSIFY would.
 */

import { IMAGE_SIZE, IMAGE_WIDTH } from '@core/shared/dataset';
import { ADAM, AUGMENT_ROW_BYTES, DROPOUT, PAIR_BYTES, TILE, TILE_BYTES } from './layout';
import { dropoutHash, rowKey } from './recipes';

export const enum Op {
  Spmm = 0,
  Gather = 1,
  Sparsify = 2,
  Softmax = 3,
  Masked = 4,
}
export const OP_NAMES = ['spmm', 'gather', 'sparsify', 'softmax', 'masked'] as const;

export const enum Epilogue {
  /** out = acc */
  Store = 0,
  /** out = max(acc + bias, 0); aux0 = bias tile */
  BiasRelu = 1,
  /** out = acc + bias; aux0 = bias tile */
  Bias = 2,
  /** out = mask > 0 ? acc : 0; aux0 = mask rows (TILE_BYTES apart) */
  Mask = 3,
  /** Adam update of the parameters at out with gradient acc */
  Adam = 4,
  /**
   * Adam, and the updated values also written transposed: aux0 = Wᵀ tile, aux1 = Wᵀ tile stride, aux2 = first row index
   */
  AdamTransposed = 5,
  /**
   * BiasRelu, then inverted dropout: out = kept ? max(acc + bias, 0)·scale : 0, kept when the unit's hash is at
   * least the threshold; aux0 = bias tile, aux1 = batch row of the first row, aux2 = unit of the first column,
   * adam = the dropout block (key, threshold, scale)
   */
  BiasReluDropout = 6,
  /** Mask for dropout: out = mask > 0 ? acc·scale : 0; aux0 = mask rows, aux1 = scale (f32 bits) */
  MaskScaled = 7,
}

/** Word offsets in each kernel's argument block. */
export const SPMM = Object.freeze({
  descriptors: 0,
  segmentStride: 1,
  segments: 2,
  rows: 3,
  matrix: 4,
  out: 5,
  /** 0: start from zero; 1: continue from the values in out (a later chunk of the same sums). */
  accumulate: 6,
  epilogue: 7,
  aux0: 8,
  aux1: 9,
  aux2: 10,
  adam: 11,
  /**
   * The tile's columns to compute, in vectors of 4 (1 to TILE/4): fewer in a layer's last tile, whose other
   * columns belong to padded units. Those columns of `out` are neither read nor written.
   */
  vectors: 12,
  words: 13,
});

export const GATHER = Object.freeze({
  images: 0,
  labels: 1,
  indices: 2,
  first: 3,
  rows: 4,
  csrPairs: 5,
  csrPairStride: 6,
  csrDescriptors: 7,
  csrDescriptorStride: 8,
  chunkRows: 9,
  chunks: 10,
  /** 0 to skip the CSC (csrPairs 0 likewise skips the CSR). */
  cscPairs: 11,
  cscDescriptors: 12,
  cscPairStride: 13,
  labelsOut: 14,
  scaleTable: 15,
  /** 0, or the per-row augmentation parameters (AUGMENT_ROW_BYTES a row: dx, dy, flip). */
  augment: 16,
  /** This thread's scratch image, where an augmented image is built before it is scanned. */
  scratch: 17,
  /** 0, or where the rows also go as a dense tiled matrix of pixel/255 (pixel k in tile ⌊k/TILE⌋). */
  dense: 18,
  /** Bytes between the dense matrix's tiles. */
  denseTileStride: 19,
  words: 20,
});

export const SPARSIFY = Object.freeze({
  source: 0,
  sourceTileStride: 1,
  columns: 2,
  first: 3,
  rows: 4,
  csrPairs: 5,
  csrPairStride: 6,
  csrDescriptors: 7,
  csrDescriptorStride: 8,
  chunkRows: 9,
  chunks: 10,
  cscPairs: 11,
  cscDescriptors: 12,
  cscPairStride: 13,
  words: 14,
});

export const SOFTMAX = Object.freeze({
  logits: 0,
  first: 1,
  rows: 2,
  classes: 3,
  labels: 4,
  /** 0 to skip dZ. */
  deltas: 5,
  /** f32: 1 / batch rows. */
  inverseBatch: 6,
  costs: 7,
  correct: 8,
  /** 0 to skip; else f32 [buffer rows × classes], indexed by row. */
  probabilities: 9,
  /** i32 per row: the class with the highest probability (the first on ties). */
  predicted: 10,
  /** f32: label smoothing ε; the target is 1 − ε + ε/classes for the label, ε/classes for the others. */
  smoothing: 11,
  words: 12,
});

/**
 * MASKED's dot product: four lanes, lane j summing the products of columns c ≡ j (mod 4) tile by tile in
 * column order (each product rounded, then the sum, as f32x4 does), then (lane 0 + lane 2) + (lane 1 + lane 3).
 * The last tile stops after `lastTileBytes`.
 */
export const MASKED = Object.freeze({
  /** The CSR of the layer's input (A below, non-zero where the ReLU let it through): chunk 0's descriptors. */
  descriptors: 0,
  descriptorStride: 1,
  chunks: 2,
  first: 3,
  rows: 4,
  /** dZ of the layer, dense tiled: rows TILE_BYTES apart, tiles deltaTileStride apart. */
  deltas: 5,
  deltaTileStride: 6,
  tiles: 7,
  /** W of the layer, tiled by its output columns: row u of tile t at weights + t·weightTileStride + u·TILE_BYTES. */
  weights: 8,
  weightTileStride: 9,
  /** dZ below, dense tiled; its `outTiles` tiles of rows first…first+rows are zeroed first. */
  out: 10,
  outTileStride: 11,
  outTiles: 12,
  /** f32: dropout's 1/(1 − p) for the kept units, or 1. */
  scale: 13,
  /** 0, or this thread's segment of a CSC by unit (`cscColumns` descriptors, reset first). */
  cscPairs: 14,
  cscDescriptors: 15,
  cscPairStride: 16,
  cscColumns: 17,
  /**
   * Bytes of the last tile's columns that hold real outputs, rounded up to whole vectors (16 bytes): the padded
   * columns' dZ is 0, and leaving their products out changes no sum.
   */
  lastTileBytes: 18,
  words: 19,
});

export type Kernel = (args: number) => void;

/** The argument fields GATHER and SPARSIFY share: where CSR pairs, descriptors and (optionally) CSC go. */
export const SPARSE_FIELDS = [
  'csrPairs',
  'csrPairStride',
  'csrDescriptors',
  'csrDescriptorStride',
  'chunkRows',
  'chunks',
  'cscPairs',
  'cscDescriptors',
  'cscPairStride',
] as const;

export type SparseFields<T> = Record<(typeof SPARSE_FIELDS)[number], T>;

type SparseOutput = SparseFields<number>;

/** The kernels implemented in TypeScript over a memory buffer, indexed by Op. */
export function createTypeScriptKernels(buffer: ArrayBuffer | SharedArrayBuffer): Kernel[] {
  const i32 = new Int32Array(buffer);
  const f32 = new Float32Array(buffer);
  const f64 = new Float64Array(buffer);
  const u8 = new Uint8Array(buffer);
  const fround = Math.fround;
  const acc = new Float32Array(TILE);
  const lanes = new Float32Array(4);

  const spmm: Kernel = (args) => {
    const a = args >>> 2;
    const descriptors = i32[a + SPMM.descriptors];
    const segmentStride = i32[a + SPMM.segmentStride];
    const segments = i32[a + SPMM.segments];
    const rows = i32[a + SPMM.rows];
    const matrix = i32[a + SPMM.matrix];
    const out = i32[a + SPMM.out];
    const accumulate = i32[a + SPMM.accumulate];
    const epilogue = i32[a + SPMM.epilogue];
    const aux0 = i32[a + SPMM.aux0];
    const aux1 = i32[a + SPMM.aux1];
    const aux2 = i32[a + SPMM.aux2];
    const adam = i32[a + SPMM.adam] >>> 2;
    const columns = 4 * i32[a + SPMM.vectors];
    for (let i = 0; i < rows; i++) {
      const o = (out + i * TILE_BYTES) >>> 2;
      // Four columns at a time in locals: V8 keeps them in registers, a typed-array accumulator it does not.
      for (let c = 0; c < columns; c += 4) {
        let a0 = accumulate ? f32[o + c] : 0;
        let a1 = accumulate ? f32[o + c + 1] : 0;
        let a2 = accumulate ? f32[o + c + 2] : 0;
        let a3 = accumulate ? f32[o + c + 3] : 0;
        for (let seg = 0; seg < segments; seg++) {
          const d = (descriptors + seg * segmentStride + i * 8) >>> 2;
          const end = i32[d + 1] >>> 2;
          for (let p = i32[d] >>> 2; p < end; p += 2) {
            const value = f32[p + 1];
            const m = ((matrix + i32[p]) >>> 2) + c;
            a0 = fround(a0 + fround(value * f32[m]));
            a1 = fround(a1 + fround(value * f32[m + 1]));
            a2 = fround(a2 + fround(value * f32[m + 2]));
            a3 = fround(a3 + fround(value * f32[m + 3]));
          }
        }
        acc[c] = a0;
        acc[c + 1] = a1;
        acc[c + 2] = a2;
        acc[c + 3] = a3;
      }
      switch (epilogue) {
        case Epilogue.Store:
          for (let c = 0; c < columns; c++) f32[o + c] = acc[c];
          break;
        case Epilogue.BiasRelu: {
          const b = aux0 >>> 2;
          for (let c = 0; c < columns; c++) {
            const z = fround(acc[c] + f32[b + c]);
            f32[o + c] = z > 0 || z !== z ? z : 0; // NaN passes through, as f32x4.max does
          }
          break;
        }
        case Epilogue.Bias: {
          const b = aux0 >>> 2;
          for (let c = 0; c < columns; c++) f32[o + c] = acc[c] + f32[b + c];
          break;
        }
        case Epilogue.BiasReluDropout: {
          const b = aux0 >>> 2;
          const block = adam;
          const threshold = i32[block + (DROPOUT.threshold >>> 2)] >>> 0;
          const scale = f32[block + (DROPOUT.scale >>> 2)];
          const row = rowKey(i32[block + (DROPOUT.key >>> 2)] >>> 0, aux1 + i);
          for (let c = 0; c < columns; c++) {
            let z = fround(acc[c] + f32[b + c]);
            z = z > 0 || z !== z ? z : 0;
            f32[o + c] = dropoutHash(row, aux2 + c) >= threshold ? fround(z * scale) : 0;
          }
          break;
        }
        case Epilogue.Mask: {
          const mask = (aux0 + i * TILE_BYTES) >>> 2;
          for (let c = 0; c < columns; c++) f32[o + c] = f32[mask + c] > 0 ? acc[c] : 0;
          break;
        }
        case Epilogue.MaskScaled: {
          const mask = (aux0 + i * TILE_BYTES) >>> 2;
          const scale = f32[a + SPMM.aux1];
          for (let c = 0; c < columns; c++) f32[o + c] = f32[mask + c] > 0 ? fround(acc[c] * scale) : 0;
          break;
        }
        case Epilogue.Adam:
        case Epilogue.AdamTransposed: {
          const stepSize = f32[adam + (ADAM.stepSize >>> 2)];
          const b1 = f32[adam + (ADAM.beta1 >>> 2)];
          const b2 = f32[adam + (ADAM.beta2 >>> 2)];
          const epsilonHat = f32[adam + (ADAM.epsilonHat >>> 2)];
          const nb1 = f32[adam + (ADAM.oneMinusBeta1 >>> 2)];
          const nb2 = f32[adam + (ADAM.oneMinusBeta2 >>> 2)];
          const mo = i32[adam + (ADAM.momentOffset >>> 2)] >>> 2;
          const decay = f32[adam + (ADAM.decay >>> 2)];
          for (let c = 0; c < columns; c++) {
            const g = acc[c];
            const m = fround(fround(b1 * f32[o + mo + c]) + fround(nb1 * g));
            const v = fround(fround(b2 * f32[o + 2 * mo + c]) + fround(fround(nb2 * g) * g));
            f32[o + mo + c] = m;
            f32[o + 2 * mo + c] = v;
            const step = fround(fround(stepSize * m) / fround(fround(Math.sqrt(v)) + epsilonHat));
            // AdamW: shrink, then step (decay 1 leaves the parameter exactly as it was).
            f32[o + c] = fround(f32[o + c] * decay) - step;
          }
          if (epilogue === Epilogue.AdamTransposed) {
            const k = aux2 + i;
            const t = (aux0 + Math.floor(k / TILE) * aux1 + (k % TILE) * 4) >>> 2;
            for (let c = 0; c < columns; c++) f32[t + c * TILE] = f32[o + c];
          }
          break;
        }
        default:
          throw new Error(`spmm: unknown epilogue ${epilogue}`);
      }
    }
  };

  /**
   * Scans rows first..first+rows of a dense matrix given by valueAt and writes the non-zeros as CSR pairs
   * (with per-chunk descriptors) and, when asked, appends them to this thread's CSC segment. As in the
   * WebAssembly kernels, every value scanned is written and kept by advancing the list ends only when it is
   * non-zero (no branch to mispredict); a pair not kept lies past its list's end, inside its row's or
   * segment's room, and is overwritten or never read. `zeros16(k)`, when given, says that 16 values from
   * column k are all zero, and they are skipped without a write (the gather's borders and backgrounds); a
   * group that is not all zero is scanned whole.
   */
  const emitRows = (
    first: number,
    rows: number,
    columns: number,
    valueAt: (row: number, column: number) => number,
    o: SparseOutput,
    beginRow?: (row: number) => void,
    zeros16?: (column: number) => boolean,
  ): void => {
    if (o.cscPairs) {
      for (let k = 0; k < columns; k++) {
        const start = o.cscPairs + k * o.cscPairStride + first * PAIR_BYTES;
        i32[(o.cscDescriptors >>> 2) + 2 * k] = start;
        i32[(o.cscDescriptors >>> 2) + 2 * k + 1] = start;
      }
    }
    const csr = o.csrPairs !== 0;
    for (let s = first; s < first + rows; s++) {
      beginRow?.(s);
      let p = o.csrPairs + s * o.csrPairStride;
      let k = 0;
      for (let chunk = 0; chunk < o.chunks; chunk++) {
        const d = (o.csrDescriptors + chunk * o.csrDescriptorStride + s * 8) >>> 2;
        if (csr) i32[d] = p;
        const end = Math.min(columns, (chunk + 1) * o.chunkRows);
        // With zeros16: whole groups of 16 columns, each skipped when zero and otherwise scanned in full.
        let groupEnd = 0;
        while (k < end) {
          if (zeros16 && k >= groupEnd && k + 16 <= end) {
            if (zeros16(k)) {
              k += 16;
              continue;
            }
            groupEnd = k + 16;
          }
          const value = valueAt(s, k);
          const kept = value !== 0 ? PAIR_BYTES : 0;
          if (csr) {
            i32[p >>> 2] = k * TILE_BYTES;
            f32[(p >>> 2) + 1] = value;
            p += kept;
          }
          if (o.cscPairs) {
            const cd = (o.cscDescriptors >>> 2) + 2 * k + 1;
            const q = i32[cd];
            i32[q >>> 2] = s * TILE_BYTES;
            f32[(q >>> 2) + 1] = value;
            i32[cd] = q + kept;
          }
          k++;
        }
        if (csr) i32[d + 1] = p;
      }
    }
  };

  const sparseArgs = (a: number, offsets: typeof GATHER | typeof SPARSIFY): SparseOutput =>
    Object.fromEntries(SPARSE_FIELDS.map((field) => [field, i32[a + offsets[field]]])) as SparseOutput;

  const gather: Kernel = (args) => {
    const a = args >>> 2;
    // Byte addresses of the u8 data and the scratch image, unsigned (an i32 is negative above 2 GiB).
    const images = i32[a + GATHER.images] >>> 0;
    const labels = i32[a + GATHER.labels] >>> 0;
    const indices = i32[a + GATHER.indices] >>> 2;
    const first = i32[a + GATHER.first];
    const rows = i32[a + GATHER.rows];
    const labelsOut = i32[a + GATHER.labelsOut] >>> 2;
    const scale = i32[a + GATHER.scaleTable] >>> 2;
    const augment = i32[a + GATHER.augment];
    const scratch = i32[a + GATHER.scratch] >>> 0;
    const dense = i32[a + GATHER.dense];
    const denseTileStride = i32[a + GATHER.denseTileStride];
    for (let s = first; s < first + rows; s++) i32[labelsOut + s] = u8[labels + i32[indices + s]];
    let image = 0;
    const beginRow = (s: number): void => {
      image = images + i32[indices + s] * IMAGE_SIZE;
      if (augment) {
        augmentImage(image, scratch, (augment + s * AUGMENT_ROW_BYTES) >>> 2);
        image = scratch;
      }
      if (dense) {
        for (let k = 0; k < IMAGE_SIZE; k++) {
          f32[(dense + Math.floor(k / TILE) * denseTileStride + s * TILE_BYTES + (k % TILE) * 4) >>> 2] =
            f32[scale + u8[image + k]];
        }
      }
    };
    const valueAt = (_s: number, k: number): number => f32[scale + u8[image + k]];
    const zeros16 = (k: number): boolean => {
      for (let i = 0; i < 16; i++) if (u8[image + k + i] !== 0) return false;
      return true;
    };
    emitRows(first, rows, IMAGE_SIZE, valueAt, sparseArgs(a, GATHER), beginRow, zeros16);
  };

  /**
   * Writes the image at `source`, mirrored left to right when asked and then shifted by (dx, dy), to
   * `target`; pixels shifted in from outside are 0. Parameters at word `p`: dx, dy, flip.
   */
  const augmentImage = (source: number, target: number, p: number): void => {
    const dx = i32[p];
    const dy = i32[p + 1];
    const flip = i32[p + 2];
    for (let y = 0; y < IMAGE_WIDTH; y++) {
      const sy = y - dy;
      for (let x = 0; x < IMAGE_WIDTH; x++) {
        const sx = x - dx;
        const inside = sy >= 0 && sy < IMAGE_WIDTH && sx >= 0 && sx < IMAGE_WIDTH;
        u8[target + y * IMAGE_WIDTH + x] = inside
          ? u8[source + sy * IMAGE_WIDTH + (flip ? IMAGE_WIDTH - 1 - sx : sx)]
          : 0;
      }
    }
  };

  const sparsify: Kernel = (args) => {
    const a = args >>> 2;
    const source = i32[a + SPARSIFY.source];
    const tileStride = i32[a + SPARSIFY.sourceTileStride];
    const columns = i32[a + SPARSIFY.columns];
    const valueAt = (s: number, k: number): number =>
      f32[(source + Math.floor(k / TILE) * tileStride + s * TILE_BYTES + (k % TILE) * 4) >>> 2];
    emitRows(i32[a + SPARSIFY.first], i32[a + SPARSIFY.rows], columns, valueAt, sparseArgs(a, SPARSIFY));
  };

  const softmax: Kernel = (args) => {
    const a = args >>> 2;
    const logits = i32[a + SOFTMAX.logits];
    const first = i32[a + SOFTMAX.first];
    const rows = i32[a + SOFTMAX.rows];
    const classes = i32[a + SOFTMAX.classes];
    const labels = i32[a + SOFTMAX.labels] >>> 2;
    const deltas = i32[a + SOFTMAX.deltas];
    const inverseBatch = f32[a + SOFTMAX.inverseBatch];
    const costs = i32[a + SOFTMAX.costs] >>> 3;
    const correct = i32[a + SOFTMAX.correct] >>> 2;
    const probabilities = i32[a + SOFTMAX.probabilities] >>> 2;
    const predicted = i32[a + SOFTMAX.predicted] >>> 2;
    // Targets: with ε = 0 exactly 1 and 0, so the cost and dZ are bit for bit those without smoothing.
    const smoothing = f32[a + SOFTMAX.smoothing];
    const otherTarget = smoothing / classes;
    const labelTarget = 1 - smoothing + otherTarget;
    for (let s = first; s < first + rows; s++) {
      const z = (logits + s * TILE_BYTES) >>> 2;
      const label = i32[labels + s];
      let max = f32[z];
      let best = 0;
      for (let c = 1; c < classes; c++) {
        if (f32[z + c] > max) {
          max = f32[z + c];
          best = c;
        }
      }
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(f32[z + c] - max);
      // −Σ q_c log p_c = logsumexp − Σ q_c z_c
      let target = 0;
      for (let c = 0; c < classes; c++) target += (c === label ? labelTarget : otherTarget) * f32[z + c];
      f64[costs + s] = max + Math.log(sum) - target;
      i32[correct + s] = best === label ? 1 : 0;
      i32[predicted + s] = best;
      if (deltas) {
        const d = (deltas + s * TILE_BYTES) >>> 2;
        for (let c = 0; c < classes; c++) {
          const p = Math.exp(f32[z + c] - max) / sum;
          f32[d + c] = (p - (c === label ? labelTarget : otherTarget)) * inverseBatch;
        }
      }
      if (probabilities) {
        const q = probabilities + s * classes;
        for (let c = 0; c < classes; c++) f32[q + c] = Math.exp(f32[z + c] - max) / sum;
      }
    }
  };

  const masked: Kernel = (args) => {
    const a = args >>> 2;
    const fields = Object.entries(MASKED).filter(([field]) => field !== 'words');
    const word = Object.fromEntries(fields.map(([field, index]) => [field, i32[a + index]])) as Record<
      keyof typeof MASKED,
      number
    >;
    const {
      descriptors,
      descriptorStride,
      chunks,
      first,
      rows,
      deltas,
      deltaTileStride,
      tiles,
      weights,
      weightTileStride,
    } = word;
    const { out, outTileStride, outTiles, cscPairs, cscPairStride } = word;
    const scale = f32[a + MASKED.scale];
    const cscDescriptors = word.cscDescriptors >>> 2;
    const lastTileColumns = word.lastTileBytes >>> 2;
    if (cscPairs) {
      for (let u = 0; u < word.cscColumns; u++) {
        const start = cscPairs + u * cscPairStride + first * PAIR_BYTES;
        i32[cscDescriptors + 2 * u] = start;
        i32[cscDescriptors + 2 * u + 1] = start;
      }
    }
    for (let s = first; s < first + rows; s++) {
      for (let t = 0; t < outTiles; t++) {
        const row = (out + t * outTileStride + s * TILE_BYTES) >>> 2;
        f32.fill(0, row, row + TILE);
      }
      for (let chunk = 0; chunk < chunks; chunk++) {
        const d = (descriptors + chunk * descriptorStride + s * 8) >>> 2;
        const end = i32[d + 1] >>> 2;
        for (let p = i32[d] >>> 2; p < end; p += 2) {
          const offset = i32[p];
          lanes.fill(0);
          for (let t = 0; t < tiles; t++) {
            const x = (deltas + t * deltaTileStride + s * TILE_BYTES) >>> 2;
            const w = (weights + t * weightTileStride + offset) >>> 2;
            const columns = t === tiles - 1 ? lastTileColumns : TILE;
            for (let c = 0; c < columns; c++) lanes[c & 3] = fround(lanes[c & 3] + fround(f32[x + c] * f32[w + c]));
          }
          const value = fround(fround(fround(lanes[0] + lanes[2]) + fround(lanes[1] + lanes[3])) * scale);
          const u = offset / TILE_BYTES;
          f32[(out + Math.floor(u / TILE) * outTileStride + s * TILE_BYTES + (u % TILE) * 4) >>> 2] = value;
          if (cscPairs) {
            const cd = cscDescriptors + 2 * u + 1;
            const q = i32[cd];
            i32[q >>> 2] = s * TILE_BYTES;
            f32[(q >>> 2) + 1] = value;
            i32[cd] = q + (value !== 0 ? PAIR_BYTES : 0);
          }
        }
      }
    }
  };

  return [spmm, gather, sparsify, softmax, masked];
}
