/**
 * Runs a sweep, one planned run after another, for any host: the host trains each run its own way (the CLI with
 * a TrainingRun, the app's backend through its RunController), recording it in the runs folder as every run is,
 * and this keeps the sweep's record: which run record holds each planned run, its status and its result.
 * Resuming: finished runs are skipped; a run stopped part-way continues from its own last checkpoint as a new run
 * (the old record notes it was continued, as the app's Resume does), or starts again when it has none; the rest
 * follow. Each step is written to the record before the next begins, so a sweep killed at any moment resumes.
 */

import type { CostPoint } from '@core/shared/contract';
import type { RunConfig } from '@core/shared/config';
import { FmnistError, userMessage } from '@core/shared/errors';
import { isResumable, metricsOf, type RunMetrics, type RunRecord, type RunSweepRef } from '@core/shared/run-record';
import { type DataSources, loadCheckpoint, resumeConfig, trainerStateOf } from '../checkpoint/checkpoint';
import { thisProcess } from '../records/liveness';
import type { RunStore } from '../records/store';
import { continuedOn, describeData, type ModelData } from '../training/provenance';
import type { RunSummary, TrainerState } from '../training/trainer';
import { APP_VERSION } from '../version';
import type { SweepLock } from './lock';
import { plannedConfig, sweepRunName } from '@core/shared/sweep/plan';
import {
  DONE_STATUSES,
  type SweepRecord,
  type SweepRunEntry,
  type SweepRunResult,
  sweepDisplayName,
} from '@core/shared/sweep/record';
import type { SweepStore } from './store';

/** A continued run: the run stopped part-way and what its own last checkpoint holds. */
export interface SweepContinuation {
  runId: string;
  file: string;
  epochsDone: number;
  state: TrainerState;
  costCurve: readonly CostPoint[];
  /** The data its model was trained on. */
  data: ModelData;
}

/** What a host gets to train one planned run. */
export interface SweepJob {
  sweepId: string;
  entry: Readonly<SweepRunEntry>;
  /** "run k of n", counted over the whole plan (done runs included). */
  position: number;
  total: number;
  /** The run's settings (a continued run's, as its checkpoint and the plan agree on them). */
  config: RunConfig;
  /** Its name in the run history: "<sweep name> · lr 0.001 · seed 2". */
  name: string;
  /** For its run record (StoreRecorderOptions.sweep). */
  sweep: RunSweepRef;
  /** Continue this run's model instead of fresh weights (TrainingRunOptions.resume, .data). */
  resume: SweepContinuation | null;
  /** The data the run's model is trained on, from the training set's fingerprint (TrainingRunOptions.data). */
  data(loaded: { fingerprint: string; sources: DataSources | null }): ModelData;
  /** Whether the sweep was asked to stop: a host looks before it starts training, and then trains nothing. */
  stopRequested(): boolean;
  /** How to stop the run (after its current batch); called at once when the sweep is stopping already. */
  onStop(stop: () => void): void;
  /** The run's record id, told before it trains, so a sweep killed from now on finds the run when it resumes. */
  started(runId: string): Promise<void>;
}

export interface SweepJobEnd {
  /** The run's record id; null when the sweep stopped before the run began (and nothing was recorded). */
  runId: string | null;
  /** Whether the run trained to its end (early stopping included) or was stopped part-way. */
  status: 'finished' | 'stopped';
  /** What the trainer returned (its figures stand in for the record's when that cannot be read); null if none. */
  summary: RunSummary | null;
}

export type SweepEvent =
  /** A planned run done before (a resumed sweep), or found done in its run record. */
  | { type: 'skipped'; entry: Readonly<SweepRunEntry>; position: number; total: number }
  | {
      type: 'run-started';
      entry: Readonly<SweepRunEntry>;
      position: number;
      total: number;
      /** The run continued from its own checkpoint, if so. */
      continuing: { runId: string; epochsDone: number } | null;
      /** The earlier run of it that could not be continued, if it is started again. */
      restartedFrom: string | null;
    }
  | { type: 'run-ended'; entry: Readonly<SweepRunEntry>; position: number; total: number }
  /** Something the user should know that does not stop the sweep, as one line. */
  | { type: 'notice'; message: string };

