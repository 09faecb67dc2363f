/**
 * The autosave: as it trains, a run writes a resumable checkpoint, with the cost curve and the data files it
 * used, so that it can be resumed after a crash: the app's runs to their own checkpoint in the runs folder,
 * the CLI's to `autosave.safetensors` in its --autosave DIR as well. It is written after the first epoch, then
 * at most every few seconds, and always when the run pauses or ends (AutosaveSchedule), beside the training
 * rather than in its way. A failed write does not stop training: it is reported once, with the file and the
 * reason, and stays reported until a later write succeeds.
 */

import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AutosaveFailure } from '@core/shared/contract';
import { type Checkpoint, saveCheckpoint } from '../checkpoint/checkpoint';
import { userMessage } from '@core/shared/errors';
import type { EpochSummary } from '@core/shared/events';
import type { TrainerState } from './trainer';

export const AUTOSAVE_FILE = 'autosave.safetensors';

/**
 * The least time between two autosaves, unless the run pauses or ends: an epoch that ends sooner after the
 * last write is written with a later one. A run killed at any moment loses at most this and one epoch.
 */
export const AUTOSAVE_INTERVAL_MS = 5000;

export function autosavePath(folder: string): string {
  return join(folder, AUTOSAVE_FILE);
}

export type { AutosaveFailure } from '@core/shared/contract';

/** Writes a run's checkpoints to one autosave file, remembering whether the last write failed. */
export class Autosaver {
  private failure: AutosaveFailure | null = null;
  private written = 0;

  constructor(readonly file: string) {}

  get lastFailure(): AutosaveFailure | null {
    return this.failure;
  }

  /** The epoch of the last checkpoint written (0: none yet). */
  get lastWrittenEpoch(): number {
    return this.written;
  }

  /** Writes the checkpoint; returns true when this changed whether autosaving works (to report it once). */
  async write(checkpoint: Checkpoint): Promise<boolean> {
    const failedBefore = this.failure !== null;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await saveCheckpoint(this.file, checkpoint);
      this.failure = null;
      this.written = checkpoint.epochsDone;
    } catch (error) {
      const message = userMessage(error);
      // The message usually starts with the file already; keep only the reason.
      const reason = message.startsWith(`${this.file}: `) ? message.slice(this.file.length + 2) : message;
      this.failure = { file: this.file, reason, epoch: checkpoint.epochsDone };
    }
    return failedBefore !== (this.failure !== null);
  }
}

/**
 * The files a run writes its checkpoints to (its own, and the CLI's --autosave file): written together after
 * every epoch, and one of them alone when the run ends. What is reported is the first failing file; a change
 * is whether writing fails or works again, as a whole.
 */
export class AutosaveFiles {
  private readonly savers: Autosaver[];

  constructor(files: readonly string[]) {
    this.savers = files.map((file) => new Autosaver(file));
  }

  get empty(): boolean {
    return this.savers.length === 0;
  }

  get lastFailure(): AutosaveFailure | null {
    return this.savers.find((saver) => saver.lastFailure)?.lastFailure ?? null;
  }

  /** Whether `file` holds exactly the checkpoint of `epoch`, written by this run without failing since. */
  holds(file: string, epoch: number): boolean {
    const saver = this.savers.find((s) => s.file === file);
    return !!saver && !saver.lastFailure && saver.lastWrittenEpoch === epoch;
  }

  /** Writes the checkpoint to every file (or only to `only`); returns whether failing-or-working changed. */
  async write(checkpoint: Checkpoint, only?: string): Promise<boolean> {
    const failedBefore = this.lastFailure !== null;
    if (only && !this.savers.some((saver) => saver.file === only)) this.savers.push(new Autosaver(only));
    for (const saver of this.savers) if (!only || saver.file === only) await saver.write(checkpoint);
    return failedBefore !== (this.lastFailure !== null);
  }
}

