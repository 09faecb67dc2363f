/**
 * A hyper-parameter sweep's plan: one or two settings, each with its values, and the seeds; expanded into the
 * ordered list of runs, a grid with the first setting outermost and the seeds innermost. Every value is checked
 * by the run settings' own rules (config.ts), so a bad one gets the message `fmnist train` and the app's settings
 * form give. Free of Node imports: the CLI, the app's backend and the page read plans alike.
 */

import { FIELD_LABELS, parseHiddenSizes, resolveFields, resolveRunConfig, type RunConfig } from '@core/shared/config';
import { FmnistError, quote, userMessage } from '@core/shared/errors';

/** The settings a sweep may vary, in the order a plan lists them (so one sweep typed two ways is one plan). */
export const SWEEP_FIELDS = [
  'learningRate',
  'batchSize',
  'hiddenSizes',
  'dropout',
  'weightDecay',
  'labelSmoothing',
  'epochs',
  'shiftPixels',
] as const satisfies readonly (keyof RunConfig)[];

export type SweepField = (typeof SWEEP_FIELDS)[number];

/** A swept value: a number, or the hidden layer sizes of one network. */
export type SweepValue = number | number[];

/** The swept settings of one run, by field. */
export type SweepSettings = Partial<Record<SweepField, SweepValue>>;

/** How the CLI names each sweepable setting (its `fmnist train` option) and how names and tables show it. */
export const SWEEP_SETTINGS: Readonly<Record<SweepField, { option: string; short: string }>> = Object.freeze({
  learningRate: { option: 'lr', short: 'lr' },
  batchSize: { option: 'batch-size', short: 'batch' },
  hiddenSizes: { option: 'hidden', short: 'hidden' },
  dropout: { option: 'dropout', short: 'dropout' },
  weightDecay: { option: 'weight-decay', short: 'weight decay' },
  labelSmoothing: { option: 'label-smoothing', short: 'smoothing' },
  epochs: { option: 'epochs', short: 'epochs' },
  shiftPixels: { option: 'shift', short: 'shift' },
});

/** A sweep varies at most this many settings (a table, or a heat map of rows and columns), besides the seeds. */
export const MAX_SWEPT_SETTINGS = 2;
/** The most runs one sweep may plan: a thousand already takes days on the whole data set. */
export const MAX_SWEEP_RUNS = 1000;
/** Separates the networks of a hidden-layers list ("512,256/256"): the comma already separates layers. */
export const HIDDEN_LIST_SEPARATOR = '/';

export interface SweepAxis {
  field: SweepField;
  values: SweepValue[];
}

export interface SweepPlan {
  /** The swept settings in SWEEP_FIELDS order: the first gives a table's (heat map's) rows, the second its columns. */
  axes: SweepAxis[];
  /** Each combination is trained once per seed. */
  seeds: number[];
}

/** One run of a sweep, as planned. */
export interface PlannedRun {
  /** Its place in the plan's order, from 0. */
  index: number;
  /** Its combination of swept values (every seed of it shares the number), from 0. */
  combination: number;
  /** The position of its value on each axis: a heat map's row, then column. */
  cell: number[];
  settings: SweepSettings;
  seed: number;
}

/** What a message calls a setting (or the seeds): the CLI's option ("--lr"), or by default the form's label. */
export type SweepNames = (field: SweepField | 'seed') => string;

export const LABEL_NAMES: SweepNames = (field) => FIELD_LABELS[field];

/** A value as names, tables and messages show it: "0.001", "512,256", "none" for no hidden layer. */
export function valueText(value: SweepValue): string {
  if (Array.isArray(value)) return value.length ? value.join(',') : 'none';
  return String(value);
}

/**
 * Parses one list as a user types it: numbers separated by commas ("0.0005,0.001"), or for the hidden layers,
 * networks separated by "/" ("512,256/256/none"). Each value is checked by the setting's own rule; an empty item,
 * a word and a value given twice are refused, quoting what was given.
 */
export function parseSweepList(
  field: SweepField | 'seed',
  text: string,
  names: SweepNames = LABEL_NAMES,
): SweepValue[] {
  const name = names(field);
  const separator = field === 'hiddenSizes' ? HIDDEN_LIST_SEPARATOR : ',';
  const items = text.split(separator).map((item) => item.trim());
  const where = items.length > 1 ? ` in ${quote(text)}` : '';
  const values = items.map((item): SweepValue => {
    if (item === '') throw new FmnistError('bad-option', `${name} has an empty value in ${quote(text)}`);
    if (field === 'hiddenSizes') return checkValue(field, parseHiddenSizes(item));
    const value = Number(item);
    if (!Number.isFinite(value))
      throw new FmnistError('bad-option', `${name} must be a number, got ${quote(item)}${where}`);
    return checkValue(field, value);
  });
  refuseDuplicates(name, values);
  return values;
}

/** The value as the setting's rule accepts it; its message (the one every host gives) when it does not. */
function checkValue(field: SweepField | 'seed', value: SweepValue): SweepValue {
  return resolveFields({ [field]: value })[field];
}

function refuseDuplicates(name: string, values: readonly SweepValue[]): void {
  const seen = new Set<string>();
  for (const value of values) {
    const key = valueText(value);
    if (seen.has(key)) throw new FmnistError('bad-option', `${name} gives ${key} twice`);
    seen.add(key);
  }
}

