/**
 * The training engine: owns the linear memory laid out by layout.ts, converts parameters between the
 * canonical layout and the tiled one, and runs training steps and evaluations as kernel programs on one
 * or more threads. The hosts (trainer, CLI, app worker) see only this class.
 */

import { CLASS_COUNT, type Dataset, IMAGE_SIZE, isUnread, type UnreadDataset } from '@core/shared/dataset';
import { layerSizes, type MlpParameters, type MlpShape, sameShape } from '@core/shared/mlp';
import { adamDecay, adamScalars, type AdamSettings } from '../optimizer/adam';
import { type Executor, LocalExecutor } from './executor';
import { createTypeScriptKernels } from './kernels';
import {
  ADAM,
  AUGMENT_ROW_BYTES,
  DROPOUT,
  type EngineLayout,
  masterAndCopy,
  PAIR_BYTES,
  TILE,
  TILE_BYTES,
} from './layout';
import { planEngineLayout } from './memory';
import { KernelProfiler } from './profile';
import { augmentationOf, dropoutThreshold } from './recipes';
import { type ForwardPlan, Slot, splitRows, splitSamples, writeForwardProgram, writeUpdateProgram } from './program';

/**
 * What a training step does beyond plain Adam on cross-entropy (all off in NO_RECIPES). The keys are the
 * step's random keys (recipes.ts stepKey), so the engine's choices are functions of the run and the step.
 */
export interface StepRecipes {
  /** AdamW's decoupled weight decay λ: weights shrink by lr·λ before the step; biases never. */
  weightDecay: number;
  /** Inverted dropout on every hidden layer. */
  dropout: { probability: number; key: number } | null;
  /** Shifts of up to `shift` pixels and, with flip, left-right mirroring of the training images. */
  augment: { shift: number; flip: boolean; key: number } | null;
  /** Label smoothing ε of the targets. */
  labelSmoothing: number;
}

export const NO_RECIPES: Readonly<StepRecipes> = Object.freeze({
  weightDecay: 0,
  dropout: null,
  augment: null,
  labelSmoothing: 0,
});

/** auto: the fastest available; wasm: SIMD without fused multiply-add (bit-identical to typescript). */
export type KernelChoice = 'auto' | 'wasm-fma' | 'wasm' | 'typescript';
export const KERNEL_CHOICES: readonly KernelChoice[] = ['auto', 'wasm-fma', 'wasm', 'typescript'];

/** Creates the memory and the executor for a kernel implementation; see backends.ts. */
export interface Backend {
  name: string;
  createMemory(
    bytes: number,
    shared: boolean,
  ): { buffer: ArrayBuffer | SharedArrayBuffer; memory?: WebAssembly.Memory };
  createExecutor(
    layout: EngineLayout,
    memory: { buffer: ArrayBuffer | SharedArrayBuffer; memory?: WebAssembly.Memory },
  ): Promise<Executor>;
}

export interface EngineOptions {
  shape: MlpShape;
  batchSize: number;
  /** Kernel threads (1 = run on the calling thread only). */
  threads: number;
  /**
   * The data sets the engine can train on or evaluate, addressed by their index. Unread ones are read straight
   * into the engine's memory (their whole images: take no fewer).
   */
  datasets: (Dataset | UnreadDataset)[];
  backend?: Backend;
  /** Most matrix rows per kernel pass (the L1 blocking); only benchmarks change it. */
  maxChunkRows?: number;
}

/** Average non-zeros per row of the sparse inputs of the last training batch, per layer. */
export interface SparsityReport {
  /** Dense width of each layer's input (784, then the hidden sizes). */
  inputWidth: number[];
  /** Non-zero inputs per sample (forward and weight-gradient work scale with these). */
  inputNonZeros: number[];
  /**
   * Non-zero dZ entries per sample of each layer (the first layer's weight gradient and the output layer's input
   * gradient scale with these).
   */
  deltaNonZeros: number[];
}

export interface BatchResult {
  /** Sum of the per-sample costs (divide by the batch size for the mean). */
  costSum: number;
  correct: number;
}

export interface EvaluationResult {
  count: number;
  costSum: number;
  correct: number;
  /** Predicted class per evaluated sample. */
  predictions: Uint8Array;
  /** [count × 10] class probabilities, when asked for. */
  probabilities: Float32Array | null;
}

