/**
 * One training run as both hosts drive it (the fmnist CLI and the app's session): the trainer, the throttled
 * progress for a user interface, the autosave beside the training, the run's record in the runs folder, the
 * run's own checkpoint when it ends (so every run keeps its model), and the checkpoint of the run's model with
 * its cost curve and the data it was trained on. The same settings give the same files from either host.
 */

import type { CostPoint, ProgressUpdate } from '@core/shared/contract';
import { ProgressThrottle } from '../backend/progress';
import { type Checkpoint, checkpointOf } from '../checkpoint/checkpoint';
import type { RunConfig } from '@core/shared/config';
import { fingerprint, isUnread, type LabelledData, limitCuts, readAll } from '@core/shared/dataset';
import type { KernelChoice } from '../engine/engine';
import { userMessage } from '@core/shared/errors';
import type { BatchProgress, EpochSummary } from '@core/shared/events';
import type { MlpParameters } from '@core/shared/mlp';
import type { RunRecorder } from '../records/recorder';
import { type EpochTestOutputs, type RunSummary, Trainer, type TrainerState } from './trainer';
import { AUTOSAVE_INTERVAL_MS, type AutosaveFailure, AutosaveFiles, AutosaveSchedule } from './autosave';
import type { ModelData } from './provenance';

export interface TrainingRunOptions {
  config: RunConfig;
  /** Unread data sets are read straight into the engine's memory. */
  train: LabelledData;
  test: LabelledData | null;
  kernels?: KernelChoice;
  /** Continue this model (its state after its last epoch, and its cost curve) instead of fresh weights. */
  resume?: { state: TrainerState; costCurve: readonly CostPoint[] } | null;
  /**
   * The data the model is trained on, recorded in its checkpoints; or made from the training set's
   * fingerprint, once the data is read (it may throw, and the run is not created).
   */
  data: ModelData | ((fingerprint: string) => ModelData);
  /** Write checkpoints to these files as the run goes (none: no autosave). */
  autosaveFiles: readonly string[];
  /**
   * The least time between two autosaves in milliseconds (default AUTOSAVE_INTERVAL_MS; 0: after every epoch).
   * The first and last epochs are always written, and whatever is unwritten when the run pauses or ends.
   */
  autosaveIntervalMs?: number;
  /**
   * The run's own checkpoint files (its record's folder): when it ends, the model it hands back is written to
   * `best` if it kept its best epoch, else to `last` (unless the autosave wrote exactly it there already).
   */
  runFiles?: { last: string; best: string } | null;
  /** Records the run in the runs folder (start, every epoch, end); null for no record. */
  record?: RunRecorder | null;
  /** Keep each epoch's weights and test outputs, to show the model while it trains (the app). */
  keepEpochModel?: boolean;
  now?: () => number;
  /** Every batch, unthrottled (a terminal's status line). */
  onBatch?: (progress: BatchProgress) => void;
  /** Every epoch, before its autosave begins. */
  onEpoch?: (summary: EpochSummary) => void;
  /** At most one update per 500 ms with what happened since the last one (a window's charts). */
  onProgress?: (update: ProgressUpdate) => void;
  /** After each autosave: the failure, if it failed (why, where), and whether that changed since the last one. */
  onAutosave?: (failure: AutosaveFailure | null, changed: boolean) => void;
}

/** The model after one whole epoch of a run that is still going: its weights and, with a test set, its outputs. */
export interface EpochModel {
  epoch: number;
  parameters: MlpParameters;
  test: EpochTestOutputs | null;
}

export class TrainingRun {
  private readonly throttle = new ProgressThrottle();
  private readonly autosaves: AutosaveFiles;
  private readonly autosaveFileList: string[];
  private readonly schedule: AutosaveSchedule;
  private epochModel: EpochModel | null = null;
  /** The run's own file that holds the model it handed back, once written. */
  private savedModel: string | null = null;

