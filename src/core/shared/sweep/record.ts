/**
 * A sweep record (`runs/sweeps/<id>.json`): the plan, the settings every run shares, the data files, and per
 * planned run its status, the run record that holds it and its result. Only the process running the sweep
 * writes it (the sweep's lock says which); everyone may read it, and nothing read from disk is trusted: the check
 * here says in a few words what is wrong. Free of Node imports, like the run record it sits beside.
 */

import { resolveFields, type RunConfig } from '@core/shared/config';
import { describeValue, userMessage } from '@core/shared/errors';
import { RUN_ID, type RunMetrics, type RunOrigin } from '@core/shared/run-record';
import {
  checkSweepPlan,
  expandSweep,
  type PlannedRun,
  SWEEP_FIELDS,
  SWEEP_SETTINGS,
  type SweepAxis,
  type SweepPlan,
  type SweepSettings,
  valueText,
} from './plan';

export const SWEEP_RECORD_FORMAT = 'fashion-mnist-studio-sweep';
export const SWEEP_RECORD_VERSION = 1;

/** What a record says; a listing shows a "running" one whose process is gone as "interrupted". */
export type SweepStatus = 'running' | 'stopped' | 'finished' | 'failed';
export type ListedSweepStatus = SweepStatus | 'interrupted';
const SWEEP_STATUSES: readonly SweepStatus[] = ['running', 'stopped', 'finished', 'failed'];

/**
 * A planned run: not begun (pending), training, stopped part-way (resumable), finished, diverged (its cost
 * became NaN: done, as training it again would diverge again), or failed otherwise (tried again on resume).
 */
export type SweepRunStatus = 'pending' | 'running' | 'stopped' | 'finished' | 'diverged' | 'failed';
const RUN_STATUSES: readonly SweepRunStatus[] = ['pending', 'running', 'stopped', 'finished', 'diverged', 'failed'];
/** The statuses a resumed sweep leaves as they are. */
export const DONE_STATUSES: readonly SweepRunStatus[] = ['finished', 'diverged'];

/** A run's figures, from its run record's metrics (test accuracies are null without a test set). */
export type SweepRunResult = Pick<RunMetrics, 'epochs' | 'finalTestAccuracy' | 'bestTestAccuracy' | 'bestTestEpoch'>;

export interface SweepRunEntry extends PlannedRun {
  status: SweepRunStatus;
  /** The run record that holds its model and result (the newest, when it was continued or started again). */
  runId: string | null;
  /** Runs of it before that one: stopped and continued by the next, or started again from scratch. */
  earlierRunIds: string[];
  /** Why it diverged or failed, as one line. */
  error: string | null;
  result: SweepRunResult | null;
}

export interface SweepRecord {
  format: typeof SWEEP_RECORD_FORMAT;
  formatVersion: number;
  /** Like a run's id: UTC start time and random hex digits. */
  id: string;
  /** The user's name ("" for none); its runs are named after it. */
  name: string;
  status: SweepStatus;
  /** Why a failed sweep failed, as one line. */
  error: string | null;
  origin: RunOrigin;
  createdAt: string;
  updatedAt: string;
  /** When it last stopped or finished (null while it runs). */
  endedAt: string | null;
  /** The process that runs (or last ran) it, as run records name theirs (liveness.ts). */
  pid: number;
  host: string;
  processStartedMs: number;
  processIdentity: string | null;
  appVersion: string;
  plan: SweepPlan;
  /** The settings every run shares; each run's swept settings and seed replace those fields. */
  base: RunConfig;
  /** The kernels asked for (auto, wasm, …). */
  kernels: string;
  /** The training and test files (absolute) and, once the first run read it, the training set's fingerprint. */
  data: { train: string[]; test: string[] | null; fingerprint: string | null };
  /** Every planned run, in the plan's order. */
  runs: SweepRunEntry[];
}

/** The name to show (and its runs' names begin with): the user's, or what it sweeps, as "lr × dropout sweep". */
export function sweepDisplayName(record: Pick<SweepRecord, 'name' | 'plan'>): string {
  return record.name.trim() || `${record.plan.axes.map((axis) => SWEEP_SETTINGS[axis.field].short).join(' × ')} sweep`;
}

/** How many planned runs are done (finished or diverged), of how many. */
export function sweepProgress(record: Pick<SweepRecord, 'runs'>): { done: number; total: number } {
  return {
    done: record.runs.filter((run) => DONE_STATUSES.includes(run.status)).length,
    total: record.runs.length,
  };
}