export interface OptimizerMoments {
  /** First and second moments, in the same canonical layout as the parameters. */
  m: MlpParameters;
  v: MlpParameters;
}

/**
 * Copies a layer's canonical [inputs × outputs] weights into its tiled master at word `base` of `f32`, or out of it:
 * W as a tiled [inputRows × paddedOutputs] matrix, or Wᵀ as [paddedOutputs × inputRows] (see tiledIndex). A tile's
 * row at a time, with no call per weight: a model's 535 000 weights are copied at every autosave.
 */
function copyMaster(
  layer: EngineLayout['layers'][number],
  f32: Float32Array,
  base: number,
  canonical: Float32Array,
  direction: 'to master' | 'from master',
): void {
  const transposed = layer.master !== 'weights';
  const rows = transposed ? layer.outputs : layer.inputs;
  const columns = transposed ? layer.inputs : layer.outputs;
  const tiledRows = transposed ? layer.paddedOutputs : layer.inputRows;
  // Where element (r, c) of the tiled matrix is in the canonical one.
  const rowStride = transposed ? 1 : layer.outputs;
  const columnStride = transposed ? layer.outputs : 1;
  for (let first = 0; first < columns; first += TILE) {
    const width = Math.min(TILE, columns - first);
    for (let r = 0; r < rows; r++) {
      const tiled = base + first * tiledRows + r * TILE;
      const at = r * rowStride + first * columnStride;
      if (direction === 'to master') for (let k = 0; k < width; k++) f32[tiled + k] = canonical[at + k * columnStride];
      else for (let k = 0; k < width; k++) canonical[at + k * columnStride] = f32[tiled + k];
    }
  }
}

export const typeScriptBackend: Backend = {
  name: 'typescript',
  createMemory: (bytes) => ({ buffer: new ArrayBuffer(bytes) }),
  createExecutor: async (layout, memory) => {
    if (layout.threads !== 1) throw new Error('the TypeScript kernels run on one thread');
    return new LocalExecutor(new Int32Array(memory.buffer), createTypeScriptKernels(memory.buffer), layout);
  },
};

export class Engine {
  readonly layout: EngineLayout;
  readonly backendName: string;
  private readonly i32: Int32Array;
  private readonly f32: Float32Array;
  private readonly f64: Float64Array;
  private readonly executor: Executor;
  /**
   * What the training and the evaluation programs were last written for (an evaluation's chunks but its last have the
   * same rows, as have a run's batches but its epochs' last).
   */
  private readonly writtenKeys = { train: '', evaluate: '' };
  private disposed = false;
  private profiler: KernelProfiler | null = null;

  private constructor(
    layout: EngineLayout,
    backendName: string,
    buffer: ArrayBuffer | SharedArrayBuffer,
    executor: Executor,
    /** What each data set slot holds, besides its pixels. */
    private readonly datasets: readonly { labelled: boolean; source: string }[],
  ) {
    this.layout = layout;
    this.backendName = backendName;
    this.i32 = new Int32Array(buffer);
    this.f32 = new Float32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.executor = executor;
  }

  static async create(options: EngineOptions): Promise<Engine> {
    const backend = options.backend ?? typeScriptBackend;
    const threads = Math.max(1, Math.floor(options.threads));
    // Planned, and refused in one line when it is too large, before any memory is allocated or image read.
    const layout = planEngineLayout(
      options.shape,
      options.batchSize,
      threads,
      options.datasets.map((d) => d.count),
      options.maxChunkRows,
    );
    const memory = backend.createMemory(layout.totalBytes, threads > 1);
    const u8 = new Uint8Array(memory.buffer);
    const f32 = new Float32Array(memory.buffer);
    const i32 = new Int32Array(memory.buffer);

    for (let b = 0; b < 256; b++) f32[(layout.scaleTable.address >>> 2) + b] = b / 255;
    for (const block of [layout.adam, layout.adamBiases]) {
      i32[(block.address + ADAM.momentOffset) >>> 2] = layout.parameters.bytes;
      f32[(block.address + ADAM.decay) >>> 2] = 1;
    }
    for (let s = 0; s < layout.batchSize; s++) {
      const p = (layout.ones.address + s * PAIR_BYTES) >>> 2;
      i32[p] = s * TILE_BYTES;
      f32[p + 1] = 1;
    }
    for (const [i, dataset] of options.datasets.entries()) {
      const slot = layout.datasets[i];
      const images = u8.subarray(slot.images.address, slot.images.address + dataset.count * IMAGE_SIZE);
      if (isUnread(dataset)) await dataset.readImages(images);
      else images.set(dataset.images.subarray(0, dataset.count * IMAGE_SIZE));
      if (dataset.labels) u8.set(dataset.labels.subarray(0, dataset.count), slot.labels.address);
    }

    const rowSplits = splitRows(layout);
    for (let t = 0; t < threads; t++) {
      writeUpdateProgram(i32, layout, t, rowSplits, 'adam');
      writeUpdateProgram(i32, layout, t, rowSplits, 'gradients');
    }
    const executor = await backend.createExecutor(layout, memory);
    const datasets = options.datasets.map((d) => ({ labelled: d.labels !== null, source: d.source }));
    return new Engine(layout, backend.name, memory.buffer, executor, datasets);
  }

