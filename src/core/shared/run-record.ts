/**
 * A run record: what one training run (from the app or the CLI) leaves behind in the runs folder. The
 * summary (`<id>.json`: settings, data, status, final metrics, name and note) is read for every listing; the
 * per-epoch history (`<id>.history.json`) only when a run's curves or rows are asked for. Free of Node
 * imports, so the renderer shares the types and the checks.
 */

import type { RunConfig } from './config';
import { describeValue } from './errors';
import type { EpochSummary } from './events';

export const RUN_RECORD_FORMAT = 'fashion-mnist-studio-run';
export const RUN_HISTORY_FORMAT = 'fashion-mnist-studio-run-history';
export const RUN_RECORD_VERSION = 1;

/** What a record says on disk; a listing reports a "running" record whose process is gone as "interrupted". */
export type StoredRunStatus = 'running' | 'finished' | 'stopped' | 'failed';
export type RunRecordStatus = StoredRunStatus | 'interrupted';
export const RUN_STATUSES: readonly StoredRunStatus[] = ['running', 'finished', 'stopped', 'failed'];

/** Who trained: the fmnist CLI, or the app (desktop window or browser host). */
/** Who recorded the run: fmnist train, the app, or fmnist runs import (a run continued elsewhere). */
export type RunOrigin = 'cli' | 'app' | 'import';

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
  /**
   * The run's name: the user's, or the one it got when it started (run-display.ts: its preset or the settings it
   * changed); "" for none (records written before runs were named, or a name removed). And a note.
   */
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
  /** The process's identity as its system tells it (liveness.ts); absent in records written before it was kept. */
  processIdentity?: string | null;
  appVersion: string;
  /** Every setting of the run, as the trainer got it. */
  config: RunConfig;
  data: {
    fingerprint: string | null;
    sources: { train: string[]; test: string[] | null } | null;
    /** Every data set when training went on with other data. */
    history:
      { fromEpoch: number; fingerprint: string; sources: { train: string[]; test: string[] | null } | null }[] | null;
  };
  /** A run that continued a model: the epochs it had and the file it came from (null: a model of the session). */
  resumedFrom: { epochsDone: number; file: string | null } | null;
  /**
   * The file that holds the run's model: its own checkpoint in the runs folder (see RunFiles), or, in records
   * written before runs kept their own, the autosave or the file it was saved to; null for none.
   */
  checkpoint: string | null;
  /** Other files the model was saved to afterwards (fmnist train --out, Save checkpoint), oldest first. */
  copies?: string[];
  /** The run that continued this one from its checkpoint, if any (so it is no longer offered for resuming). */
  continuedBy?: string | null;
  /** The sweep that planned the run and its place in the sweep's plan (absent in runs of no sweep). */
  sweep?: RunSweepRef | null;
  /** The epochs trained outside this app (the PyTorch script), and how: absent for runs trained here. */
  trainedElsewhere?: TrainedElsewhere | null;
  /** The run's own files in the runs folder, as found when it was read (never stored). */
  files?: RunFiles | null;
  kernels: string | null;
  threads: number | null;
  trainingSamples: number;
  validationSamples: number;
  metrics: RunMetrics;
  /** What the trainer returned at the end (its RunSummary without the history, whatever fields it has). */
  summary: Record<string, unknown> | null;
}

/** Epochs a run imported with `fmnist runs import` trained elsewhere, and by what. */
export interface TrainedElsewhere {
  fromEpoch: number;
  toEpoch: number;
  /** The program (train.py), its PyTorch version, the device type and the number of processes. */
  program: string;
  torch: string | null;
  device: string | null;
  worldSize: number | null;
  /**
   * The last epoch trained elsewhere as its history has it ("epoch:cost:seconds"), which every later save keeps:
   * a second import of it (a copy, a re-save) is refused.
   */
  epochKey: string | null;
}

/** What recorded a run, as the run's details name it. */
export function originText(run: Pick<RunRecord, 'origin'>): string {
  return run.origin === 'cli' ? 'fmnist train' : run.origin === 'import' ? 'fmnist runs import' : 'the app';
}

/** "train.py (PyTorch 2.4.0, cuda, 4 processes)". */
export function elsewhereText(trained: TrainedElsewhere): string {
  const how = [
    trained.torch ? `PyTorch ${trained.torch}` : null,
    trained.device,
    trained.worldSize === null ? null : `${trained.worldSize} process${trained.worldSize === 1 ? '' : 'es'}`,
  ].filter((part) => part !== null);
  return `${trained.program}${how.length ? ` (${how.join(', ')})` : ''}`;
}

