/**
 * The app's side of the runs folder: a recorder for each run the session starts, the page's requests about
 * recorded runs (list, histories, rename, note, delete), the checkpoint of a run (only while its file still
 * holds that run's model), and which held model came from which run, so saving it tells the run's record.
 */

import { stat } from 'node:fs/promises';
import { type Checkpoint, loadCheckpoint } from '../checkpoint/checkpoint';
import { FmnistError, userMessage } from '../errors';
import { StoreRecorder, type StoreRecorderOptions } from '../runs/recorder';
import { RunStore } from '../runs/store';
import type { EpochSummary } from '../train/events';
import type { BackendEvent, Response, RunHistories, RunListing, RunRequest } from './contract';
import type { HeldModel } from './held-model';

/** The requests answered here; opening a run's checkpoint is the session's (it changes the model held). */
export type RecordsRequest = Exclude<RunRequest, { type: 'open-run-checkpoint' }>;

export class RunRecords {
  private readonly store: RunStore | null;
  /** The run each model trained in this session came from. */
  private readonly runOfModel = new WeakMap<HeldModel, string>();

  constructor(
    folder: string | null,
    private readonly emit: (event: BackendEvent) => void,
  ) {
    this.store = folder ? new RunStore(folder) : null;
  }

  /** A recorder for a run about to start; null when runs are not recorded. */
  recorder(options: Pick<StoreRecorderOptions, 'checkpoint' | 'resumedFile'>): StoreRecorder | null {
    if (!this.store) return null;
    return new StoreRecorder(this.store, {
      origin: 'app',
      ...options,
      // Said once when recording fails and once when it works again; training goes on either way.
      onProblem: (problem) =>
        this.emit({
          type: 'notice',
          tone: problem ? 'error' : 'info',
          message: problem ? `The run cannot be recorded: ${problem}. Training goes on.` : 'The run is recorded again.',
        }),
    });
  }

  /** The model a run ended with (its record's id). */
  modelOfRun(model: HeldModel, id: string): void {
    this.runOfModel.set(model, id);
  }

  /** The model was saved to a file the user keeps: its run's record names that file from now on. */
  async saved(model: HeldModel, file: string): Promise<void> {
    const id = this.runOfModel.get(model);
    // A record that cannot be updated (deleted meanwhile) does not make the save fail.
    if (id && this.store) await this.store.edit(id, { checkpoint: file }).catch(() => undefined);
  }

  async handle(request: RecordsRequest): Promise<Response> {
    if (request.type === 'list-runs') return { ok: true, runs: await this.list() };
    const store = this.requireStore();
    switch (request.type) {
      case 'get-run-history': {
        const result: RunHistories = { histories: {}, warnings: [] };
        for (const id of request.ids) {
          try {
            result.histories[id] = await store.history(id);
          } catch (error) {
            result.warnings.push(userMessage(error));
          }
        }
        return { ok: true, runHistories: result };
      }
      case 'rename-run':
        return { ok: true, run: await store.edit(request.id, { name: request.name }) };
      case 'note-run':
        return { ok: true, run: await store.edit(request.id, { note: request.note }) };
      case 'delete-runs':
        await store.remove(request.ids);
        return { ok: true, runs: await this.list() };
    }
  }

  /** The checkpoint a run saved, once it is sure the file still holds that run's model. */
  async checkpointOf(id: string): Promise<{ checkpoint: Checkpoint; file: string }> {
    const store = this.requireStore();
    const record = await store.get(id);
    const file = record.checkpoint;
    const name = record.name ? `"${record.name}"` : record.id;
    if (!file) throw new FmnistError('bad-option', `run ${name} saved no checkpoint (autosave was off and it was not saved)`);
    if (!(await stat(file).catch(() => null))) {
      throw new FmnistError('not-found', `the checkpoint of run ${name} is missing (moved or deleted)`, { file });
    }
    const checkpoint = await loadCheckpoint(file);
    // The model a run handed back has its epochs of the record's history: all, or up to the best epoch kept.
    const kept = typeof record.summary?.epochsDone === 'number' ? record.summary.epochsDone : record.metrics.epochs;
    const history = (await store.history(id)).slice(0, kept);
    if (checkpoint.epochsDone !== kept || !sameHistory(checkpoint.history, history)) {
      throw new FmnistError(
        'bad-option',
        `no longer holds the model of run ${name} (${checkpoint.epochsDone} epochs of another run were saved over it); save a checkpoint after a run to keep it`,
        { file },
      );
    }
    return { checkpoint, file };
  }

  private async list(): Promise<RunListing> {
    if (!this.store) return { folder: null, runs: [], warnings: [] };
    return { folder: this.store.folder, ...(await this.store.list()) };
  }

  private requireStore(): RunStore {
    if (!this.store) throw new FmnistError('bad-option', 'runs are not recorded here (the app has no data folder)');
    return this.store;
  }
}

/** Whether two histories are the same epochs with the same results (a file holds a run's model). */
function sameHistory(a: readonly EpochSummary[], b: readonly EpochSummary[]): boolean {
  return (
    a.length === b.length &&
    a.every((epoch, i) => epoch.epoch === b[i].epoch && epoch.cost === b[i].cost && epoch.trainAccuracy === b[i].trainAccuracy && epoch.testAccuracy === b[i].testAccuracy)
  );
}