export interface SweepRunnerOptions {
  sweeps: SweepStore;
  runs: RunStore;
  /** The sweep's record (new, or read to resume); the runner keeps it up to date. */
  record: SweepRecord;
  /** The sweep's lock, held by this process; released when the runner ends. */
  lock: SweepLock;
  /** Trains one run to its end or a stop; a diverged run throws an FmnistError of kind "diverged". */
  train: (job: SweepJob) => Promise<SweepJobEnd>;
  onEvent?: (event: SweepEvent) => void;
  now?: () => Date;
}

interface Prepared {
  config: RunConfig;
  resume: SweepContinuation | null;
  restartedFrom: string | null;
}

function resultOfMetrics(metrics: RunMetrics): SweepRunResult {
  const { epochs, finalTestAccuracy, bestTestAccuracy, bestTestEpoch } = metrics;
  return { epochs, finalTestAccuracy, bestTestAccuracy, bestTestEpoch };
}

export class SweepRunner {
  readonly record: SweepRecord;
  private stopping = false;
  private stopCurrent: (() => void) | null = null;
  private readonly now: () => Date;

  constructor(private readonly options: SweepRunnerOptions) {
    this.record = options.record;
    this.now = options.now ?? (() => new Date());
  }

  /** Whether stop() was called. */
  get stopRequested(): boolean {
    return this.stopping;
  }

  /** Stops the run in training after its current batch (it stays resumable) and starts no other. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stopCurrent?.();
  }

  /**
   * Trains every planned run not done yet, in order, until all are done or the sweep is stopped; returns the
   * record as it ends: finished, stopped, or (having thrown) failed. A run that diverges is done: the sweep goes on.
   */
  async run(): Promise<SweepRecord> {
    const record = this.record;
    try {
      Object.assign(record, await thisProcess(), { appVersion: APP_VERSION });
      record.processIdentity ??= null;
      record.status = 'running';
      record.error = null;
      record.endedAt = null;
      await this.save();
      const total = record.runs.length;
      for (const entry of record.runs) {
        const position = entry.index + 1;
        if (DONE_STATUSES.includes(entry.status)) {
          this.emit({ type: 'skipped', entry, position, total });
          continue;
        }
        if (this.stopping) break;
        const prepared = await this.prepare(entry);
        if (prepared === 'done') {
          this.emit({ type: 'skipped', entry, position, total });
          continue;
        }
        if (!(await this.trainOne(entry, prepared, position, total))) break;
      }
      record.status = record.runs.every((entry) => DONE_STATUSES.includes(entry.status)) ? 'finished' : 'stopped';
      record.endedAt = this.now().toISOString();
      await this.save();
      return record;
    } catch (error) {
      record.status = 'failed';
      record.error = userMessage(error);
      record.endedAt = this.now().toISOString();
      await this.save().catch(() => undefined);
      throw error;
    } finally {
      await this.options.lock.release();
    }
  }

  private emit(event: SweepEvent): void {
    this.options.onEvent?.(event);
  }

  private async save(): Promise<void> {
    this.record.updatedAt = this.now().toISOString();
    await this.options.sweeps.write(this.record);
  }

  /**
   * How a planned run goes on: fresh, or continued from the run recorded for it; 'done' when that run's record
   * shows it ended after all (the sweep was killed before it wrote so).
   */
  private async prepare(entry: SweepRunEntry): Promise<Prepared | 'done'> {
    const config = plannedConfig(this.record.base, entry);
    if (!entry.runId) return { config, resume: null, restartedFrom: null };
    const again = (why: string | null): Prepared => {
      if (why) this.emit({ type: 'notice', message: `Run ${entry.runId} ${why}: it is trained again from the start.` });
      return { config, resume: null, restartedFrom: entry.runId };
    };
    let run: RunRecord;
    let listed: RunRecord[];
    try {
      listed = (await this.options.runs.list()).runs;
      run = listed.find((other) => other.id === entry.runId) ?? (await this.options.runs.get(entry.runId));
    } catch (error) {
      return again(`cannot be read (${userMessage(error)})`);
    }
    // Continued outside the sweep (Runs ▸ Resume): the sweep goes on from the newest run of that chain.
    for (let hops = 0; run.continuedBy && hops < listed.length; hops++) {
      const next = listed.find((other) => other.id === run.continuedBy);
      if (!next) break;
      entry.earlierRunIds.push(run.id);
      entry.runId = next.id;
      run = next;
    }
    if (run.status === 'running')
      throw new FmnistError(
        'bad-option',
        `run ${run.id} of sweep ${this.record.id} is still training (process ${run.pid}): stop it first`,
      );
    const complete =
      run.status === 'finished' ||
      (run.status !== 'failed' && (run.metrics.epochs >= run.config.epochs || run.summary?.stoppedEarly === true));
    if (complete) {
      entry.status = 'finished';
      entry.error = null;
      entry.result = resultOfMetrics(run.metrics);
      await this.save();
      return 'done';
    }
    const file = run.files?.last;
    if (run.status === 'failed' || !file || !isResumable(run, listed)) return again(null);
    try {
      const checkpoint = await loadCheckpoint(file);
      const state = trainerStateOf(checkpoint, file);
      const resumed = resumeConfig(checkpoint.config, checkpoint.epochsDone, config, file, checkpoint.finishedEarly);
      const data: ModelData = {
        fingerprint: checkpoint.datasetFingerprint,
        sources: checkpoint.dataSources ?? null,
        history: checkpoint.dataHistory ?? null,
      };
      return {
        config: resumed,
        resume: {
          runId: run.id,
          file,
          epochsDone: checkpoint.epochsDone,
          state,
          costCurve: checkpoint.costCurve ?? [],
          data,
        },
        restartedFrom: null,
      };
    } catch (error) {
      return again(`cannot be continued (${userMessage(error)})`);
    }
  }

