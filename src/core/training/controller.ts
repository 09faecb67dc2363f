/**
 * The run the app shows: at most one training run at a time through the run state machine, its progress
 * published (throttled) as it goes, and its description (RunInfo) with the run's epochs and cost curve sent
 * in full only when they changed wholesale (a new run, a loaded model), so no message grows with a run.
 * When a run ends it hands over the model of its last whole epoch.
 */

import type { RunConfig } from '@core/shared/config';
import type { LabelledDataset } from '@core/shared/dataset';
import type { KernelChoice } from '../engine/engine';
import { userMessage } from '@core/shared/errors';
import type { AutosaveFailure } from './autosave';
import type { ModelData } from './provenance';
import { type EpochModel, TrainingRun } from './training-run';
import type { RunRecorder } from '../records/recorder';
import type { EpochSummary } from '@core/shared/events';
import { runOutcome, type TrainerState } from './trainer';
import type { CostPoint, ProgressUpdate, RunInfo, RunStatus } from '@core/shared/contract';
import type { HeldModel } from '../backend/held-model';
import { RunStateMachine } from './state-machine';
import { settingsOf } from '../backend/settings';

export interface RunPlan {
  config: RunConfig;
  train: LabelledDataset;
  test: LabelledDataset | null;
  kernels: KernelChoice;
  /** Continue this model (its state, cost curve and history) instead of fresh weights. */
  resume: { state: TrainerState; costCurve: readonly CostPoint[] } | null;
  data: ModelData;
  autosaveFile: string | null;
  /** The run's own checkpoint files, where the model it hands back is written when it ends; null for none. */
  runFiles: { last: string; best: string } | null;
  /** Records the run in the runs folder; null for none. */
  record: RunRecorder | null;
}

export interface RunEnd {
  /** The model of the last whole epoch; null when no epoch was completed. */
  model: HeldModel | null;
  /** That epoch's weights and test outputs, when the run completed one. */
  lastEpoch: EpochModel | null;
}

function emptyRun(id = 0): RunInfo {
  return {
    id,
    status: 'idle',
    settings: null,
    epochsDone: 0,
    history: [],
    costPoints: [],
    kernels: null,
    threads: null,
    trainingSamples: 0,
    validationSamples: 0,
    error: null,
    outcome: null,
    autosaveFile: null,
    epochsDoneAtStart: 0,
  };
}

export class RunController {
  private readonly machine = new RunStateMachine();
  private run: TrainingRun | null = null;
  private info: RunInfo = emptyRun();
  private history: EpochSummary[] = [];
  private curve: readonly CostPoint[] = [];
  /** The run id whose epochs and curve were last sent in full. */
  private sentInFull = -1;
  private finished: Promise<void> = Promise.resolve();
  /** Why the last run failed, as thrown (a sweep tells a diverged run from a broken one by it). */
  private failure: unknown = null;
  /** Settles when the current run's trainer exists (or failed to start). */
  private ready: Promise<void> = Promise.resolve();

  constructor(
    private readonly emitProgress: (update: ProgressUpdate) => void,
    /** Publishes the app's state (after a run's start, end, or an autosave's failure). */
    private readonly publish: () => void,
    private readonly onAutosave: (failure: AutosaveFailure | null) => void,
    private readonly now: () => number,
  ) {}

  get status(): RunStatus {
    return this.machine.status;
  }

  /** A run holds the engine (running, paused or stopping). */
  get active(): boolean {
    return this.machine.active;
  }

  /** The id of the run shown (counting from 1; a loaded model counts as one). */
  get id(): number {
    return this.info.id;
  }

  /** The model after the last whole epoch of the run in progress, null before its first epoch or when none runs. */
  get latestEpoch(): EpochModel | null {
    return this.machine.active ? (this.run?.latestEpoch ?? null) : null;
  }

  /** Throws why a new run cannot start now. */
  checkStart(): void {
    this.machine.check('start');
  }

  /**
   * The run's description; its epochs and cost curve in full when asked, or when this run's were never
   * sent in full, else null (unchanged).
   */
  describe(full: boolean): RunInfo {
    const sendSeries = full || this.sentInFull !== this.info.id;
    if (sendSeries) this.sentInFull = this.info.id;
    return {
      ...this.info,
      status: this.machine.status,
      history: sendSeries ? [...this.history] : null,
      costPoints: sendSeries ? [...(this.run?.costCurve ?? this.curve)] : null,
    };
  }

  /** Shows a model that is not being trained (loaded from a file): idle, with its settings and charts. */
  show(model: HeldModel): void {
    this.machine.apply('reset');
    this.info = {
      ...emptyRun(this.info.id + 1),
      settings: model.config ? settingsOf(model.config) : null,
      epochsDone: model.state?.epochsDone ?? model.history.length,
      epochsDoneAtStart: model.state?.epochsDone ?? model.history.length,
    };
    this.history = [...model.history];
    this.curve = [...model.costCurve];
  }

