/**
 * The page's store: the backend's state as it arrives (snapshots, progress updates, downloads, notices), and
 * the actions the controls call. The settings form, the chart series and saving files live in their own
 * modules (settings-form, chart-series, save-file); a version counter tells the charts when to redraw.
 */

import type {
  BackendEvent,
  DatasetRole,
  DownloadState,
  EpochSummary,
  ExportFormat,
  ProgressUpdate,
  Request,
  Response,
  RunSettings,
  RunStatus,
  StudioState,
} from '@core/shared/contract';
import { type OpenPlan, planOpen } from '@core/shared/open-files';
import { formatBytes } from '@core/shared/format';
import { suggestedModelName } from '@core/shared/file-names';
import { formatRunTime } from '@core/shared/run-display';
import { ChartSeries } from './chart-series';
import { downloadUrl } from './save-file';
import { FIELDS, SettingsForm } from './settings-form.svelte';
import type { Transport } from './transport';

/** One answer to a question: its button's label, and what it does. */
export interface Choice {
  label: string;
  /** The suggested answer (drawn as the primary button). */
  primary?: boolean;
  /** It deletes something (drawn in the danger colour). */
  danger?: boolean;
  proceed: () => Promise<void>;
}

/** A question the user must answer before a request goes ahead; Cancel (or Escape) always changes nothing. */
export interface Confirmation {
  title: string;
  message: string;
  choices: Choice[];
}

/** "784-512-256-10, 8 epochs" — a model as a question names it. */
function modelText(model: NonNullable<StudioState['model']>): string {
  return `${model.architecture}, ${model.epochsDone === null ? 'training unknown' : `${model.epochsDone} epoch${model.epochsDone === 1 ? '' : 's'}`}`;
}

/** When a file was saved, as the Runs tab writes times (", saved 2026-12-06 21:08"; "" when unknown). */
export function savedText(iso: string | null): string {
  const time = formatRunTime(iso);
  return time === '—' ? '' : `, saved ${time}`;
}

const ENDED: readonly RunStatus[] = ['stopped', 'failed', 'finished'];

export class Studio {
  state = $state<StudioState | null>(null);
  progress = $state<ProgressUpdate | null>(null);
  /** The shown run's epochs (the snapshot's, extended by progress updates). */
  history = $state.raw<EpochSummary[]>([]);
  /** Set when the backend cannot be reached. */
  connectionError = $state<string | null>(null);
  loading = $state<Record<DatasetRole | 'default', boolean>>({ train: false, test: false, default: false });
  dataErrors = $state<Record<DatasetRole, string | null>>({ train: null, test: null });
  requestError = $state<string | null>(null);
  /** The Fashion-MNIST download, while one is in progress or after it ended. */
  download = $state<DownloadState | null>(null);
  /** A question waiting for the user (e.g. continuing a model on other data). */
  confirmation = $state<Confirmation | null>(null);
  readonly form = new SettingsForm();
  /** Autosave the run to its own checkpoint in the app's data folder (resumable after a crash). */
  autosave = $state(true);
  /** Working on a model operation (evaluate, save, load, export). */
  modelBusy = $state(false);
  /** What the last save of the model did ("Checkpoint saved to …"); cleared by the next model operation. */
  modelNotice = $state<string | null>(null);
  /** Bumped whenever the chart series change (the cost curve grows with every progress update)… */
  chartVersion = $state(0);
  /** …and when the per-epoch series change (the accuracy chart redraws only then). */
  epochVersion = $state(0);
  readonly series = new ChartSeries();

  constructor(readonly transport: Transport) {}

  get status(): RunStatus {
    return this.state?.run.status ?? 'idle';
  }

  get active(): boolean {
    return this.status === 'running' || this.status === 'paused' || this.status === 'stopping';
  }

  get downloading(): boolean {
    return this.download?.status === 'downloading' || this.download?.status === 'verifying';
  }

  get canStart(): boolean {
    return (
      !!this.state?.datasets.train && !this.active && this.form.valid && !this.loading.train && !this.loading.default
    );
  }

  /** Why Start is unavailable while no run goes on, in words for beside it; null when it is available. */
  get startBlocker(): string | null {
    if (this.active) return null;
    if (this.loading.train || this.loading.default) return 'Loading the training data…';
    if (!this.state?.datasets.train) return 'Load training data to begin.';
    const fields = Object.keys(this.form.errors) as (keyof typeof this.form.errors)[];
    if (fields.length === 0) return null;
    const labels = FIELDS.filter((field) => fields.includes(field.key)).map((field) => field.label);
    return `Fix the setting${labels.length === 1 ? '' : 's'} ${labels.join(', ')} to start.`;
  }

