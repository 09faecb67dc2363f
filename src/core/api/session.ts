/**
 * The backend of the app: one session holds the loaded data sets and at most one training run, answers the
 * hosts' requests and emits events. It runs inside the training worker, never in Electron's main process
 * or the renderer. A failed load leaves the current data untouched; a run's failure leaves the app usable.
 */

import { availableParallelism } from 'node:os';
import { resolveRunConfig } from '../config';
import { CLASS_COUNT, classCounts, IMAGE_SIZE, type LabelledDataset } from '../data/dataset';
import { loadDataset } from '../data/load';
import { defaultDataDirectories, findDefaultData, resolveSelection } from '../data/locate';
import type { KernelChoice } from '../engine/engine';
import { FmnistError, userMessage } from '../errors';
import { Trainer } from '../train/trainer';
import { APP_VERSION } from '../version';
import {
  type BackendEvent,
  type DatasetInfo,
  type DatasetRole,
  DEFAULT_SETTINGS,
  type Response,
  type RunInfo,
  type RunSettings,
  type StudioState,
  type WorkerRequest,
} from './contract';
import { ProgressThrottle } from './progress';
import { RunStateMachine } from './run-state';

/** Sample images shown per class in the data set strip. */
const SAMPLES_PER_CLASS = 2;

export interface SessionOptions {
  emit: (event: BackendEvent) => void;
  env?: NodeJS.ProcessEnv;
  kernels?: KernelChoice;
  now?: () => number;
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

/** Counts, class balance and a strip of samples (the first images of each class). */
export function describeDataset(dataset: LabelledDataset, role: DatasetRole, source: string): DatasetInfo {
  const picked: number[] = [];
  const perClass = new Array<number>(CLASS_COUNT).fill(0);
  for (let i = 0; i < dataset.count && picked.length < CLASS_COUNT * SAMPLES_PER_CLASS; i++) {
    const label = dataset.labels[i];
    if (perClass[label] < SAMPLES_PER_CLASS) {
      perClass[label]++;
      picked.push(i);
    }
  }
  // Row by row: the first image of every class, then the second, so each column of the strip is one class.
  const rank = (index: number): number => picked.filter((other) => other < index && dataset.labels[other] === dataset.labels[index]).length;
  picked.sort((a, b) => rank(a) - rank(b) || dataset.labels[a] - dataset.labels[b]);
  const pixels = new Uint8Array(picked.length * IMAGE_SIZE);
  picked.forEach((index, i) => pixels.set(dataset.images.subarray(index * IMAGE_SIZE, (index + 1) * IMAGE_SIZE), i * IMAGE_SIZE));
  return {
    role,
    source,
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
  private readonly machine = new RunStateMachine();
  private data: Record<DatasetRole, { dataset: LabelledDataset; info: DatasetInfo } | null> = { train: null, test: null };
  private defaultDirectory: string | null = null;
  private run: RunInfo = emptyRun();
  private trainer: Trainer | null = null;
  private throttle = new ProgressThrottle();
  private finished: Promise<void> = Promise.resolve();
  /** Settles when the current run's trainer exists (or failed to start). */
  private ready: Promise<void> = Promise.resolve();
  private loading = false;

  constructor(options: SessionOptions) {
    this.emit = options.emit;
    this.env = options.env ?? process.env;
    this.kernels = options.kernels ?? 'auto';
    this.now = options.now ?? (() => performance.now());
  }

  /** Handles one request; failures become `{ ok: false, error }` with a one-line message. */
  async handle(request: WorkerRequest): Promise<Response> {
    try {
      switch (request.type) {
        case 'get-state':
          await this.detectDefaultData();
          return { ok: true, state: this.state() };
        case 'load-default-data':
          await this.loadDefault();
          return { ok: true, state: this.state() };
        case 'load-dataset':
          await this.loadFiles(request.role, request.paths);
          return { ok: true, state: this.state() };
        case 'start':
          await this.start(request.settings);
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
    return {
      version: APP_VERSION,
      datasets: { train: this.data.train?.info ?? null, test: this.data.test?.info ?? null },
      defaultData: {
        directory: this.defaultDirectory,
        searched: defaultDataDirectories(this.env)
          .map((place) => place.label)
          .join(', '),
      },
      run: { ...this.run, status: this.machine.status, costPoints: [...this.throttle.curve] },
      defaults: { ...DEFAULT_SETTINGS, hiddenSizes: [...DEFAULT_SETTINGS.hiddenSizes] },
      cores: typeof availableParallelism === 'function' ? availableParallelism() : 1,
    };
  }

  private async detectDefaultData(): Promise<void> {
    if (this.defaultDirectory !== null) return;
    try {
      this.defaultDirectory = (await findDefaultData(this.env)).directory;
    } catch {
      this.defaultDirectory = null;
    }
  }

  private refuseWhileBusy(what: string): void {
    if (this.machine.active) throw new FmnistError('bad-option', `stop the training before ${what}`);
    if (this.loading) throw new FmnistError('bad-option', 'another data set is still loading');
  }

  /** Loads both sets found in the default places; nothing changes unless both load. */
  private async loadDefault(): Promise<void> {
    this.refuseWhileBusy('loading other data');
    this.loading = true;
    try {
      const located = await findDefaultData(this.env);
      this.defaultDirectory = located.directory;
      const [train, test] = await Promise.all([
        loadDataset(located.train, { requireLabels: true }),
        located.test ? loadDataset(located.test, { requireLabels: true }) : Promise.resolve(null),
      ]);
      this.data.train = { dataset: train, info: describeDataset(train, 'train', located.train.images) };
      if (test && located.test) this.data.test = { dataset: test, info: describeDataset(test, 'test', located.test.images) };
    } finally {
      this.loading = false;
    }
    this.publishState();
  }

  private async loadFiles(role: DatasetRole, paths: string[]): Promise<void> {
    this.refuseWhileBusy('loading other data');
    this.loading = true;
    try {
      const files = await resolveSelection(paths, role);
      const dataset = await loadDataset(files, { requireLabels: true });
      this.data[role] = { dataset, info: describeDataset(dataset, role, files.images) };
    } finally {
      this.loading = false;
    }
    this.publishState();
  }

  private async start(settings: RunSettings): Promise<void> {
    this.machine.check('start');
    if (this.loading) throw new FmnistError('bad-option', 'a data set is still loading');
    const train = this.data.train?.dataset;
    if (!train) throw new FmnistError('bad-option', 'load training data first');
    const config = resolveRunConfig({ ...settings });
    // From here the run counts as started, so a second Start is refused while the engine starts up.
    this.machine.apply('start');
    this.run = { ...emptyRun(this.run.id + 1), settings: { ...settings, hiddenSizes: [...settings.hiddenSizes] } };
    this.throttle = new ProgressThrottle();
    let created!: () => void;
    this.ready = new Promise((resolve) => (created = resolve));
    try {
      await this.trainer?.dispose();
      this.trainer = null;
      this.trainer = await Trainer.create({
        config,
        train,
        test: this.data.test?.dataset ?? null,
        kernels: this.kernels,
        onBatch: (progress) => {
          const update = this.throttle.add(progress, this.now());
          if (update) this.emit({ type: 'progress', progress: update });
        },
        onEpoch: (summary) => {
          this.run.history.push(summary);
          this.run.epochsDone = summary.epoch;
          this.emit({ type: 'epoch', summary });
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
    this.finished = trainer.run().then(
      (summary) => {
        this.publishProgress(true);
        this.machine.apply(summary.status === 'finished' ? 'finish' : 'stopped');
        this.publishState();
      },
      (error: unknown) => {
        this.publishProgress(true);
        this.machine.apply('fail');
        this.run.error = userMessage(error);
        this.publishState();
      },
    );
  }

  private publishProgress(force: boolean): void {
    const update = force ? this.throttle.flush(this.now()) : null;
    if (update) this.emit({ type: 'progress', progress: update });
  }

  private publishState(): void {
    this.emit({ type: 'state', state: this.state() });
  }
}
