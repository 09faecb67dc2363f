/**
 * The backend of the app: it answers the hosts' requests over the data sets (DataStore), the model it holds
 * (HeldModel), the run (RunController), the recorded runs with their own checkpoints (RunRecords) and the sweeps
 * that train runs one after another (AppSweeps), and emits their events. It runs inside the training worker,
 * never in Electron's main process or the renderer.
 * Failed loads leave the current data and model untouched; a run's failure leaves the app usable; no request
 * deletes a model: every run writes its own checkpoint, and only deleting a run's files removes it.
 */

import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { loadCheckpoint, resumeConfig } from '../checkpoint/checkpoint';
import { resolveRunConfig } from '@core/shared/config';
import type { DataPlace } from '../data/locate';
import type { KernelChoice } from '../engine/engine';
import { FmnistError, userMessage } from '@core/shared/errors';
import { plural } from '@core/shared/format';
import type { AutosaveFailure } from '../training/autosave';
import { continuedOn, describeData, type ModelData } from '../training/provenance';
import { APP_VERSION } from '../version';
import {
  type BackendEvent,
  DEFAULT_SETTINGS,
  type EvaluationInfo,
  type ModelInsight,
  type Answer,
  type Response,
  type RunSettings,
  type StudioState,
  type UnfinishedRun,
  type WorkerRequest,
} from '@core/shared/contract';
import { DataStore } from './data-store';
import type { LoadedData } from './data-store';
import {
  describeModel,
  evaluateModel,
  exportModel,
  type HeldModel,
  modelFromCheckpoint,
  saveModel,
  summarize,
  type TestEvaluation,
} from './held-model';
import { insightOf, type KeptOutputs, testImagesOf, testOutputsInfo } from '@core/shared/insight/payload';
import { RunController } from '../training/controller';
import { RunRecords } from '../records/app-records';
import { settingsOf } from './settings';
import { AppSweeps } from './sweeps';
import type { SweepJob, SweepJobEnd } from '../sweep/runner';

export interface SessionOptions {
  emit: (event: BackendEvent) => void;
  env?: NodeJS.ProcessEnv;
  kernels?: KernelChoice;
  now?: () => number;
  /** The app's data folder (kept for the hosts; runs keep their checkpoints in the runs folder). */
  dataDirectory?: string | null;
  /** Where the app downloads Fashion-MNIST to: searched right after $FMNIST_DATA. */
  downloadDirectory?: string | null;
  /** Where every run is recorded (the data folder's runs folder); null for no records. */
  runsDirectory?: string | null;
}

export class StudioSession {
  private readonly emit: SessionOptions['emit'];
  private readonly kernels: KernelChoice;
  private readonly data: DataStore;
  private readonly run: RunController;
  private model: HeldModel | null = null;
  /** Counts the models held, so each has its own insight key. */
  private modelSerial = 0;
  /** The last evaluation of the held model, and the test set it was on (shown only while that set is loaded). */
  private evaluation: { info: EvaluationInfo; fingerprint: string } | null = null;
  /** The held model's outputs on the test set, computed once for each model and test set. */
  private kept: KeptOutputs<HeldModel> | null = null;
  /** The unfinished run offered for resuming (looked for once, when the page first asks for the state). */
  private pending: UnfinishedRun | null = null;
  private checkedPending = false;
  private autosaveFailure: AutosaveFailure | null = null;
  /** Operations on data and models run one at a time, in the order asked; each waits for those before it. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The held model's evaluation under way, which a second asker waits for instead of starting another. */
  private evaluating: { model: HeldModel; fingerprint: string; promise: Promise<TestEvaluation> } | null = null;
  /** Names this backend instance in insight keys, so a key never means two models, even across a restarted worker. */
  private readonly sessionId = randomBytes(4).toString('hex');
  /** The record of every run, and the requests about them. */
  private readonly records: RunRecords;
  private readonly sweeps: AppSweeps;

  constructor(options: SessionOptions) {
    this.emit = options.emit;
    this.kernels = options.kernels ?? 'auto';
    this.records = new RunRecords(options.runsDirectory ?? null, this.emit);
    const extra: DataPlace[] = options.downloadDirectory
      ? [{ path: options.downloadDirectory, label: `the app's download folder (${options.downloadDirectory})` }]
      : [];
    this.data = new DataStore(options.env ?? process.env, extra);
    this.run = new RunController(
      (progress) => this.emit({ type: 'progress', progress }),
      () => this.publishState(),
      (failure) => (this.autosaveFailure = failure),
      options.now ?? (() => performance.now()),
    );
    this.sweeps = new AppSweeps({
      runsFolder: options.runsDirectory ?? null,
      kernels: this.kernels,
      trainingSources: () => this.data.sources(),
      train: (job) => this.trainSweepRun(job),
      publish: () => this.publishState(),
      notice: (message, tone) => this.emit({ type: 'notice', tone, message }),
    });
  }

