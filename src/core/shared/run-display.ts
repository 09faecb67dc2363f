/**
 * How a recorded run reads to people, the same in the app's Runs view and in `fmnist runs`: the name a new run
 * gets (its preset, or the settings it changed), the preset its settings start from, its settings in one line,
 * the settings that differ between runs, its start time, its two durations, and the order runs are listed in.
 * Free of Node imports, like run-record.ts, so the renderer shares it.
 */

import { DEFAULT_CONFIG, describeRecipes, type RunConfig } from './config';
import { formatDuration, plural } from './format';
import { PRESET_NAMES, type PresetName, PRESETS } from './presets';
import { displayName, type RunRecord, wallSeconds } from './run-record';

/**
 * A record's settings with the default of each one it lacks: a record written before a recipe existed trained
 * without it, which is what the default means.
 */
export function fullConfig(config: Partial<RunConfig>): RunConfig {
  return { ...DEFAULT_CONFIG, ...config, hiddenSizes: [...(config.hiddenSizes ?? DEFAULT_CONFIG.hiddenSizes)] };
}

/**
 * The settings a name may mention, those people change most first. Threads are left out: they are the
 * computer's, not the run's.
 */
const NAMED_SETTINGS: readonly (keyof RunConfig)[] = [
  'hiddenSizes',
  'learningRate',
  'batchSize',
  'epochs',
  'schedule',
  'warmupEpochs',
  'stepEpochs',
  'stepFactor',
  'weightDecay',
  'dropout',
  'labelSmoothing',
  'shiftPixels',
  'flip',
  'validationFraction',
  'patience',
  'restoreBest',
  'limit',
  'seed',
  'beta1',
  'beta2',
  'epsilon',
];

/** A name lists this many changed settings at most; more are counted ("+2 more"). */
const MAX_NAMED_CHANGES = 4;

const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The settings of `config` that differ from `base`, in NAMED_SETTINGS order. */
function changedFrom(config: RunConfig, base: RunConfig): (keyof RunConfig)[] {
  return NAMED_SETTINGS.filter((key) => {
    // The step schedule's settings change nothing under another schedule.
    if ((key === 'stepEpochs' || key === 'stepFactor') && config.schedule !== 'step') return false;
    return !sameValue(config[key], base[key]);
  });
}

/** The preset a run's settings start from, and the settings it changed from that preset. */
export interface RunBasis {
  /** "notebook" (the defaults) unless another preset explains more of the settings than it contradicts. */
  preset: PresetName;
  changed: (keyof RunConfig)[];
}

/** The preset with the fewest settings changed from it (the defaults, "notebook", on a tie). */
export function runBasis(config: Partial<RunConfig>): RunBasis {
  const full = fullConfig(config);
  let basis: RunBasis | null = null;
  for (const preset of PRESET_NAMES) {
    const changed = changedFrom(full, { ...DEFAULT_CONFIG, ...PRESETS[preset].settings });
    if (!basis || changed.length < basis.changed.length) basis = { preset, changed };
  }
  return basis!;
}

/** A setting and its value in the few words of a run's name: "lr 0.002", "dropout 0.2", "cosine", "no flip". */
export function settingWords(key: keyof RunConfig, value: unknown): string {
  const on = value === true;
  switch (key) {
    case 'hiddenSizes':
      return Array.isArray(value) && value.length ? `hidden ${value.join(',')}` : 'no hidden layers';
    case 'learningRate':
      return `lr ${String(value)}`;
    case 'batchSize':
      return `batch ${String(value)}`;
    case 'epochs':
      return plural(Number(value), 'epoch');
    case 'schedule':
      return value === 'step' ? 'step decay' : value === 'constant' ? 'constant lr' : String(value);
    case 'warmupEpochs':
      return `warm-up ${String(value)}`;
    case 'stepEpochs':
      return `step every ${String(value)}`;
    case 'stepFactor':
      return `step ×${String(value)}`;
    case 'labelSmoothing':
      return `smoothing ${String(value)}`;
    case 'shiftPixels':
      return value ? `shift ${String(value)} px` : 'no shift';
    case 'flip':
      return on ? 'flip' : 'no flip';
    case 'validationFraction':
      return `validation ${String(value)}`;
    case 'patience':
      return value ? `patience ${String(value)}` : 'no early stop';
    case 'restoreBest':
      return on ? 'keep best' : 'keep last';
    case 'weightDecay':
      return `weight decay ${String(value)}`;
    default:
      return `${key} ${String(value)}`;
  }
}

/**
 * The name a new run gets when it is given none: its preset ("quick preset"), the settings it changed ("lr 0.002 ·
 * dropout 0.2"), or both; "defaults" for the default settings. A run that continues a model says so.
 */
export function defaultRunName(config: Partial<RunConfig>, options: { continued?: boolean } = {}): string {
  const full = fullConfig(config);
  const { preset, changed } = runBasis(full);
  const words = changed.map((key) => settingWords(key, full[key]));
  const shown =
    words.length > MAX_NAMED_CHANGES
      ? [...words.slice(0, MAX_NAMED_CHANGES - 1), `+${words.length - MAX_NAMED_CHANGES + 1} more`]
      : words;
  const parts = preset === 'notebook' ? shown : [`${preset} preset`, ...shown];
  const name = parts.length ? parts.join(' · ') : 'defaults';
  return options.continued ? `${name}, continued` : name;
}

/**
 * A run's preset for a table: quick or best when its settings start from one (changed or not), notebook for
 * exactly the defaults, "—" for other settings.
 */
