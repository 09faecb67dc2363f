/**
 * Bringing a run back from elsewhere: a checkpoint written by the PyTorch script `fmnist export --format pytorch`
 * makes (on a GPU, or several machines) becomes a run of the run history, with its whole history, its own copy of
 * the file in the runs folder, and the epochs it trained there marked as trained elsewhere, so it is compared with
 * the runs made here, continued here (`fmnist train --resume`, the app's Resume) and never imported twice.
 */

import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm, rmdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCheckpoint, type Checkpoint } from '../checkpoint/checkpoint';
import { asFileError, FmnistError } from '@core/shared/errors';
import type { RunConfig } from '@core/shared/config';
import type { EpochSummary } from '@core/shared/events';
import { defaultRunName } from '@core/shared/run-display';
import { elsewhereText, type RunRecord, type TrainedElsewhere } from '@core/shared/run-record';
import { whileLocked } from './lock-file';
import { StoreRecorder } from './recorder';
import type { RunStore } from './store';

/** Held in the runs folder while a run is imported. */
const IMPORT_LOCK = '.import.lock';

/** What the PyTorch script writes in each epoch it trained. */
interface TrainedBy {
  program?: unknown;
  torch?: unknown;
  device?: unknown;
  worldSize?: unknown;
}

const trainedByOf = (epoch: EpochSummary): TrainedBy | null => {
  const by = (epoch as EpochSummary & { trainedBy?: unknown }).trainedBy;
  return typeof by === 'object' && by !== null ? (by as TrainedBy) : null;
};

/** An epoch as its history has it, kept by every save of the model (unlike the file's own creation time). */
const epochKeyOf = (epoch: EpochSummary): string => `${epoch.epoch}:${epoch.cost}:${epoch.seconds}`;

/** Whether the model's latest epochs were trained elsewhere (not continued here since). */
export function endsTrainedElsewhere(checkpoint: Pick<Checkpoint, 'history'>): boolean {
  const last = checkpoint.history.at(-1);
  return last !== undefined && trainedByOf(last) !== null;
}

/** The epochs of a checkpoint's history trained elsewhere (the last stretch of them), or null for none. */
export function trainedElsewhereOf(checkpoint: Pick<Checkpoint, 'history'>): TrainedElsewhere | null {
  const history = checkpoint.history;
  let last = history.length - 1;
  while (last >= 0 && !trainedByOf(history[last])) last--;
  if (last < 0) return null;
  let first = last;
  while (first > 0 && trainedByOf(history[first - 1])) first--;
  const by = trainedByOf(history[last])!;
  const text = (value: unknown): string | null => (typeof value === 'string' && value ? value : null);
  return {
    fromEpoch: history[first].epoch,
    toEpoch: history[last].epoch,
    program: text(by.program) ?? 'another program',
    torch: text(by.torch),
    device: text(by.device),
    worldSize: Number.isSafeInteger(by.worldSize) ? (by.worldSize as number) : null,
    epochKey: epochKeyOf(history[last]),
  };
}

/**
 * Records the run a checkpoint holds. Refused in one line naming the file: a file that is no checkpoint, a bare
 * state dict (no settings, no history), and a checkpoint of epochs trained elsewhere that was imported already.
 */
