/**
 * Checkpoints: one .safetensors file holding the model under PyTorch's nn.Sequential(Linear, ReLU, …)
 * state-dict names and shapes ("0.weight" [512, 784], "0.bias" [512], "2.weight", …), optionally Adam's
 * moments under "optimizer.exp_avg.*" / "optimizer.exp_avg_sq.*", and in __metadata__["fmnist"] a JSON
 * description: format version, architecture, hyper-parameters and seed, epochs done, per-epoch history,
 * the data set's fingerprint, the app version and, for resumable checkpoints, Adam's step and the shuffle
 * generator's state. Loading validates everything and never returns a half-read model.
 *
 * A plain PyTorch state dict of the same layout (no metadata) loads as a model too.
 */

import { FIELD_LABELS, LIMITS, RECIPE_FIELDS, type RunConfig, resolveRunConfig } from '@core/shared/config';
import { CLASS_COUNT, IMAGE_SIZE } from '@core/shared/dataset';
import { describeValue, FmnistError, quote, userMessage } from '@core/shared/errors';
import { readRegularFile, writeFileAtomic } from '../io';
import { layerSizes, mlpShape, parameterCount, type MlpParameters, type MlpShape } from '@core/shared/mlp';
import type { RandomState } from '@core/shared/random';
import type { BestEpoch, EpochSummary, TrainerState } from '../training/trainer';
import { APP_VERSION } from '../version';
import { crc32 } from 'node:zlib';
import {
  asFloat32,
  concatBytes,
  decodeSafetensors,
  describeShape,
  MAX_HEADER_BYTES,
  MAX_JSON_DEPTH,
  nestedDeeperThan,
  safetensorsParts,
  type TensorInput,
} from './safetensors';

export const CHECKPOINT_FORMAT = 'fashion-mnist-studio';
export const CHECKPOINT_VERSION = 1;
const METADATA_KEY = 'fmnist';

export interface OptimizerState {
  /** Adam steps taken. */
  step: number;
  m: MlpParameters;
  v: MlpParameters;
  /** The epoch-shuffle generator's state after the last completed epoch. */
  shuffleState: RandomState;
  /** Early stopping's memory (see TrainerState.best), so a run resumed during its patience ends the same. */
  best?: BestEpoch | null;
}

export interface Checkpoint {
  parameters: MlpParameters;
  /** The run's settings; null for a bare state dict. */
  config: RunConfig | null;
  epochsDone: number;
  history: EpochSummary[];
  datasetFingerprint: string | null;
  appVersion: string | null;
  createdAt: string | null;
  /** Present in checkpoints that can resume training exactly. */
  optimizer: OptimizerState | null;
  /** Early stopping ended the run before its last epoch: it is finished, not waiting to be resumed. */
  finishedEarly?: boolean;
  /** The per-batch cost curve, [epoch position, cost], at most MAX_COST_CURVE points (for the app's chart). */
  costCurve?: [number, number][];
  /** The files the training (and test) data came from, so the app can reload them to resume. */
  dataSources?: DataSources | null;
  /**
   * Every training data set the model was trained on, oldest first, when there was more than one (training
   * continued on other data, which the user allowed); the last one is datasetFingerprint/dataSources.
   */
  dataHistory?: DataSegment[] | null;
}

export interface DataSources {
  train: string[];
  test: string[] | null;
}

/** A stretch of training on one data set: from epoch `fromEpoch` (1-based) until the next segment. */
export interface DataSegment {
  fromEpoch: number;
  fingerprint: string;
  sources: DataSources | null;
}

export const MAX_COST_CURVE = 2000;
/** More data sets than this in one model's history is not a history anyone made. */
const MAX_DATA_SEGMENTS = 1000;

