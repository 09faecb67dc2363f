/**
 * RunConfig: every hyper-parameter and the seed of a training run in one serialisable object. The same
 * config, data and thread count give the same run. Validation here is shared by the CLI, the app's
 * backend and checkpoint loading, so every host reports the same one-line messages.
 */

import { describeValue, FmnistError, quote } from './errors';

export interface RunConfig {
  /** Units per hidden layer, input to output; the input (784) and output (10) layers are implied. */
  hiddenSizes: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  seed: number;
  /** Fraction of the training set held out for validation, 0 for none. */
  validationFraction: number;
  /** Use only the first N training samples; 0 means all of them. */
  limit: number;
  /** Worker threads for the kernels; 0 means one per CPU core. */
  threads: number;

  // Training recipes. Each default leaves the run exactly as without it (the reference notebook's).
  /** Learning-rate schedule after the warm-up: constant, step decay, or cosine down to 0 at the last epoch. */
  schedule: Schedule;
  /** Epochs of linear warm-up from 0 to the learning rate (any schedule); 0 for none. */
  warmupEpochs: number;
  /** Step decay: the rate is multiplied by stepFactor every stepEpochs epochs. */
  stepEpochs: number;
  stepFactor: number;
  /** Decoupled weight decay (AdamW): each step, weights (not biases) shrink by learning rate × weightDecay. */
  weightDecay: number;
  /** Dropout on the hidden layers: the probability that a unit is dropped in a training step. */
  dropout: number;
  /** Augmentation: training images shifted by up to this many pixels in each direction, 0 for none. */
  shiftPixels: number;
  /** Augmentation: half the training images mirrored left to right. */
  flip: boolean;
  /** Early stopping: stop when the validation cost has not improved for this many epochs; 0 for never. */
  patience: number;
  /** Keep the model of the epoch with the lowest validation cost when the run ends. */
  restoreBest: boolean;
  /** Label smoothing of the training targets: 1 − ε for the true class, ε/10 spread over all ten. */
  labelSmoothing: number;
}

/** The recipe settings (they shape a run's math, so they cannot change when it resumes). */
export const RECIPE_FIELDS = [
  'schedule',
  'warmupEpochs',
  'stepEpochs',
  'stepFactor',
  'weightDecay',
  'dropout',
  'shiftPixels',
  'flip',
  'patience',
  'restoreBest',
  'labelSmoothing',
] as const satisfies readonly (keyof RunConfig)[];

export const SCHEDULES = ['constant', 'step', 'cosine'] as const;
export type Schedule = (typeof SCHEDULES)[number];

export const DEFAULT_CONFIG: Readonly<RunConfig> = Object.freeze({
  hiddenSizes: [512, 256],
  epochs: 50,
  batchSize: 128,
  learningRate: 0.001,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  seed: 1,
  validationFraction: 0,
  limit: 0,
  threads: 0,
  schedule: 'constant',
  warmupEpochs: 0,
  stepEpochs: 10,
  stepFactor: 0.5,
  weightDecay: 0,
  dropout: 0,
  shiftPixels: 0,
  flip: false,
  patience: 0,
  restoreBest: false,
  labelSmoothing: 0,
});

export const LIMITS = Object.freeze({
  maxEpochs: 100_000,
  maxBatchSize: 65_536,
  maxHiddenLayers: 8,
  maxHiddenUnits: 4096,
  maxThreads: 64,
  maxValidationFraction: 0.9,
  maxDropout: 0.9,
  maxShiftPixels: 4,
  maxLabelSmoothing: 0.5,
});

type Field = keyof RunConfig;

/** Fills defaults and checks types and ranges; throws an FmnistError naming the first bad field. */
export function resolveRunConfig(partial: Partial<Record<Field, unknown>> = {}): RunConfig {
  const config = resolveFields(partial);
  const problem = combinationProblem(config);
  if (problem) throw optionError(problem.field, problem.problem);
  return config;
}