export async function importRun(store: RunStore, file: string, options: { name?: string } = {}): Promise<RunRecord> {
  const checkpoint = await loadCheckpoint(file);
  const config = checkpoint.config;
  if (!config || checkpoint.history.length === 0)
    throw new FmnistError('bad-input', 'records no settings or epochs: only the checkpoint of a run can be imported', {
      file,
    });
  // Refused before anything is copied when it was imported already (and again under the lock, for imports at once).
  await refuseIfImported(store, file, checkpoint);
  await mkdir(store.folder, { recursive: true }).catch(() => undefined);
  // The run's own copy of the model, made before the lock is taken (a large file on a slow disk would hold up other
  // imports) under a temporary name the runs folder's listing removes if this process is killed.
  const staged = join(store.folder, `.import.safetensors.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    try {
      await copyFile(file, staged);
      // Dated now (a copy may keep the file's own date), so that no listing takes it for a leftover while in use.
      const now = new Date();
      await utimes(staged, now, now);
    } catch (error) {
      // The file was just read: what fails is writing into the runs folder (full, read-only, not allowed).
      throw asFileError(error, (error as NodeJS.ErrnoException).code === 'ENOENT' ? file : store.folder);
    }
    // Whether the run was imported already and its record are one step: two imports of a file at once record it
    // once.
    return await whileLocked(join(store.folder, IMPORT_LOCK), () =>
      record(store, file, staged, checkpoint, config, options),
    );
  } finally {
    await rm(staged, { force: true }).catch(() => undefined);
  }
}

/** Refuses, in one line naming the file, a checkpoint whose epochs trained elsewhere are a run already. */
async function refuseIfImported(store: RunStore, file: string, checkpoint: Checkpoint): Promise<void> {
  const elsewhere = trainedElsewhereOf(checkpoint);
  if (!elsewhere) return;
  const { runs } = await store.list();
  const same = runs.find(
    (run) =>
      run.trainedElsewhere?.epochKey === elsewhere.epochKey && run.trainedElsewhere?.toEpoch === elsewhere.toEpoch,
  );
  if (same) throw new FmnistError('bad-option', `was imported already, as run ${same.id}`, { file });
}

async function record(
  store: RunStore,
  file: string,
  staged: string,
  checkpoint: Checkpoint,
  config: RunConfig,
  options: { name?: string },
): Promise<RunRecord> {
  await refuseIfImported(store, file, checkpoint);
  const elsewhere = trainedElsewhereOf(checkpoint);
  // The epochs before those trained elsewhere are the model it continued; the run is the epochs after them.
  const history = checkpoint.history;
  const split = elsewhere ? history.findIndex((epoch) => epoch.epoch === elsewhere.fromEpoch) : 0;
  const recorder = new StoreRecorder(store, {
    origin: 'import',
    name:
      options.name ??
      `${defaultRunName(config, { continued: split > 0 })}, ${elsewhere ? elsewhereText(elsewhere) : 'imported'}`,
    checkpoint: null,
    resumedFile: file,
    ...(elsewhere ? { trainedElsewhere: elsewhere } : {}),
  });
  const own = recorder.checkpointFiles.last;
  try {
    await rename(staged, own);
    recorder.startWithCheckpoint(own);
    const trained = history.slice(Math.max(0, split));
    await recorder.start({
      config,
      data: {
        fingerprint: checkpoint.datasetFingerprint,
        sources: checkpoint.dataSources ?? null,
        history: checkpoint.dataHistory ?? null,
      },
      kernels: elsewhere ? elsewhereText(elsewhere) : 'unknown',
      threads: elsewhere?.worldSize ?? null,
      // Not recorded in a checkpoint: 0 stands for unknown.
      trainingSamples: 0,
      validationSamples: 0,
      history: history.slice(0, Math.max(0, split)),
    });
    await recorder.epoch(...trained);
    const complete = checkpoint.finishedEarly === true || checkpoint.epochsDone >= config.epochs;
    await recorder.end({ status: complete ? 'finished' : 'stopped', error: null, summary: null, checkpoint: own });
    if (!recorder.recorded) throw new FmnistError('io', `cannot be recorded in ${store.folder}`, { file });
    return await store.get(recorder.id);
  } catch (error) {
    // Nothing of the run is left: not its copy, nor the folder its id claimed, nor a record written part-way.
    store.release(recorder.id);
    await store.remove([recorder.id], { force: true }).catch(() => undefined);
    await rmdir(join(own, '..')).catch(() => undefined);
    throw error;
  }
}
