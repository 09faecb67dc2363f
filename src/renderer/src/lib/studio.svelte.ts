/**
 * The page's state: the backend's snapshot, live progress, the settings form and the chart series, with the
 * actions the controls call. Chart series are plain arrays (Chart.js must not see Svelte's proxies); a
 * version counter tells the charts when to redraw.
 */

import type {
  BackendEvent,
  DatasetRole,
  DownloadState,
  EpochSummary,
  ProgressUpdate,
  Response,
  RunSettings,
  RunStatus,
  StudioState,
} from '../../../core/api/contract';
import { planOpen } from '../../../core/api/open-files';
import { parseHiddenSizes, resolveRunConfig } from '../../../core/config';
import type { Transport } from './transport';

export type Point = { x: number; y: number };

export interface ChartSeries {
  /** Mean cost of groups of batches, at their position in epochs. */
  batchCost: Point[];
  /** Mean training cost of each epoch, at its end. */
  epochCost: Point[];
  trainAccuracy: Point[];
  validationAccuracy: Point[];
  testAccuracy: Point[];
}

/** The form's fields as the user typed them, and how each maps to a setting. */
export const FIELDS = [
  { key: 'epochs', label: 'Epochs', hint: '1–100 000' },
  { key: 'batchSize', label: 'Batch size', hint: 'samples per step' },
  { key: 'learningRate', label: 'Learning rate', hint: "Adam's step size" },
  { key: 'hiddenSizes', label: 'Hidden layers', hint: 'units per layer, e.g. 512,256' },
  { key: 'seed', label: 'Seed', hint: 'same seed, same run' },
  { key: 'validationFraction', label: 'Validation split', hint: 'fraction held out, 0–0.9' },
  { key: 'limit', label: 'Training subset size', hint: '0 = all samples' },
  { key: 'threads', label: 'Threads', hint: '0 = one per core' },
] as const satisfies readonly { key: keyof RunSettings; label: string; hint: string }[];

export type FieldKey = (typeof FIELDS)[number]['key'];

function formatSetting(key: FieldKey, settings: RunSettings): string {
  return key === 'hiddenSizes' ? settings.hiddenSizes.join(',') : String(settings[key]);
}

/** The setting a field's text stands for, or the message saying why it is not valid. */
export function parseField(key: FieldKey, text: string): { value: RunSettings[FieldKey] } | { error: string } {
  try {
    const trimmed = text.trim();
    const raw = key === 'hiddenSizes' ? parseHiddenSizes(trimmed) : trimmed === '' ? Number.NaN : Number(trimmed);
    const config = resolveRunConfig({ [key]: raw });
    return { value: config[key] };
  } catch (error) {
    const message = (error as Error).message;
    return { error: message.charAt(0).toUpperCase() + message.slice(1) };
  }
}

function emptySeries(): ChartSeries {
  return { batchCost: [], epochCost: [], trainAccuracy: [], validationAccuracy: [], testAccuracy: [] };
}

export class Studio {
  state = $state<StudioState | null>(null);
  progress = $state<ProgressUpdate | null>(null);
  /** Set when the backend cannot be reached. */
  connectionError = $state<string | null>(null);
  loading = $state<Record<DatasetRole | 'default', boolean>>({ train: false, test: false, default: false });
  dataErrors = $state<Record<DatasetRole, string | null>>({ train: null, test: null });
  requestError = $state<string | null>(null);
  /** The Fashion-MNIST download, while one is in progress or after it ended. */
  download = $state<DownloadState | null>(null);
  fields = $state<Record<FieldKey, string>>({
    epochs: '',
    batchSize: '',
    learningRate: '',
    hiddenSizes: '',
    seed: '',
    validationFraction: '',
    limit: '',
    threads: '',
  });
  /** Save a checkpoint to the app's data folder after every epoch (resumable after a crash). */
  autosave = $state(true);
  /** Working on a model operation (evaluate, save, load, export). */
  modelBusy = $state(false);
  /** Bumped whenever the chart series change. */
  chartVersion = $state(0);
  readonly series: ChartSeries = emptySeries();