  get threads(): number {
    return this.layout.threads;
  }

  /** Loads parameters (canonical layout) into the engine, rebuilding the transposed copies. */
  setParameters(params: MlpParameters): void {
    this.checkShape(params.shape);
    this.writeCanonical(params, 0);
    this.rebuildTransposes();
  }

  getParameters(): MlpParameters {
    return this.readCanonical(0);
  }

  setMoments(moments: OptimizerMoments): void {
    this.checkShape(moments.m.shape);
    this.checkShape(moments.v.shape);
    this.writeCanonical(moments.m, this.layout.parameters.bytes);
    this.writeCanonical(moments.v, 2 * this.layout.parameters.bytes);
  }

  /**
   * Copies parameters and moments, as they are in memory, into `into` (reused when given); restoring it
   * puts the engine back exactly. Cheaper than getParameters/getMoments: no layout conversion, no garbage.
   */
  snapshot(into?: Float32Array): Float32Array {
    const start = this.layout.parameters.address >>> 2;
    const length = (3 * this.layout.parameters.bytes) >>> 2;
    const target = into && into.length === length ? into : new Float32Array(length);
    target.set(this.f32.subarray(start, start + length));
    return target;
  }

  restore(snapshot: Float32Array): void {
    const start = this.layout.parameters.address >>> 2;
    if (snapshot.length !== (3 * this.layout.parameters.bytes) >>> 2)
      throw new RangeError('snapshot of another network');
    this.f32.set(snapshot, start);
    this.rebuildTransposes();
  }

  /** The parameters and moments held in a snapshot, in the canonical layout. */
  canonicalOf(snapshot: Float32Array): { parameters: MlpParameters; moments: OptimizerMoments } {
    const from = { f32: snapshot, base: this.layout.parameters.address >>> 2 };
    const bytes = this.layout.parameters.bytes;
    return {
      parameters: this.readCanonical(0, from),
      moments: { m: this.readCanonical(bytes, from), v: this.readCanonical(2 * bytes, from) },
    };
  }

  getMoments(): OptimizerMoments {
    return {
      m: this.readCanonical(this.layout.parameters.bytes),
      v: this.readCanonical(2 * this.layout.parameters.bytes),
    };
  }

  /**
   * One Adam step on the samples `indices` of data set `dataset`; `step` is Adam's 1-based step count.
   * Returns the summed cost and the number of correctly classified samples, measured before the update.
   */
  trainBatch(
    dataset: number,
    indices: Int32Array,
    step: number,
    settings: AdamSettings,
    recipes: Readonly<StepRecipes> = NO_RECIPES,
  ): BatchResult {
    this.forwardBackward(dataset, indices, recipes);
    this.writeAdamScalars(settings, step, recipes.weightDecay);
    this.executor.run(Slot.TrainUpdate);
    return this.batchTotals(indices.length);
  }