interface Description {
  format: string;
  formatVersion: number;
  architecture: { inputSize: number; hiddenSizes: number[]; outputSize: number; activation: 'relu'; output: 'softmax' };
  /** null when the settings are unknown (a bare state dict saved again): never invented. */
  config: RunConfig | null;
  epochsDone: number;
  history: EpochSummary[];
  datasetFingerprint: string | null;
  appVersion: string;
  createdAt: string;
  optimizer: {
    step: number;
    shuffleState: RandomState;
    /** The best epoch; its state's tensors, when kept, are under "best." and "best.optimizer.…". */
    best?: { epoch: number; validationCost: number; state: { step: number; shuffleState: RandomState } | null } | null;
  } | null;
  costCurve?: [number, number][];
  dataSources?: DataSources | null;
  dataHistory?: DataSegment[] | null;
  finishedEarly?: boolean;
  /** CRC-32 (hex) of all tensor bytes: safetensors has no checksum of its own. */
  dataCrc32?: string;
}

/** Every other point until at most `limit` remain (the last one always kept). */
function thin(curve: [number, number][], limit: number): [number, number][] {
  if (curve.length <= limit) return curve;
  const step = Math.ceil(curve.length / limit);
  const kept = curve.filter((_, i) => i % step === 0);
  if (kept[kept.length - 1] !== curve[curve.length - 1]) kept.push(curve[curve.length - 1]);
  return kept.map(([x, y]) => [Number(x.toFixed(5)), Number(y.toPrecision(6))]);
}

/** Linear layer l is module 2·l of the nn.Sequential (ReLUs sit at the odd indices). */
export const moduleName = (layer: number): string => String(2 * layer);

/** PyTorch stores a Linear weight as [out, in]; ours is [in, out]. */
function transpose(values: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = values[r * columns + c];
  return out;
}

function modelTensors(params: MlpParameters, prefix = ''): [string, TensorInput][] {
  const sizes = layerSizes(params.shape);
  return params.weights.flatMap((w, l): [string, TensorInput][] => [
    [
      `${prefix}${moduleName(l)}.weight`,
      { dtype: 'F32', shape: [sizes[l + 1], sizes[l]], data: transpose(w, sizes[l], sizes[l + 1]) },
    ],
    [`${prefix}${moduleName(l)}.bias`, { dtype: 'F32', shape: [sizes[l + 1]], data: params.biases[l] }],
  ]);
}

export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  return concatBytes(checkpointParts(checkpoint));
}

/** The checkpoint file's bytes as parts (see safetensorsParts): the tensors are views of the checkpoint's arrays. */
function checkpointParts(checkpoint: Checkpoint): Uint8Array[] {
  const shape = checkpoint.parameters.shape;
  const tensors = modelTensors(checkpoint.parameters);
  const optimizer = checkpoint.optimizer;
  if (optimizer) {
    tensors.push(...modelTensors(optimizer.m, 'optimizer.exp_avg.'));
    tensors.push(...modelTensors(optimizer.v, 'optimizer.exp_avg_sq.'));
    const bestState = optimizer.best?.state;
    if (bestState) {
      tensors.push(...modelTensors(bestState.parameters, 'best.'));
      tensors.push(...modelTensors(bestState.moments.m, 'best.optimizer.exp_avg.'));
      tensors.push(...modelTensors(bestState.moments.v, 'best.optimizer.exp_avg_sq.'));
    }
  }
  const description: Description = {
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_VERSION,
    architecture: { ...shape, activation: 'relu', output: 'softmax' },
    config: checkpoint.config,
    epochsDone: checkpoint.epochsDone,
    history: checkpoint.history,
    datasetFingerprint: checkpoint.datasetFingerprint,
    appVersion: checkpoint.appVersion ?? APP_VERSION,
    createdAt: checkpoint.createdAt ?? new Date().toISOString(),
    optimizer: optimizer
      ? {
          step: optimizer.step,
          shuffleState: optimizer.shuffleState,
          best: optimizer.best
            ? {
                epoch: optimizer.best.epoch,
                validationCost: optimizer.best.validationCost,
                state: optimizer.best.state
                  ? { step: optimizer.best.state.step, shuffleState: optimizer.best.state.shuffleState }
                  : null,
              }
            : null,
        }
      : null,
    costCurve: checkpoint.costCurve ? thin(checkpoint.costCurve, MAX_COST_CURVE) : undefined,
    dataSources: checkpoint.dataSources ?? null,
    dataHistory: checkpoint.dataHistory?.length ? checkpoint.dataHistory : null,
    finishedEarly: checkpoint.finishedEarly || undefined,
  };
  let crc = 0;
  for (const [, t] of tensors) crc = crc32(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), crc);
  description.dataCrc32 = crc.toString(16).padStart(8, '0');
  return safetensorsParts(tensors, { format: 'pt', [METADATA_KEY]: JSON.stringify(description) });
}