  constructor(readonly transport: Transport) {}

  get status(): RunStatus {
    return this.state?.run.status ?? 'idle';
  }

  get active(): boolean {
    return this.status === 'running' || this.status === 'paused' || this.status === 'stopping';
  }

  get fieldErrors(): Partial<Record<FieldKey, string>> {
    const errors: Partial<Record<FieldKey, string>> = {};
    for (const { key } of FIELDS) {
      const parsed = parseField(key, this.fields[key]);
      if ('error' in parsed) errors[key] = parsed.error;
    }
    return errors;
  }

  get canStart(): boolean {
    return !!this.state?.datasets.train && !this.active && Object.keys(this.fieldErrors).length === 0 && !this.loading.train && !this.loading.default;
  }

  /** Training can continue the current model: it has Adam's state and the epochs asked for are more. */
  get canContinue(): boolean {
    const model = this.state?.model;
    const settings = this.settings();
    return !!model?.resumable && !!settings && settings.epochs > model.epochsDone && !!this.state?.datasets.train && !this.active;
  }

  get lastEpoch(): EpochSummary | null {
    const history = this.state?.run.history ?? [];
    return history.length ? history[history.length - 1] : null;
  }

  async connect(): Promise<void> {
    this.transport.onDisconnect((message) => (this.connectionError = message));
    this.transport.onEvent((event) => this.apply(event));
    const response = await this.transport.request({ type: 'get-state' });
    if (!response.ok) {
      this.connectionError = response.error;
      return;
    }
    this.setState(response.state!);
    const settings = response.state!.run.settings ?? response.state!.defaults;
    for (const { key } of FIELDS) this.fields[key] = formatSetting(key, settings);
  }

  apply(event: BackendEvent): void {
    switch (event.type) {
      case 'state':
        this.setState(event.state);
        break;
      case 'progress':
        this.progress = event.progress;
        for (const [x, y] of event.progress.costPoints) this.series.batchCost.push({ x, y });
        for (const summary of event.progress.completedEpochs) {
          this.addEpoch(summary);
          // The snapshot's history too, so the latest figures show during the run.
          if (this.state && !this.state.run.history.some((h) => h.epoch === summary.epoch)) {
            this.state.run.history.push(summary);
            this.state.run.epochsDone = summary.epoch;
          }
        }
        this.chartVersion++;
        break;
      case 'menu':
        void this.menu(event.command);
        break;
      case 'download':
        this.download = event.download;
        break;
      case 'notice':
        this.requestError = event.message;
        break;
    }
  }

  settings(): RunSettings | null {
    const settings: Record<string, unknown> = {};
    for (const { key } of FIELDS) {
      const parsed = parseField(key, this.fields[key]);
      if ('error' in parsed) return null;
      settings[key] = parsed.value;
    }
    return settings as unknown as RunSettings;
  }

  async start(): Promise<void> {
    const settings = this.settings();
    if (!settings || !this.canStart) return;
    this.progress = null;
    await this.send({ type: 'start', settings, autosave: this.autosave, continue: false });
  }

  async continueTraining(): Promise<void> {
    const settings = this.settings();
    if (!settings || !this.canContinue) return;
    this.progress = null;
    await this.send({ type: 'start', settings, autosave: this.autosave, continue: true });
  }

  async resumeAutosave(): Promise<void> {
    this.progress = null;
    await this.send({ type: 'resume-autosave', autosave: this.autosave });
  }

  async discardAutosave(): Promise<void> {
    await this.send({ type: 'discard-autosave' });
  }

  async evaluate(): Promise<void> {
    await this.modelOperation({ type: 'evaluate' });
  }

  async saveCheckpoint(): Promise<void> {
    await this.modelOperation({ type: 'save-checkpoint' });
  }

  async exportModel(format: 'onnx' | 'safetensors'): Promise<void> {
    await this.modelOperation({ type: 'export-model', format });
  }