export function presetLabel(config: Partial<RunConfig>): string {
  const { preset, changed } = runBasis(config);
  return preset !== 'notebook' ? preset : changed.length ? '—' : 'notebook';
}

/** The preset a run starts from and what it changed, for its details: "quick, changed: limit 5000". */
export function basisText(config: Partial<RunConfig>): string {
  const full = fullConfig(config);
  const { preset, changed } = runBasis(full);
  const changes = changed.map((key) => settingWords(key, full[key])).join(' · ');
  if (preset !== 'notebook') return changes ? `${preset}, changed: ${changes}` : preset;
  return changes ? `none (the defaults, changed: ${changes})` : 'notebook (the defaults)';
}

/** The settings in one line for a run's details: the network, the optimiser, the recipes and the data used. */
export function settingsLine(config: Partial<RunConfig>): string {
  const c = fullConfig(config);
  const parts = [
    c.hiddenSizes.length ? `hidden ${c.hiddenSizes.join(',')}` : 'no hidden layers',
    `batch ${c.batchSize}`,
    plural(c.epochs, 'epoch'),
    `learning rate ${c.learningRate}`,
  ];
  if (c.schedule === 'constant' && !c.warmupEpochs) parts.push('constant schedule');
  const recipes = describeRecipes(c);
  if (recipes) parts.push(recipes);
  for (const key of ['beta1', 'beta2', 'epsilon'] as const)
    if (c[key] !== DEFAULT_CONFIG[key]) parts.push(`${key} ${c[key]}`);
  if (c.validationFraction) parts.push(`validation split ${c.validationFraction}`);
  if (c.limit) parts.push(`first ${c.limit} training images`);
  parts.push(`seed ${c.seed}`);
  return parts.join(', ');
}

/** A setting's value as a Differences cell: "512,256", "0.002", "cosine", "on". */
export function settingValueText(value: unknown): string {
  if (Array.isArray(value)) return value.length ? value.join(',') : 'none';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (value === undefined || value === null) return '—';
  return String(value);
}

/** The settings whose values differ between runs, with each run's value in the runs' order. */
export function settingDifferences(records: readonly Pick<RunRecord, 'config'>[]): { key: string; values: string[] }[] {
  const configs = records.map((record) => fullConfig(record.config) as unknown as Record<string, unknown>);
  const keys: string[] = [];
  for (const config of configs) for (const key of Object.keys(config)) if (!keys.includes(key)) keys.push(key);
  return keys
    .map((key) => ({ key, values: configs.map((config) => settingValueText(config[key])) }))
    .filter(({ values }) => new Set(values).size > 1);
}

/** A run's start (or any) time in local time, to the minute or second: "2026-12-06 21:08"; "—" for none. */
export function formatRunTime(iso: string | null, seconds = false): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (!Number.isFinite(date.getTime())) return '—';
  const pad = (n: number): string => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}${seconds ? `:${pad(date.getSeconds())}` : ''}`;
}

/**
 * A run's two durations in words: the time from its start to its end (the Time column), and the part of it
 * spent training, without reading data, evaluating and saving ("1m59s from start to end, of which 1m46s
 * training").
 */
export function durationText(
  record: Pick<RunRecord, 'startedAt' | 'endedAt' | 'updatedAt' | 'status' | 'metrics'>,
): string {
  const wall = formatDuration(wallSeconds(record) * 1000);
  const training = formatDuration(record.metrics.trainingSeconds * 1000);
  const span =
    record.endedAt !== null
      ? 'from start to end'
      : record.status === 'running'
        ? 'so far'
        : 'from start to its last record';
  return `${wall} ${span}, of which ${training} training`;
}

export type SortKey =
  'name' | 'preset' | 'status' | 'startedAt' | 'epochs' | 'finalTest' | 'bestTest' | 'time' | 'learningRate' | 'files';
export type SortDirection = 'ascending' | 'descending';

/** The order runs are listed in, in the app (until a column is clicked) and by `fmnist runs`: newest first. */
export const DEFAULT_RUN_ORDER: Readonly<{ key: SortKey; direction: SortDirection }> = Object.freeze({
  key: 'startedAt',
  direction: 'descending',
});

/** What each column sorts by; missing values (a run without a test set) sort last either way. */
const SORT_VALUES: Record<SortKey, (run: RunRecord) => string | number | null> = {
  name: (run) => displayName(run).toLowerCase(),
  preset: (run) => presetLabel(run.config),
  status: (run) => run.status,
  startedAt: (run) => run.startedAt,
  epochs: (run) => run.metrics.epochs,
  finalTest: (run) => run.metrics.finalTestAccuracy,
  bestTest: (run) => run.metrics.bestTestAccuracy,
  time: (run) => wallSeconds(run),
  learningRate: (run) => (typeof run.config.learningRate === 'number' ? run.config.learningRate : null),
  files: (run) => run.files?.bytes ?? null,
};

/** The runs sorted by a column; equal values keep the order of their ids, turned around with the direction. */
export function sortRuns(
  runs: readonly RunRecord[],
  key: SortKey = DEFAULT_RUN_ORDER.key,
  direction: SortDirection = DEFAULT_RUN_ORDER.direction,
): RunRecord[] {
  const value = SORT_VALUES[key];
  const sign = direction === 'ascending' ? 1 : -1;
  return runs
    .map((run) => ({ run, v: value(run) }))
    .sort((a, b) => {
      if (a.v === null || b.v === null) return a.v === b.v ? 0 : a.v === null ? 1 : -1;
      const order = a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
      return order === 0 ? (a.run.id < b.run.id ? -1 : 1) * sign : order * sign;
    })
    .map(({ run }) => run);
}