/** A run of a sweep: the sweep's id and the run's index in the sweep's plan (src/core/sweep). */
export interface RunSweepRef {
  id: string;
  index: number;
}

/** A run's own checkpoints, in the folder named after it beside its record. */
export interface RunFiles {
  /** The last whole epoch it trained (written after epochs and when it ends), if present. */
  last: string | null;
  /** The best epoch it kept (early stopping with Keep the best epoch), if present. */
  best: string | null;
  /** Bytes of everything in the run's folder. */
  bytes: number;
}

/**
 * A summary file that is not a whole record (or a run's files without one): listed by id with what is wrong, so it can
 * be deleted.
 */
export interface DamagedRun {
  id: string;
  file: string;
  problem: string;
  /** The run's own files, if any (deleting the run deletes them). */
  files: RunFiles | null;
}

/**
 * Whether a run can be resumed from its own checkpoint: it ended short of its epochs (stopped, or its process
 * gone) and was not finished early, its last checkpoint is there, and no run continued it since (a
 * continuation that kept no files of its own does not count). `runs` is the listing it is part of.
 */
export function isResumable(run: RunRecord, runs: readonly RunRecord[]): boolean {
  if ((run.status !== 'stopped' && run.status !== 'interrupted') || !run.files?.last) return false;
  if (run.metrics.epochs >= run.config.epochs || run.summary?.stoppedEarly === true) return false;
  const continuation = run.continuedBy ? runs.find((other) => other.id === run.continuedBy) : null;
  return !continuation?.files?.last;
}

/** The file of a run's own that holds the model it handed back: the best epoch it kept, else its last. */
export function modelFileOf(files: RunFiles | null | undefined): string | null {
  return files ? (files.best ?? files.last) : null;
}

/**
 * A line of a run's edit journal (`<id>.edits.jsonl`): a change made by someone other than its trainer. The
 * journal is only ever appended to, so edits from any number of processes are never lost; a reader folds it
 * over the summary, last line winning.
 */
export interface RunEdit {
  at: string;
  name?: string;
  note?: string;
  /** The model was saved to this file. */
  copy?: string;
  continuedBy?: string;
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
  return Array.from(text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim())
    .slice(0, MAX_NAME_CHARS)
    .join('');
}

/** A note keeps its lines (\n) but no other controls; cut to MAX_NOTE_CHARS characters. */
export function cleanNote(text: string): string {
  // eslint-disable-next-line no-control-regex
  return Array.from(text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ''))
    .slice(0, MAX_NOTE_CHARS)
    .join('');
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

