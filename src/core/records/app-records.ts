/**
 * The app's side of the runs folder: a recorder for each run the session starts, the page's requests about
 * recorded runs (list, histories, rename, note, delete records or only their files), the checkpoint of a run
 * (only while its file still holds that run's model), the unfinished run to offer for resuming, and which held
 * model came from which run, so saving it tells the run's record.
 */

import { stat } from 'node:fs/promises';
import { type Checkpoint, loadCheckpoint } from '../checkpoint/checkpoint';
import { FmnistError, userMessage } from '@core/shared/errors';
import { describeShape, mlpShape } from '@core/shared/mlp';
import { HOST_NAME } from './liveness';
import { displayName, isResumable, modelFileOf, type RunRecord } from '@core/shared/run-record';
import { StoreRecorder, type StoreRecorderOptions } from './recorder';
import { endsTrainedElsewhere, importRun, trainedElsewhereOf } from './import';
import { RunStore } from './store';
import type { EpochSummary } from '@core/shared/events';
import type {
  BackendEvent,
  Response,
  RunHistories,
  RunListing,
  RunRequest,
  UnfinishedRun,
} from '@core/shared/contract';
import type { HeldModel } from '../backend/held-model';

/** The requests answered here; opening a run's checkpoint is the session's (it changes the model held). */
export type RecordsRequest = Exclude<RunRequest, { type: 'open-run-checkpoint' }>;

export class RunRecords {
  private readonly store: RunStore | null;
  /** The run each model trained since the worker started came from. */
  private readonly runOfModel = new WeakMap<HeldModel, string>();

  constructor(
    folder: string | null,
    private readonly emit: (event: BackendEvent) => void,
  ) {
    this.store = folder ? new RunStore(folder) : null;
  }

  /** Whether runs are recorded (and so keep their own checkpoints). */
  get enabled(): boolean {
    return this.store !== null;
  }

  /** A recorder for a run about to start; null when runs are not recorded. */
  recorder(options: Pick<StoreRecorderOptions, 'checkpoint' | 'resumedFile' | 'name' | 'sweep'>): StoreRecorder | null {
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

  /**
   * Records a checkpoint's run when it holds epochs trained elsewhere and was not imported yet (as `fmnist runs
   * import` does), and says so; a failure to record it is said too, but the model stays loaded.
   */
  async importElsewhere(file: string, checkpoint: Checkpoint): Promise<void> {
    // Only a model whose latest epochs were trained elsewhere: one continued here since is a run of this app.
    if (!this.store || !endsTrainedElsewhere(checkpoint) || !trainedElsewhereOf(checkpoint)) return;
    try {
      const run = await importRun(this.store, file);
      this.emit({
        type: 'notice',
        tone: 'info',
        message: `This model was trained on elsewhere: it is recorded in Runs as "${run.name}".`,
      });
    } catch (error) {
      if (error instanceof FmnistError && / was imported already, as run /.test(error.message)) return;
      this.emit({ type: 'notice', tone: 'error', message: `The run cannot be recorded: ${userMessage(error)}` });
    }
  }

  /** The model a run ended with (its record's id). */
  modelOfRun(model: HeldModel, id: string): void {
    this.runOfModel.set(model, id);
  }

  /** The run a held model came from, if it was trained since the worker started. */
  runOf(model: HeldModel): string | null {
    return this.runOfModel.get(model) ?? null;
  }

  /** The model was saved to a file the user keeps: its run's record notes that copy. */
  async saved(model: HeldModel, file: string): Promise<void> {
    const id = this.runOfModel.get(model);
    // A record that cannot be updated (deleted meanwhile) does not make the save fail.
    if (id && this.store) await this.store.edit(id, { copy: file }).catch(() => undefined);
  }

  /** Notes on a run that another run continued it (it is offered for resuming no more). */
  async continued(id: string, by: string): Promise<void> {
    await this.store?.edit(id, { continuedBy: by }).catch(() => undefined);
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
        await store.remove(request.ids, { force: request.force });
        return { ok: true, runs: await this.list() };
      case 'delete-run-files':
        await store.removeFiles(request.ids, { force: request.force });
        return { ok: true, runs: await this.list() };
    }
  }