export interface AutosaveScheduleOptions {
  files: AutosaveFiles;
  /** The least time between two writes, in milliseconds (0: after every epoch). */
  intervalMs: number;
  now: () => number;
  /** The checkpoint of a state (taken when its write begins: the state is a copy, the cost curve is copied). */
  checkpointOf: (state: TrainerState) => Checkpoint;
  /** After each write: the failure, if any, and whether failing-or-working changed with it. */
  written: (failure: AutosaveFailure | null, changed: boolean) => void;
  /**
   * Records epochs in the run's record, in order, once a checkpoint holds them (or failed to): those a write
   * holds in one call, so records keep up however short the epochs.
   */
  record: (summaries: EpochSummary[]) => Promise<void>;
}

/**
 * When a run's checkpoint is written: after its first and last epochs, after any epoch that ends at least
 * `intervalMs` after the last write began, and whatever is unwritten when it pauses or ends (flush). Writes go
 * one at a time, beside the training: the epoch's state is copied when its write begins (a few milliseconds)
 * and training goes on while the file is encoded, written and synced. Epochs are recorded only after the write
 * that holds them, so the run's record never names an epoch its checkpoint lacks.
 */
export class AutosaveSchedule {
  /** The writes and records under way, one after the other. */
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private lastWrite = -Infinity;
  /** Epochs trained and not yet in a write begun (recorded once one holds them). */
  private unwritten: EpochSummary[] = [];
  /** Epochs queued for recording whose record write has not begun: later ones join them. */
  private waiting: EpochSummary[] | null = null;

  constructor(private readonly options: AutosaveScheduleOptions) {}

  /**
   * After an epoch: writes its state now, or leaves it to a later epoch or the flush. With an interval of 0 it
   * returns the write and record of this epoch, for the trainer to wait for (nothing piles up however short the
   * epochs); else null: training goes on beside them.
   */
  epoch(summary: EpochSummary, state: () => TrainerState, last: boolean): Promise<void> | null {
    if (this.options.files.empty) {
      this.record([summary]);
      return null;
    }
    this.unwritten.push(summary);
    const { intervalMs } = this.options;
    const first = this.lastWrite === -Infinity;
    // With an interval, an epoch that ends while a write is under way waits for a later one (or the flush).
    const due = intervalMs === 0 || (this.options.now() - this.lastWrite >= intervalMs && this.pending === 0);
    if (first || last || due) this.write(state());
    return intervalMs === 0 ? this.chain : null;
  }

  /** Writes `state` if an epoch is unwritten, and resolves when every write and record so far is done. */
  flush(state: () => TrainerState): Promise<void> {
    if (this.unwritten.length) this.write(state());
    return this.chain;
  }

  private write(state: TrainerState): void {
    const checkpoint = this.options.checkpointOf(state);
    const held = this.unwritten.filter((summary) => summary.epoch <= state.epochsDone);
    this.unwritten = this.unwritten.filter((summary) => summary.epoch > state.epochsDone);
    this.lastWrite = this.options.now();
    // Epochs queued before this write are recorded before it; none of those it holds may join them.
    this.waiting = null;
    this.then(async () => {
      const changed = await this.options.files.write(checkpoint);
      this.options.written(this.options.files.lastFailure, changed);
    });
    this.record(held);
  }

  /**
   * Records epochs after the writes before: epochs that come faster than records are written (no autosave, tiny
   * epochs) join the ones still waiting, in one write.
   */
  private record(summaries: EpochSummary[]): void {
    if (this.waiting) {
      this.waiting.push(...summaries);
      return;
    }
    const batch = [...summaries];
    this.waiting = batch;
    this.then(() => {
      if (this.waiting === batch) this.waiting = null;
      return this.options.record(batch);
    });
  }

  private then(step: () => Promise<void>): void {
    this.pending++;
    // Each step reports its own failures (a failed write, a record it could not write): one that throws anyway
    // must not stop the ones after it.
    this.chain = this.chain
      .then(step)
      .catch(() => undefined)
      .finally(() => this.pending--);
  }
}
