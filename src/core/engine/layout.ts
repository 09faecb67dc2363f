/**
 * Where everything lives in the engine's one linear memory (a WebAssembly memory shared by the kernel
 * threads, or a plain ArrayBuffer for the TypeScript kernels). All addresses are byte offsets.
 *
 * Matrices use a column-tiled layout: a [rows × cols] matrix with cols padded to a multiple of TILE is
 * stored as cols/TILE tiles, each a contiguous [rows × TILE] block, so element (r, c) is at
 *   base + ⌊c/TILE⌋·rows·TILE·4 + r·TILE·4 + (c mod TILE)·4.
 * A kernel call works on one tile: its rows are TILE·4 bytes apart and a sparse pair (k, value) addresses
 * row k of any tile as k·TILE·4. Padded units have zero weights and biases, so they stay exactly zero.
 */

import { IMAGE_SIZE } from '@core/shared/dataset';
import { layerSizes, type MlpShape } from '@core/shared/mlp';

/** Floats per tile: 7 SIMD accumulators of 4 lanes, the most V8 keeps in registers without spilling. */
export const TILE = 28;
export const TILE_BYTES = TILE * 4;
/** Most matrix rows one kernel pass reads per tile (keeps the tile's working set in L1: 196·112 B ≈ 22 KB). */
export const MAX_CHUNK_ROWS = 196;
/** Rows of the evaluation buffers when the training batch is smaller. */
export const MIN_BUFFER_ROWS = 256;
/** Bytes of one sparse pair: an i32 row offset and an f32 value. */
export const PAIR_BYTES = 8;

export const ADAM_BLOCK_BYTES = 64;
/** Byte offsets inside the Adam block. */
export const ADAM = Object.freeze({
  /** αₜ = lr·√(1 − β2ᵗ)/(1 − β1ᵗ) (optimizer/adam.ts) */
  stepSize: 0,
  beta1: 4,
  beta2: 8,
  /** ε̂ = ε·√(1 − β2ᵗ) */
  epsilonHat: 12,
  oneMinusBeta1: 24,
  oneMinusBeta2: 28,
  /** i32: distance from a parameter to its first moment; the second moment is twice as far. */
  momentOffset: 32,
  /** AdamW's shrink factor 1 − lr·weightDecay, applied before the step (1 in the block for biases). */
  decay: 36,
});

export const DROPOUT_BLOCK_BYTES = 64;
/** Byte offsets inside the dropout block (the step's key; a run's threshold and the kept units' scale). */
export const DROPOUT = Object.freeze({
  /** u32: this step's key (recipes.ts stepKey). */
  key: 0,
  /** u32: a unit is kept when its hash is at least this. */
  threshold: 4,
  /** f32: 1 / (1 − p), so the expected activation is unchanged (inverted dropout). */
  scale: 8,
});

/** Bytes per batch row of augmentation parameters: i32 dx, dy, flip (and one spare word). */
export const AUGMENT_ROW_BYTES = 16;
/** A thread's scratch image for augmentation, rounded up to the allocation alignment. */
export const AUGMENT_SCRATCH_BYTES = 832;

/**
 * Program slots are sized in multiples of this many words (a cache line), so no two slots share a line.
 */
export const PROGRAM_SLOT_ALIGN_WORDS = 16;

export interface Region {
  address: number;
  bytes: number;
}

/** A sparse row structure: `chunks` descriptor arrays of [rows][start, end] over a pair buffer. */
export interface SparseRows {
  pairs: Region;
  /** Bytes between consecutive rows' pair storage. */
  pairStride: number;
  descriptors: Region;
  /** Bytes between the descriptor arrays of consecutive chunks (or thread segments). */
  descriptorStride: number;
  /** Matrix rows per chunk (CSR) and chunk count. */
  chunkRows: number;
  chunks: number;
}

export interface LayerLayout {
  /** Real and padded sizes of the layer's input and output. */
  inputs: number;
  outputs: number;
  inputRows: number; // rows of W: 784 for the first layer, the padded previous width otherwise
  paddedOutputs: number;
  tiles: number;
  /** W tiled by output columns: the forward pass reads it. */
  weights: Region;
  biases: Region;
  /**
   * Wᵀ as a tiled [paddedOutputs × inputRows] matrix. The last layer's input gradient dZ·Wᵀ reads it; in the
   * first layer the weight gradient is summed into it, from dZ's sparsity (see `master`). Null for the hidden
   * layers above the first, whose input gradient is taken from W by masked dot products.
   */
  transposed: Region | null;
  /**
   * The input gradient of a hidden layer above the first: only where the ReLU below let a unit through, as
   * dot products of dZ's rows with W's rows (MASKED), reading W itself. The output layer's dZ is dense and
   * narrow, so its input gradient stays the pairs of dZ times Wᵀ.
   */
  maskedInputGradient: boolean;
  /**
   * Which of W and Wᵀ is the parameter (in the parameters region, with its moments and gradients at fixed
   * distances); Adam writes the other as a copy. The first layer updates Wᵀ, because its gradient dZ1ᵀ·X
   * costs (non-zeros of dZ1) × 784 multiply-adds per sample, fewer than (non-zero pixels) × width.
   */
  master: 'weights' | 'transposed';
  /** Pre-activations' output: A_l (hidden, after ReLU) or the logits (last layer). */
  activations: Region;
  /** dZ_l: gradient of the cost with respect to the layer's pre-activation. */
  deltas: Region;
  /** CSR of this layer's input rows (X or A_{l-1}), chunked over W's rows. */
  inputCsr: SparseRows;
  /**
   * CSC of this layer's input for dW (layers 2…): per input unit, the samples (per thread segment) where it
   * is non-zero.
   */
  inputCsc: SparseRows | null;
  /** The first layer's input batch as a dense tiled [batch × 784] matrix, for dWᵀ = dZ1ᵀ·X. */
  inputDense: Region | null;
  /**
   * CSR of dZ_l rows, chunked over Wᵀ's rows, for dZ·Wᵀ: the last layer's only (none for the first, none when masked).
   */
  deltaCsr: SparseRows | null;
  /** The first layer's CSC of dZ1: per unit, the samples (per thread segment) where dZ1 is non-zero. */
  deltaCsc: SparseRows | null;
}

