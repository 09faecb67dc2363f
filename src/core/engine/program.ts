/**
 * Kernel programs: the list of kernel calls one thread makes for one phase of work, stored in the engine's
 * memory as [count, (op, argument address)…] followed by the argument blocks. Any thread runs a program
 * with the tiny interpreter below, so helper threads need no copy of this orchestration code.
 *
 * A training step is two phases separated by barriers:
 *  A (split by samples): gather → for each layer: Z = X·W (+b, ReLU) tile by tile and chunk by chunk →
 *    softmax and dZ_L → for each layer from the top: dZ_{l-1} = (dZ_l·Wᵀ) ⊙ [A_{l-1} > 0], from dZ_L's pairs
 *    times Wᵀ for the output layer, as masked dot products (only where A_{l-1} ≠ 0) for hidden ones → dZ1's CSC.
 *  B (split by parameter rows): dW rows = Σ_samples x·dZ with Adam applied in the same pass; biases likewise.
 *    The first layer sums dWᵀ rows = Σ_samples dZ1·x instead: one row per unit, over the samples where the
 *    unit's dZ1 is non-zero, against the batch's dense pixels.
 * Every output element is summed by one thread in sample order, so results do not depend on the thread count.
 *
 * A program's length grows with its layers' tiles times their chunks (8 hidden layers of 4096 units make
 * twenty thousand calls), so each slot is as long as the layout's longest program of its kind: programSlotWords
 * builds them all once to count their words, before the memory is planned.
 */

import { Epilogue, GATHER, type Kernel, MASKED, Op, SOFTMAX, SPARSIFY, SPMM } from './kernels';
import {
  AUGMENT_SCRATCH_BYTES,
  type DatasetSlot,
  type EngineLayout,
  type LayerLayout,
  masterAndCopy,
  type SparseRows,
  TILE,
  TILE_BYTES,
} from './layout';

/** Program slots within each thread's program region. */
export const enum Slot {
  TrainForwardBackward = 0,
  TrainUpdate = 1,
  Evaluate = 2,
  Gradients = 3,
}
export const SLOTS = 4;

export function programAddress(layout: EngineLayout, thread: number, slot: Slot): number {
  const slots = layout.programSlots;
  return layout.programs.address + (thread * slots.wordsPerThread + slots.offsets[slot]) * 4;
}

/** Runs a stored program with the given kernels. */
export function runProgram(i32: Int32Array, kernels: Kernel[], address: number): void {
  const base = address >>> 2;
  const count = i32[base];
  for (let i = 0; i < count; i++) kernels[i32[base + 1 + 2 * i]](i32[base + 2 + 2 * i]);
}

export class ProgramWriter {
  private calls: { op: Op; args: number[] }[] = [];
  private argWords = 0;

  call(op: Op, args: number[]): void {
    this.calls.push({ op, args });
    this.argWords += args.length;
  }

  /** Words the program takes in memory: its count, an (op, argument address) pair per call, the arguments. */
  get words(): number {
    return 1 + 2 * this.calls.length + this.argWords;
  }

  /** Writes the program into `slot` of `thread`; f32 arguments are passed as their bit patterns. */
  write(i32: Int32Array, layout: EngineLayout, thread: number, slot: Slot): void {
    // The slots were sized by building every program of the layout: a longer one is a bug in that count.
    if (this.words > layout.programSlots.words[slot]) throw new Error('kernel program exceeds its slot');
    const base = programAddress(layout, thread, slot) >>> 2;
    let argWord = base + 1 + 2 * this.calls.length;
    i32[base] = this.calls.length;
    this.calls.forEach((c, i) => {
      i32[base + 1 + 2 * i] = c.op;
      i32[base + 2 + 2 * i] = argWord * 4;
      for (const value of c.args) i32[argWord++] = value;
    });
  }
}

const f32Bits = (value: number): number => {
  const buffer = new DataView(new ArrayBuffer(4));
  buffer.setFloat32(0, value, true);
  return buffer.getInt32(0, true);
};

/**
 * The columns SPARSIFY scans of a layer's activations or dZ: its real units, rounded up to the scan's 4 (padded units
 * are always 0).
 */
function scannedColumns(layer: LayerLayout): number {
  return Math.ceil(layer.outputs / 4) * 4;
}

/** Vectors of 4 columns in tile `tile` of a matrix with `columns` real columns (7 but in the last tile). */
function tileVectors(columns: number, tile: number): number {
  return Math.ceil(Math.min(TILE, columns - tile * TILE) / 4);
}