  /**
   * Mean cost and gradients of a batch without updating anything (for gradient checks); with recipes, those
   * of the step whose keys they carry (its dropout masks, augmented images and smoothed targets).
   */
  gradients(
    dataset: number,
    indices: Int32Array,
    recipes: Readonly<StepRecipes> = NO_RECIPES,
  ): { cost: number; weights: Float32Array[]; biases: Float32Array[] } {
    this.forwardBackward(dataset, indices, recipes);
    this.executor.run(Slot.Gradients);
    const totals = this.batchTotals(indices.length);
    const grads = this.readCanonical(this.layout.gradients.address - this.layout.parameters.address);
    return { cost: totals.costSum / indices.length, weights: grads.weights, biases: grads.biases };
  }

  /**
   * Starts timing the calling thread's kernels (see profile.ts); evaluations are tallied as one phase. The
   * profiler's phases, with the executor's waiting times, say where the time goes.
   */
  profile(sampleEvery?: number): {
    profiler: KernelProfiler;
    timing: () => { waitedMs: number; helperBusyMs: number[] };
  } {
    if (!this.profiler) {
      this.profiler = new KernelProfiler(this.layout, this.i32, this.executor.kernels, sampleEvery);
      this.profiler.install();
    }
    return { profiler: this.profiler, timing: () => this.executor.timing() };
  }

  /** Forward pass over `indices` (all samples when null) of a data set, in buffer-sized chunks. */
  evaluate(dataset: number, indices: Int32Array | null, options: { probabilities?: boolean } = {}): EvaluationResult {
    this.assertAlive();
    const slot = this.layout.datasets[dataset];
    const count = indices ? indices.length : slot.count;
    const predictions = new Uint8Array(count);
    const probabilities = options.probabilities ? new Float32Array(count * CLASS_COUNT) : null;
    let costSum = 0;
    let correct = 0;
    if (this.profiler) this.profiler.context = 'evaluation (forward only)';
    const chunkRows = this.layout.bufferRows;
    const batchIndices = this.layout.batchIndices.address >>> 2;
    for (let start = 0; start < count; start += chunkRows) {
      const rows = Math.min(chunkRows, count - start);
      if (indices) this.i32.set(indices.subarray(start, start + rows), batchIndices);
      else for (let s = 0; s < rows; s++) this.i32[batchIndices + s] = start + s;
      this.writeForwardPrograms(`${dataset}/${rows}/${!!probabilities}`, {
        dataset: slot,
        batchRows: rows,
        training: false,
        probabilities: !!probabilities,
      });
      this.executor.run(Slot.Evaluate);
      const totals = this.batchTotals(rows);
      costSum += totals.costSum;
      correct += totals.correct;
      const predicted = this.layout.predicted.address >>> 2;
      for (let s = 0; s < rows; s++) predictions[start + s] = this.i32[predicted + s];
      if (probabilities) {
        const p = this.layout.probabilities.address >>> 2;
        probabilities.set(this.f32.subarray(p, p + rows * CLASS_COUNT), start * CLASS_COUNT);
      }
    }
    if (this.profiler) this.profiler.context = null;
    return { count, costSum, correct, predictions, probabilities };
  }

  /** Data set `index` as the engine holds it: views of its memory, valid until the engine is disposed. */
  dataset(index: number): Dataset {
    const slot = this.layout.datasets[index];
    const u8 = new Uint8Array(this.f32.buffer);
    return {
      images: u8.subarray(slot.images.address, slot.images.address + slot.count * IMAGE_SIZE),
      labels: this.datasets[index].labelled ? u8.subarray(slot.labels.address, slot.labels.address + slot.count) : null,
      count: slot.count,
      source: this.datasets[index].source,
    };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.executor.dispose();
  }

  private forwardBackward(dataset: number, indices: Int32Array, recipes: Readonly<StepRecipes>): void {
    this.assertAlive();
    const rows = indices.length;
    if (rows < 1 || rows > this.layout.batchSize) {
      throw new RangeError(`a batch must have 1 to ${this.layout.batchSize} samples, got ${rows}`);
    }
    const slot = this.layout.datasets[dataset];
    this.i32.set(indices, this.layout.batchIndices.address >>> 2);
    const dropout = recipes.dropout && recipes.dropout.probability > 0 ? recipes.dropout : null;
    const augment = recipes.augment && (recipes.augment.shift > 0 || recipes.augment.flip) ? recipes.augment : null;
    if (dropout) this.writeDropout(dropout.probability, dropout.key);
    if (augment) this.writeAugmentation(rows, augment);
    const plan = {
      dropoutScale: dropout ? 1 / (1 - dropout.probability) : null,
      augment: augment !== null,
      labelSmoothing: recipes.labelSmoothing,
    };
    this.writeForwardPrograms(`${dataset}/${rows}/${plan.dropoutScale}/${plan.augment}/${plan.labelSmoothing}`, {
      dataset: slot,
      batchRows: rows,
      training: true,
      probabilities: false,
      recipes: plan,
    });
    const ones = this.layout.ones.address;
    this.i32[this.layout.onesDescriptor.address >>> 2] = ones;
    this.i32[(this.layout.onesDescriptor.address >>> 2) + 1] = ones + rows * PAIR_BYTES;
    this.executor.run(Slot.TrainForwardBackward);
  }

