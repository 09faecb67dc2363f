/**
 * A run record: what one training run (from the app or the CLI) leaves behind in the runs folder. The
 * summary (`<id>.json`: settings, data, status, final metrics, name and note) is read for every listing; the
 * per-epoch history (`<id>.history.json`) only when a run's curves or rows are asked for. Free of Node
 * imports, so the renderer shares the types and the checks.
 */

import type { RunConfig } from '../config';
import { describeValue } from '../errors';
import type { EpochSummary } from '../train/events';

export const RUN_RECORD_FORMAT = 'fashion-mnist-studio-run';
export const RUN_HISTORY_FORMAT = 'fashion-mnist-studio-run-history';
export const RUN_RECORD_VERSION = 1;

/** What a record says on disk; a listing reports a "running" record whose process is gone as "interrupted". */
export type StoredRunStatus = 'running' | 'finished' | 'stopped' | 'failed';
export type RunRecordStatus = StoredRunStatus | 'interrupted';
export const RUN_STATUSES: readonly StoredRunStatus[] = ['running', 'finished', 'stopped', 'failed'];

/** Who trained: the fmnist CLI, or the app (desktop window or browser host). */
export type RunOrigin = 'cli' | 'app';

/** The final (or so far) numbers of a run, from its history. */
export interface RunMetrics {
  /** Epochs the model has (a continued model counts the epochs it came with). */
  epochs: number;
  finalCost: number | null;
  finalTrainAccuracy: number | null;
  finalValidationAccuracy: number | null;
  finalTestCost: number | null;
  finalTestAccuracy: number | null;
  bestTestAccuracy: number | null;
  /** The epoch of the best test accuracy (the first, on a tie). */
  bestTestEpoch: number | null;
  /** Seconds of training (forward, backward, update) of this run's own epochs. */
  trainingSeconds: number;
}

export interface RunRecord {
  format: typeof RUN_RECORD_FORMAT;
  formatVersion: number;
  /** Sortable by start time and unique: 20261125-143012-ab12 (UTC). */
  id: string;
  /** The user's name for the run ("" until given) and a note. */
  name: string;
  note: string;
  status: RunRecordStatus;
  /** Why a failed run failed, as one line. */
  error: string | null;
  origin: RunOrigin;
  /** ISO times: when it started, when the record was last written, when it ended (null while it runs). */
  startedAt: string;
  updatedAt: string;
  endedAt: string | null;
  /** The process that trains, to tell a run in progress from one whose process was killed. */
  pid: number;
  host: string;
  /** When that process started (ms since 1970), to tell it from a later process with the same pid. */
  processStartedMs: number;
  appVersion: string;
  /** Every setting of the run, as the trainer got it. */
  config: RunConfig;
  data: {
    fingerprint: string | null;
    sources: { train: string[]; test: string[] | null } | null;
    /** Every data set when training went on with other data. */
    history: { fromEpoch: number; fingerprint: string; sources: { train: string[]; test: string[] | null } | null }[] | null;
  };
  /** A run that continued a model: the epochs it had and the file it came from (null: a model of the session). */
  resumedFrom: { epochsDone: number; file: string | null } | null;
  /** The file that holds the run's model (a saved checkpoint or the autosave), null for none. */
  checkpoint: string | null;
  kernels: string | null;
  threads: number | null;
  trainingSamples: number;
  validationSamples: number;
  metrics: RunMetrics;
  /** What the trainer returned at the end (its RunSummary without the history, whatever fields it has). */
  summary: Record<string, unknown> | null;
}

export interface RunHistoryFile {
  format: typeof RUN_HISTORY_FORMAT;
  id: string;
  epochs: EpochSummary[];
}

export const MAX_NAME_CHARS = 200;
export const MAX_NOTE_CHARS = 10_000;

/** A name is one line: line breaks and other controls become spaces; cut to MAX_NAME_CHARS characters. */
export function cleanName(text: string): string {
  // eslint-disable-next-line no-control-regex
  return Array.from(text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim()).slice(0, MAX_NAME_CHARS).join('');
}