/** A planned run's entry before it begins. */
export function pendingEntries(plan: SweepPlan): SweepRunEntry[] {
  return expandSweep(plan).map((run) => ({
    ...run,
    status: 'pending',
    runId: null,
    earlierRunIds: [],
    error: null,
    result: null,
  }));
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isNumberOrNull = (value: unknown): boolean =>
  value === null || (typeof value === 'number' && Number.isFinite(value));
const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

function planProblem(value: unknown, base: RunConfig): { plan: SweepPlan } | string {
  if (!isObject(value) || !Array.isArray(value.axes) || !Array.isArray(value.seeds)) return 'has no plan';
  for (const [i, axis] of value.axes.entries()) {
    if (!isObject(axis) || !(SWEEP_FIELDS as readonly unknown[]).includes(axis.field) || !Array.isArray(axis.values))
      return `plan.axes entry ${i + 1} is ${describeValue(axis)}`;
  }
  try {
    return { plan: checkSweepPlan({ axes: value.axes as SweepAxis[], seeds: value.seeds as number[] }, base) };
  } catch (error) {
    return `plan: ${userMessage(error)}`;
  }
}

function resultProblem(value: unknown, name: string): string | null {
  if (value === null) return null;
  if (!isObject(value) || typeof value.epochs !== 'number') return `${name}.result is ${describeValue(value)}`;
  for (const key of ['finalTestAccuracy', 'bestTestAccuracy', 'bestTestEpoch'] as const)
    if (!isNumberOrNull(value[key])) return `${name}.result.${key} is ${describeValue(value[key])}`;
  return null;
}

/** Whether two swept settings are the same values (as the plan expands them). */
function sameSettings(a: unknown, b: SweepSettings): boolean {
  if (!isObject(a)) return false;
  const keys = Object.keys(b);
  return (
    Object.keys(a).length === keys.length &&
    keys.every((key) => {
      const mine = a[key];
      const planned = b[key as keyof SweepSettings]!;
      return (typeof mine === 'number' || Array.isArray(mine)) && valueText(mine as number) === valueText(planned);
    })
  );
}

function runsProblem(value: unknown, plan: SweepPlan): SweepRunEntry[] | string {
  const planned = expandSweep(plan);
  if (!Array.isArray(value)) return 'has no list of runs';
  if (value.length !== planned.length) return `lists ${value.length} runs, but its plan has ${planned.length}`;
  const entries: SweepRunEntry[] = [];
  for (const [i, entry] of value.entries()) {
    const name = `runs entry ${i + 1}`;
    const expected = planned[i];
    if (!isObject(entry)) return `${name} is ${describeValue(entry)}`;
    if (entry.index !== i || entry.seed !== expected.seed || !sameSettings(entry.settings, expected.settings))
      return `${name} is not the plan's run ${i + 1}`;
    if (!(RUN_STATUSES as unknown[]).includes(entry.status)) return `${name}: status is ${describeValue(entry.status)}`;
    if (entry.runId !== null && (typeof entry.runId !== 'string' || !RUN_ID.test(entry.runId)))
      return `${name}: runId is ${describeValue(entry.runId)}`;
    if (!isStringList(entry.earlierRunIds) || !entry.earlierRunIds.every((id) => RUN_ID.test(id)))
      return `${name}: earlierRunIds is ${describeValue(entry.earlierRunIds)}`;
    if (entry.error !== null && typeof entry.error !== 'string')
      return `${name}: error is ${describeValue(entry.error)}`;
    const result = resultProblem(entry.result, name);
    if (result) return result;
    entries.push({
      ...expected,
      status: entry.status as SweepRunStatus,
      runId: entry.runId as string | null,
      earlierRunIds: [...entry.earlierRunIds],
      error: entry.error as string | null,
      result: entry.result === null ? null : (structuredClone(entry.result) as SweepRunResult),
    });
  }
  return entries;
}

/**
 * Checks a parsed sweep file field by field: the record, or what is wrong with it in a few words (a foreign JSON
 * file, a newer format, a plan whose runs do not match it).
 */
export function checkSweepRecord(value: unknown, expectedId: string): SweepRecord | string {
  if (!isObject(value) || value.format !== SWEEP_RECORD_FORMAT) return 'not a sweep record of Fashion-MNIST Studio';
  if (typeof value.formatVersion !== 'number' || !Number.isInteger(value.formatVersion))
    return `formatVersion is ${describeValue(value.formatVersion)}`;
  if (value.formatVersion > SWEEP_RECORD_VERSION)
    return `format version ${value.formatVersion} is newer than this version reads (${SWEEP_RECORD_VERSION})`;
  if (value.id !== expectedId) return `names the sweep ${describeValue(value.id)}, not ${expectedId}`;
  for (const key of ['name', 'createdAt', 'updatedAt', 'host', 'appVersion', 'kernels'] as const)
    if (typeof value[key] !== 'string') return `${key} is ${describeValue(value[key])}, not text`;
  if (!(SWEEP_STATUSES as unknown[]).includes(value.status)) return `status is ${describeValue(value.status)}`;
  for (const key of ['error', 'endedAt', 'processIdentity'] as const)
    if (value[key] !== null && typeof value[key] !== 'string') return `${key} is ${describeValue(value[key])}`;
  if (value.origin !== 'cli' && value.origin !== 'app') return `origin is ${describeValue(value.origin)}`;
  for (const key of ['pid', 'processStartedMs'] as const)
    if (typeof value[key] !== 'number' || !Number.isFinite(value[key]))
      return `${key} is ${describeValue(value[key])}, not a number`;
  let base: RunConfig;
  try {
    if (!isObject(value.base)) return 'has no base settings';
    base = resolveFields(value.base);
  } catch (error) {
    return `base: ${userMessage(error)}`;
  }
  const plan = planProblem(value.plan, base);
  if (typeof plan === 'string') return plan;
  const data = value.data;
  if (!isObject(data) || !isStringList(data.train) || data.train.length === 0)
    return `data.train is ${describeValue(isObject(data) ? data.train : data)}, not a list of files`;
  if (data.test !== null && !isStringList(data.test)) return `data.test is ${describeValue(data.test)}`;
  if (data.fingerprint !== null && typeof data.fingerprint !== 'string')
    return `data.fingerprint is ${describeValue(data.fingerprint)}`;
  const runs = runsProblem(value.runs, plan.plan);
  if (typeof runs === 'string') return runs;
  return {
    ...(value as unknown as SweepRecord),
    base,
    plan: plan.plan,
    data: { train: [...data.train], test: data.test === null ? null : [...data.test], fingerprint: data.fingerprint },
    runs,
  };
}
