/**
 * The autosave: after every epoch a run writes a resumable checkpoint, `autosave.safetensors`, into a folder
 * (the app's data folder, or the CLI's --autosave DIR), with the cost curve and the data files it used, so
 * that it can be resumed after a crash. A failed write does not stop training: it is reported once, with the
 * file and the reason, and stays reported until a later write succeeds.
 */

import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AutosaveFailure, PendingAutosave } from '../api/contract';
import { type Checkpoint, loadCheckpoint, saveCheckpoint } from '../checkpoint/checkpoint';
import { userMessage } from '../errors';
import { describeShape } from '../model/mlp';

export const AUTOSAVE_FILE = 'autosave.safetensors';

export function autosavePath(folder: string): string {
  return join(folder, AUTOSAVE_FILE);
}

export type { AutosaveFailure } from '../api/contract';

/** The run in an autosave file, if it is one that can and should be resumed; a damaged file counts as none. */
export async function unfinishedRun(file: string): Promise<PendingAutosave | null> {
  if (!(await stat(file).catch(() => null))) return null;
  try {
    const saved = await loadCheckpoint(file);
    if (!saved.config || !saved.optimizer || saved.epochsDone >= saved.config.epochs || saved.finishedEarly) return null;
    return {
      epochsDone: saved.epochsDone,
      epochs: saved.config.epochs,
      savedAt: saved.createdAt,
      architecture: describeShape(saved.parameters.shape),
      dataSources: saved.dataSources ?? null,
    };
  } catch {
    return null;
  }
}

/** Writes a run's checkpoints to one autosave file, remembering whether the last write failed. */
export class Autosaver {
  private failure: AutosaveFailure | null = null;

  constructor(readonly file: string) {}

  get lastFailure(): AutosaveFailure | null {
    return this.failure;
  }

  /** Writes the checkpoint; returns true when this changed whether autosaving works (to report it once). */
  async write(checkpoint: Checkpoint): Promise<boolean> {
    const failedBefore = this.failure !== null;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await saveCheckpoint(this.file, checkpoint);
      this.failure = null;
    } catch (error) {
      const message = userMessage(error);
      // The message usually starts with the file already; keep only the reason.
      const reason = message.startsWith(`${this.file}: `) ? message.slice(this.file.length + 2) : message;
      this.failure = { file: this.file, reason, epoch: checkpoint.epochsDone };
    }
    return failedBefore !== (this.failure !== null);
  }
}