  /** Handles one request; failures become `{ ok: false, error }` with a one-line message. */
  async handle<R extends WorkerRequest>(request: R): Promise<Answer<R['type']>> {
    // Each case below answers with its request's type (Answers); a switch cannot tell the compiler so.
    return (await this.answer(request)) as Answer<R['type']>;
  }

  private async answer(request: WorkerRequest): Promise<Response> {
    try {
      switch (request.type) {
        case 'get-state':
          await this.data.detectDefault();
          await this.checkPending();
          // A page that (re)connects gets everything, the run's epochs and curve included.
          return { ok: true, state: this.state(true) };
        case 'load-default-data':
          await this.exclusive('loading data', () => this.data.loadDefault());
          break;
        case 'load-dataset':
          await this.exclusive('loading data', () => this.data.loadFiles(request.role, request.paths));
          break;
        case 'start':
          if (this.sweeps.active)
            throw new FmnistError('bad-option', 'a sweep is under way: stop it before starting another run');
          await this.start(request.settings, request.autosave, request.continue, request.allowOtherData);
          break;
        case 'pause':
          await this.run.pause();
          break;
        case 'resume':
          await this.run.resume();
          break;
        case 'stop':
          // Stopping a sweep's run stops the sweep: it stays resumable from where it stopped.
          if (this.sweeps.active) this.sweeps.stop();
          else await this.run.stop();
          break;
        case 'start-sweep':
          this.refuseDuringRun('starting a sweep');
          await this.sweeps.start(request.sweep);
          break;
        case 'resume-sweep':
          this.refuseDuringRun('resuming a sweep');
          await this.sweeps.resume(request.id);
          break;
        case 'list-sweeps':
          return { ok: true, ...(await this.sweeps.list()) };
        case 'evaluate':
          // In the queue of loads: it measures the model and test set held when its turn comes, never a set
          // that a load asked for before it is about to replace.
          await this.exclusive('evaluating', async () => {
            const test = this.data.test;
            if (!test) throw new FmnistError('bad-option', 'load test data to evaluate the model');
            const model = this.requireModel();
            const evaluation = summarize(await this.outputsOf(model, test));
            // Shown only for the model it measured (another may have been opened meanwhile).
            if (this.model === model) this.evaluation = { info: evaluation, fingerprint: test.fingerprint };
          });
          break;
        case 'get-insight': {
          const before = this.evaluation;
          const insight = await this.insight();
          // Showing the model evaluated it: the model bar shows that too.
          if (this.evaluation !== before) this.publishState();
          return { ok: true, insight };
        }
        case 'get-test-images': {
          const test = this.data.test;
          if (!test) throw new FmnistError('bad-option', 'load test data to see its images');
          return { ok: true, testImages: testImagesOf(test) };
        }
        case 'save-checkpoint':
          await this.exclusive('saving', async () => {
            const model = this.requireModel();
            const before = model.savedAs;
            await saveModel(model, request.path);
            // A download's temporary file is gone after the download: it holds the model for no one. A file the
            // user keeps is noted in the run's record as a copy.
            if (request.download) model.savedAs = before;
            else await this.records.saved(model, request.path);
          });
          break;
        case 'export-model':
          await this.exclusive('exporting', () => exportModel(this.requireModel(), request.path, request.format));
          break;
        case 'load-checkpoint':
          await this.exclusive('loading a checkpoint', async () => {
            const checkpoint = await loadCheckpoint(request.path);
            this.refuseReplacingUnsaved(request.replaceUnsaved, request.path);
            this.show(modelFromCheckpoint(checkpoint, request.path));
            // A run continued elsewhere (the PyTorch script) joins the run history when it is first opened.
            await this.records.importElsewhere(request.path, checkpoint);
          });
          break;
        case 'resume-run':
          await this.resumeRun(request.id, request.autosave);
          break;
        case 'shutdown':
          await this.shutdown();
          break;
        case 'list-runs':
        case 'get-run-history':
        case 'rename-run':
        case 'note-run':
          return await this.records.handle(request);
        case 'delete-runs':
        case 'delete-run-files': {
          const response = await this.records.handle(request);
          this.forgetDeleted(request.ids);
          this.publishState();
          return response;
        }
        case 'open-run-checkpoint':
          await this.exclusive('loading a checkpoint', async () => {
            const { checkpoint, file } = await this.records.checkpointOf(request.id);
            this.refuseReplacingUnsaved(request.replaceUnsaved, file);
            this.show(modelFromCheckpoint(checkpoint, file));
          });
          break;
      }
      this.publishState();
      return { ok: true, state: this.state(false) };
    } catch (error) {
      if (error instanceof OtherDataError) return { ok: false, error: error.message, confirm: 'train-on-other-data' };
      return { ok: false, error: userMessage(error) };
    }
  }