  /**
   * Every thread's forward program (training's or evaluation's) for a batch of `plan.batchRows` rows, unless the last
   * ones written for its slot were for the same `key` (the data set, the rows and the options that shape them).
   */
  private writeForwardPrograms(key: string, plan: Omit<ForwardPlan, 'first' | 'rows' | 'thread'>): void {
    const slot = plan.training ? 'train' : 'evaluate';
    if (this.writtenKeys[slot] === key) return;
    const split = splitSamples(plan.batchRows, this.threads);
    for (let t = 0; t < this.threads; t++)
      writeForwardProgram(this.i32, this.layout, { ...plan, ...split[t], thread: t });
    this.writtenKeys[slot] = key;
  }

  private batchTotals(rows: number): BatchResult {
    const costs = this.layout.costs.address >>> 3;
    const correctFlags = this.layout.correct.address >>> 2;
    let costSum = 0;
    let correct = 0;
    for (let s = 0; s < rows; s++) {
      costSum += this.f64[costs + s];
      correct += this.i32[correctFlags + s];
    }
    return { costSum, correct };
  }

  /** The step's Adam scalars, for the weights (with AdamW's decay) and for the biases (without). */
  private writeAdamScalars(settings: AdamSettings, step: number, weightDecay: number): void {
    const scalars = adamScalars(settings, step);
    const f = this.f32;
    for (const block of [this.layout.adam, this.layout.adamBiases]) {
      const a = block.address;
      f[(a + ADAM.stepSize) >>> 2] = scalars.stepSize;
      f[(a + ADAM.beta1) >>> 2] = scalars.beta1;
      f[(a + ADAM.beta2) >>> 2] = scalars.beta2;
      f[(a + ADAM.epsilonHat) >>> 2] = scalars.epsilonHat;
      f[(a + ADAM.oneMinusBeta1) >>> 2] = 1 - scalars.beta1;
      f[(a + ADAM.oneMinusBeta2) >>> 2] = 1 - scalars.beta2;
    }
    f[(this.layout.adam.address + ADAM.decay) >>> 2] = adamDecay(scalars.learningRate, weightDecay);
  }

  private writeDropout(probability: number, key: number): void {
    const d = this.layout.dropout.address;
    this.i32[(d + DROPOUT.key) >>> 2] = key | 0;
    this.i32[(d + DROPOUT.threshold) >>> 2] = dropoutThreshold(probability) | 0;
    this.f32[(d + DROPOUT.scale) >>> 2] = 1 / (1 - probability);
  }

  /** Each batch row's shift and flip for this step, for the gather kernel. */
  private writeAugmentation(rows: number, augment: NonNullable<StepRecipes['augment']>): void {
    const base = this.layout.augment.address >>> 2;
    for (let r = 0; r < rows; r++) {
      const { dx, dy, flip } = augmentationOf(augment.key, r, augment.shift, augment.flip);
      const p = base + r * (AUGMENT_ROW_BYTES >>> 2);
      this.i32[p] = dx;
      this.i32[p + 1] = dy;
      this.i32[p + 2] = flip ? 1 : 0;
    }
  }

  /** Writes canonical [in × out] matrices into the tiled layout, `offset` bytes past the parameters. */
  private writeCanonical(params: MlpParameters, offset: number): void {
    const sizes = layerSizes(this.layout.shape);
    this.layout.layers.forEach((layer, l) => {
      const w = params.weights[l];
      const b = params.biases[l];
      const out = sizes[l + 1];
      if (w.length !== sizes[l] * out || b.length !== out) {
        throw new RangeError(`layer ${l + 1} parameters have the wrong size`);
      }
      const { master } = masterAndCopy(layer);
      const base = (master.address + offset) >>> 2;
      this.f32.fill(0, base, base + (master.bytes >>> 2));
      copyMaster(layer, this.f32, base, w, 'to master');
      const biasBase = (layer.biases.address + offset) >>> 2;
      this.f32.fill(0, biasBase, biasBase + layer.paddedOutputs);
      this.f32.set(b, biasBase);
    });
  }

