/**
 * The autosave: after every epoch a run writes a resumable checkpoint, with the cost curve and the data files
 * it used, so that it can be resumed after a crash: the app's runs to their own checkpoint in the runs folder,
 * the CLI's to `autosave.safetensors` in its --autosave DIR as well. A failed write does not stop training:
 * it is reported once, with the file and the reason, and stays reported until a later write succeeds.
 */

import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AutosaveFailure } from '@core/shared/contract';
import { type Checkpoint, saveCheckpoint } from '../checkpoint/checkpoint';
import { userMessage } from '@core/shared/errors';

export const AUTOSAVE_FILE = 'autosave.safetensors';

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
