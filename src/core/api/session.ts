/**
 * The backend of the app: one session holds the loaded data sets, the current model (the last run's, or one
 * loaded from a checkpoint) and at most one training run; it answers the hosts' requests and emits events.
 * It runs inside the training worker, never in Electron's main process or the renderer. Failed loads leave
 * the current data and model untouched; a run's failure leaves the app usable. With autosave on, every
 * finished epoch is written (atomically) to the app's data folder, and an unfinished run found there at
 * start-up is offered for resuming.
 */

import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { mkdir, rm, stat } from 'node:fs/promises';
import {
  type Checkpoint,
  checkpointOf,
  encodeCheckpoint,
  encodeWeights,
  loadCheckpoint,
  resumeConfig,
  saveCheckpoint,
  trainerStateOf,
} from '../checkpoint/checkpoint';
import { encodeOnnx } from '../checkpoint/onnx';
import { resolveRunConfig, type RunConfig } from '../config';
import { CLASS_COUNT, classCounts, fingerprint, IMAGE_SIZE, type LabelledDataset } from '../data/dataset';
import { loadDataset } from '../data/load';
import { type DataFiles, type DataPlace, defaultDataDirectories, findDefaultData, resolveSelection } from '../data/locate';
import { openEngine } from '../engine/backends';
import type { KernelChoice } from '../engine/engine';
import { FmnistError, userMessage } from '../errors';
import { writeFileAtomic } from '../io';
import { describeShape, type MlpParameters } from '../model/mlp';
import type { EpochSummary } from '../train/events';
import { Trainer, type TrainerState } from '../train/trainer';
import { APP_VERSION } from '../version';
import {
  type BackendEvent,
  type CostPoint,
  type DatasetInfo,
  type DatasetRole,
  DEFAULT_SETTINGS,
  type EvaluationInfo,
  type ExportFormat,
  type ModelInfo,
  type PendingAutosave,
  type Response,
  type RunInfo,
  type RunSettings,
  SETTING_KEYS,
  type StudioState,
  type WorkerRequest,
} from './contract';
import { ProgressThrottle } from './progress';
import { RunStateMachine } from './run-state';

/** Sample images shown per class in the data set strip. */
const SAMPLES_PER_CLASS = 2;
export const AUTOSAVE_FILE = 'autosave.safetensors';

export interface SessionOptions {
  emit: (event: BackendEvent) => void;
  env?: NodeJS.ProcessEnv;
  kernels?: KernelChoice;
  now?: () => number;
  /** The app's data folder for autosaves; null disables them. */
  dataDirectory?: string | null;
  /** Where the app downloads Fashion-MNIST to: searched right after $FMNIST_DATA. */
  downloadDirectory?: string | null;
}

interface LoadedData {
  dataset: LabelledDataset;
  /** Includes the files it came from, recorded in checkpoints so an autosaved run can reload them. */
  info: DatasetInfo;
  fingerprint: string;
}

/** The model the session holds and everything needed to save, evaluate or continue it. */
interface HeldModel {
  parameters: MlpParameters;
  config: RunConfig | null;
  history: EpochSummary[];
  costCurve: CostPoint[];
  /** Adam's state: present when training can continue exactly. */
  state: TrainerState | null;
  file: string | null;
  datasetFingerprint: string | null;
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
  };
}

function settingsOf(config: RunConfig): RunSettings {
  return Object.fromEntries(SETTING_KEYS.map((key) => [key, key === 'hiddenSizes' ? [...config.hiddenSizes] : config[key]])) as unknown as RunSettings;
}

function pathsOf(files: DataFiles): string[] {
  return files.format === 'idx' && files.labels ? [files.images, files.labels] : [files.images];
}

/** Counts, class balance and sample images (the first of each class, then the second: one class per column). */
export function describeDataset(dataset: LabelledDataset, role: DatasetRole, files: DataFiles): DatasetInfo {
  const picked: number[] = [];
  const perClass = new Array<number>(CLASS_COUNT).fill(0);
  const rank = new Map<number, number>();
  for (let i = 0; i < dataset.count && picked.length < CLASS_COUNT * SAMPLES_PER_CLASS; i++) {
    const label = dataset.labels[i];
    if (perClass[label] < SAMPLES_PER_CLASS) {
      rank.set(i, perClass[label]++);
      picked.push(i);
    }
  }
  picked.sort((a, b) => rank.get(a)! - rank.get(b)! || dataset.labels[a] - dataset.labels[b]);
  const pixels = new Uint8Array(picked.length * IMAGE_SIZE);
  picked.forEach((index, i) => pixels.set(dataset.images.subarray(index * IMAGE_SIZE, (index + 1) * IMAGE_SIZE), i * IMAGE_SIZE));
  return {
    role,
    source: files.images,
    paths: pathsOf(files),
    count: dataset.count,
    classCounts: classCounts(dataset),
    samples: Buffer.from(pixels).toString('base64'),
    sampleLabels: picked.map((index) => dataset.labels[index]),
  };
}