/** Settings whose combination does not make sense: the field to change and why; null when they fit. */
export function combinationProblem(config: RunConfig): { field: Field; problem: string } | null {
  if ((config.patience > 0 || config.restoreBest) && config.validationFraction === 0) {
    return {
      field: config.patience > 0 ? 'patience' : 'restoreBest',
      problem: 'needs a validation split (its cost decides): set the validation split above 0',
    };
  }
  if (config.learningRate * config.weightDecay >= 1) {
    return {
      field: 'weightDecay',
      problem: `times the learning rate must stay below 1 (each step multiplies the weights by 1 − ${config.learningRate} × ${config.weightDecay})`,
    };
  }
  if (config.schedule === 'cosine' && config.warmupEpochs >= config.epochs) {
    return {
      field: 'warmupEpochs',
      problem: `must be fewer than the epochs (${config.epochs}) for the cosine schedule, got ${config.warmupEpochs}`,
    };
  }
  return null;
}

/** Each field checked on its own (resolveRunConfig also checks how they combine). */
export function resolveFields(partial: Partial<Record<Field, unknown>> = {}): RunConfig {
  for (const key of Object.keys(partial)) {
    // Own keys only: "toString" or "__proto__" are no settings.
    if (!Object.hasOwn(DEFAULT_CONFIG, key)) throw optionError(key, 'is not a known setting');
  }
  const pick = <K extends Field>(key: K): unknown => (partial[key] === undefined ? DEFAULT_CONFIG[key] : partial[key]);
  const config: RunConfig = {
    hiddenSizes: checkHiddenSizes(pick('hiddenSizes')),
    epochs: checkInteger('epochs', pick('epochs'), 1, LIMITS.maxEpochs),
    batchSize: checkInteger('batchSize', pick('batchSize'), 1, LIMITS.maxBatchSize),
    learningRate: checkNumber('learningRate', pick('learningRate'), { above: 0, atMost: 10 }),
    beta1: checkNumber('beta1', pick('beta1'), { atLeast: 0, below: 1 }),
    beta2: checkNumber('beta2', pick('beta2'), { atLeast: 0, below: 1 }),
    epsilon: checkNumber('epsilon', pick('epsilon'), { above: 0, atMost: 1 }),
    seed: checkInteger('seed', pick('seed'), 0, 0xffffffff),
    validationFraction: checkNumber('validationFraction', pick('validationFraction'), {
      atLeast: 0,
      atMost: LIMITS.maxValidationFraction,
    }),
    limit: checkInteger('limit', pick('limit'), 0, Number.MAX_SAFE_INTEGER),
    threads: checkInteger('threads', pick('threads'), 0, LIMITS.maxThreads),
    schedule: checkChoice('schedule', pick('schedule'), SCHEDULES),
    warmupEpochs: checkInteger('warmupEpochs', pick('warmupEpochs'), 0, LIMITS.maxEpochs),
    stepEpochs: checkInteger('stepEpochs', pick('stepEpochs'), 1, LIMITS.maxEpochs),
    stepFactor: checkNumber('stepFactor', pick('stepFactor'), { above: 0, atMost: 1 }),
    weightDecay: checkNumber('weightDecay', pick('weightDecay'), { atLeast: 0, atMost: 1 }),
    dropout: checkNumber('dropout', pick('dropout'), { atLeast: 0, atMost: LIMITS.maxDropout }),
    shiftPixels: checkInteger('shiftPixels', pick('shiftPixels'), 0, LIMITS.maxShiftPixels),
    flip: checkFlag('flip', pick('flip')),
    patience: checkInteger('patience', pick('patience'), 0, LIMITS.maxEpochs),
    restoreBest: checkFlag('restoreBest', pick('restoreBest')),
    labelSmoothing: checkNumber('labelSmoothing', pick('labelSmoothing'), {
      atLeast: 0,
      atMost: LIMITS.maxLabelSmoothing,
    }),
  };
  return config;
}