  /** Resolves when the current run (if any) has ended and its final state was published. */
  whenIdle(): Promise<void> {
    return this.run.whenIdle();
  }

  async dispose(): Promise<void> {
    this.sweeps.stop();
    await this.run.stopAndWait();
    await this.sweeps.whenIdle();
  }

  /** The app's state; the run's epochs and cost curve only when `full` or when they changed wholesale. */
  state(full = true): StudioState {
    return {
      version: APP_VERSION,
      datasets: { train: this.data.train?.info ?? null, test: this.data.test?.info ?? null },
      model: this.model ? { ...describeModel(this.model), savedAs: this.fileHolding(this.model) } : null,
      evaluation:
        this.evaluation && this.evaluation.fingerprint === this.data.test?.fingerprint ? this.evaluation.info : null,
      autosave: { available: this.records.enabled, pending: this.pending, failure: this.autosaveFailure },
      defaultData: { directory: this.data.defaultDirectory, searched: this.data.searched() },
      run: this.run.describe(full),
      defaults: { ...DEFAULT_SETTINGS, hiddenSizes: [...DEFAULT_SETTINGS.hiddenSizes] },
      cores: typeof availableParallelism === 'function' ? availableParallelism() : 1,
      insightKey: this.insightKey(),
      insightRun: this.run.active ? this.runKey() : null,
      sweep: this.sweeps.describe(),
    };
  }

  /** The start of the insight keys of the run shown. */
  private runKey(): string {
    return `${this.sessionId}-run${this.run.id}-`;
  }

  /** Names the model get-insight shows now and the test set its outputs are on. */
  private insightKey(): string | null {
    const test = this.data.test?.fingerprint ?? 'no-test';
    if (this.run.active) {
      const latest = this.run.latestEpoch;
      return latest ? `${this.runKey()}epoch${latest.epoch}-${test}` : null;
    }
    return this.model ? `${this.sessionId}-model${this.modelSerial}-${test}` : null;
  }

  /** The model to show, with its outputs on the test set: the run's last whole epoch while one goes on. */
  private async insight(): Promise<ModelInsight> {
    const test = this.data.test;
    if (this.run.active) {
      const latest = this.run.latestEpoch;
      if (!latest) throw new FmnistError('bad-option', 'the model is shown once the run has finished its first epoch');
      const outputs = latest.test && test ? testOutputsInfo(test.fingerprint, latest.test) : null;
      return insightOf(this.insightKey()!, 'run', latest.epoch, latest.parameters, outputs);
    }
    const model = this.requireModel();
    // The key of what is answered, taken now: another model may be held by the time the evaluation ends.
    const key = this.insightKey()!;
    let outputs = null;
    if (test) {
      const evaluation = await this.outputsOf(model, test);
      if (this.evaluation?.fingerprint !== test.fingerprint && this.model === model)
        this.evaluation = { info: summarize(evaluation), fingerprint: test.fingerprint };
      outputs = testOutputsInfo(test.fingerprint, evaluation);
    }
    return insightOf(key, 'model', describeModel(model).epochsDone, model.parameters, outputs);
  }

  /**
   * The held model's outputs on the test set: kept from before (this model, this set), the evaluation under
   * way for them, or computed now. It reads only the model and the set, so it never holds up anything else.
   */
  private async outputsOf(model: HeldModel, test: LoadedData): Promise<TestEvaluation> {
    const kept = this.kept;
    if (kept && kept.model === model && kept.fingerprint === test.fingerprint) return kept.evaluation;
    const under = this.evaluating;
    if (under && under.model === model && under.fingerprint === test.fingerprint) return under.promise;
    const promise = evaluateModel(model, test.dataset, this.kernels);
    this.evaluating = { model, fingerprint: test.fingerprint, promise };
    try {
      const evaluation = await promise;
      if (this.model === model) this.kept = { model, fingerprint: test.fingerprint, evaluation };
      return evaluation;
    } finally {
      if (this.evaluating?.promise === promise) this.evaluating = null;
    }
  }