  /** Trains one run; false when the sweep stops here. */
  private async trainOne(entry: SweepRunEntry, prepared: Prepared, position: number, total: number): Promise<boolean> {
    const record = this.record;
    let begun = false;
    const job: SweepJob = {
      sweepId: record.id,
      entry,
      position,
      total,
      config: prepared.config,
      name: sweepRunName(sweepDisplayName(record), entry),
      sweep: { id: record.id, index: entry.index },
      resume: prepared.resume,
      data: (loaded) => {
        const known = record.data.fingerprint;
        if (known && known !== loaded.fingerprint)
          throw new FmnistError(
            'bad-input',
            `is not the training data sweep ${record.id} began with (${describeData({ fingerprint: known, sources: null })}; ` +
              `now ${describeData({ fingerprint: loaded.fingerprint, sources: null })})`,
            { file: loaded.sources?.train[0] ?? record.data.train[0] },
          );
        // Written with the run's start.
        record.data.fingerprint = loaded.fingerprint;
        if (!prepared.resume) return { ...loaded, history: null };
        return continuedOn(prepared.resume.data, loaded, prepared.resume.epochsDone + 1);
      },
      stopRequested: () => this.stopping,
      onStop: (stop) => {
        this.stopCurrent = stop;
        if (this.stopping) stop();
      },
      started: async (runId) => {
        begun = true;
        if (entry.runId && entry.runId !== runId) entry.earlierRunIds.push(entry.runId);
        entry.runId = runId;
        entry.status = 'running';
        entry.error = null;
        entry.result = null;
        await this.save();
        // The stopped run is offered for resuming no more: this one goes on from it.
        if (prepared.resume)
          await this.options.runs.edit(prepared.resume.runId, { continuedBy: runId }).catch(() => {});
      },
    };
    this.emit({
      type: 'run-started',
      entry,
      position,
      total,
      continuing: prepared.resume ? { runId: prepared.resume.runId, epochsDone: prepared.resume.epochsDone } : null,
      restartedFrom: prepared.restartedFrom,
    });
    let end: SweepJobEnd;
    try {
      end = await this.options.train(job);
    } catch (error) {
      if (begun && entry.runId) {
        const diverged = error instanceof FmnistError && error.kind === 'diverged';
        entry.status = diverged ? 'diverged' : 'failed';
        entry.error = userMessage(error);
        entry.result = await this.resultOf(entry.runId, null);
        if (diverged) {
          await this.save();
          this.emit({ type: 'run-ended', entry, position, total });
          return true;
        }
      }
      throw error;
    } finally {
      this.stopCurrent = null;
    }
    if (end.runId === null) return false;
    entry.runId = end.runId;
    entry.result = await this.resultOf(end.runId, end.summary);
    entry.status = end.status;
    await this.save();
    this.emit({ type: 'run-ended', entry, position, total });
    return entry.status === 'finished';
  }

  /** A run's figures as its record holds them; from what the trainer returned when the record cannot be read. */
  private async resultOf(runId: string, summary: RunSummary | null): Promise<SweepRunResult | null> {
    try {
      return resultOfMetrics((await this.options.runs.get(runId)).metrics);
    } catch {
      return summary ? resultOfMetrics(metricsOf(summary.history, 1, summary.epochsDone)) : null;
    }
  }
}