  /** Starts a run; resolves once it is training. `ended` gets the model of its last whole epoch. */
  async start(plan: RunPlan, ended: (end: RunEnd) => void): Promise<void> {
    this.machine.apply('start');
    this.info = {
      ...emptyRun(this.info.id + 1),
      settings: settingsOf(plan.config),
      epochsDone: plan.resume?.state.epochsDone ?? 0,
      epochsDoneAtStart: plan.resume?.state.epochsDone ?? 0,
      autosaveFile: plan.autosaveFile,
    };
    this.history = plan.resume ? [...plan.resume.state.history] : [];
    this.curve = [];
    let created!: () => void;
    this.ready = new Promise((resolve) => (created = resolve));
    let run: TrainingRun;
    try {
      run = await TrainingRun.create({
        config: plan.config,
        train: plan.train,
        test: plan.test,
        kernels: plan.kernels,
        resume: plan.resume,
        data: plan.data,
        autosaveFiles: plan.autosaveFile ? [plan.autosaveFile] : [],
        runFiles: plan.runFiles,
        record: plan.record,
        keepEpochModel: true,
        now: this.now,
        onProgress: this.emitProgress,
        onEpoch: (summary) => {
          this.history.push(summary);
          this.info.epochsDone = summary.epoch;
        },
        onAutosave: (failure, changed) => {
          this.onAutosave(failure);
          // Shown at once when it starts failing or works again; the epoch it names follows with later states.
          if (changed) this.publish();
        },
      });
    } catch (error) {
      this.machine.apply('fail');
      this.info.error = userMessage(error);
      this.publish();
      throw error;
    } finally {
      created();
    }
    this.run = run;
    Object.assign(this.info, {
      kernels: run.kernelBackend,
      threads: run.threads,
      trainingSamples: run.trainingSamples,
      validationSamples: run.validationSamples,
    });
    this.publish();
    this.finished = run
      .run()
      .then(
        (summary) => {
          this.info.outcome = runOutcome(summary, run.config);
          return this.end(run, summary.status === 'finished' ? 'finish' : 'stopped', null, ended);
        },
        (error: unknown) => {
          this.failure = error;
          return this.end(run, 'fail', userMessage(error), ended);
        },
      )
      .catch((error: unknown) => {
        // Ending must never leave the app stuck in a run.
        if (this.machine.can('fail')) this.machine.apply('fail');
        this.info.error = userMessage(error);
        this.publish();
      });
  }

  /** Resolves once the run waits before its next batch, its progress sent and its last whole epoch saved. */
  async pause(): Promise<void> {
    await this.ready;
    this.machine.apply('pause');
    const run = this.run;
    await run?.pause();
    const update = run?.flushProgress(this.now());
    if (update) this.emitProgress(update);
  }

  async resume(): Promise<void> {
    await this.ready;
    this.machine.apply('resume');
    this.run?.resume();
  }

  async stop(): Promise<void> {
    await this.ready;
    this.machine.apply('stop');
    this.run?.stop();
  }

  /** Stops a run if one is going and waits until it has ended (quitting). */
  async stopAndWait(): Promise<void> {
    if (!this.machine.active) return;
    await this.ready;
    if (this.machine.can('stop')) {
      this.machine.apply('stop');
      this.run?.stop();
    }
    await this.finished;
  }

  /** What the last run that failed threw; null when the last run did not fail. */
  get lastFailure(): unknown {
    return this.machine.status === 'failed' ? this.failure : null;
  }

  /** Resolves when the current run (if any) has ended and its final state was published. */
  whenIdle(): Promise<void> {
    return this.finished;
  }

  private async end(
    run: TrainingRun,
    action: 'finish' | 'stopped' | 'fail',
    error: string | null,
    ended: (end: RunEnd) => void,
  ): Promise<void> {
    // The run is back at its last whole epoch (its curve too): so are the history and the charts.
    const state = run.state();
    this.history = this.history.slice(0, state.epochsDone);
    this.curve = [...run.costCurve];
    this.info.epochsDone = state.epochsDone;
    const update = run.flushProgress(this.now());
    if (update) this.emitProgress(update);
    ended({
      model:
        state.epochsDone > 0
          ? {
              parameters: state.parameters,
              config: run.config,
              history: state.history,
              costCurve: [...run.costCurve],
              state,
              file: null,
              // The run's own checkpoint holds exactly this model once its write at the end (or the autosave of
              // the last epoch) worked.
              savedAs: run.modelFile,
              data: run.data,
            }
          : null,
      lastEpoch: run.latestEpoch?.epoch === state.epochsDone ? run.latestEpoch : null,
    });
    await run.dispose();
    if (this.run === run) this.run = null;
    this.machine.apply(action);
    this.info.error = error;
    this.publish();
  }
}
