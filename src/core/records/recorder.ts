/**
 * Records one training run into the runs folder as it goes: a record at its start (status "running"), the
 * history and summary as epochs are saved, the final status at its end. The run's id (and so the folder of its
 * own checkpoints) is known from the moment the recorder exists. Recording never stops training: a write
 * that fails is reported (once, and once more when writing works again) and tried again next time.
 */

import type { RunConfig } from '@core/shared/config';
import { userMessage } from '@core/shared/errors';
import type { ModelData } from '../training/provenance';
import type { EpochSummary } from '@core/shared/events';
import type { RunSummary } from '../training/trainer';
import { APP_VERSION } from '../version';
import {
  cleanName,
  cleanNote,
  metricsOf,
  RUN_RECORD_FORMAT,
  RUN_RECORD_VERSION,
  type RunOrigin,
  type RunRecord,
  type RunSweepRef,
  type TrainedElsewhere,
} from '@core/shared/run-record';
import { defaultRunName } from '@core/shared/run-display';
import { thisProcess } from './liveness';
import type { RunStore } from './store';

/** What a run knows when it starts training. */
export interface RunStart {
  config: RunConfig;
  data: ModelData;
  kernels: string;
  /** Null when not known (a run imported from elsewhere). */
  threads: number | null;
  trainingSamples: number;
  validationSamples: number;
  /** The epochs the model already had (a continued model), else empty. */
  history: readonly EpochSummary[];
}

export interface RunEnd {
  status: 'finished' | 'stopped' | 'failed';
  /** The file that holds the model the run handed back (null: none); absent leaves the record's as it is. */
  checkpoint?: string | null;
  /** Why it failed, as one line. */
  error: string | null;
  /** What the trainer returned (null when it failed). */
  summary: RunSummary | null;
}

/**
 * What TrainingRun calls: at the start, with whole epochs once its checkpoint holds them (one or several in one
 * write), and at the end (however it ends). Calls are handled in order, each after the one before has been
 * written, so the start need not be awaited.
 */
export interface RunRecorder {
  start(run: RunStart): Promise<void>;
  epoch(...summaries: EpochSummary[]): Promise<void>;
  end(end: RunEnd): Promise<void>;
}

export interface StoreRecorderOptions {
  origin: RunOrigin;
  /** The run's name; without one it gets its default name (defaultRunName), and "" leaves it unnamed. */
  name?: string;
  note?: string;
  /**
   * The file that holds the run's model from its start (its own last checkpoint, when it writes one every epoch); null
   * until it ends.
   */
  checkpoint: string | null;
  /** The checkpoint file a continued model came from (null: the session's own model). */
  resumedFile?: string | null;
  /** The sweep that planned the run, and its place in the plan. */
  sweep?: RunSweepRef;
  /** An imported run: the epochs trained elsewhere, and how. */
  trainedElsewhere?: TrainedElsewhere;
  /** Called when recording fails (the message names the file and why) and with null when it works again. */
  onProblem?: (problem: string | null) => void;
  now?: () => Date;
}

export class StoreRecorder implements RunRecorder {
  /** The run's id, fixed when the recorder is made. */
  readonly id: string;
  private record: RunRecord | null = null;
  private firstCheckpoint: string | null;
  private history: EpochSummary[] = [];
  private failing = false;
  /** Whether the record's first write worked (until then, each write tries to create it). */
  private created = false;
  /** Set when the user deleted the record during the run: nothing more is written. */
  private deleted = false;
  private readonly now: () => Date;
  /** The writes asked for, one after another. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: RunStore,
    private readonly options: StoreRecorderOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.id = store.newId(this.now());
    this.firstCheckpoint = options.checkpoint;
  }

  /** Where the run's own checkpoints go: its last whole epoch, and the best epoch it keeps. */
  get checkpointFiles(): { last: string; best: string } {
    return this.store.checkpointFiles(this.id);
  }

  start(run: RunStart): Promise<void> {
    // The start time is now, not when the write gets its turn.
    const started = this.now();
    return this.enqueue(() => this.create(run, started));
  }

  epoch(...summaries: EpochSummary[]): Promise<void> {
    return this.enqueue(() => this.addEpochs(summaries));
  }

  end(end: RunEnd): Promise<void> {
    const endedAt = this.now();
    return this.enqueue(() => this.finish(end, endedAt));
  }