/**
 * Writes a checkpoint atomically: the previous file at `path` survives any failure. The file is written part
 * by part from the checkpoint's own arrays, never held in memory whole (8 MB for the default network).
 */
export async function saveCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  await writeFileAtomic(path, checkpointParts(checkpoint));
}

/**
 * The largest valid checkpoint: the largest network the settings allow (8 hidden layers of 4096 units), as
 * float32 weights and Adam's two moments, and the largest header. About 1.55 GB; a bigger file is refused
 * unread.
 */
export const MAX_CHECKPOINT_BYTES =
  8 +
  MAX_HEADER_BYTES +
  3 * 4 * parameterCount(mlpShape(new Array<number>(LIMITS.maxHiddenLayers).fill(LIMITS.maxHiddenUnits)));

export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  return decodeCheckpoint(await readRegularFile(path, MAX_CHECKPOINT_BYTES, 'checkpoint'), path);
}

export function decodeCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  const bad = (problem: string): FmnistError => new FmnistError('bad-input', problem, { file });
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  const describedText = metadata[METADATA_KEY];
  let description: Description | null = null;
  if (describedText !== undefined) {
    if (nestedDeeperThan(describedText, MAX_JSON_DEPTH))
      throw bad(`has a description nested deeper than ${MAX_JSON_DEPTH} levels`);
    try {
      description = JSON.parse(describedText) as Description;
    } catch {
      throw bad('has a corrupt description (its metadata is not valid JSON)');
    }
    if (description?.format !== CHECKPOINT_FORMAT) throw bad('is not a Fashion-MNIST Studio checkpoint');
    const version: unknown = description.formatVersion;
    if (version !== CHECKPOINT_VERSION) {
      if (version === undefined) throw bad('has no checkpoint format version');
      if (!Number.isSafeInteger(version))
        throw bad(`has a malformed checkpoint format version (${describeValue(version)})`);
      throw bad(`uses checkpoint format version ${version as number}; this app reads version ${CHECKPOINT_VERSION}`);
    }
  }

  if (typeof description?.dataCrc32 === 'string') {
    // Tensors in file order (by offset), as they were written.
    const ordered = [...tensors.values()].sort((a, b) => a.offset - b.offset);
    let crc = 0;
    for (const tensor of ordered) crc = crc32(tensor.bytes, crc);
    if (crc.toString(16).padStart(8, '0') !== description.dataCrc32)
      throw bad('is corrupt: its tensor data fails the checksum');
  }
  const shape = description ? checkArchitecture(description.architecture, bad) : inferShape(tensors, bad);
  let config: RunConfig | null = null;
  // Missing or null settings stay unknown: a bare state dict saved again has none.
  const savedConfig: unknown = description?.config ?? null;
  if (savedConfig !== null) {
    if (typeof savedConfig !== 'object' || Array.isArray(savedConfig))
      throw bad(`has invalid settings (${describeValue(savedConfig)} instead of an object)`);
    try {
      config = resolveRunConfig(savedConfig as Record<string, unknown>);
    } catch (error) {
      throw bad(`has invalid settings: ${userMessage(error)}`);
    }
    if (config.hiddenSizes.join(',') !== shape.hiddenSizes.join(','))
      throw bad('has settings that disagree with its architecture');
  }

  const readModel = (prefix: string, what: string): MlpParameters => {
    const sizes = layerSizes(shape);
    const weights: Float32Array[] = [];
    const biases: Float32Array[] = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      for (const kind of ['weight', 'bias'] as const) {
        const name = `${prefix}${moduleName(l)}.${kind}`;
        const tensor = tensors.get(name);
        if (!tensor) throw bad(`has no tensor ${quote(name)} (${what})`);
        const expected = kind === 'weight' ? [sizes[l + 1], sizes[l]] : [sizes[l + 1]];
        if (tensor.shape.join(',') !== expected.join(',')) {
          throw bad(
            `tensor ${quote(name)} has shape ${describeShape(tensor.shape)}, expected [${expected}] for a ${describe(shape)} network`,
          );
        }
        const values = asFloat32(tensor);
        if (!values) throw bad(`tensor ${quote(name)} has dtype ${tensor.dtype}, expected F32`);
        for (let i = 0; i < values.length; i++) {
          if (!Number.isFinite(values[i]))
            throw bad(`tensor ${quote(name)} holds a non-finite value (${values[i]}) at index ${i}`);
        }
        if (kind === 'weight') weights.push(transpose(values, sizes[l + 1], sizes[l]));
        else biases.push(values.slice());
      }
    }
    return { shape, weights, biases };
  };

  const parameters = readModel('', 'model weights');
  const activationBound = activationBoundOf(parameters);
  if (activationBound > MAX_ACTIVATION) {
    throw bad(
      `has weights too large to compute with: its activations could reach ${magnitude(activationBound)} (at most ${MAX_ACTIVATION.toExponential()} is safe in float32)`,
    );
  }
  const epochsDone = description?.epochsDone ?? 0;
  if (!Number.isSafeInteger(epochsDone) || epochsDone < 0) throw bad('has an invalid number of epochs done');
  /** Adam's step, the shuffle state and the moments under `prefix`, checked. */
  const readOptimizerState = (saved: { step: unknown; shuffleState: unknown }, prefix: string, what: string) => {
    const { step, shuffleState } = saved;
    if (!Number.isSafeInteger(step) || (step as number) < 0) throw bad(`has an invalid optimizer step count${what}`);
    if (
      !Array.isArray(shuffleState) ||
      shuffleState.length !== 4 ||
      !shuffleState.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)
    ) {
      throw bad(`has an invalid shuffle generator state${what}`);
    }
    const state = {
      step: step as number,
      shuffleState: shuffleState as RandomState,
      m: readModel(`${prefix}optimizer.exp_avg.`, `Adam first moments${what}`),
      v: readModel(`${prefix}optimizer.exp_avg_sq.`, `Adam second moments${what}`),
    };
    for (const v of state.v.weights.concat(state.v.biases)) {
      if (v.some((x) => x < 0)) throw bad(`has negative Adam second moments${what}`);
    }
    const m = largestMagnitude(state.m);
    if (Math.abs(m) > MAX_FIRST_MOMENT) {
      throw bad(
        `has Adam moments too large to resume from: a first moment of ${magnitude(m)} (at most ${MAX_FIRST_MOMENT.toExponential()})`,
      );
    }
    const v = largestMagnitude(state.v);
    if (v > MAX_SECOND_MOMENT) {
      throw bad(
        `has Adam moments too large to resume from: a second moment of ${magnitude(v)} (at most ${MAX_SECOND_MOMENT.toExponential()})`,
      );
    }
    return state;
  };
  let optimizer: OptimizerState | null = null;
  if (description?.optimizer) {
    const { step, shuffleState, m, v } = readOptimizerState(description.optimizer, '', '');
    optimizer = { step, shuffleState, m, v, best: readBest(description.optimizer.best) };
  }
  function readBest(saved: unknown): BestEpoch | null {
    if (saved === undefined || saved === null) return null;
    const best = saved as {
      epoch?: unknown;
      validationCost?: unknown;
      state?: { step: unknown; shuffleState: unknown } | null;
    };
    const epoch = best.epoch;
    if (
      typeof best !== 'object' ||
      !Number.isSafeInteger(epoch) ||
      (epoch as number) < 1 ||
      (epoch as number) > epochsDone
    ) {
      throw bad('has an invalid best epoch (early stopping)');
    }
    if (typeof best.validationCost !== 'number' || !Number.isFinite(best.validationCost) || best.validationCost < 0) {
      throw bad('has an invalid best validation cost (early stopping)');
    }
    if (best.state === null || best.state === undefined)
      return { epoch: epoch as number, validationCost: best.validationCost, state: null };
    if (typeof best.state !== 'object') throw bad('has an invalid best epoch state (early stopping)');
    const what = ` of the best epoch`;
    const { step, shuffleState, m, v } = readOptimizerState(best.state, 'best.', what);
    return {
      epoch: epoch as number,
      validationCost: best.validationCost,
      state: { step, shuffleState, parameters: readModel('best.', `model weights${what}`), moments: { m, v } },
    };
  }
  const history = description?.history ?? [];
  if (!Array.isArray(history) || history.length !== epochsDone)
    throw bad('has a training history that does not match its epochs');
  history.forEach((entry, i) => {
    if (!validHistoryEntry(entry, i + 1)) throw bad(`has a malformed training history entry for epoch ${i + 1}`);
  });

  const curve = description?.costCurve;
  const costCurve =
    Array.isArray(curve) &&
    curve.length <= MAX_COST_CURVE + 1 &&
    curve.every((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite))
      ? curve
      : [];
  const dataSources = validSources(description?.dataSources) ? description!.dataSources! : null;
  const segments = description?.dataHistory;
  let dataHistory: DataSegment[] | null = null;
  if (segments !== undefined && segments !== null) {
    const valid =
      Array.isArray(segments) &&
      segments.length <= MAX_DATA_SEGMENTS &&
      segments.every(
        (segment, i) =>
          typeof segment === 'object' &&
          segment !== null &&
          Number.isSafeInteger(segment.fromEpoch) &&
          segment.fromEpoch >= 1 &&
          segment.fromEpoch <= epochsDone + 1 &&
          (i === 0 || segment.fromEpoch > segments[i - 1].fromEpoch) &&
          typeof segment.fingerprint === 'string' &&
          (segment.sources === null || validSources(segment.sources)),
      );
    if (!valid) throw bad('has a malformed record of the data sets it was trained on');
    dataHistory = segments;
  }
  return {
    parameters,
    config,
    epochsDone,
    history,
    costCurve,
    dataSources,
    dataHistory,
    datasetFingerprint: typeof description?.datasetFingerprint === 'string' ? description.datasetFingerprint : null,
    appVersion: typeof description?.appVersion === 'string' ? description.appVersion : null,
    createdAt: typeof description?.createdAt === 'string' ? description.createdAt : null,
    optimizer,
    finishedEarly: description?.finishedEarly === true,
  };
}