  /** Training can continue the current model: it has Adam's state and the epochs asked for are more. */
  get canContinue(): boolean {
    const model = this.state?.model;
    const settings = this.form.settings();
    return (
      !!model?.resumable &&
      !!settings &&
      settings.epochs > (model.epochsDone ?? 0) &&
      !!this.state?.datasets.train &&
      !this.active
    );
  }

  get lastEpoch(): EpochSummary | null {
    return this.history.at(-1) ?? null;
  }

  async connect(): Promise<void> {
    this.transport.onDisconnect((message) => (this.connectionError = message));
    this.transport.onEvent((event) => this.apply(event));
    const response = await this.transport.request({ type: 'get-state' });
    if (!response.ok) {
      this.connectionError = response.error;
      return;
    }
    const state = response.state;
    this.setState(state);
    this.form.fill(state.run.settings ?? state.defaults);
    // First start: Fashion-MNIST found on this computer is loaded at once, so Start works without a click.
    if (!state.datasets.train && !state.datasets.test && state.defaultData.directory && !this.active)
      await this.useDefaultData();
  }

  apply(event: BackendEvent): void {
    switch (event.type) {
      case 'state':
        this.setState(event.state);
        break;
      case 'progress':
        this.progress = event.progress;
        this.series.addCost(event.progress.costPoints);
        for (const summary of event.progress.completedEpochs) {
          this.series.addEpoch(summary);
          if (!this.history.some((h) => h.epoch === summary.epoch)) this.history = [...this.history, summary];
        }
        this.chartVersion++;
        if (event.progress.completedEpochs.length) this.epochVersion++;
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

  /** The unfinished run offered for resuming, unless a run goes on. */
  get unfinished(): StudioState['autosave']['pending'] {
    return this.active ? null : (this.state?.autosave.pending ?? null);
  }

  /** The model held, when no file holds it (replacing it would lose it). */
  get unsavedModel(): StudioState['model'] {
    const model = this.state?.model ?? null;
    return model && !model.savedAs ? model : null;
  }

  /**
   * A new run. With an unfinished run offered, asks first (resume it, or keep it and start anew); with a
   * model that no file holds, asks before a run replaces it. Cancel changes nothing.
   */
  async start(): Promise<void> {
    const settings = this.form.settings();
    if (!settings || !this.canStart) return;
    const pending = this.unfinished;
    if (pending) {
      this.confirmation = {
        title: 'Resume the unfinished run?',
        message:
          `The run “${pending.name}” (${pending.architecture}, epoch ${pending.epochsDone} of ${pending.epochs}${savedText(pending.savedAt)}) did not finish. ` +
          'Resume it, or keep it (it stays resumable from Runs) and start a new run with these settings',
        choices: [
          { label: 'Resume saved run', primary: true, proceed: () => this.resumeRun(pending.id) },
          {
            label: 'Keep it and start new',
            proceed: () =>
              this.replacingModel('Start a new run?', 'a new run replaces it', 'Start anyway', () =>
                this.startRun(settings, false),
              ),
          },
        ],
      };
      return;
    }
    await this.replacingModel('Start a new run?', 'a new run replaces it', 'Start anyway', () =>
      this.startRun(settings, false),
    );
  }

  async continueTraining(): Promise<void> {
    const settings = this.form.settings();
    if (!settings || !this.canContinue) return;
    await this.startRun(settings, true);
  }

  /**
   * Runs `proceed` at once when the model held is in a file (or there is none); otherwise asks first, saying
   * what would be lost. Saving it first is one of the answers.
   */
  async replacingModel(title: string, what: string, label: string, proceed: () => Promise<void>): Promise<void> {
    const model = this.unsavedModel;
    if (!model) {
      await proceed();
      return;
    }
    this.confirmation = {
      title,
      message: `The model held (${modelText(model)}) is not saved in any file, and ${what}. Save it first, or go on without it`,
      choices: [
        { label: 'Save checkpoint first', primary: true, proceed: () => this.saveCheckpoint() },
        { label, danger: true, proceed },
      ],
    };
  }

  /** Starts a run; a model that would continue on other data than its own asks the user first. */
  private async startRun(settings: RunSettings, continuing: boolean, allowOtherData = false): Promise<void> {
    this.progress = null;
    this.requestError = null;
    const response = await this.transport.request({
      type: 'start',
      settings,
      autosave: this.autosave,
      continue: continuing,
      allowOtherData,
    });
    if (!response.ok && response.confirm === 'train-on-other-data') {
      this.confirmation = {
        title: 'Train on other data?',
        message: response.error.charAt(0).toUpperCase() + response.error.slice(1),
        choices: [
          { label: 'Train on this data', primary: true, proceed: () => this.startRun(settings, continuing, true) },
        ],
      };
      return;
    }
    this.show(response);
  }

  /** The user answered the pending question: one of its choices, or null for Cancel. */
  async answer(choice: Choice | null): Promise<void> {
    this.confirmation = null;
    if (choice) await choice.proceed();
  }

  /** Continues a recorded run from its own checkpoint (asks first when the model held is in no file). */
  async resumeRun(id: string): Promise<void> {
    const go = async (): Promise<void> => {
      this.progress = null;
      await this.send({ type: 'resume-run', id, autosave: this.autosave });
    };
    // The unfinished run's own question already said what happens; a model in no file is asked about.
    await this.replacingModel('Resume the run?', 'resuming the run replaces it', 'Resume anyway', go);
  }

  /** The unfinished run offered: its checkpoint is deleted after asking (its record stays). */
  discardUnfinished(): void {
    const pending = this.unfinished;
    if (!pending) return;
    this.confirmation = {
      title: 'Discard the unfinished run?',
      message:
        `The checkpoint of “${pending.name}” (${pending.architecture}, epoch ${pending.epochsDone} of ${pending.epochs}, ${formatBytes(pending.bytes)}) is deleted, ` +
        'so it can no longer be resumed; its record and charts stay in Runs',
      choices: [
        { label: 'Discard', danger: true, proceed: () => this.send({ type: 'delete-run-files', ids: [pending.id] }) },
      ],
    };
  }

  async evaluate(): Promise<void> {
    await this.modelOperation({ type: 'evaluate' });
  }

  async saveCheckpoint(): Promise<void> {
    const name = this.state ? suggestedModelName('checkpoint', this.state) : null;
    await this.modelOperation({ type: 'save-checkpoint', ...(name ? { name } : {}) }, 'Checkpoint');
  }

  async exportModel(format: ExportFormat): Promise<void> {
    const name = this.state ? suggestedModelName(format, this.state) : null;
    const what: Record<ExportFormat, string> = {
      onnx: 'ONNX model',
      safetensors: 'Weights',
      pytorch: 'PyTorch folder',
    };
    await this.modelOperation({ type: 'export-model', format, ...(name ? { name } : {}) }, what[format]);
  }

  /**
   * Desktop: the native dialog; browser host: `choose` opens the page's file input (whose choice comes back
   * to loadCheckpointFile). A model held in no file is asked about first.
   */
  async loadCheckpoint(choose?: () => void): Promise<void> {
    const load = async (): Promise<void> => {
      if (this.transport.kind === 'electron') await this.modelOperation({ type: 'load-checkpoint' });
      else choose?.();
    };
    await this.replacingModel('Load a checkpoint?', 'loading another replaces it', 'Load anyway', load);
  }

  /** Browser host: loads the checkpoint file chosen in the page. */
  async loadCheckpointFile(file: File): Promise<void> {
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

  /**
   * A request on the model; for a save (`saved` says what is saved), a line confirming where it went: the file
   * written (desktop) or the download offered (browser host).
   */
  private async modelOperation(request: Request, saved?: string): Promise<void> {
    this.modelBusy = true;
    this.modelNotice = null;
    try {
      this.requestError = null;
      const response = await this.transport.request(request);
      this.show(response);
      if (!saved || !response.ok || 'cancelled' in response) return;
      if ('download' in response) this.modelNotice = `${saved} offered as a download: ${response.download.name}.`;
      else if (request.type === 'save-checkpoint' && this.state?.model?.savedAs)
        this.modelNotice = `${saved} saved to ${this.state.model.savedAs}.`;
      else this.modelNotice = `${saved} saved.`;
    } finally {
      this.modelBusy = false;
    }
  }

  async togglePause(): Promise<void> {
    if (this.status === 'running') await this.send({ type: 'pause' });
    else if (this.status === 'paused') await this.send({ type: 'resume' });
  }

  /** Stops the run; during a sweep, the sweep too, even between two of its runs. */
  async stop(): Promise<void> {
    if (this.status === 'running' || this.status === 'paused' || this.state?.sweep) await this.send({ type: 'stop' });
  }

  async useDefaultData(): Promise<void> {
    this.loading.default = true;
    this.dataErrors.train = this.dataErrors.test = null;
    const response = await this.transport.request({ type: 'load-default-data' });
    this.loading.default = false;
    if (!response.ok) this.dataErrors.train = response.error;
    else this.setState(response.state);
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
    else if (response.ok && 'state' in response) this.setState(response.state);
  }

  async cancelDownload(): Promise<void> {
    await this.transport.request({ type: 'cancel-download' });
  }

  /** Desktop: the native dialog; browser host: called with the files chosen in the page's file input. */
  async openDataset(role: DatasetRole, files?: File[]): Promise<void> {
    this.loading[role] = true;
    this.dataErrors[role] = null;
    try {
      if (this.transport.kind === 'electron') {
        this.report(await this.transport.request({ type: 'open-dataset', role }), [role]);
        return;
      }
      if (!files || files.length === 0) return;
      const uploads = await Promise.all(files.map((file) => this.transport.upload(file)));
      this.report(await this.transport.request({ type: 'load-uploaded', role, uploads }), [role]);
    } catch (error) {
      this.dataErrors[role] = (error as Error).message;
    } finally {
      this.loading[role] = false;
    }
  }

  /**
   * Files dropped on the window: checkpoints load as the model, data files as the set of the card they were
   * dropped on, else by their names. The desktop app opens them where they are; the browser uploads them.
   */
  async openDropped(files: File[], role: DatasetRole | null): Promise<void> {
    if (files.length === 0 || this.active) return;
    const plan = planOpen(files, (file) => file.name, role);
    // A checkpoint among them replaces the model held: asked first when no file holds that one.
    if (plan.checkpoint) {
      await this.replacingModel(
        'Open the dropped checkpoint?',
        'opening the checkpoint replaces it',
        'Open anyway',
        () => this.openPlanned(files, role, plan),
      );
    } else {
      await this.openPlanned(files, role, plan);
    }
  }

  private async openPlanned(files: File[], role: DatasetRole | null, plan: OpenPlan<File>): Promise<void> {
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

  /** Saves a chart image: the save dialog in the desktop app, a download in the browser. */
  async exportImage(name: string, dataUrl: string): Promise<void> {
    if (this.transport.kind === 'electron') {
      const response = await this.transport.request({
        type: 'save-file',
        name,
        data: dataUrl.slice(dataUrl.indexOf(',') + 1),
      });
      if (!response.ok) this.requestError = response.error;
      return;
    }
    downloadUrl(dataUrl, name);
  }

  /** Saves text (a CSV): the save dialog in the desktop app, a download in the browser. */
  async exportText(name: string, text: string, type: string): Promise<void> {
    if (this.transport.kind === 'electron') {
      const bytes = new TextEncoder().encode(text);
      let binary = '';
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      const response = await this.transport.request({ type: 'save-file', name, data: btoa(binary) });
      if (!response.ok) this.requestError = response.error;
      return;
    }
    const url = URL.createObjectURL(new Blob([text], { type }));
    downloadUrl(url, name);
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  /** Shows an answer: its state, or its error under the data card concerned (or the run's error line). */
  private report(response: Response, roles: readonly DatasetRole[]): void {
    if (response.ok) {
      if ('state' in response) this.setState(response.state);
    } else if (roles.length === 1) {
      this.dataErrors[roles[0]] = response.error;
    } else {
      this.requestError = response.error;
    }
  }

  private async send(request: Request): Promise<void> {
    this.requestError = null;
    this.show(await this.transport.request(request));
  }

  /** Shows an answer on the run's error line, its state, and fetches a file the browser host prepared. */
  private show(response: Response): void {
    if (!response.ok) {
      this.requestError = response.error;
      return;
    }
    if ('state' in response) this.setState(response.state);
    if ('download' in response) downloadUrl(response.download.url, response.download.name);
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
    else if (command === 'export-pytorch') await this.exportModel('pytorch');
    else if (command === 'export-safetensors') await this.exportModel('safetensors');
    else if (command === 'download-data') await this.downloadData();
  }

  /** A state another view's request brought back (the sweeps'), as if it were this store's own answer. */
  applyState(state: StudioState): void {
    this.setState(state);
  }

  private setState(state: StudioState): void {
    const previous = this.state;
    this.state = state;
    if (state.download) this.download = state.download;
    const run = state.run;
    const newRun = !previous || previous.run.id !== run.id;
    if (run.history !== null && run.costPoints !== null) {
      // A full copy of the run (a new run, a loaded model, a page that just connected): draw it from scratch.
      if (newRun && previous && run.status === 'idle' && run.settings) this.form.fill(run.settings);
      this.history = [...run.history];
      this.series.replace(run.history, run.costPoints);
      this.chartVersion++;
      this.epochVersion++;
    } else if (newRun) {
      this.history = [];
      this.series.replace([], []);
      this.chartVersion++;
      this.epochVersion++;
    } else if (ENDED.includes(run.status) && previous?.run.status !== run.status) {
      // The run ended at its last whole epoch: the epoch it abandoned leaves the charts.
      this.history = this.history.slice(0, run.epochsDone);
      this.series.truncate(run.epochsDone);
      this.chartVersion++;
      this.epochVersion++;
    }
  }
}