  /**
   * The newest run, when it ended short of its epochs (stopped, or its process gone), was not continued since,
   * and its own checkpoint is there: the run to offer for resuming. A continuation stopped before it trained an
   * epoch (so without a checkpoint of its own) hands the offer back to the run it continued; one still training
   * (in another window, before its first epoch) or whose files were deleted (the offer discarded) does not.
   */
  async unfinished(): Promise<UnfinishedRun | null> {
    if (!this.store) return null;
    const { runs } = await this.store.list();
    const last = runs.at(-1);
    const trainedNothing =
      last &&
      last.status !== 'running' &&
      !last.files?.last &&
      last.metrics.epochs <= (last.resumedFrom?.epochsDone ?? 0);
    const newest = trainedNothing ? (runs.find((run) => run.continuedBy === last.id) ?? last) : last;
    // A sweep's run goes on with its sweep (Sweeps ▸ Resume), which would otherwise train it again.
    if (!newest?.files?.last || newest.sweep || !isResumable(newest, runs)) return null;
    const saved = await stat(newest.files.last).catch(() => null);
    return {
      id: newest.id,
      name: displayName(newest),
      epochsDone: newest.metrics.epochs,
      epochs: newest.config.epochs,
      savedAt: saved ? saved.mtime.toISOString() : newest.updatedAt,
      architecture: describeShape(mlpShape(newest.config.hiddenSizes)),
      dataSources: newest.data.sources,
      bytes: newest.files.bytes,
    };
  }

  /**
   * A run's own last checkpoint, to continue it: refused (saying why) unless the run can be resumed: it ended
   * short of its epochs, has its files, and no run continued it since.
   */
  async resumable(id: string): Promise<{ record: RunRecord; checkpoint: Checkpoint; file: string }> {
    const store = this.requireStore();
    const { runs } = await store.list();
    const record = runs.find((run) => run.id === id) ?? (await store.get(id));
    const name = describeRun(record);
    const file = record.files?.last;
    if (!file || !isResumable(record, runs)) {
      const why =
        record.status === 'running'
          ? 'is still training'
          : !file
            ? 'has no checkpoint of its own to continue from (its files were deleted, or it trained no epoch)'
            : record.continuedBy
              ? `was continued as run ${record.continuedBy}: resume that one`
              : 'has nothing left to train (it finished)';
      throw new FmnistError('bad-option', `run ${name} ${why}`);
    }
    const checkpoint = await loadCheckpoint(file);
    if (!checkpoint.optimizer || !checkpoint.config)
      throw new FmnistError('bad-input', 'holds no optimizer state: it cannot continue training', { file });
    return { record, checkpoint, file };
  }

  /** The checkpoint that holds a run's model, once it is sure the file still holds that run's model. */
  async checkpointOf(id: string): Promise<{ checkpoint: Checkpoint; file: string }> {
    const store = this.requireStore();
    const record = await store.get(id);
    const name = describeRun(record);
    // Its own files first; records from before runs kept their own name the autosave or a saved file.
    const candidates = [
      modelFileOf(record.files),
      record.checkpoint,
      ...(record.copies ?? []).slice().reverse(),
    ].filter((file, i, all): file is string => !!file && all.indexOf(file) === i);
    if (candidates.length === 0)
      throw new FmnistError(
        'bad-option',
        `run ${name} kept no checkpoint (its files were deleted, or it trained no epoch)`,
      );
    // The model a run handed back has its epochs of the record's history: all, or up to the best epoch kept.
    const kept = typeof record.summary?.epochsDone === 'number' ? record.summary.epochsDone : record.metrics.epochs;
    const history = (await store.history(id)).slice(0, kept);
    let problem: FmnistError | null = null;
    for (const file of candidates) {
      if (!(await stat(file).catch(() => null))) {
        problem ??= new FmnistError('not-found', `the checkpoint of run ${name} is missing (moved or deleted)`, {
          file,
        });
        continue;
      }
      const checkpoint = await loadCheckpoint(file);
      if (checkpoint.epochsDone === kept && sameHistory(checkpoint.history, history)) return { checkpoint, file };
      problem ??= new FmnistError(
        'bad-option',
        `no longer holds the model of run ${name} (${checkpoint.epochsDone} epochs of another run were saved over it)`,
        { file },
      );
    }
    throw problem!;
  }

  private async list(): Promise<RunListing> {
    if (!this.store) return { folder: null, host: HOST_NAME, runs: [], damaged: [], warnings: [] };
    return { folder: this.store.folder, host: HOST_NAME, ...(await this.store.list()) };
  }

  private requireStore(): RunStore {
    if (!this.store) throw new FmnistError('bad-option', 'runs are not recorded here (the app has no data folder)');
    return this.store;
  }
}

function describeRun(record: RunRecord): string {
  return record.name ? `"${record.name}"` : record.id;
}

/** Whether two histories are the same epochs with the same results (a file holds a run's model). */
function sameHistory(a: readonly EpochSummary[], b: readonly EpochSummary[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (epoch, i) =>
        epoch.epoch === b[i].epoch &&
        epoch.cost === b[i].cost &&
        epoch.trainAccuracy === b[i].trainAccuracy &&
        epoch.testAccuracy === b[i].testAccuracy,
    )
  );
}