/**
 * Finite weights can still be unusable: float32 tops out at 3.4e38, so a model whose activations might pass
 * that makes softmax and cross-entropy NaN. 1e30 leaves room for rounding and for the cost's own sums.
 */
const MAX_ACTIVATION = 1e30;
/**
 * Adam's moments of a run that can continue: m averages gradients, v their squares. Gradients this large
 * (1e15) mean the run had already diverged; resuming from them would only report a divergence.
 */
const MAX_FIRST_MOMENT = 1e15;
const MAX_SECOND_MOMENT = 1e30;

/**
 * An upper bound of every activation's magnitude over all inputs in [0, 1], unit by unit:
 * |a_{l+1}[j]| ≤ Σ_i |W[i][j]|·bound_l[i] + |b[j]| (ReLU only shrinks). Every partial sum of the forward
 * pass is bounded by it too, whatever the order of the sums. Returns the largest bound of any layer, as soon
 * as one passes MAX_ACTIVATION (later layers could only be measured against an already unusable one).
 */
export function activationBoundOf(parameters: MlpParameters): number {
  const sizes = layerSizes(parameters.shape);
  let bound = new Float64Array(sizes[0]).fill(1);
  let largest = 1;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l];
    const outputs = sizes[l + 1];
    const w = parameters.weights[l];
    const next = new Float64Array(outputs);
    for (let i = 0; i < inputs; i++) {
      const a = bound[i];
      if (a === 0) continue;
      const row = i * outputs;
      for (let j = 0; j < outputs; j++) next[j] += Math.abs(w[row + j]) * a;
    }
    const b = parameters.biases[l];
    largest = 0;
    for (let j = 0; j < outputs; j++) {
      next[j] += Math.abs(b[j]);
      if (next[j] > largest) largest = next[j];
    }
    if (largest > MAX_ACTIVATION) return largest;
    bound = next;
  }
  return largest;
}