/**
 * Where each thread's kernel programs go: one slot per program kind (program.ts Slot), each as long as the
 * longest program of that kind this layout has (program.ts programSlotWords counts them). Every thread's
 * slots follow each other in the same order, `wordsPerThread` apart.
 */
export interface ProgramSlots {
  /** Word offset of each slot from the start of a thread's programs. */
  offsets: number[];
  /** Words of each slot. */
  words: number[];
  wordsPerThread: number;
}

export interface DatasetSlot {
  images: Region;
  labels: Region;
  count: number;
}

export interface EngineLayout {
  shape: MlpShape;
  batchSize: number;
  bufferRows: number;
  threads: number;
  control: Region;
  /** Adam's scalars for the weights (with AdamW's decay) and for the biases (never decayed). */
  adam: Region;
  adamBiases: Region;
  dropout: Region;
  /** Per batch row: how augmentation shifts and flips it this step; per thread: a scratch image. */
  augment: Region;
  augmentScratch: Region;
  scaleTable: Region;
  parameters: Region;
  /** m and v follow the parameters at parameters.bytes and 2·parameters.bytes. */
  moments: Region;
  gradients: Region;
  layers: LayerLayout[];
  ones: Region;
  onesDescriptor: Region;
  batchIndices: Region;
  labels: Region;
  costs: Region;
  correct: Region;
  predicted: Region;
  probabilities: Region;
  programs: Region;
  programSlots: ProgramSlots;
  datasets: DatasetSlot[];
  totalBytes: number;
}

/** Word index of element (r, c) of a tiled matrix with `rows` rows (see the layout above). */
export function tiledIndex(rows: number, r: number, c: number): number {
  return Math.floor(c / TILE) * rows * TILE + r * TILE + (c % TILE);
}

/** The layer's parameter matrix (W, or Wᵀ in the first layer) and the copy of it Adam keeps up to date, if any. */
export function masterAndCopy(layer: LayerLayout): { master: Region; copy: Region | null } {
  return layer.master === 'weights'
    ? { master: layer.weights, copy: layer.transposed }
    : { master: layer.transposed!, copy: layer.weights };
}

export function padToTile(units: number): number {
  return Math.ceil(units / TILE) * TILE;
}

/** Splits `rows` into chunks of at most `maxRows`, as evenly as possible, in multiples of 4 rows. */
export function chunking(rows: number, maxRows = MAX_CHUNK_ROWS): { chunkRows: number; chunks: number } {
  const chunks = Math.max(1, Math.ceil(rows / maxRows));
  return { chunkRows: Math.ceil(rows / chunks / 4) * 4, chunks };
}

class Allocator {
  next = 0;
  take(bytes: number, align = 64): Region {
    this.next = Math.ceil(this.next / align) * align;
    const region = { address: this.next, bytes };
    this.next += bytes;
    return region;
  }
}

/** Slots of the given words each, rounded up to whole cache lines, one after the other. */
export function programSlots(slotWords: readonly number[]): ProgramSlots {
  const words = slotWords.map((w) => Math.ceil(w / PROGRAM_SLOT_ALIGN_WORDS) * PROGRAM_SLOT_ALIGN_WORDS);
  const offsets = words.map((_, s) => words.slice(0, s).reduce((sum, w) => sum + w, 0));
  return { offsets, words, wordsPerThread: words.reduce((sum, w) => sum + w, 0) };
}

/**
 * The engine's layout for a network, batch size, thread count and data sets. `slotWords` are the words each
 * program slot needs, which depend on the layout's layers (program.ts programSlotWords): plan once without
 * them, count, and plan again with them (memory.ts planEngine). Only numbers: nothing is allocated.
 */