  /** Canonical parameters `offset` bytes past the parameters, in memory or (from) in a snapshot of it. */
  private readCanonical(
    offset: number,
    from: { f32: Float32Array; base: number } = { f32: this.f32, base: 0 },
  ): MlpParameters {
    const f32 = from.f32;
    const sizes = layerSizes(this.layout.shape);
    const weights: Float32Array[] = [];
    const biases: Float32Array[] = [];
    this.layout.layers.forEach((layer, l) => {
      const out = sizes[l + 1];
      const w = new Float32Array(sizes[l] * out);
      copyMaster(layer, f32, ((masterAndCopy(layer).master.address + offset) >>> 2) - from.base, w, 'from master');
      weights.push(w);
      const biasBase = ((layer.biases.address + offset) >>> 2) - from.base;
      biases.push(f32.slice(biasBase, biasBase + out));
    });
    return { shape: { ...this.layout.shape, hiddenSizes: [...this.layout.shape.hiddenSizes] }, weights, biases };
  }

  /** Each layer's copy (Wᵀ, or W for the first layer), where it has one, from its master (both tiled). */
  private rebuildTransposes(): void {
    for (const layer of this.layout.layers) {
      if (!layer.transposed) continue;
      const { inputRows, paddedOutputs } = layer;
      const w = layer.weights.address >>> 2;
      const t = layer.transposed.address >>> 2;
      const toTransposed = layer.master === 'weights';
      // W's element (k, c) is Wᵀ's (c, k): a tile's row of W, 28 columns c, is a column k of 28 rows of Wᵀ.
      for (let first = 0; first < paddedOutputs; first += TILE) {
        for (let k = 0; k < inputRows; k++) {
          const wi = w + first * inputRows + k * TILE;
          const ti = t + Math.floor(k / TILE) * paddedOutputs * TILE + first * TILE + (k % TILE);
          if (toTransposed) for (let c = 0; c < TILE; c++) this.f32[ti + c * TILE] = this.f32[wi + c];
          else for (let c = 0; c < TILE; c++) this.f32[wi + c] = this.f32[ti + c * TILE];
        }
      }
    }
  }

  private checkShape(shape: MlpShape): void {
    if (!sameShape(shape, this.layout.shape)) throw new RangeError('parameters do not match the engine network shape');
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('the engine has been disposed');
  }

  /** Non-zeros per sample in the last training batch, read from its pair lists. */
  sparsityReport(rows: number): SparsityReport {
    const perRow = (csr: EngineLayout['layers'][number]['inputCsr']): number => {
      let pairs = 0;
      for (let s = 0; s < rows; s++) {
        const first = (csr.descriptors.address + s * 8) >>> 2;
        const last = (csr.descriptors.address + (csr.chunks - 1) * csr.descriptorStride + s * 8) >>> 2;
        // Addresses are unsigned 32-bit: their difference, wrapped to 32 bits, is right on both sides of 2 GiB.
        pairs += ((this.i32[last + 1] - this.i32[first]) | 0) / PAIR_BYTES;
      }
      return pairs / rows;
    };
    return {
      inputWidth: this.layout.layers.map((layer) => layer.inputs),
      inputNonZeros: this.layout.layers.map((layer) => perRow(layer.inputCsr)),
      deltaNonZeros: this.layout.layers.map((layer) => {
        // Counted in the dense dZ (the masked input gradient builds no pair lists of it).
        let nonZeros = 0;
        for (let tile = 0; tile < layer.tiles; tile++) {
          const base = (layer.deltas.address + tile * this.layout.batchSize * TILE_BYTES) >>> 2;
          for (let k = 0; k < rows * (TILE_BYTES >>> 2); k++) if (this.f32[base + k] !== 0) nonZeros++;
        }
        return nonZeros / rows;
      }),
    };
  }
}