/** The value of largest magnitude among all weights and biases (with its sign). */
function largestMagnitude(parameters: MlpParameters): number {
  let largest = 0;
  for (const values of parameters.weights.concat(parameters.biases)) {
    for (let i = 0; i < values.length; i++) if (Math.abs(values[i]) > Math.abs(largest)) largest = values[i];
  }
  return largest;
}

function magnitude(value: number): string {
  return Number.isFinite(value) ? value.toExponential(1) : 'more than 1e+308';
}

function validSources(sources: unknown): sources is DataSources {
  const paths = (list: unknown): boolean => Array.isArray(list) && list.every((p) => typeof p === 'string');
  if (typeof sources !== 'object' || sources === null) return false;
  const { train, test } = sources as Record<string, unknown>;
  return paths(train) && (test === null || paths(test));
}

/** One epoch's summary as we write it: numbers where required, numbers or null for the optional metrics. */
function validHistoryEntry(entry: unknown, epoch: number): entry is EpochSummary {
  if (typeof entry !== 'object' || entry === null) return false;
  const e = entry as Record<string, unknown>;
  const number = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value);
  const optional = (value: unknown): boolean => value === null || number(value);
  const fraction = (value: unknown): boolean => number(value) && (value as number) >= 0 && (value as number) <= 1;
  return (
    e.epoch === epoch &&
    number(e.epochs) &&
    number(e.cost) &&
    fraction(e.trainAccuracy) &&
    optional(e.validationCost) &&
    (e.validationAccuracy === null || fraction(e.validationAccuracy)) &&
    optional(e.testCost) &&
    (e.testAccuracy === null || fraction(e.testAccuracy)) &&
    number(e.seconds) &&
    number(e.evaluationSeconds) &&
    number(e.samplesPerSecond)
  );
}