function spmmArgs(fields: Partial<Record<keyof typeof SPMM, number>> & { vectors: number }): number[] {
  const args = new Array<number>(SPMM.words).fill(0);
  for (const [key, value] of Object.entries(fields)) args[SPMM[key as keyof typeof SPMM]] = value!;
  return args;
}

/**
 * The sparse-output fields of a GATHER or SPARSIFY call: the CSR (or none: then one chunk over all columns,
 * whose count is the CSC's rows) and this thread's segment of the CSC (or none).
 */
function sparseOutputArgs(
  offsets: typeof GATHER | typeof SPARSIFY,
  args: number[],
  csr: SparseRows | null,
  csc: SparseRows | null,
  thread: number,
): void {
  args[offsets.csrPairs] = csr ? csr.pairs.address : 0;
  args[offsets.csrPairStride] = csr ? csr.pairStride : 0;
  args[offsets.csrDescriptors] = csr ? csr.descriptors.address : 0;
  args[offsets.csrDescriptorStride] = csr ? csr.descriptorStride : 0;
  args[offsets.chunkRows] = csr ? csr.chunkRows : csc!.chunkRows;
  args[offsets.chunks] = csr ? csr.chunks : 1;
  args[offsets.cscPairs] = csc ? csc.pairs.address : 0;
  args[offsets.cscDescriptors] = csc ? csc.descriptors.address + thread * csc.descriptorStride : 0;
  args[offsets.cscPairStride] = csc ? csc.pairStride : 0;
}

export interface ForwardPlan {
  dataset: DatasetSlot;
  first: number;
  rows: number;
  /** Rows of the whole batch (for the 1/m of the cost gradient). */
  batchRows: number;
  thread: number;
  /** Build the CSCs and dZ for training; otherwise forward only. */
  training: boolean;
  probabilities: boolean;
  /** Training only: the recipes the step's program applies (their keys and per-row choices are in memory). */
  recipes?: ProgramRecipes;
}

export interface ProgramRecipes {
  /** Inverted dropout's 1/(1 − p) on the hidden layers, or null for none. */
  dropoutScale: number | null;
  /** Gather the images through the per-row shifts and flips in layout.augment. */
  augment: boolean;
  labelSmoothing: number;
}

/**
 * Phase A (training, into Slot.TrainForwardBackward) or the evaluation program (Slot.Evaluate) for one thread's rows.
 */
export function writeForwardProgram(i32: Int32Array, layout: EngineLayout, plan: ForwardPlan): void {
  forwardProgram(layout, plan).write(
    i32,
    layout,
    plan.thread,
    plan.training ? Slot.TrainForwardBackward : Slot.Evaluate,
  );
}