function checkChoice<T extends string>(field: Field, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw optionError(field, `must be one of ${choices.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

function checkFlag(field: Field, value: unknown): boolean {
  if (typeof value !== 'boolean') throw optionError(field, `must be true or false, got ${describe(value)}`);
  return value;
}

/** Parses "512,256" (or an array) into hidden layer sizes. */
export function parseHiddenSizes(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'none') return [];
  return trimmed.split(',').map((part) => {
    const value = Number(part.trim());
    if (part.trim() === '' || !Number.isInteger(value)) {
      throw optionError('hiddenSizes', `must be comma-separated whole numbers like 512,256, got "${text}"`);
    }
    return value;
  });
}

function checkHiddenSizes(value: unknown): number[] {
  const sizes = typeof value === 'string' ? parseHiddenSizes(value) : value;
  if (!Array.isArray(sizes)) throw optionError('hiddenSizes', 'must be a list of layer sizes like 512,256');
  if (sizes.length > LIMITS.maxHiddenLayers) {
    throw optionError('hiddenSizes', `allows at most ${LIMITS.maxHiddenLayers} hidden layers, got ${sizes.length}`);
  }
  return sizes.map((size) => checkInteger('hiddenSizes', size, 1, LIMITS.maxHiddenUnits));
}

function checkInteger(field: Field, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw optionError(field, `must be a whole number, got ${describe(value)}`);
  }
  if (value < min || value > max) throw optionError(field, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

interface Bounds {
  above?: number;
  atLeast?: number;
  below?: number;
  atMost?: number;
}

function checkNumber(field: Field, value: unknown, bounds: Bounds): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw optionError(field, `must be a number, got ${describe(value)}`);
  }
  if (bounds.above !== undefined && !(value > bounds.above)) {
    throw optionError(field, `must be greater than ${bounds.above}, got ${value}`);
  }
  if (bounds.atLeast !== undefined && !(value >= bounds.atLeast)) {
    throw optionError(field, `must be at least ${bounds.atLeast}, got ${value}`);
  }
  if (bounds.below !== undefined && !(value < bounds.below)) {
    throw optionError(field, `must be less than ${bounds.below}, got ${value}`);
  }
  if (bounds.atMost !== undefined && !(value <= bounds.atMost)) {
    throw optionError(field, `must be at most ${bounds.atMost}, got ${value}`);
  }
  return value;
}

/** Values come from checkpoints and requests too: describeValue keeps hostile ones brief and on one line. */
function describe(value: unknown): string {
  return describeValue(value);
}

/** Human names for the fields, as the CLI flags and the app's labels call them. */
export const FIELD_LABELS: Record<Field, string> = {
  hiddenSizes: 'hidden layer sizes',
  epochs: 'epochs',
  batchSize: 'batch size',
  learningRate: 'learning rate',
  beta1: 'beta1',
  beta2: 'beta2',
  epsilon: 'epsilon',
  seed: 'seed',
  validationFraction: 'validation split',
  limit: 'training subset size',
  threads: 'threads',
  schedule: 'learning-rate schedule',
  warmupEpochs: 'warm-up epochs',
  stepEpochs: 'step-decay epochs',
  stepFactor: 'step-decay factor',
  weightDecay: 'weight decay',
  dropout: 'dropout',
  shiftPixels: 'shift pixels',
  flip: 'flip',
  patience: 'patience',
  restoreBest: 'restore best',
  labelSmoothing: 'label smoothing',
};

function optionError(field: string, problem: string): FmnistError {
  // An unknown key may come from a file: shown plain when it is a plain name, quoted and escaped otherwise.
  const known = Object.hasOwn(FIELD_LABELS, field) ? (FIELD_LABELS as Record<string, string>)[field] : null;
  const label = known ?? (/^[A-Za-z_$][\w$]{0,39}$/.test(field) ? field : quote(field));
  return new FmnistError('bad-option', `${label} ${problem}`);
}

/** The recipes a run uses, in words ("cosine schedule after 2 warm-up epochs, dropout 0.2, …"); "" for none. */
export function describeRecipes(config: RunConfig): string {
  const parts: string[] = [];
  const warmup = config.warmupEpochs
    ? ` after ${config.warmupEpochs} warm-up epoch${config.warmupEpochs === 1 ? '' : 's'}`
    : '';
  if (config.schedule === 'cosine') parts.push(`cosine schedule${warmup}`);
  else if (config.schedule === 'step')
    parts.push(`rate ×${config.stepFactor} every ${config.stepEpochs} epochs${warmup}`);
  else if (warmup)
    parts.push(`learning-rate warm-up over ${config.warmupEpochs} epoch${config.warmupEpochs === 1 ? '' : 's'}`);
  if (config.weightDecay) parts.push(`weight decay ${config.weightDecay}`);
  if (config.dropout) parts.push(`dropout ${config.dropout}`);
  if (config.shiftPixels) parts.push(`shifts of up to ${config.shiftPixels} px`);
  if (config.flip) parts.push('flips');
  if (config.labelSmoothing) parts.push(`label smoothing ${config.labelSmoothing}`);
  if (config.patience) parts.push(`early stopping after ${config.patience} epochs without progress`);
  if (config.restoreBest) parts.push('best epoch kept');
  return parts.join(', ');
}