export class StudioSession {
  private readonly emit: SessionOptions['emit'];
  private readonly env: NodeJS.ProcessEnv;
  private readonly kernels: KernelChoice;
  private readonly now: () => number;
  private readonly autosaveFile: string | null;
  private readonly extraPlaces: DataPlace[];
  private readonly machine = new RunStateMachine();
  private data: Record<DatasetRole, LoadedData | null> = { train: null, test: null };
  private defaultDirectory: string | null = null;
  private run: RunInfo = emptyRun();
  private model: HeldModel | null = null;
  private evaluation: EvaluationInfo | null = null;
  private pending: PendingAutosave | null = null;
  private checkedAutosave = false;
  private trainer: Trainer | null = null;
  private throttle = new ProgressThrottle();
  private finished: Promise<void> = Promise.resolve();
  /** Settles when the current run's trainer exists (or failed to start). */
  private ready: Promise<void> = Promise.resolve();
  private busy: string | null = null;

  constructor(options: SessionOptions) {
    this.emit = options.emit;
    this.env = options.env ?? process.env;
    this.kernels = options.kernels ?? 'auto';
    this.now = options.now ?? (() => performance.now());
    this.autosaveFile = options.dataDirectory ? join(options.dataDirectory, AUTOSAVE_FILE) : null;
    this.extraPlaces = options.downloadDirectory
      ? [{ path: options.downloadDirectory, label: `the app's download folder (${options.downloadDirectory})` }]
      : [];
  }

  /** Handles one request; failures become `{ ok: false, error }` with a one-line message. */
  async handle(request: WorkerRequest): Promise<Response> {
    try {
      switch (request.type) {
        case 'get-state':
          await this.detectDefaultData();
          await this.checkAutosave();
          return { ok: true, state: this.state() };
        case 'load-default-data':
          await this.exclusive('loading data', () => this.loadDefault());
          break;
        case 'load-dataset':
          await this.exclusive('loading data', () => this.loadFiles(request.role, request.paths));
          break;
        case 'start':
          await this.start(request.settings, request.autosave, request.continue);
          return { ok: true, state: this.state() };
        case 'pause':
          await this.ready;
          this.machine.apply('pause');
          this.trainer?.pause();
          this.publishProgress(true);
          break;
        case 'resume':
          await this.ready;
          this.machine.apply('resume');
          this.trainer?.resume();
          break;
        case 'stop':
          await this.ready;
          this.machine.apply('stop');
          this.trainer?.stop();
          break;
        case 'evaluate':
          await this.exclusive('evaluating', () => this.evaluate());
          break;
        case 'save-checkpoint':
          await this.exclusive('saving', () => this.save(request.path));
          break;
        case 'export-model':
          await this.exclusive('exporting', () => this.exportModel(request.path, request.format));
          break;
        case 'load-checkpoint':
          await this.exclusive('loading a checkpoint', () => this.loadCheckpointFile(request.path));
          break;
        case 'resume-autosave':
          await this.resumeAutosave(request.autosave);
          return { ok: true, state: this.state() };
        case 'discard-autosave':
          this.refuseWhileBusy('discarding the saved run');
          if (this.autosaveFile) await rm(this.autosaveFile, { force: true });
          this.pending = null;
          break;
        case 'shutdown':
          await this.shutdown();
          break;
      }
      this.publishState();
      return { ok: true, state: this.state() };
    } catch (error) {
      return { ok: false, error: userMessage(error) };
    }
  }

  /** Resolves when the current run (if any) has ended and its final state was published. */
  whenIdle(): Promise<void> {
    return this.finished;
  }

  async dispose(): Promise<void> {
    this.trainer?.stop();
    await this.finished;
    await this.trainer?.dispose();
    this.trainer = null;
  }