/** The forward program of a plan, built but not written (programSlotWords counts it). */
export function forwardProgram(layout: EngineLayout, plan: ForwardPlan): ProgramWriter {
  const program = new ProgramWriter();
  const { first, rows, thread, training } = plan;
  const layers = layout.layers;
  const last = layers.length - 1;
  const recipes = training ? plan.recipes : undefined;
  const dropoutScale = recipes?.dropoutScale ?? null;
  /**
   * The pair lists of a layer's activations or dZ at `source` (this thread's rows): a CSR and/or this thread's CSC
   * segment.
   */
  const sparsify = (
    layer: LayerLayout,
    source: number,
    tileStride: number,
    csr: SparseRows | null,
    csc: SparseRows | null,
  ): void => {
    const args = new Array<number>(SPARSIFY.words).fill(0);
    args[SPARSIFY.source] = source;
    args[SPARSIFY.sourceTileStride] = tileStride;
    args[SPARSIFY.columns] = scannedColumns(layer);
    args[SPARSIFY.first] = first;
    args[SPARSIFY.rows] = rows;
    sparseOutputArgs(SPARSIFY, args, csr, csc, thread);
    program.call(Op.Sparsify, args);
  };

  const gather = new Array<number>(GATHER.words).fill(0);
  gather[GATHER.images] = plan.dataset.images.address;
  gather[GATHER.labels] = plan.dataset.labels.address;
  gather[GATHER.indices] = layout.batchIndices.address;
  gather[GATHER.first] = first;
  gather[GATHER.rows] = rows;
  gather[GATHER.labelsOut] = layout.labels.address;
  gather[GATHER.scaleTable] = layout.scaleTable.address;
  if (recipes?.augment) {
    gather[GATHER.augment] = layout.augment.address;
    gather[GATHER.scratch] = layout.augmentScratch.address + thread * AUGMENT_SCRATCH_BYTES;
  }
  sparseOutputArgs(GATHER, gather, layers[0].inputCsr, training ? layers[0].inputCsc : null, thread);
  if (training && layers[0].inputDense) {
    gather[GATHER.dense] = layers[0].inputDense.address;
    gather[GATHER.denseTileStride] = layout.batchSize * TILE_BYTES;
  }
  program.call(Op.Gather, gather);

  // Dropout numbers the hidden units of all layers in a row: layer l's first unit follows the layers below.
  let firstUnit = 0;
  layers.forEach((layer, l) => {
    const activationTileStride = layout.bufferRows * TILE_BYTES;
    const dropout = dropoutScale !== null && l < last;
    for (let tile = 0; tile < layer.tiles; tile++) {
      const csr = layer.inputCsr;
      for (let chunk = 0; chunk < csr.chunks; chunk++) {
        const lastChunk = chunk === csr.chunks - 1;
        const epilogue = !lastChunk
          ? Epilogue.Store
          : l === last
            ? Epilogue.Bias
            : dropout
              ? Epilogue.BiasReluDropout
              : Epilogue.BiasRelu;
        program.call(
          Op.Spmm,
          spmmArgs({
            descriptors: csr.descriptors.address + chunk * csr.descriptorStride + first * 8,
            segments: 1,
            rows,
            matrix: layer.weights.address + tile * layer.inputRows * TILE_BYTES,
            out: layer.activations.address + tile * activationTileStride + first * TILE_BYTES,
            vectors: tileVectors(layer.outputs, tile),
            accumulate: chunk > 0 ? 1 : 0,
            epilogue,
            aux0: layer.biases.address + tile * TILE_BYTES,
            aux1: epilogue === Epilogue.BiasReluDropout ? first : 0,
            aux2: epilogue === Epilogue.BiasReluDropout ? firstUnit + tile * TILE : 0,
            adam: epilogue === Epilogue.BiasReluDropout ? layout.dropout.address : 0,
          }),
        );
      }
    }
    firstUnit += layer.outputs;
    if (l < last) {
      sparsify(
        layer,
        layer.activations.address,
        activationTileStride,
        layers[l + 1].inputCsr,
        training ? layers[l + 1].inputCsc : null,
      );
    }
  });

  const softmax = new Array<number>(SOFTMAX.words).fill(0);
  softmax[SOFTMAX.logits] = layers[last].activations.address;
  softmax[SOFTMAX.first] = first;
  softmax[SOFTMAX.rows] = rows;
  softmax[SOFTMAX.classes] = layers[last].outputs;
  softmax[SOFTMAX.labels] = layout.labels.address;
  softmax[SOFTMAX.deltas] = training ? layers[last].deltas.address : 0;
  softmax[SOFTMAX.inverseBatch] = f32Bits(1 / plan.batchRows);
  softmax[SOFTMAX.costs] = layout.costs.address;
  softmax[SOFTMAX.correct] = layout.correct.address;
  softmax[SOFTMAX.probabilities] = plan.probabilities ? layout.probabilities.address : 0;
  softmax[SOFTMAX.predicted] = layout.predicted.address;
  softmax[SOFTMAX.smoothing] = f32Bits(recipes?.labelSmoothing ?? 0);
  program.call(Op.Softmax, softmax);

  if (training) {
    const deltaTileStride = layout.batchSize * TILE_BYTES;
    for (let l = last; l > 0; l--) {
      const layer = layers[l];
      const below = layers[l - 1];
      if (layer.maskedInputGradient) {
        // dZ_{l-1} only where A_{l-1} is non-zero: from this layer's input pairs, dZ_l and W. Into the first
        // layer it also writes dZ1's CSC by unit, for the first layer's weight gradient.
        const csc = below.deltaCsc;
        const args = new Array<number>(MASKED.words).fill(0);
        args[MASKED.descriptors] = layer.inputCsr.descriptors.address;
        args[MASKED.descriptorStride] = layer.inputCsr.descriptorStride;
        args[MASKED.chunks] = layer.inputCsr.chunks;
        args[MASKED.first] = first;
        args[MASKED.rows] = rows;
        args[MASKED.deltas] = layer.deltas.address;
        args[MASKED.deltaTileStride] = deltaTileStride;
        args[MASKED.tiles] = layer.tiles;
        args[MASKED.lastTileBytes] = tileVectors(layer.outputs, layer.tiles - 1) * 16;
        args[MASKED.weights] = layer.weights.address;
        args[MASKED.weightTileStride] = layer.inputRows * TILE_BYTES;
        args[MASKED.out] = below.deltas.address;
        args[MASKED.outTileStride] = deltaTileStride;
        args[MASKED.outTiles] = below.tiles;
        args[MASKED.scale] = f32Bits(dropoutScale ?? 1);
        if (csc) {
          args[MASKED.cscPairs] = csc.pairs.address;
          args[MASKED.cscDescriptors] = csc.descriptors.address + thread * csc.descriptorStride;
          args[MASKED.cscPairStride] = csc.pairStride;
          args[MASKED.cscColumns] = below.outputs;
        }
        program.call(Op.Masked, args);
        continue;
      }
      const csr = layer.deltaCsr!;
      sparsify(layer, layer.deltas.address, deltaTileStride, csr, null);
      // dZ_{l-1} tile by tile over the columns of Wᵀ (the inputs of layer l).
      for (let tile = 0; tile < below.tiles; tile++) {
        for (let chunk = 0; chunk < csr.chunks; chunk++) {
          const lastChunk = chunk === csr.chunks - 1;
          program.call(
            Op.Spmm,
            spmmArgs({
              descriptors: csr.descriptors.address + chunk * csr.descriptorStride + first * 8,
              segments: 1,
              rows,
              matrix: layer.transposed!.address + tile * layer.paddedOutputs * TILE_BYTES,
              out: below.deltas.address + tile * deltaTileStride + first * TILE_BYTES,
              vectors: tileVectors(below.outputs, tile),
              accumulate: chunk > 0 ? 1 : 0,
              // Through ReLU (and dropout's kept units, scaled as in the forward pass).
              epilogue: !lastChunk ? Epilogue.Store : dropoutScale !== null ? Epilogue.MaskScaled : Epilogue.Mask,
              aux0: below.activations.address + tile * layout.bufferRows * TILE_BYTES + first * TILE_BYTES,
              aux1: lastChunk && dropoutScale !== null ? f32Bits(dropoutScale) : 0,
            }),
          );
        }
      }
    }
    // CSC only: dZ1 by unit, for the first layer's weight gradient (unless the masked kernel wrote it).
    layers.forEach((layer, l) => {
      if (!layer.deltaCsc || layers[l + 1]?.maskedInputGradient) return;
      sparsify(layer, layer.deltas.address, deltaTileStride, null, layer.deltaCsc);
    });
  }
  return program;
}