function describe(shape: MlpShape): string {
  return layerSizes(shape).join('-');
}

function checkArchitecture(architecture: Description['architecture'], bad: (p: string) => FmnistError): MlpShape {
  const hidden = architecture?.hiddenSizes;
  if (
    !architecture ||
    architecture.inputSize !== IMAGE_SIZE ||
    architecture.outputSize !== CLASS_COUNT ||
    !Array.isArray(hidden) ||
    !hidden.every((h) => Number.isInteger(h) && h >= 1 && h <= 65536)
  ) {
    throw bad('describes an architecture this app cannot run (expected 784 inputs, ReLU hidden layers, 10 outputs)');
  }
  return mlpShape(hidden);
}

/** The layer sizes of a bare state dict named 0.weight, 2.weight, … with shapes [out, in]. */
function inferShape(tensors: Map<string, { shape: number[] }>, bad: (p: string) => FmnistError): MlpShape {
  const sizes: number[] = [];
  for (let l = 0; tensors.has(`${moduleName(l)}.weight`); l++) {
    const shape = tensors.get(`${moduleName(l)}.weight`)!.shape;
    if (shape.length !== 2) throw bad(`tensor "${moduleName(l)}.weight" is not a matrix`);
    if (l === 0) sizes.push(shape[1]);
    else if (shape[1] !== sizes[sizes.length - 1])
      throw bad(`tensor "${moduleName(l)}.weight" does not fit the layer before it`);
    sizes.push(shape[0]);
  }
  if (sizes.length < 2) {
    throw bad(
      'is a safetensors file but not a Fashion-MNIST Studio checkpoint (no fmnist metadata, no "0.weight" tensor)',
    );
  }
  if (sizes[0] !== IMAGE_SIZE || sizes[sizes.length - 1] !== CLASS_COUNT) {
    throw bad(`holds a ${sizes.join('-')} network; this app needs 784 inputs and 10 outputs`);
  }
  return mlpShape(sizes.slice(1, -1));
}

/** A weights-only checkpoint: the model tensors (PyTorch names) and the description, no optimizer state. */
export function encodeWeights(checkpoint: Checkpoint): Uint8Array {
  return encodeCheckpoint({
    ...checkpoint,
    optimizer: null,
    costCurve: undefined,
    dataSources: null,
    dataHistory: null,
  });
}

