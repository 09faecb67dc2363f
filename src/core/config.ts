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
}

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
});

export const LIMITS = Object.freeze({
  maxEpochs: 100_000,
  maxBatchSize: 65_536,
  maxHiddenLayers: 8,
  maxHiddenUnits: 4096,
  maxThreads: 64,
  maxValidationFraction: 0.9,
});

type Field = keyof RunConfig;

/** Fills defaults and checks types and ranges; throws an FmnistError naming the first bad field. */
export function resolveRunConfig(partial: Partial<Record<Field, unknown>> = {}): RunConfig {
  for (const key of Object.keys(partial)) {
    // Own keys only: "toString" or "__proto__" are no settings.
    if (!Object.hasOwn(DEFAULT_CONFIG, key)) throw optionError(key, 'is not a known setting');
  }
  const pick = <K extends Field>(key: K): unknown => (partial[key] === undefined ? DEFAULT_CONFIG[key] : partial[key]);
  return {
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
  };
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
  validationFraction: 'validation fraction',
  limit: 'training subset size',
  threads: 'threads',
};

function optionError(field: string, problem: string): FmnistError {
  // An unknown key may come from a file: shown plain when it is a plain name, quoted and escaped otherwise.
  const known = Object.hasOwn(FIELD_LABELS, field) ? (FIELD_LABELS as Record<string, string>)[field] : null;
  const label = known ?? (/^[A-Za-z_$][\w$]{0,39}$/.test(field) ? field : quote(field));
  return new FmnistError('bad-option', `${label} ${problem}`);
}