  /** A new model is held: it gets its own insight key, and nothing kept for the last one applies. */
  private hold(model: HeldModel, outputs: KeptOutputs<HeldModel>['evaluation'] | null = null): void {
    this.model = model;
    this.modelSerial++;
    const test = this.data.test;
    this.kept = outputs && test ? { model, fingerprint: test.fingerprint, evaluation: outputs } : null;
  }

  private refuseDuringRun(what: string): void {
    // A sweep is a run too between two of its runs: the next starts at once.
    if (this.run.active || this.sweeps.active) throw new FmnistError('bad-option', `stop the training before ${what}`);
  }

  /**
   * Runs an operation on the data or the model after those asked for before it (a load at start-up and a
   * checkpoint opened from outside both happen), never during a run.
   */
  private exclusive<T>(what: string, operation: () => Promise<T>): Promise<T> {
    this.refuseDuringRun(what);
    const turn = this.queue.then(() => {
      this.refuseDuringRun(what);
      return operation();
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private requireModel(): HeldModel {
    if (!this.model) throw new FmnistError('bad-option', 'there is no model yet: train one or load a checkpoint');
    return this.model;
  }

  /** Once per session: the newest run, when it did not reach its last epoch, is offered for resuming. */
  private async checkPending(): Promise<void> {
    if (this.checkedPending) return;
    this.checkedPending = true;
    this.pending = await this.records.unfinished().catch(() => null);
  }

  /** After runs or their files were deleted: an offer among them is gone. */
  private forgetDeleted(ids: readonly string[]): void {
    if (this.pending && ids.includes(this.pending.id)) this.pending = null;
  }

  /** The file that holds the model held, if it still exists (another process may have deleted it). */
  private fileHolding(model: HeldModel): string | null {
    return model.savedAs && existsSync(model.savedAs) ? model.savedAs : null;
  }

  /**
   * Checked when a load's turn comes: a model held in no file is replaced only when the user agreed (the page
   * asks first); anything else opening a checkpoint is refused, saying why.
   */
  private refuseReplacingUnsaved(replaceUnsaved: boolean | undefined, file: string): void {
    const held = this.model;
    if (!held || replaceUnsaved || this.fileHolding(held)) return;
    const { architecture, epochsDone } = describeModel(held);
    throw new FmnistError(
      'bad-option',
      `not opened: the model held (${architecture}, ${epochsDone === null ? 'training unknown' : plural(epochsDone, 'epoch')}) is not saved in any file; ` +
        'save it first, or open the checkpoint with Load checkpoint, which asks',
      { file },
    );
  }

  /** A model that is not being trained replaces the one held, and the charts show its history. */
  private show(model: HeldModel): void {
    this.hold(model);
    this.evaluation = null;
    this.run.show(model);
  }

  private async start(
    settings: RunSettings,
    autosave: boolean,
    continuing: boolean,
    allowOtherData: boolean,
    continuedRun: string | null = null,
  ): Promise<void> {
    this.run.checkStart();
    // After the loads asked for before it: a run starts on the data they bring.
    await this.queue;
    this.run.checkStart();
    const train = this.data.train;
    if (!train) throw new FmnistError('bad-option', 'load training data first');
    const loaded = { fingerprint: train.fingerprint, sources: this.data.sources() };
    let config = resolveRunConfig({ ...settings });
    let resume: { state: NonNullable<HeldModel['state']>; costCurve: HeldModel['costCurve'] } | null = null;
    let data: ModelData = { ...loaded, history: null };
    if (continuing) {
      const model = this.model;
      if (!model?.state || !model.config) {
        throw new FmnistError(
          'bad-option',
          model ? 'this model has no optimizer state: it cannot continue training' : 'there is no model to continue',
        );
      }
      config = resumeConfig(model.config, model.state.epochsDone, settings, 'the model', model.state.finishedEarly);
      if (model.data.fingerprint && model.data.fingerprint !== loaded.fingerprint && !allowOtherData) {
        throw new OtherDataError(
          `this model was trained on ${describeData(model.data)}, but the training data loaded now is ${describeData(loaded)}: ` +
            'continue only if you mean to train it on different data',
        );
      }
      resume = { state: model.state, costCurve: model.costCurve };
      data = continuedOn(model.data, loaded, model.state.epochsDone + 1);
    }
    // The unfinished run offered stays as it is (its own files); the offer is over.
    this.pending = null;
    this.evaluation = null;
    const recorder = this.records.recorder({
      checkpoint: null,
      resumedFile: continuing ? (this.model?.file ?? null) : null,
    });
    const runFiles = recorder?.checkpointFiles ?? null;
    const autosaveFile = autosave && runFiles ? runFiles.last : null;
    recorder?.startWithCheckpoint(autosaveFile);
    await this.run.start(
      {
        config,
        train: train.dataset,
        test: this.data.test?.dataset ?? null,
        kernels: this.kernels,
        resume,
        data,
        autosaveFile,
        runFiles,
        record: recorder,
      },
      ({ model, lastEpoch }) => {
        // The last epoch's test outputs are the model's: the gallery needs no evaluation after a run.
        if (model) this.hold(model, lastEpoch?.test ?? null);
        if (model && recorder) this.records.modelOfRun(model, recorder.id);
      },
    );
    if (recorder && continuedRun) await this.records.continued(continuedRun, recorder.id);
  }

  /**
   * Continues a recorded run from its own last checkpoint, as a new run that records where it came from; its
   * data is reloaded from the files it used when other data is loaded now.
   */
  private async resumeRun(id: string, autosave: boolean): Promise<void> {
    this.refuseDuringRun('resuming a run');
    await this.exclusive('loading the saved run', async () => {
      const { checkpoint: saved, file } = await this.records.resumable(id);
      if (saved.datasetFingerprint && this.data.train?.fingerprint !== saved.datasetFingerprint) {
        const sources = saved.dataSources;
        if (!sources) throw new FmnistError('bad-option', 'load the training data the saved run used, then resume');
        const { train, test } = await this.data.readSources(sources);
        if (train.fingerprint !== saved.datasetFingerprint) {
          throw new FmnistError('bad-input', 'has changed since the run was saved: it cannot be resumed exactly', {
            file: sources.train[0],
          });
        }
        this.data.use(train, test);
      }
      this.show(modelFromCheckpoint(saved, file));
    });
    await this.start(settingsOf(this.model!.config!), autosave, true, false, id);
  }

  /**
   * One planned run of a sweep, trained as the page's Start trains a run (the charts and controls follow it),
   * recorded with the sweep's name for it and always writing its own checkpoint, so the sweep can resume it.
   */
  private async trainSweepRun(job: SweepJob): Promise<SweepJobEnd> {
    if (job.stopRequested()) return { runId: null, status: 'stopped', summary: null };
    this.run.checkStart();
    await this.queue;
    this.run.checkStart();
    // Stopped while the loads before it ended: no run is recorded (an empty one would be listed as damaged).
    if (job.stopRequested()) return { runId: null, status: 'stopped', summary: null };
    const train = this.data.train;
    if (!train) throw new FmnistError('bad-option', 'load training data first');
    const data = job.data({ fingerprint: train.fingerprint, sources: this.data.sources() });
    this.pending = null;
    this.evaluation = null;
    const recorder = this.records.recorder({
      checkpoint: null,
      resumedFile: job.resume?.file ?? null,
      name: job.name,
      sweep: job.sweep,
    });
    if (!recorder)
      throw new FmnistError('bad-option', 'sweeps need the app data folder, where their runs are recorded');
    const runFiles = recorder.checkpointFiles;
    recorder.startWithCheckpoint(runFiles.last);
    await job.started(recorder.id);
    await this.run.start(
      {
        config: job.config,
        train: train.dataset,
        test: this.data.test?.dataset ?? null,
        kernels: this.kernels,
        resume: job.resume ? { state: job.resume.state, costCurve: job.resume.costCurve } : null,
        data,
        autosaveFile: runFiles.last,
        runFiles,
        record: recorder,
      },
      ({ model, lastEpoch }) => {
        if (model) this.hold(model, lastEpoch?.test ?? null);
        if (model) this.records.modelOfRun(model, recorder.id);
      },
    );
    job.onStop(() => void this.run.stop().catch(() => undefined));
    await this.run.whenIdle();
    const failure = this.run.lastFailure;
    if (failure) throw failure instanceof FmnistError ? failure : new FmnistError('io', userMessage(failure));
    return { runId: recorder.id, status: this.run.status === 'finished' ? 'finished' : 'stopped', summary: null };
  }

  /** Before the app quits: a run ends at its last whole epoch (as Stop does) and writes it to its own checkpoint. */
  private async shutdown(): Promise<void> {
    this.sweeps.stop();
    await this.run.stopAndWait();
    await this.sweeps.whenIdle();
  }

  private publishState(): void {
    this.emit({ type: 'state', state: this.state(false) });
  }
}

/** Continuing a model on other training data than its own: refused unless the user confirms. */
class OtherDataError extends FmnistError {
  constructor(message: string) {
    super('bad-option', message);
  }
}