  state(): StudioState {
    const model = this.model;
    const modelInfo: ModelInfo | null = model
      ? {
          file: model.file,
          architecture: describeShape(model.parameters.shape),
          hiddenSizes: [...model.parameters.shape.hiddenSizes],
          epochsDone: model.state?.epochsDone ?? model.history.length,
          resumable: model.state !== null && model.config !== null,
          settings: model.config ? settingsOf(model.config) : null,
        }
      : null;
    return {
      version: APP_VERSION,
      datasets: { train: this.data.train?.info ?? null, test: this.data.test?.info ?? null },
      model: modelInfo,
      evaluation: this.evaluation,
      autosave: { file: this.autosaveFile, pending: this.pending },
      defaultData: {
        directory: this.defaultDirectory,
        searched: defaultDataDirectories(this.env, this.extraPlaces)
          .map((place) => place.label)
          .join(', '),
      },
      run: { ...this.run, status: this.machine.status, costPoints: [...this.throttle.curve] },
      defaults: { ...DEFAULT_SETTINGS, hiddenSizes: [...DEFAULT_SETTINGS.hiddenSizes] },
      cores: typeof availableParallelism === 'function' ? availableParallelism() : 1,
    };
  }

  private refuseWhileBusy(what: string): void {
    if (this.machine.active) throw new FmnistError('bad-option', `stop the training before ${what}`);
    if (this.busy) throw new FmnistError('bad-option', `wait: still ${this.busy}`);
  }

  /** Runs one long operation at a time, never during a run. */
  private async exclusive(what: string, operation: () => Promise<void>): Promise<void> {
    this.refuseWhileBusy(what);
    this.busy = what;
    try {
      await operation();
    } finally {
      this.busy = null;
    }
  }

  private async detectDefaultData(): Promise<void> {
    if (this.defaultDirectory !== null) return;
    try {
      this.defaultDirectory = (await findDefaultData(this.env, this.extraPlaces)).directory;
    } catch {
      this.defaultDirectory = null;
    }
  }

  /** Once per session: an autosaved run that did not reach its last epoch is offered for resuming. */
  private async checkAutosave(): Promise<void> {
    if (this.checkedAutosave || !this.autosaveFile) return;
    this.checkedAutosave = true;
    if (!(await stat(this.autosaveFile).catch(() => null))) return;
    try {
      const saved = await loadCheckpoint(this.autosaveFile);
      if (saved.config && saved.optimizer && saved.epochsDone < saved.config.epochs) {
        this.pending = {
          epochsDone: saved.epochsDone,
          epochs: saved.config.epochs,
          savedAt: saved.createdAt,
          architecture: describeShape(saved.parameters.shape),
          dataSources: saved.dataSources ?? null,
        };
      }
    } catch {
      // A damaged autosave is not offered; the next run overwrites it.
    }
  }

  private async loadDefault(): Promise<void> {
    const located = await findDefaultData(this.env, this.extraPlaces);
    this.defaultDirectory = located.directory;
    const [train, test] = await Promise.all([
      this.read(located.train, 'train'),
      located.test ? this.read(located.test, 'test') : Promise.resolve(null),
    ]);
    // Replace nothing unless everything loaded.
    this.data.train = train;
    if (test) this.data.test = test;
  }

  private async loadFiles(role: DatasetRole, paths: string[]): Promise<void> {
    this.data[role] = await this.read(await resolveSelection(paths, role), role);
  }

  private async read(files: DataFiles, role: DatasetRole): Promise<LoadedData> {
    const dataset = await loadDataset(files, { requireLabels: true });
    return { dataset, info: describeDataset(dataset, role, files), fingerprint: fingerprint(dataset) };
  }