  private constructor(
    readonly config: RunConfig,
    readonly data: ModelData,
    private readonly trainer: Trainer,
    autosaveFiles: readonly string[],
    private readonly recorder: RunRecorder | null,
    /** The epochs the model had before this run. */
    private readonly earlierHistory: readonly EpochSummary[],
    private readonly runFiles: { last: string; best: string } | null,
    private readonly onAutosave: TrainingRunOptions['onAutosave'],
    intervalMs: number,
    now: () => number,
  ) {
    this.autosaves = new AutosaveFiles(autosaveFiles);
    this.autosaveFileList = [...autosaveFiles];
    this.schedule = new AutosaveSchedule({
      files: this.autosaves,
      intervalMs,
      now,
      checkpointOf: (state) => this.checkpoint(state),
      written: (failure, changed) => onAutosave?.(failure, changed),
      record: (summaries) => recorder?.epoch(...summaries) ?? Promise.resolve(),
    });
  }

  static async create(options: TrainingRunOptions): Promise<TrainingRun> {
    const now = options.now ?? (() => performance.now());
    // The callbacks below live as long as the run: they take what they need, not `options`, which holds the
    // data sets (the CLI drops its copies once the engine has its own, 55 MB for Fashion-MNIST).
    const { onBatch, onProgress, onEpoch, onAutosave, keepEpochModel } = options;
    let run: TrainingRun | null = null;
    // The fingerprint is of the whole training set: one the limit cuts short is read here, whole, first.
    const train = limitCuts(options.config.limit, options.train.count) ? await readAll(options.train) : options.train;
    const trainer = await Trainer.create({
      config: options.config,
      train,
      test: options.test,
      kernels: options.kernels,
      resume: options.resume?.state,
      keepTestOutputs: options.keepEpochModel,
      onBatch: (progress) => {
        onBatch?.(progress);
        const update = run!.throttle.add(progress, now());
        if (update) onProgress?.(update);
      },
      onEpoch: async (summary, state, last) => {
        const update = run!.throttle.addEpoch(summary, now());
        if (update) onProgress?.(update);
        if (keepEpochModel) {
          run!.epochModel = {
            epoch: summary.epoch,
            parameters: trainer.getParameters(),
            test: trainer.lastTestOutputs,
          };
        }
        onEpoch?.(summary);
        // The write and the record go on beside the next epoch (unless autosaving after every epoch).
        await run!.schedule.epoch(summary, state, last);
      },
    });
    let data: ModelData;
    try {
      data =
        typeof options.data === 'function'
          ? options.data(fingerprint(isUnread(train) ? trainer.trainingSet : train))
          : options.data;
    } catch (error) {
      await trainer.dispose();
      throw error;
    }
    run = new TrainingRun(
      options.config,
      data,
      trainer,
      options.autosaveFiles,
      options.record ?? null,
      options.resume?.state.history ?? [],
      options.runFiles ?? null,
      onAutosave,
      options.autosaveIntervalMs ?? AUTOSAVE_INTERVAL_MS,
      now,
    );
    run.throttle.curve.push(...(options.resume?.costCurve ?? []));
    return run;
  }

  get kernelBackend(): string {
    return this.trainer.kernelBackend;
  }

  get threads(): number {
    return this.trainer.threads;
  }

  get trainingSamples(): number {
    return this.trainer.trainingSamples;
  }

  get validationSamples(): number {
    return this.trainer.validationSamples;
  }

  /** The cost curve so far (bounded); after the run, up to its last whole epoch. */
  get costCurve(): readonly CostPoint[] {
    return this.throttle.curve;
  }

  /** The model after the last whole epoch of this run (with keepEpochModel), null before the first. */
  get latestEpoch(): EpochModel | null {
    return this.epochModel;
  }

  get autosaveFailure(): AutosaveFailure | null {
    return this.autosaves.lastFailure;
  }

  /**
   * The run's own file that holds the model it handed back (written when it ended); null before, or when that failed.
   */
  get modelFile(): string | null {
    return this.savedModel;
  }