  /** Desktop: the native dialog; browser host: called with the file chosen in the page's file input. */
  async loadCheckpoint(file?: File): Promise<void> {
    if (this.transport.kind === 'electron') {
      await this.modelOperation({ type: 'load-checkpoint' });
      return;
    }
    if (!file) return;
    this.modelBusy = true;
    try {
      const upload = await this.transport.upload(file);
      await this.send({ type: 'load-uploaded-checkpoint', upload });
    } catch (error) {
      this.requestError = (error as Error).message;
    } finally {
      this.modelBusy = false;
    }
  }

  private async modelOperation(request: Parameters<Transport['request']>[0]): Promise<void> {
    this.modelBusy = true;
    try {
      await this.send(request);
    } finally {
      this.modelBusy = false;
    }
  }

  async togglePause(): Promise<void> {
    if (this.status === 'running') await this.send({ type: 'pause' });
    else if (this.status === 'paused') await this.send({ type: 'resume' });
  }

  async stop(): Promise<void> {
    if (this.status === 'running' || this.status === 'paused') await this.send({ type: 'stop' });
  }

  async useDefaultData(): Promise<void> {
    this.loading.default = true;
    this.dataErrors.train = this.dataErrors.test = null;
    const response = await this.transport.request({ type: 'load-default-data' });
    this.loading.default = false;
    if (!response.ok) this.dataErrors.train = response.error;
    else if (response.state) this.setState(response.state);
  }

  /** Desktop: the native dialog; browser host: called with the files chosen in the page's file input. */
  async openDataset(role: DatasetRole, files?: File[]): Promise<void> {
    this.loading[role] = true;
    this.dataErrors[role] = null;
    try {
      if (this.transport.kind === 'electron') {
        const response = await this.transport.request({ type: 'open-dataset', role });
        if (!response.ok) this.dataErrors[role] = response.error;
        else if (response.state) this.setState(response.state);
        return;
      }
      if (!files || files.length === 0) return;
      const uploads = await Promise.all(files.map((file) => this.transport.upload(file)));
      const response = await this.transport.request({ type: 'load-uploaded', role, uploads });
      if (!response.ok) this.dataErrors[role] = response.error;
      else if (response.state) this.setState(response.state);
    } catch (error) {
      this.dataErrors[role] = (error as Error).message;
    } finally {
      this.loading[role] = false;
    }
  }

  /** Fetches Fashion-MNIST into the app's data folder, then loads it (progress arrives as events). */
  async downloadData(): Promise<void> {
    if (this.active || this.downloading) return;
    const found = this.state?.defaultData.directory;
    if (found) {
      this.requestError = `Fashion-MNIST is already on this computer (${found}): use it from the Data panel`;
      return;
    }
    this.requestError = null;
    const response = await this.transport.request({ type: 'download-data' });
    // A failed transfer is shown with the download; a failure after it (loading) on the error line.
    if (!response.ok && this.download?.status !== 'failed') this.requestError = response.error;
    else if (response.ok && response.state) this.setState(response.state);
  }

  get downloading(): boolean {
    return this.download?.status === 'downloading' || this.download?.status === 'verifying';
  }

  async cancelDownload(): Promise<void> {
    await this.transport.request({ type: 'cancel-download' });
  }

  /**
   * Files dropped on the window: checkpoints load as the model, data files as the set of the card they were
   * dropped on, else by their names. The desktop app opens them where they are; the browser uploads them.
   */
  async openDropped(files: File[], role: DatasetRole | null): Promise<void> {
    if (files.length === 0 || this.active) return;
    const plan = planOpen(files, (file) => file.name, role);
    const roles = (['train', 'test'] as const).filter((r) => plan[r].length > 0);
    for (const r of roles) {
      this.loading[r] = true;
      this.dataErrors[r] = null;
    }
    this.requestError = null;
    try {
      if (this.transport.kind === 'electron') {
        this.report(await this.transport.openDropped(files, role), roles);
        return;
      }
      for (const r of roles) {
        const uploads = await Promise.all(plan[r].map((file) => this.transport.upload(file)));
        this.report(await this.transport.request({ type: 'load-uploaded', role: r, uploads }), [r]);
      }
      if (plan.checkpoint) {
        const upload = await this.transport.upload(plan.checkpoint);
        this.report(await this.transport.request({ type: 'load-uploaded-checkpoint', upload }), []);
      }
    } catch (error) {
      this.requestError = (error as Error).message;
    } finally {
      for (const r of roles) this.loading[r] = false;
    }
  }