/**
 * Phase B for one thread: its rows of every weight matrix and its share of the bias tiles, each summed
 * over the batch and then either updated by Adam in place or (for gradient checks) stored.
 */
export function writeUpdateProgram(
  i32: Int32Array,
  layout: EngineLayout,
  thread: number,
  rowSplits: number[][],
  mode: 'adam' | 'gradients',
): void {
  updateProgram(layout, thread, rowSplits, mode).write(
    i32,
    layout,
    thread,
    mode === 'adam' ? Slot.TrainUpdate : Slot.Gradients,
  );
}

/** A thread's update program, built but not written. */
export function updateProgram(
  layout: EngineLayout,
  thread: number,
  rowSplits: number[][],
  mode: 'adam' | 'gradients',
): ProgramWriter {
  const program = new ProgramWriter();
  const threads = layout.threads;
  const deltaTileStride = layout.batchSize * TILE_BYTES;
  const target = (parameterAddress: number): number =>
    mode === 'adam' ? parameterAddress : parameterAddress - layout.parameters.address + layout.gradients.address;
  layout.layers.forEach((layer, l) => {
    const from = rowSplits[l][thread];
    const to = rowSplits[l][thread + 1];
    const adam = mode === 'adam';
    // The master's rows are summed over the samples of a CSC against the other factor's tiles: W's rows (the
    // inputs) where the input is non-zero, against dZ; the first layer's Wᵀ rows (the units) where dZ1 is
    // non-zero, against the dense batch. Adam writes each updated row into the copy's columns as well, where
    // the layer keeps a copy.
    const transposed = layer.master === 'transposed';
    const csc = transposed ? layer.deltaCsc! : layer.inputCsc!;
    const other = transposed ? layer.inputDense! : layer.deltas;
    const { master, copy } = masterAndCopy(layer);
    const [masterRows, masterColumns] = transposed
      ? [layer.paddedOutputs, layer.inputRows]
      : [layer.inputRows, layer.paddedOutputs];
    const realColumns = transposed ? layer.inputs : layer.outputs;
    for (let tile = 0; tile < masterColumns / TILE; tile++) {
      program.call(
        Op.Spmm,
        spmmArgs({
          descriptors: csc.descriptors.address + from * 8,
          segmentStride: csc.descriptorStride,
          segments: threads,
          rows: to - from,
          matrix: other.address + tile * deltaTileStride,
          out: target(master.address + tile * masterRows * TILE_BYTES + from * TILE_BYTES),
          vectors: tileVectors(realColumns, tile),
          epilogue: !adam ? Epilogue.Store : copy ? Epilogue.AdamTransposed : Epilogue.Adam,
          aux0: adam && copy ? copy.address + tile * TILE * TILE_BYTES : 0,
          aux1: adam && copy ? masterColumns * TILE_BYTES : 0,
          aux2: from,
          adam: layout.adam.address,
        }),
      );
    }
    for (let tile = thread; tile < layer.tiles; tile += threads) {
      program.call(
        Op.Spmm,
        spmmArgs({
          descriptors: layout.onesDescriptor.address,
          segments: 1,
          rows: 1,
          matrix: layer.deltas.address + tile * deltaTileStride,
          out: target(layer.biases.address + tile * TILE_BYTES),
          vectors: tileVectors(layer.outputs, tile),
          epilogue: mode === 'gradients' ? Epilogue.Store : Epilogue.Adam,
          // Biases take the block without weight decay.
          adam: layout.adamBiases.address,
        }),
      );
    }
  });
  return program;
}