  /**
   * Trains to the configured epochs or a stop. However it ends (finished, stopped, failed), the model is
   * that of the last whole epoch, and the cost curve is cut there too.
   */
  async run(): Promise<RunSummary> {
    // Not awaited: the trainer starts at once (a pause asked for now must find it running); the recorder
    // writes the start before any epoch.
    void this.recorder?.start({
      config: this.config,
      data: this.data,
      kernels: this.kernelBackend,
      threads: this.threads,
      trainingSamples: this.trainingSamples,
      validationSamples: this.validationSamples,
      history: this.earlierHistory,
    });
    let summary: RunSummary;
    try {
      summary = await this.trainer.run();
    } catch (error) {
      // A diverged (or otherwise failed) run is back at its last good epoch: that is its model.
      this.throttle.truncate(this.trainer.getState().epochsDone);
      await this.schedule.flush(() => this.state());
      await this.keepModel(false, false);
      await this.recorder?.end({
        status: 'failed',
        error: userMessage(error),
        summary: null,
        checkpoint: this.checkpointHeld(),
      });
      throw error;
    }
    this.throttle.truncate(this.trainer.getState().epochsDone);
    // A stopped run's epochs not yet written are now (its state is that of its last whole epoch); the last epoch
    // of a finished one was written when it ended, before a best epoch kept was put back.
    await this.schedule.flush(() => this.state());
    // The autosave holds the last epoch trained, written before early stopping ended the run or the best epoch
    // was put back: the CLI's --autosave file is made to hold the model handed back, marked finished (the run's
    // own files keep the last epoch, and the kept one beside it).
    const changed = summary.stoppedEarly || summary.restoredBest;
    if (changed) for (const file of this.extraAutosaves()) await this.autosaves.write(this.checkpoint(), file);
    await this.keepModel(changed, summary.restoredBest);
    await this.recorder?.end({ status: summary.status, error: null, summary, checkpoint: this.checkpointHeld() });
    return summary;
  }

  /** The autosave files besides the run's own. */
  private extraAutosaves(): string[] {
    return this.autosaveFileList.filter((file) => file !== this.runFiles?.last);
  }

  /**
   * Writes the model handed back to the run's own files: the best epoch kept to `best` (the last epoch trained
   * stays in `last`), any other model to `last`, unless the autosave wrote exactly it there already.
   */
  private async keepModel(changed: boolean, restoredBest: boolean): Promise<void> {
    const files = this.runFiles;
    const state = this.state();
    if (!files || state.epochsDone === (this.earlierHistory.at(-1)?.epoch ?? 0)) return;
    const target = restoredBest ? files.best : files.last;
    if (!changed && this.autosaves.holds(target, state.epochsDone)) {
      this.savedModel = target;
      return;
    }
    const failureChanged = await this.autosaves.write(this.checkpoint(state), target);
    this.savedModel = this.autosaves.holds(target, state.epochsDone) ? target : null;
    if (failureChanged || this.autosaves.lastFailure) this.onAutosave?.(this.autosaves.lastFailure, failureChanged);
  }

  /** The file the record names for the model handed back: the run's own, else an autosave that holds it. */
  private checkpointHeld(): string | null {
    if (this.savedModel) return this.savedModel;
    const epochs = this.state().epochsDone;
    if (epochs <= (this.earlierHistory.at(-1)?.epoch ?? 0)) return null;
    return this.extraAutosaves().find((file) => this.autosaves.holds(file, epochs)) ?? null;
  }

  /**
   * Pauses before the next batch; resolves once the trainer waits there and the autosave holds the last whole
   * epoch (written now if it did not yet), so a paused run can be killed without losing an epoch.
   */
  async pause(): Promise<void> {
    await this.trainer.pause();
    await this.schedule.flush(() => this.trainer.lastEpochState());
  }

  resume(): void {
    this.trainer.resume();
  }

  stop(): void {
    this.trainer.stop();
  }

  /** An update with everything not yet reported (after a pause, or at the end of the run). */
  flushProgress(now = performance.now()): ProgressUpdate | null {
    return this.throttle.flush(now);
  }

  /** The model after the last whole epoch. */
  state(): TrainerState {
    return this.trainer.getState();
  }

  /** A resumable checkpoint of the run's model, with its cost curve and its data. */
  checkpoint(state: TrainerState = this.state()): Checkpoint {
    return checkpointOf(state, this.config, {
      datasetFingerprint: this.data.fingerprint,
      dataSources: this.data.sources,
      dataHistory: this.data.history,
      costCurve: [...this.throttle.curve],
    });
  }

  dispose(): Promise<void> {
    return this.trainer.dispose();
  }
}