  /** Shows an answer: its state, or its error under the data card concerned (or the run's error line). */
  private report(response: Response, roles: readonly DatasetRole[]): void {
    if (response.ok) {
      if (response.state) this.setState(response.state);
    } else if (roles.length === 1) {
      this.dataErrors[roles[0]] = response.error;
    } else {
      this.requestError = response.error;
    }
  }

  /** Saves a chart image: the save dialog in the desktop app, a download in the browser. */
  async exportImage(name: string, dataUrl: string): Promise<void> {
    if (this.transport.kind === 'electron') {
      const response = await this.transport.request({ type: 'save-file', name, data: dataUrl.slice(dataUrl.indexOf(',') + 1) });
      if (!response.ok) this.requestError = response.error;
      return;
    }
    const link = document.createElement('a');
    link.href = dataUrl;
    link.download = name;
    link.click();
  }

  private async send(request: Parameters<Transport['request']>[0]): Promise<void> {
    this.requestError = null;
    const response = await this.transport.request(request);
    if (!response.ok) {
      this.requestError = response.error;
      return;
    }
    if (response.state) this.setState(response.state);
    // Browser host: the backend prepared a file; fetch it as a download.
    if (response.download) {
      const link = document.createElement('a');
      link.href = response.download.url;
      link.download = response.download.name;
      link.click();
    }
  }

  private async menu(command: string): Promise<void> {
    if (command === 'start') await this.start();
    else if (command === 'pause-resume') await this.togglePause();
    else if (command === 'stop') await this.stop();
    else if (command === 'open-train') await this.openDataset('train');
    else if (command === 'open-test') await this.openDataset('test');
    else if (command === 'use-default-data') await this.useDefaultData();
    else if (command === 'save-checkpoint') await this.saveCheckpoint();
    else if (command === 'load-checkpoint') await this.loadCheckpoint();
    else if (command === 'export-onnx') await this.exportModel('onnx');
    else if (command === 'export-safetensors') await this.exportModel('safetensors');
    else if (command === 'download-data') await this.downloadData();
  }

  private setState(state: StudioState): void {
    const previous = this.state;
    this.state = state;
    if (state.download) this.download = state.download;
    // A new run (or a page that just connected): draw the run in the snapshot from scratch.
    if (!previous || previous.run.id !== state.run.id) {
      // A loaded checkpoint brings its settings: show them, ready to continue.
      if (previous && state.run.status === 'idle' && state.run.settings) {
        for (const { key } of FIELDS) this.fields[key] = formatSetting(key, state.run.settings);
      }
      Object.assign(this.series, emptySeries(), { batchCost: state.run.costPoints.map(([x, y]) => ({ x, y })) });
      for (const summary of state.run.history) this.addEpoch(summary);
      this.chartVersion++;
    }
  }

  private addEpoch(summary: EpochSummary): void {
    if (this.series.epochCost.some((p) => p.x === summary.epoch)) return;
    const percent = (value: number | null): number | null => (value === null ? null : value * 100);
    this.series.epochCost.push({ x: summary.epoch, y: summary.cost });
    this.series.trainAccuracy.push({ x: summary.epoch, y: percent(summary.trainAccuracy)! });
    if (summary.validationAccuracy !== null) this.series.validationAccuracy.push({ x: summary.epoch, y: percent(summary.validationAccuracy)! });
    if (summary.testAccuracy !== null) this.series.testAccuracy.push({ x: summary.epoch, y: percent(summary.testAccuracy)! });
  }
}