  private async start(settings: RunSettings, autosave: boolean, continuing: boolean): Promise<void> {
    this.machine.check('start');
    if (this.busy) throw new FmnistError('bad-option', `wait: still ${this.busy}`);
    const train = this.data.train;
    if (!train) throw new FmnistError('bad-option', 'load training data first');
    let config = resolveRunConfig({ ...settings });
    let resume: TrainerState | null = null;
    if (continuing) {
      const model = this.model;
      if (!model?.state || !model.config) {
        throw new FmnistError('bad-option', model ? 'this model has no optimizer state: it cannot continue training' : 'there is no model to continue');
      }
      config = resumeConfig(model.config, model.state.epochsDone, settings, 'the model');
      resume = model.state;
    }
    // From here the run counts as started, so a second Start is refused while the engine starts up.
    this.machine.apply('start');
    this.pending = null;
    this.evaluation = null;
    this.run = {
      ...emptyRun(this.run.id + 1),
      settings: settingsOf(config),
      history: resume ? [...resume.history] : [],
      epochsDone: resume?.epochsDone ?? 0,
    };
    this.throttle = new ProgressThrottle();
    if (resume && this.model) this.throttle.curve.push(...this.model.costCurve);
    let created!: () => void;
    this.ready = new Promise((resolve) => (created = resolve));
    try {
      await this.trainer?.dispose();
      this.trainer = null;
      this.trainer = await Trainer.create({
        config,
        train: train.dataset,
        test: this.data.test?.dataset ?? null,
        kernels: this.kernels,
        resume: resume ?? undefined,
        onBatch: (progress) => {
          const update = this.throttle.add(progress, this.now());
          if (update) this.emit({ type: 'progress', progress: update });
        },
        onEpoch: async (summary, state) => {
          this.run.history.push(summary);
          this.run.epochsDone = summary.epoch;
          const update = this.throttle.addEpoch(summary, this.now());
          if (update) this.emit({ type: 'progress', progress: update });
          if (autosave && this.autosaveFile) await this.autosave(state(), config);
        },
      });
    } catch (error) {
      this.machine.apply('fail');
      this.run.error = userMessage(error);
      this.publishState();
      throw error;
    } finally {
      created();
    }
    const trainer = this.trainer;
    Object.assign(this.run, {
      kernels: trainer.kernelBackend,
      threads: trainer.threads,
      trainingSamples: trainer.trainingSamples,
      validationSamples: trainer.validationSamples,
    });
    this.publishState();
    this.finished = trainer
      .run()
      .then(
        (summary) => this.ended(trainer, config, summary.status === 'finished' ? 'finish' : 'stopped', null),
        (error: unknown) => this.ended(trainer, config, 'fail', userMessage(error)),
      )
      .catch((error: unknown) => {
        // Ending must never leave the session stuck in a run: fall back to failed.
        if (this.machine.can('fail')) this.machine.apply('fail');
        this.run.error = userMessage(error);
        this.publishState();
      });
  }

  /** After a run: keep its model (its last whole epoch), free its engine, publish the outcome. */
  private async ended(trainer: Trainer, config: RunConfig, action: 'finish' | 'stopped' | 'fail', error: string | null): Promise<void> {
    const state = trainer.getState();
    // The trainer rolled back to its last whole epoch: so do the chart and the history.
    this.throttle.truncate(state.epochsDone);
    this.run.history = this.run.history.slice(0, state.epochsDone);
    this.run.epochsDone = state.epochsDone;
    this.publishProgress(true);
    if (state.epochsDone > 0) {
      this.model = {
        parameters: state.parameters,
        config,
        history: state.history,
        costCurve: [...this.throttle.curve],
        state,
        file: null,
        datasetFingerprint: this.data.train?.fingerprint ?? null,
      };
    }
    await trainer.dispose();
    if (this.trainer === trainer) this.trainer = null;
    this.machine.apply(action);
    this.run.error = error;
    this.publishState();
  }

  /**
   * Before the app quits: a run ends at its last whole epoch (as Stop does), and a model of this session
   * that did not reach its epochs is written to the autosave file, so the next start offers to resume it.
   */
  private async shutdown(): Promise<void> {
    if (this.machine.active) {
      await this.ready;
      if (this.machine.can('stop')) {
        this.machine.apply('stop');
        this.trainer?.stop();
      }
      await this.finished;
    }
    const model = this.model;
    if (!this.autosaveFile || !model?.state || !model.config || model.file !== null) return;
    if (model.state.epochsDone >= model.config.epochs) return;
    await mkdir(dirname(this.autosaveFile), { recursive: true });
    await saveCheckpoint(this.autosaveFile, this.checkpointFor({ state: model.state, config: model.config, costCurve: model.costCurve }));
  }

  private async autosave(state: TrainerState, config: RunConfig): Promise<void> {
    const file = this.autosaveFile!;
    try {
      await mkdir(join(file, '..'), { recursive: true });
      await saveCheckpoint(file, this.checkpointFor({ state, config, costCurve: this.throttle.curve }));
    } catch (error) {
      // Training goes on; the failure is shown with the run.
      this.run.error = `autosave failed: ${userMessage(error)}`;
      this.publishState();
    }
  }

  private checkpointFor(source: { state: TrainerState; config: RunConfig; costCurve: CostPoint[] }): Checkpoint {
    return checkpointOf(source.state, source.config, {
      datasetFingerprint: this.data.train?.fingerprint ?? null,
      costCurve: source.costCurve,
      dataSources: this.data.train ? { train: this.data.train.info.paths, test: this.data.test?.info.paths ?? null } : null,
    });
  }