/** The name to show: the run's name, or its id when it has none. */
export function displayName(record: Pick<RunRecord, 'name' | 'id'>): string {
  return record.name.trim() || record.id;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isNumberOrNull = (value: unknown): boolean =>
  value === null || (typeof value === 'number' && Number.isFinite(value));

/** The type each known setting has in a record (a newer app may add settings: those are kept unchecked). */
const CONFIG_TYPES: Record<string, 'number' | 'boolean' | 'string'> = {
  epochs: 'number',
  batchSize: 'number',
  learningRate: 'number',
  beta1: 'number',
  beta2: 'number',
  epsilon: 'number',
  seed: 'number',
  validationFraction: 'number',
  limit: 'number',
  threads: 'number',
  schedule: 'string',
  warmupEpochs: 'number',
  stepEpochs: 'number',
  stepFactor: 'number',
  weightDecay: 'number',
  dropout: 'number',
  shiftPixels: 'number',
  flip: 'boolean',
  patience: 'number',
  restoreBest: 'boolean',
  labelSmoothing: 'number',
};

const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

function sourcesProblem(value: unknown, name: string): string | null {
  if (value === null) return null;
  if (!isObject(value) || !isStringList(value.train))
    return `${name}.train is ${describeValue(isObject(value) ? value.train : value)}, not a list of files`;
  if (value.test !== null && !isStringList(value.test))
    return `${name}.test is ${describeValue(value.test)}, not a list of files`;
  return null;
}

function configProblem(config: unknown): string | null {
  if (!isObject(config)) return 'has no settings (config)';
  const hidden = config.hiddenSizes;
  if (
    !Array.isArray(hidden) ||
    hidden.length === 0 ||
    !hidden.every((size) => Number.isSafeInteger(size) && size > 0)
  ) {
    return `config.hiddenSizes is ${describeValue(hidden)}, not a list of layer sizes`;
  }
  for (const [key, type] of Object.entries(CONFIG_TYPES)) {
    const value = config[key];
    if (value === undefined) continue;
    if (typeof value !== type || (type === 'number' && !Number.isFinite(value)))
      return `config.${key} is ${describeValue(value)}, not a ${type}`;
  }
  return null;
}

function dataProblem(data: unknown): string | null {
  if (!isObject(data)) return 'has no data description';
  if (data.fingerprint !== null && typeof data.fingerprint !== 'string')
    return `data.fingerprint is ${describeValue(data.fingerprint)}`;
  const sources = sourcesProblem(data.sources, 'data.sources');
  if (sources) return sources;
  if (data.history === null || data.history === undefined) return null;
  if (!Array.isArray(data.history)) return `data.history is ${describeValue(data.history)}, not a list`;
  for (const [i, segment] of data.history.entries()) {
    if (!isObject(segment) || typeof segment.fromEpoch !== 'number' || typeof segment.fingerprint !== 'string') {
      return `data.history entry ${i + 1} is ${describeValue(segment)}`;
    }
    const problem = sourcesProblem(segment.sources, `data.history entry ${i + 1}: sources`);
    if (problem) return problem;
  }
  return null;
}

/**
 * Checks a parsed summary file field by field: the record, or what is wrong with it in a few words (a
 * foreign JSON file, a newer format, a field of the wrong type), so nothing read from disk is trusted.
 * Settings the check does not know are kept as they are (a newer app may have more of them).
 */
export function checkRunRecord(value: unknown, expectedId: string): RunRecord | string {
  if (!isObject(value) || value.format !== RUN_RECORD_FORMAT) return 'not a run record of Fashion-MNIST Studio';
  if (typeof value.formatVersion !== 'number' || !Number.isInteger(value.formatVersion))
    return `formatVersion is ${describeValue(value.formatVersion)}`;
  if (value.formatVersion > RUN_RECORD_VERSION)
    return `format version ${value.formatVersion} is newer than this version reads (${RUN_RECORD_VERSION})`;
  if (value.id !== expectedId) return `names the run ${describeValue(value.id)}, not ${expectedId}`;
  for (const key of ['name', 'note', 'startedAt', 'updatedAt', 'appVersion', 'host'] as const) {
    if (typeof value[key] !== 'string') return `${key} is ${describeValue(value[key])}, not text`;
  }
  if (!(RUN_STATUSES as unknown[]).includes(value.status)) return `status is ${describeValue(value.status)}`;
  for (const key of ['endedAt', 'error', 'checkpoint', 'kernels'] as const) {
    if (value[key] !== null && typeof value[key] !== 'string') return `${key} is ${describeValue(value[key])}`;
  }
  if (value.origin !== 'cli' && value.origin !== 'app' && value.origin !== 'import')
    return `origin is ${describeValue(value.origin)}`;
  for (const key of ['pid', 'processStartedMs', 'trainingSamples', 'validationSamples'] as const) {
    if (typeof value[key] !== 'number' || !Number.isFinite(value[key]))
      return `${key} is ${describeValue(value[key])}, not a number`;
  }
  if (!isNumberOrNull(value.threads)) return `threads is ${describeValue(value.threads)}`;
  const problem = configProblem(value.config) ?? dataProblem(value.data);
  if (problem) return problem;
  const resumed = value.resumedFrom;
  if (
    resumed !== null &&
    (!isObject(resumed) ||
      typeof resumed.epochsDone !== 'number' ||
      (resumed.file !== null && typeof resumed.file !== 'string'))
  ) {
    return `resumedFrom is ${describeValue(resumed)}`;
  }
  if (value.summary !== null && !isObject(value.summary)) return `summary is ${describeValue(value.summary)}`;
  if (value.copies !== undefined && !isStringList(value.copies))
    return `copies is ${describeValue(value.copies)}, not a list of files`;
  if (value.continuedBy !== undefined && value.continuedBy !== null && typeof value.continuedBy !== 'string')
    return `continuedBy is ${describeValue(value.continuedBy)}`;
  const sweep = value.sweep;
  if (
    sweep !== undefined &&
    sweep !== null &&
    (!isObject(sweep) ||
      typeof sweep.id !== 'string' ||
      !RUN_ID.test(sweep.id) ||
      !Number.isSafeInteger(sweep.index) ||
      (sweep.index as number) < 0)
  ) {
    return `sweep is ${describeValue(sweep)}`;
  }
  const elsewhere = value.trainedElsewhere;
  if (
    elsewhere !== undefined &&
    elsewhere !== null &&
    (!isObject(elsewhere) ||
      !Number.isSafeInteger(elsewhere.fromEpoch) ||
      !Number.isSafeInteger(elsewhere.toEpoch) ||
      typeof elsewhere.program !== 'string' ||
      !(elsewhere.torch === null || typeof elsewhere.torch === 'string') ||
      !(elsewhere.device === null || typeof elsewhere.device === 'string') ||
      !(elsewhere.worldSize === null || Number.isSafeInteger(elsewhere.worldSize)) ||
      !(elsewhere.epochKey === null || typeof elsewhere.epochKey === 'string'))
  ) {
    return `trainedElsewhere is ${describeValue(elsewhere)}`;
  }
  if (
    value.processIdentity !== undefined &&
    value.processIdentity !== null &&
    typeof value.processIdentity !== 'string'
  ) {
    return `processIdentity is ${describeValue(value.processIdentity)}`;
  }
  const metrics = value.metrics;
  if (!isObject(metrics) || typeof metrics.epochs !== 'number' || typeof metrics.trainingSeconds !== 'number')
    return 'has no metrics';
  for (const key of [
    'finalCost',
    'finalTrainAccuracy',
    'finalValidationAccuracy',
    'finalTestCost',
    'finalTestAccuracy',
    'bestTestAccuracy',
    'bestTestEpoch',
  ] as const) {
    if (!isNumberOrNull(metrics[key])) return `metrics.${key} is ${describeValue(metrics[key])}`;
  }
  // Computed when read, never taken from the file.
  const { files: _files, ...record } = value;
  return record as unknown as RunRecord;
}

/** The edits of a journal's text, in order; a line that is not a whole edit (a write cut short) is skipped. */
export function parseRunEdits(text: string): RunEdit[] {
  const edits: RunEdit[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (!isObject(value) || typeof value.at !== 'string') continue;
    const edit: RunEdit = { at: value.at };
    if (typeof value.name === 'string') edit.name = cleanName(value.name);
    if (typeof value.note === 'string') edit.note = cleanNote(value.note);
    if (typeof value.copy === 'string') edit.copy = value.copy;
    if (typeof value.continuedBy === 'string' && RUN_ID.test(value.continuedBy)) edit.continuedBy = value.continuedBy;
    edits.push(edit);
  }
  return edits;
}

/** A record with the edits of its journal laid over it, in order (the last name or note wins). */
export function withEdits(record: RunRecord, edits: readonly RunEdit[]): RunRecord {
  const folded: RunRecord = { ...record };
  for (const edit of edits) {
    if (edit.name !== undefined) folded.name = edit.name;
    if (edit.note !== undefined) folded.note = edit.note;
    if (edit.copy !== undefined)
      folded.copies = [...(folded.copies ?? []).filter((file) => file !== edit.copy), edit.copy];
    if (edit.continuedBy !== undefined) folded.continuedBy = edit.continuedBy;
  }
  return folded;
}

const EPOCH_NUMBERS = ['epoch', 'epochs', 'cost', 'trainAccuracy', 'seconds'] as const;
const EPOCH_OPTIONAL = ['validationCost', 'validationAccuracy', 'testCost', 'testAccuracy'] as const;
/** Present in every epoch written, but not needed to show one: checked only when present. */
const EPOCH_EXTRA = ['evaluationSeconds', 'samplesPerSecond'] as const;

/** Checks a parsed history file: its epochs, or what is wrong. */
export function checkRunHistory(value: unknown, expectedId: string): EpochSummary[] | string {
  if (!isObject(value) || value.format !== RUN_HISTORY_FORMAT) return 'not a run history of Fashion-MNIST Studio';
  if (value.id !== expectedId) return `is the history of ${describeValue(value.id)}, not ${expectedId}`;
  if (!Array.isArray(value.epochs)) return 'has no list of epochs';
  for (const [i, epoch] of value.epochs.entries()) {
    if (!isObject(epoch)) return `epoch entry ${i + 1} is ${describeValue(epoch)}`;
    for (const key of EPOCH_NUMBERS)
      if (typeof epoch[key] !== 'number') return `epoch entry ${i + 1}: ${key} is ${describeValue(epoch[key])}`;
    if (!Number.isSafeInteger(epoch.epoch) || (epoch.epoch as number) < 1)
      return `epoch entry ${i + 1}: epoch is ${describeValue(epoch.epoch)}`;
    for (const key of EPOCH_OPTIONAL)
      if (!isNumberOrNull(epoch[key])) return `epoch entry ${i + 1}: ${key} is ${describeValue(epoch[key])}`;
    for (const key of EPOCH_EXTRA)
      if (epoch[key] !== undefined && typeof epoch[key] !== 'number')
        return `epoch entry ${i + 1}: ${key} is ${describeValue(epoch[key])}`;
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
  return keys.filter(
    (key) => new Set(records.map((r) => settingText((r.config as unknown as Record<string, unknown>)[key]))).size > 1,
  );
}