/** Training state to resume from a checkpoint; a clear error when it holds no optimizer state. */
export function trainerStateOf(checkpoint: Checkpoint, file: string): TrainerState {
  if (!checkpoint.optimizer || !checkpoint.config) {
    throw new FmnistError(
      'bad-input',
      'holds only model weights (no optimizer state): it can be evaluated or exported, not resumed',
      {
        file,
      },
    );
  }
  return {
    epochsDone: checkpoint.epochsDone,
    step: checkpoint.optimizer.step,
    shuffleState: checkpoint.optimizer.shuffleState,
    parameters: checkpoint.parameters,
    moments: { m: checkpoint.optimizer.m, v: checkpoint.optimizer.v },
    history: checkpoint.history,
    best: checkpoint.optimizer.best ?? null,
    finishedEarly: checkpoint.finishedEarly ?? false,
  };
}

/** The settings that must not change when a run continues: they define the run's random streams and math. */
const FIXED_ON_RESUME: (keyof RunConfig)[] = [
  'hiddenSizes',
  'batchSize',
  'learningRate',
  'beta1',
  'beta2',
  'epsilon',
  'seed',
  'validationFraction',
  'limit',
  ...RECIPE_FIELDS,
];

/**
 * The configuration of a continued run: the checkpoint's, with a new target epoch count and thread count.
 * Anything else that differs from the checkpoint is refused, naming the setting.
 */
export function resumeConfig(
  saved: RunConfig | null,
  epochsDone: number,
  wanted: Partial<RunConfig>,
  file: string,
  finishedEarly = false,
): RunConfig {
  if (!saved) throw new FmnistError('bad-input', 'has no training settings, so it cannot be resumed', { file });
  if (finishedEarly) {
    // Continuing would replay the same epochs to the same end: the run's choices are fixed by its settings.
    throw new FmnistError(
      'bad-option',
      `the run finished after epoch ${epochsDone} (${saved.restoreBest ? 'its best epoch was kept' : 'early stopping ended it'}), ` +
        'so it has nothing left to train: start a new run',
      { file },
    );
  }
  for (const key of FIXED_ON_RESUME) {
    const value = wanted[key];
    if (value !== undefined && JSON.stringify(value) !== JSON.stringify(saved[key])) {
      throw new FmnistError(
        'bad-option',
        `${FIELD_LABELS[key]} cannot change when resuming: the model was trained with ${JSON.stringify(saved[key])}, got ${JSON.stringify(value)}`,
      );
    }
  }
  const epochs = wanted.epochs ?? saved.epochs;
  if (epochs <= epochsDone) {
    throw new FmnistError(
      'bad-option',
      `the model already has ${epochsDone} epochs: ask for more (epochs is the total, e.g. ${epochsDone + 10})`,
    );
  }
  if (saved.schedule === 'cosine' && epochs !== saved.epochs) {
    throw new FmnistError(
      'bad-option',
      `the cosine schedule decays the learning rate to 0 at epoch ${saved.epochs}, so a run with it keeps its ${saved.epochs} epochs; got ${epochs}`,
    );
  }
  return { ...saved, epochs, threads: wanted.threads ?? saved.threads };
}

/** A checkpoint of a trainer's state. */
export function checkpointOf(
  state: TrainerState,
  config: RunConfig,
  extra: Pick<Checkpoint, 'datasetFingerprint'> &
    Partial<Pick<Checkpoint, 'costCurve' | 'dataSources' | 'dataHistory'>>,
): Checkpoint {
  return {
    parameters: state.parameters,
    config,
    epochsDone: state.epochsDone,
    history: state.history,
    datasetFingerprint: extra.datasetFingerprint,
    appVersion: null,
    createdAt: null,
    optimizer: {
      step: state.step,
      m: state.moments.m,
      v: state.moments.v,
      shuffleState: state.shuffleState,
      best: state.best ?? null,
    },
    costCurve: extra.costCurve,
    dataSources: extra.dataSources ?? null,
    dataHistory: extra.dataHistory ?? null,
    finishedEarly: state.finishedEarly ?? false,
  };
}