  private requireModel(): HeldModel {
    if (!this.model) throw new FmnistError('bad-option', 'there is no model yet: train one or load a checkpoint');
    return this.model;
  }

  private async evaluate(): Promise<void> {
    const model = this.requireModel();
    const test = this.data.test?.dataset;
    if (!test) throw new FmnistError('bad-option', 'load test data to evaluate the model');
    const engine = await openEngine({ shape: model.parameters.shape, batchSize: 256, datasets: [test], kernels: this.kernels });
    try {
      engine.setParameters(model.parameters);
      const result = engine.evaluate(0, null);
      this.evaluation = { count: result.count, accuracy: result.correct / result.count, cost: result.lossSum / result.count };
    } finally {
      await engine.dispose();
    }
  }

  private async save(path: string): Promise<void> {
    const model = this.requireModel();
    if (model.state && model.config) {
      await saveCheckpoint(path, this.checkpointFor({ state: model.state, config: model.config, costCurve: model.costCurve }));
    } else {
      await writeFileAtomic(path, encodeCheckpoint(this.weightsCheckpoint(model)));
    }
  }

  private weightsCheckpoint(model: HeldModel): Checkpoint {
    return {
      parameters: model.parameters,
      config: model.config,
      epochsDone: model.history.length,
      history: model.history,
      datasetFingerprint: model.datasetFingerprint,
      appVersion: null,
      createdAt: null,
      optimizer: null,
    };
  }

  private async exportModel(path: string, format: ExportFormat): Promise<void> {
    const model = this.requireModel();
    await writeFileAtomic(path, format === 'onnx' ? encodeOnnx(model.parameters) : encodeWeights(this.weightsCheckpoint(model)));
  }

  /** Replaces the model (and the run shown) with a checkpoint's, only once it has loaded completely. */
  private async loadCheckpointFile(path: string): Promise<void> {
    const checkpoint = await loadCheckpoint(path);
    this.adopt(checkpoint, path);
  }

  private adopt(checkpoint: Checkpoint, file: string): void {
    this.model = {
      parameters: checkpoint.parameters,
      config: checkpoint.config,
      history: checkpoint.history,
      costCurve: checkpoint.costCurve ?? [],
      state: checkpoint.optimizer && checkpoint.config ? trainerStateOf(checkpoint, file) : null,
      file,
      datasetFingerprint: checkpoint.datasetFingerprint,
    };
    this.evaluation = null;
    this.machine.apply('reset');
    this.run = {
      ...emptyRun(this.run.id + 1),
      settings: checkpoint.config ? settingsOf(checkpoint.config) : null,
      epochsDone: checkpoint.epochsDone,
      history: [...checkpoint.history],
    };
    this.throttle = new ProgressThrottle();
    this.throttle.curve.push(...(checkpoint.costCurve ?? []));
  }

  /** Continues the autosaved run: its data is reloaded from the files it used when other data is loaded now. */
  private async resumeAutosave(autosave: boolean): Promise<void> {
    this.refuseWhileBusy('resuming the saved run');
    if (!this.autosaveFile || !this.pending) throw new FmnistError('bad-option', 'there is no unfinished run to resume');
    const file = this.autosaveFile;
    await this.exclusive('loading the saved run', async () => {
      const saved = await loadCheckpoint(file);
      if (saved.datasetFingerprint && this.data.train?.fingerprint !== saved.datasetFingerprint) {
        const sources = saved.dataSources;
        if (!sources) throw new FmnistError('bad-option', 'load the training data the saved run used, then resume');
        const train = await this.read(await resolveSelection(sources.train, 'train'), 'train');
        if (train.fingerprint !== saved.datasetFingerprint) {
          throw new FmnistError('bad-input', 'has changed since the run was saved: it cannot be resumed exactly', { file: sources.train[0] });
        }
        const test = sources.test ? await this.read(await resolveSelection(sources.test, 'test'), 'test') : null;
        this.data.train = train;
        if (test) this.data.test = test;
      }
      this.adopt(saved, file);
    });
    await this.start(settingsOf(this.model!.config!), autosave, true);
  }

  private publishProgress(force: boolean): void {
    const update = force ? this.throttle.flush(this.now()) : null;
    if (update) this.emit({ type: 'progress', progress: update });
  }

  private publishState(): void {
    this.emit({ type: 'state', state: this.state() });
  }
}