/** A note keeps its lines (\n) but no other controls; cut to MAX_NOTE_CHARS characters. */
export function cleanNote(text: string): string {
  // eslint-disable-next-line no-control-regex
  return Array.from(text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')).slice(0, MAX_NOTE_CHARS).join('');
}

/** Ids: UTC date and time to the second, then four hex digits. */
export const RUN_ID = /^\d{8}-\d{6}-[0-9a-f]{4,8}$/;

export function runId(date: Date, random: string): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const day = `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`;
  const time = `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
  return `${day}-${time}-${random}`;
}

/** The metrics of a history; `ownFrom` is the first epoch this run trained (earlier ones came with the model). */
export function metricsOf(history: readonly EpochSummary[], ownFrom = 1, keptEpoch?: number): RunMetrics {
  // The final figures are the model's the run handed back: its last epoch, or the best one it restored.
  const kept = (keptEpoch === undefined ? history.at(-1) : history.find((epoch) => epoch.epoch === keptEpoch)) ?? null;
  const last = history.at(-1) ?? null;
  let best: EpochSummary | null = null;
  let trainingSeconds = 0;
  for (const epoch of history) {
    if (epoch.testAccuracy !== null && (best === null || epoch.testAccuracy > best.testAccuracy!)) best = epoch;
    if (epoch.epoch >= ownFrom) trainingSeconds += epoch.seconds;
  }
  return {
    epochs: last?.epoch ?? ownFrom - 1,
    finalCost: kept?.cost ?? null,
    finalTrainAccuracy: kept?.trainAccuracy ?? null,
    finalValidationAccuracy: kept?.validationAccuracy ?? null,
    finalTestCost: kept?.testCost ?? null,
    finalTestAccuracy: kept?.testAccuracy ?? null,
    bestTestAccuracy: best?.testAccuracy ?? null,
    bestTestEpoch: best?.epoch ?? null,
    trainingSeconds,
  };
}

/** Seconds from start to end (or to the last write, for a run that has not ended). */
export function wallSeconds(record: Pick<RunRecord, 'startedAt' | 'endedAt' | 'updatedAt'>): number {
  const end = Date.parse(record.endedAt ?? record.updatedAt);
  const start = Date.parse(record.startedAt);
  return Number.isFinite(end) && Number.isFinite(start) ? Math.max(0, (end - start) / 1000) : 0;
}

/** The name to show: the user's, or the id. */
export function displayName(record: Pick<RunRecord, 'name' | 'id'>): string {
  return record.name.trim() || record.id;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isNumberOrNull = (value: unknown): boolean => value === null || (typeof value === 'number' && Number.isFinite(value));

/**
 * Checks a parsed summary file: the record, or what is wrong with it in a few words (a foreign JSON file,
 * a newer format, a field of the wrong type). Only what listing and showing rely on is checked; settings are
 * kept as they are (a newer app may have more of them).
 */
export function checkRunRecord(value: unknown, expectedId: string): RunRecord | string {
  if (!isObject(value) || value.format !== RUN_RECORD_FORMAT) return 'not a run record of Fashion-MNIST Studio';
  if (typeof value.formatVersion !== 'number' || !Number.isInteger(value.formatVersion)) return `formatVersion is ${describeValue(value.formatVersion)}`;
  if (value.formatVersion > RUN_RECORD_VERSION) return `format version ${value.formatVersion} is newer than this version reads (${RUN_RECORD_VERSION})`;
  if (value.id !== expectedId) return `names the run ${describeValue(value.id)}, not ${expectedId}`;
  for (const key of ['name', 'note', 'startedAt', 'updatedAt', 'appVersion', 'host'] as const) {
    if (typeof value[key] !== 'string') return `${key} is ${describeValue(value[key])}, not text`;
  }
  if (!(RUN_STATUSES as unknown[]).includes(value.status)) return `status is ${describeValue(value.status)}`;
  for (const key of ['endedAt', 'error', 'checkpoint', 'kernels'] as const) {
    if (value[key] !== null && typeof value[key] !== 'string') return `${key} is ${describeValue(value[key])}`;
  }
  if (value.origin !== 'cli' && value.origin !== 'app') return `origin is ${describeValue(value.origin)}`;
  for (const key of ['pid', 'processStartedMs', 'trainingSamples', 'validationSamples'] as const) {
    if (typeof value[key] !== 'number' || !Number.isFinite(value[key])) return `${key} is ${describeValue(value[key])}, not a number`;
  }
  if (!isNumberOrNull(value.threads)) return `threads is ${describeValue(value.threads)}`;
  if (!isObject(value.config) || !Array.isArray(value.config.hiddenSizes)) return 'has no settings (config)';
  if (!isObject(value.data)) return 'has no data description';
  if (value.resumedFrom !== null && !isObject(value.resumedFrom)) return `resumedFrom is ${describeValue(value.resumedFrom)}`;
  if (value.summary !== null && !isObject(value.summary)) return `summary is ${describeValue(value.summary)}`;
  const metrics = value.metrics;
  if (!isObject(metrics) || typeof metrics.epochs !== 'number' || typeof metrics.trainingSeconds !== 'number') return 'has no metrics';
  for (const key of ['finalCost', 'finalTrainAccuracy', 'finalValidationAccuracy', 'finalTestCost', 'finalTestAccuracy', 'bestTestAccuracy', 'bestTestEpoch'] as const) {
    if (!isNumberOrNull(metrics[key])) return `metrics.${key} is ${describeValue(metrics[key])}`;
  }
  return value as unknown as RunRecord;
}

const EPOCH_NUMBERS = ['epoch', 'cost', 'trainAccuracy', 'seconds'] as const;
const EPOCH_OPTIONAL = ['validationCost', 'validationAccuracy', 'testCost', 'testAccuracy'] as const;

/** Checks a parsed history file: its epochs, or what is wrong. */
export function checkRunHistory(value: unknown, expectedId: string): EpochSummary[] | string {
  if (!isObject(value) || value.format !== RUN_HISTORY_FORMAT) return 'not a run history of Fashion-MNIST Studio';
  if (value.id !== expectedId) return `is the history of ${describeValue(value.id)}, not ${expectedId}`;
  if (!Array.isArray(value.epochs)) return 'has no list of epochs';
  for (const [i, epoch] of value.epochs.entries()) {
    if (!isObject(epoch)) return `epoch entry ${i + 1} is ${describeValue(epoch)}`;
    for (const key of EPOCH_NUMBERS) if (typeof epoch[key] !== 'number') return `epoch entry ${i + 1}: ${key} is ${describeValue(epoch[key])}`;
    for (const key of EPOCH_OPTIONAL) if (!isNumberOrNull(epoch[key])) return `epoch entry ${i + 1}: ${key} is ${describeValue(epoch[key])}`;
  }
  return value.epochs as EpochSummary[];
}

/** A setting's value as text for comparing and showing ("512,256", "0.001"). */
export function settingText(value: unknown): string {
  if (Array.isArray(value)) return value.join(',');
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The settings that differ between records (every key any of them has), in the order first seen. */
export function differingSettings(records: readonly Pick<RunRecord, 'config'>[]): string[] {
  const keys: string[] = [];
  for (const record of records) for (const key of Object.keys(record.config)) if (!keys.includes(key)) keys.push(key);
  return keys.filter((key) => new Set(records.map((r) => settingText((r.config as unknown as Record<string, unknown>)[key]))).size > 1);
}