export function planLayout(
  shape: MlpShape,
  batchSize: number,
  threads: number,
  datasetCounts: number[],
  maxChunkRows = MAX_CHUNK_ROWS,
  slotWords: readonly number[] = [],
): EngineLayout {
  const sizes = layerSizes(shape);
  const bufferRows = Math.max(batchSize, MIN_BUFFER_ROWS);
  const heap = new Allocator();
  const control = heap.take(256);
  const adam = heap.take(ADAM_BLOCK_BYTES);
  const adamBiases = heap.take(ADAM_BLOCK_BYTES);
  const dropout = heap.take(DROPOUT_BLOCK_BYTES);
  const augment = heap.take(bufferRows * AUGMENT_ROW_BYTES);
  const augmentScratch = heap.take(threads * AUGMENT_SCRATCH_BYTES);
  const scaleTable = heap.take(256 * 4);

  // Parameters first and contiguous, so the moments sit at fixed distances from each parameter.
  const paramStart = heap.next;
  const shapes = sizes.slice(1).map((outputs, l) => {
    const inputs = sizes[l];
    const inputRows = padToTile(l === 0 ? IMAGE_SIZE : inputs);
    const paddedOutputs = padToTile(outputs);
    return { inputs, outputs, inputRows, paddedOutputs, tiles: paddedOutputs / TILE };
  });
  const master = (l: number): 'weights' | 'transposed' => (l === 0 ? 'transposed' : 'weights');
  const weightRegions = shapes.map((s) => ({
    master: heap.take(s.inputRows * s.paddedOutputs * 4),
    biases: heap.take(s.paddedOutputs * 4),
  }));
  const parameters = { address: paramStart, bytes: Math.ceil((heap.next - paramStart) / 64) * 64 };
  heap.next = paramStart + parameters.bytes;
  const moments = heap.take(2 * parameters.bytes);
  const gradients = heap.take(parameters.bytes);

  const sparse = (
    rowsOfPairs: number,
    pairsPerRow: number,
    descriptorRows: number,
    chunkedRows: number,
    segments?: number,
  ): SparseRows => {
    const { chunkRows, chunks } = segments
      ? { chunkRows: chunkedRows, chunks: segments }
      : chunking(chunkedRows, maxChunkRows);
    const pairs = heap.take(rowsOfPairs * pairsPerRow * PAIR_BYTES);
    const descriptorStride = descriptorRows * 8;
    const descriptors = heap.take(chunks * descriptorStride);
    return { pairs, pairStride: pairsPerRow * PAIR_BYTES, descriptors, descriptorStride, chunkRows, chunks };
  };

  const masked = (l: number): boolean => l > 0 && l < shapes.length - 1;
  const layers: LayerLayout[] = shapes.map((s, l) => ({
    ...s,
    master: master(l),
    maskedInputGradient: masked(l),
    // The master in the parameters region, the other one (if any) a copy after it.
    weights: master(l) === 'weights' ? weightRegions[l].master : heap.take(s.inputRows * s.paddedOutputs * 4),
    transposed:
      master(l) === 'transposed'
        ? weightRegions[l].master
        : masked(l)
          ? null
          : heap.take(s.paddedOutputs * s.inputRows * 4),
    biases: weightRegions[l].biases,
    activations: heap.take(bufferRows * s.paddedOutputs * 4),
    deltas: heap.take(batchSize * s.paddedOutputs * 4),
    // CSR: per sample at most inputRows non-zeros; descriptors per chunk of W's rows.
    inputCsr: sparse(bufferRows, s.inputRows, bufferRows, s.inputRows),
    // CSC: per input unit room for every sample of the batch; one descriptor array per thread segment.
    inputCsc: l === 0 ? null : sparse(s.inputRows, batchSize, s.inputRows, s.inputRows, threads),
    inputDense: l === 0 ? heap.take(batchSize * s.inputRows * 4) : null,
    deltaCsr: l === 0 || masked(l) ? null : sparse(batchSize, s.paddedOutputs, batchSize, s.paddedOutputs),
    deltaCsc: l === 0 ? sparse(s.paddedOutputs, batchSize, s.paddedOutputs, s.paddedOutputs, threads) : null,
  }));

  const ones = heap.take(batchSize * PAIR_BYTES);
  const onesDescriptor = heap.take(8);
  const batchIndices = heap.take(bufferRows * 4);
  const labels = heap.take(bufferRows * 4);
  const costs = heap.take(bufferRows * 8);
  const correct = heap.take(bufferRows * 4);
  const predicted = heap.take(bufferRows * 4);
  const probabilities = heap.take(bufferRows * shape.outputSize * 4);
  const slots = programSlots(slotWords);
  const programs = heap.take(threads * slots.wordsPerThread * 4);
  const datasets = datasetCounts.map((count) => ({
    images: heap.take(count * IMAGE_SIZE, 64),
    labels: heap.take(count, 64),
    count,
  }));
  return {
    shape,
    batchSize,
    bufferRows,
    threads,
    control,
    adam,
    adamBiases,
    dropout,
    augment,
    augmentScratch,
    scaleTable,
    parameters,
    moments,
    gradients,
    layers,
    ones,
    onesDescriptor,
    batchIndices,
    labels,
    costs,
    correct,
    predicted,
    probabilities,
    programs,
    programSlots: slots,
    datasets,
    totalBytes: Math.ceil(heap.next / 65536) * 65536,
  };
}