/**
 * The words each slot needs on this layout (indexed by Slot), counted by building its programs. A forward
 * program's calls and argument blocks depend on the layers only: the thread, rows, data set and recipes it
 * is written for change argument values, not their number, so thread 0's plan with every recipe on stands
 * for all of them (and a batch of any size: the count holds for every batch size and data set). An update
 * program's bias tiles are dealt out among the threads, so each thread's is counted and the longest kept.
 */
export function programSlotWords(layout: EngineLayout): number[] {
  const words = new Array<number>(SLOTS).fill(0);
  const dataset: DatasetSlot = layout.datasets[0] ?? {
    images: { address: 0, bytes: 0 },
    labels: { address: 0, bytes: 0 },
    count: 0,
  };
  const recipes: ProgramRecipes = { dropoutScale: 2, augment: true, labelSmoothing: 0.1 };
  const rows = { dataset, first: 0, rows: layout.batchSize, batchRows: layout.batchSize, thread: 0 };
  words[Slot.TrainForwardBackward] = forwardProgram(layout, {
    ...rows,
    training: true,
    probabilities: false,
    recipes,
  }).words;
  words[Slot.Evaluate] = forwardProgram(layout, { ...rows, training: false, probabilities: true }).words;
  const rowSplits = splitRows(layout);
  for (let thread = 0; thread < layout.threads; thread++) {
    words[Slot.TrainUpdate] = Math.max(words[Slot.TrainUpdate], updateProgram(layout, thread, rowSplits, 'adam').words);
    words[Slot.Gradients] = Math.max(
      words[Slot.Gradients],
      updateProgram(layout, thread, rowSplits, 'gradients').words,
    );
  }
  return words;
}

/**
 * Splits each layer's parameter rows among the threads, evenly: the real input rows of W, or for the first
 * layer the rows of Wᵀ (its real units). Padded rows belong to units that are always zero: their gradient
 * is zero and their parameters and moments stay zero, so no thread visits them.
 */
export function splitRows(layout: EngineLayout): number[][] {
  return layout.layers.map((layer) => {
    const rows = layer.master === 'transposed' ? layer.outputs : layer.inputs;
    return Array.from({ length: layout.threads + 1 }, (_, t) => Math.floor((rows * t) / layout.threads));
  });
}

/** Splits `rows` batch rows into `threads` contiguous ranges as evenly as possible. */
export function splitSamples(rows: number, threads: number): { first: number; rows: number }[] {
  return Array.from({ length: threads }, (_, t) => {
    const first = Math.floor((rows * t) / threads);
    return { first, rows: Math.floor((rows * (t + 1)) / threads) - first };
  });
}