  /** Before the start: the record starts out naming this file as the one that holds the run's model. */
  startWithCheckpoint(file: string | null): void {
    this.firstCheckpoint = file;
  }

  /** The model was also saved to this file (fmnist train --out): noted in the run's journal. */
  addCopy(file: string): Promise<void> {
    return this.enqueue(async () => {
      if (!this.created || this.deleted) return;
      await this.attempt(() => this.store.edit(this.id, { copy: file }).then(() => true));
    });
  }

  /** Whether the record exists (its first write worked). */
  get recorded(): boolean {
    return this.created && !this.deleted;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const turn = this.queue.then(work);
    // Writes report their own failures: one that throws anyway must not stop the ones after it.
    this.queue = turn.catch(() => undefined);
    return this.queue;
  }

  private async create(run: RunStart, started: Date): Promise<void> {
    const resumedEpochs = run.history.at(-1)?.epoch ?? 0;
    this.history = [...run.history];
    this.record = {
      format: RUN_RECORD_FORMAT,
      formatVersion: RUN_RECORD_VERSION,
      id: this.id,
      // A run given no name is named after its preset or the settings it changed, so it reads in a list.
      name: cleanName(this.options.name ?? defaultRunName(run.config, { continued: resumedEpochs > 0 })),
      note: cleanNote(this.options.note ?? ''),
      status: 'running',
      error: null,
      origin: this.options.origin,
      startedAt: started.toISOString(),
      updatedAt: started.toISOString(),
      endedAt: null,
      ...(await thisProcess()),
      appVersion: APP_VERSION,
      config: structuredClone(run.config),
      data: { fingerprint: run.data.fingerprint, sources: run.data.sources, history: run.data.history },
      resumedFrom: resumedEpochs > 0 ? { epochsDone: resumedEpochs, file: this.options.resumedFile ?? null } : null,
      checkpoint: this.firstCheckpoint,
      kernels: run.kernels,
      threads: run.threads,
      trainingSamples: run.trainingSamples,
      validationSamples: run.validationSamples,
      metrics: metricsOf(this.history, resumedEpochs + 1),
      summary: null,
      ...(this.options.sweep ? { sweep: { ...this.options.sweep } } : {}),
      ...(this.options.trainedElsewhere ? { trainedElsewhere: { ...this.options.trainedElsewhere } } : {}),
    };
    await this.write(true);
  }

  private async addEpochs(summaries: readonly EpochSummary[]): Promise<void> {
    const record = this.record;
    if (!record || summaries.length === 0) return;
    this.history.push(...summaries);
    record.metrics = metricsOf(this.history, (record.resumedFrom?.epochsDone ?? 0) + 1);
    record.updatedAt = this.now().toISOString();
    await this.write(true);
  }

  private async finish(end: RunEnd, endedAt: Date): Promise<void> {
    const record = this.record;
    if (!record) return;
    record.status = end.status;
    record.error = end.error;
    if (end.checkpoint !== undefined) record.checkpoint = end.checkpoint;
    record.endedAt = endedAt.toISOString();
    record.updatedAt = record.endedAt;
    if (end.summary) {
      record.summary = Object.fromEntries(Object.entries(end.summary).filter(([key]) => key !== 'history'));
      // The trainer's history is the model's whole history: the record keeps exactly that.
      this.history = [...end.summary.history];
      record.metrics = metricsOf(this.history, (record.resumedFrom?.epochsDone ?? 0) + 1, end.summary.epochsDone);
    }
    await this.write(true);
    this.store.release(record.id);
  }

  private async write(withHistory: boolean): Promise<void> {
    if (this.deleted || !this.record) return;
    const record = this.record;
    if (!this.created) {
      this.created = (await this.attempt(() => this.store.create(record, this.history).then(() => true))) === true;
      return;
    }
    const written = await this.attempt(() => this.store.save(record, withHistory ? this.history : null));
    if (written === false) this.deleted = true;
  }

  private async attempt(write: () => Promise<boolean>): Promise<boolean | null> {
    try {
      const result = await write();
      if (this.failing) {
        this.failing = false;
        this.options.onProblem?.(null);
      }
      return result;
    } catch (error) {
      if (!this.failing) {
        this.failing = true;
        this.options.onProblem?.(userMessage(error));
      }
      return null;
    }
  }
}