/**
 * Checks a plan against the base settings every run shares: one or two swept settings (each once, each with two
 * or more distinct values that its rule accepts), one or more distinct seeds, at most MAX_SWEEP_RUNS runs, and
 * every run's settings fitting together (a problem names the run). Returns the plan with its axes in SWEEP_FIELDS
 * order and each value as the rule gave it back.
 */
export function checkSweepPlan(plan: SweepPlan, base: RunConfig, names: SweepNames = LABEL_NAMES): SweepPlan {
  const { axes, seeds } = plan;
  if (axes.length === 0)
    throw new FmnistError(
      'bad-option',
      `no setting is swept: give two or more values to one or two of ${SWEEP_FIELDS.map((f) => names(f)).join(', ')}`,
    );
  for (const [i, axis] of axes.entries()) {
    if (!(SWEEP_FIELDS as readonly string[]).includes(axis.field))
      throw new FmnistError(
        'bad-option',
        `${quote(String(axis.field))} cannot be swept (these can: ${SWEEP_FIELDS.join(', ')})`,
      );
    if (axes.findIndex((other) => other.field === axis.field) !== i)
      throw new FmnistError('bad-option', `${names(axis.field)} is swept twice`);
  }
  if (axes.length > MAX_SWEPT_SETTINGS)
    throw new FmnistError(
      'bad-option',
      `at most ${MAX_SWEPT_SETTINGS} settings can be swept at once (besides the seeds), got ${axes.length}: ` +
        axes.map((axis) => names(axis.field)).join(', '),
    );
  const checked: SweepAxis[] = [...axes]
    .sort((a, b) => SWEEP_FIELDS.indexOf(a.field) - SWEEP_FIELDS.indexOf(b.field))
    .map((axis) => {
      if (axis.values.length < 2)
        throw new FmnistError(
          'bad-option',
          `${names(axis.field)} needs two or more values to be swept, got ${axis.values.map(valueText).join(', ') || 'none'}`,
        );
      const values = axis.values.map((value) => checkValue(axis.field, value));
      refuseDuplicates(names(axis.field), values);
      return { field: axis.field, values };
    });
  if (seeds.length === 0) throw new FmnistError('bad-option', `${names('seed')} needs one or more values`);
  const checkedSeeds = seeds.map((seed) => checkValue('seed', seed) as number);
  refuseDuplicates(names('seed'), checkedSeeds);
  const total = checked.reduce((count, axis) => count * axis.values.length, checkedSeeds.length);
  if (total > MAX_SWEEP_RUNS)
    throw new FmnistError('bad-option', `the sweep plans ${total} runs, more than the ${MAX_SWEEP_RUNS} allowed`);
  const result: SweepPlan = { axes: checked, seeds: checkedSeeds };
  // Each combination on its own (the seed never changes whether settings fit together).
  for (const run of expandSweep(result)) if (run.seed === checkedSeeds[0]) plannedConfig(base, run);
  return result;
}

/** The plan's runs in order: the first setting's values outermost, then the second's, the seeds innermost. */
export function expandSweep(plan: SweepPlan): PlannedRun[] {
  const runs: PlannedRun[] = [];
  const cells: number[][] = plan.axes.reduce<number[][]>(
    (partial, axis) => partial.flatMap((cell) => axis.values.map((_, i) => [...cell, i])),
    [[]],
  );
  for (const [combination, cell] of cells.entries()) {
    const settings: SweepSettings = {};
    for (const [a, axis] of plan.axes.entries()) settings[axis.field] = axis.values[cell[a]];
    for (const seed of plan.seeds)
      runs.push({ index: runs.length, combination, cell, settings: structuredClone(settings), seed });
  }
  return runs;
}

/** A planned run's whole settings: the base with its swept values and seed; refused, naming the run, on a clash. */
export function plannedConfig(base: RunConfig, run: Pick<PlannedRun, 'settings' | 'seed'>): RunConfig {
  try {
    return resolveRunConfig({ ...base, ...structuredClone(run.settings), seed: run.seed });
  } catch (error) {
    throw new FmnistError('bad-option', `the run with ${describeSettings(run.settings)}: ${userMessage(error)}`);
  }
}

/** Each swept value (and the seed, when given) as "lr 0.001". */
function settingParts(settings: SweepSettings, seed?: number): string[] {
  const parts = SWEEP_FIELDS.filter((field) => settings[field] !== undefined).map(
    (field) => `${SWEEP_SETTINGS[field].short} ${valueText(settings[field]!)}`,
  );
  if (seed !== undefined) parts.push(`seed ${seed}`);
  return parts;
}

/** "lr 0.001, dropout 0.2" (and ", seed 2" when a seed is given). */
export function describeSettings(settings: SweepSettings, seed?: number): string {
  return settingParts(settings, seed).join(', ');
}

/** A run's name in the run history: "<sweep name> · lr 0.001 · dropout 0.2 · seed 2". */
export function sweepRunName(sweepName: string, run: Pick<PlannedRun, 'settings' | 'seed'>): string {
  return [sweepName, ...settingParts(run.settings, run.seed)].join(' · ');
}
