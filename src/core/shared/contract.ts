/**
 * The contract between the user interface and the backend: every request, response and event, and the
 * validation the backend applies to each incoming request (types and ranges; anything else is refused
 * with a clear message). Imported by the renderer, the preload, both hosts and the training worker, so it
 * imports nothing from Node, Electron or the DOM.
 */

import { DEFAULT_CONFIG, RECIPE_FIELDS, resolveRunConfig, type RunConfig } from './config';
import { describeValue, FmnistError } from './errors';
import { type DamagedRun, MAX_NAME_CHARS, MAX_NOTE_CHARS, RUN_ID, type RunRecord } from './run-record';
import type { EpochSummary } from './events';
import type { CombinationResult } from './sweep/aggregate';
import { checkSweepPlan, type SweepPlan } from './sweep/plan';
import type { ListedSweepStatus, SweepRunEntry } from './sweep/record';

export type { EpochSummary } from './events';
export type { DamagedRun, RunFiles, RunRecord, RunRecordStatus } from './run-record';

/** The settings the app lets users change (the training recipes included); Adam's β1, β2 and ε keep their defaults. */
export type RunSettings = Omit<RunConfig, 'beta1' | 'beta2' | 'epsilon'>;

export const SETTING_KEYS: readonly (keyof RunSettings)[] = [
  'epochs',
  'batchSize',
  'learningRate',
  'hiddenSizes',
  'seed',
  'validationFraction',
  'limit',
  'threads',
  ...RECIPE_FIELDS,
];

export const DEFAULT_SETTINGS: RunSettings = Object.freeze({
  ...Object.fromEntries(SETTING_KEYS.map((key) => [key, DEFAULT_CONFIG[key]])),
  hiddenSizes: [...DEFAULT_CONFIG.hiddenSizes],
}) as RunSettings;

export type DatasetRole = 'train' | 'test';

export interface DatasetInfo {
  role: DatasetRole;
  /** The file it was read from (shown to the user). */
  source: string;
  /** Every file it was read from (images and labels), so it can be read again. */
  paths: string[];
  count: number;
  /** Images per class 0–9. */
  classCounts: number[];
  /** Sample images, 784 bytes each, base64-encoded: the first of each class, then the second (10 to a row). */
  samples: string;
  sampleLabels: number[];
}

/** idle → running ⇄ paused → stopping → stopped; running → finished | failed. A new run starts from any end. */
export type RunStatus = 'idle' | 'running' | 'paused' | 'stopping' | 'finished' | 'stopped' | 'failed';

/** A point of the smoothed per-batch cost curve: [epoch position (e.g. 2.5 = half of epoch 3), mean cost]. */
export type CostPoint = [number, number];

export interface RunInfo {
  /** Counts the runs since the worker started (0 before the first), so the page knows a new run from the same one. */
  id: number;
  status: RunStatus;
  settings: RunSettings | null;
  epochsDone: number;
  /**
   * The run's epochs and cost curve (bounded: merged pairwise when it grows long) in full, or null when they
   * have not changed since the last full copy of this run: the page then keeps its own, extended by progress
   * updates and cut back to epochsDone when a run ends. So no message grows with the length of a run.
   */
  history: EpochSummary[] | null;
  costPoints: CostPoint[] | null;
  kernels: string | null;
  threads: number | null;
  trainingSamples: number;
  validationSamples: number;
  /** Why the run failed (divergence, a worker crash), as one line. */
  error: string | null;
  /** How a finished run ended beyond its status (stopped early, best epoch kept), as one line; else null. */
  outcome: string | null;
  /** Where this run writes its epochs (null: autosave off), and the epochs its model had when it started. */
  autosaveFile: string | null;
  epochsDoneAtStart: number;
}

/** Why the last autosave failed; kept until a later one succeeds. */
export interface AutosaveFailure {
  file: string;
  reason: string;
  /** The epoch whose save failed. */
  epoch: number;
}

/** The model the app holds: the last run's, or one loaded from a checkpoint. */
export interface ModelInfo {
  /** The checkpoint file it was loaded from, or null for a model trained since the app started. */
  file: string | null;
  architecture: string;
  hiddenSizes: number[];
  /** Epochs trained; null when unknown (a bare state dict records neither settings nor history). */
  epochsDone: number | null;
  /** It carries Adam's state, so training can continue exactly. */
  resumable: boolean;
  /** The settings it was trained with (null when unknown: a bare state dict). */
  settings: RunSettings | null;
  /** A file that holds exactly this model (loaded from, saved to, or its autosave), if any. */
  savedAs: string | null;
  /** The data it was trained on (its training file and fingerprint), null when unknown. */
  trainedOn: string | null;
}

export interface EvaluationInfo {
  count: number;
  accuracy: number;
  cost: number;
}

/**
 * The model the gallery, the evaluation and the network view show, with its outputs on the test set: the
 * model held, or while a run goes on, the model of its last whole epoch. Typed arrays travel as binary (a
 * structured clone over Electron's IPC, binary frames over the browser host's WebSocket).
 */
export interface ModelInsight {
  /** Equal keys, equal contents: the page asks again only when the state names another key. */
  key: string;
  /** 'run': the last whole epoch of the run in progress; 'model': the model held. */
  source: 'run' | 'model';
  /** Epochs the model was trained (null when unknown: a bare state dict). */
  epochsDone: number | null;
  hiddenSizes: number[];
  /** The canonical layout: weights[l] is [inputs × outputs], row-major. */
  weights: Float32Array[];
  biases: Float32Array[];
  /** Its outputs on the test set loaded now; null when none is loaded. */
  test: TestOutputsInfo | null;
}

export interface TestOutputsInfo {
  /** The test set's fingerprint (the page fetches its images once per fingerprint). */
  fingerprint: string;
  count: number;
  /** Predicted class per image. */
  predictions: Uint8Array;
  /** Ten class probabilities per image, row-major. */
  probabilities: Float32Array;
  accuracy: number;
  cost: number;
}

/** The test set's images (count × 784 bytes) and labels, for the gallery. */
export interface TestImages {
  fingerprint: string;
  count: number;
  images: Uint8Array;
  labels: Uint8Array;
}

/**
 * The newest recorded run, when it did not reach its last epoch (stopped, or its process killed) and its own
 * checkpoint holds its last whole epoch: offered for resuming.
 */
export interface UnfinishedRun {
  /** Its record's id. */
  id: string;
  /** The name to show: the user's, or the id. */
  name: string;
  epochsDone: number;
  epochs: number;
  /** When its checkpoint was last written (its last epoch). */
  savedAt: string | null;
  architecture: string;
  /** The data files it was trained on (which must be kept until it is resumed or its files are deleted). */
  dataSources: { train: string[]; test: string[] | null } | null;
  /** Bytes its own checkpoints take. */
  bytes: number;
}

/** The recorded runs (summaries only), oldest first, and a line for each file that was skipped. */
export interface RunListing {
  /** The runs folder; null when the app has none (no data folder). */
  folder: string | null;
  /** This computer's name: a running record of another computer is not judged here (it may be deleted anyway). */
  host: string;
  runs: RunRecord[];
  /** Records that cannot be read: their ids and what is wrong (they can be deleted). */
  damaged: DamagedRun[];
  warnings: string[];
}

/** Per-epoch histories of runs, by id, and a line for each that could not be read. */
export interface RunHistories {
  histories: Record<string, EpochSummary[]>;
  warnings: string[];
}

/** ONNX and weights-only safetensors files, and a PyTorch folder (train.py, the checkpoint) that continues the run. */
export const EXPORT_FORMATS = ['onnx', 'safetensors', 'pytorch'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface StudioState {
  version: string;
  datasets: { train: DatasetInfo | null; test: DatasetInfo | null };
  model: ModelInfo | null;
  /** The last evaluation of the model on the test set. */
  evaluation: EvaluationInfo | null;
  /**
   * Whether runs can be autosaved (there is a runs folder), the unfinished run to offer for
   * resuming, and why the last save failed.
   */
  autosave: { available: boolean; pending: UnfinishedRun | null; failure: AutosaveFailure | null };
  /** Where Fashion-MNIST was found without asking, or where the search looked. */
  defaultData: { directory: string | null; searched: string };
  run: RunInfo;
  defaults: RunSettings;
  /** CPU cores, the default thread count. */
  cores: number;
  /** The Fashion-MNIST download, added by the host to answers of get-state (the worker knows none). */
  download?: DownloadState | null;
  /**
   * The key of what get-insight answers now (null: no model). While a run goes on it names the run's last
   * whole epoch as of this state; progress updates tell of later epochs.
   */
  insightKey: string | null;
  /** While a run goes on, the start of its insight keys (so the page knows a shown epoch is of this run). */
  insightRun: string | null;
  /** The sweep under way, if any: its name and the run it trains now ("run 3 of 6: lr 0.001 · seed 2"). */
  sweep: SweepState | null;
}

export interface SweepState {
  id: string;
  name: string;
  /** The planned run being trained, counted from 1 over the whole plan; 0 before the first starts. */
  position: number;
  total: number;
  /** The run's swept settings and seed, as its name in the run history ends: "lr 0.001 · seed 2". */
  settings: string;
  stopping: boolean;
}

/** A sweep as the page lists it: its plan, each planned run, and the results per combination of settings. */
export interface SweepListing {
  id: string;
  name: string;
  status: ListedSweepStatus;
  createdAt: string;
  plan: SweepPlan;
  runs: SweepRunEntry[];
  results: CombinationResult[];
}

/** A new sweep from the page: the settings form as the runs' shared settings, the plan, and a name ("" for none). */
export interface SweepStart {
  settings: RunSettings;
  plan: SweepPlan;
  name: string;
}

/** Throttled progress of the current run: at most 2 per second, whatever the batch size. */
export interface ProgressUpdate {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  epochCost: number;
  epochAccuracy: number;
  samplesPerSecond: number;
  elapsedMs: number;
  etaMs: number;
  /** Cost points completed since the previous update. */
  costPoints: CostPoint[];
  /** Epochs completed since the previous update (all run messages share the 20-per-second budget). */
  completedEpochs: EpochSummary[];
}

/** Commands of the application menu (Electron), forwarded to the window. */
export type MenuCommand =
  | 'start'
  | 'pause-resume'
  | 'stop'
  | 'open-train'
  | 'open-test'
  | 'use-default-data'
  | 'save-checkpoint'
  | 'load-checkpoint'
  | 'export-onnx'
  | 'export-pytorch'
  | 'export-safetensors'
  | 'download-data';

/** Where the download of Fashion-MNIST into the app's data folder stands. */
export interface DownloadState {
  status: 'idle' | 'downloading' | 'verifying' | 'finished' | 'failed' | 'cancelled';
  /** The file being fetched or checked now. */
  file: string | null;
  /** Bytes of all four files received so far (including what an earlier, interrupted attempt kept). */
  receivedBytes: number;
  /** Bytes of all four files (known once each answer arrives; the published sizes before). */
  totalBytes: number;
  error: string | null;
  /** Where the files go. */
  directory: string;
}

export type BackendEvent =
  | { type: 'state'; state: StudioState }
  | { type: 'progress'; progress: ProgressUpdate }
  | { type: 'menu'; command: MenuCommand }
  | { type: 'download'; download: DownloadState }
  /**
   * Something the user should read that no request of theirs returned (a file opened from outside, a failed
   * open-recent).
   */
  | { type: 'notice'; tone: 'error' | 'info'; message: string };

/** Requests from the user interface. */
export type Request =
  | { type: 'get-state' }
  | { type: 'load-default-data' }
  /** Electron: choose files with the native open dialog, then load them. */
  | { type: 'open-dataset'; role: DatasetRole }
  /** Browser host: load files uploaded earlier (ids returned by the upload endpoint). */
  | { type: 'load-uploaded'; role: DatasetRole; uploads: string[] }
  /**
   * A new run (fresh weights), or with `continue` the current model trained on to `settings.epochs`; on other
   * training data than the model's only with `allowOtherData` (the user confirmed it).
   */
  | { type: 'start'; settings: RunSettings; autosave: boolean; continue: boolean; allowOtherData: boolean }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'evaluate' }
  /** Electron: the native save dialog; browser host: a download. `name` is the file name to suggest. */
  | { type: 'save-checkpoint'; name?: string }
  | { type: 'export-model'; format: ExportFormat; name?: string }
  /** Electron: the native open dialog. */
  | { type: 'load-checkpoint' }
  /** Browser host: a checkpoint uploaded earlier. */
  | { type: 'load-uploaded-checkpoint'; upload: string }
  /** Continue a recorded run from its own checkpoint (the unfinished run offered, or one chosen in Runs). */
  | { type: 'resume-run'; id: string; autosave: boolean }
  /** Electron: save bytes (base64) with the native save dialog, e.g. a chart as PNG. */
  | { type: 'save-file'; name: string; data: string }
  /** Fetch the original Fashion-MNIST files into the app's data folder, then load them. */
  | { type: 'download-data' }
  | { type: 'cancel-download' }
  /** The model to show (weights) and its outputs on the test set. */
  | { type: 'get-insight' }
  /** The test set's images and labels. */
  | { type: 'get-test-images' }
  | RunRequest
  | SweepRequest;

/** Sweeps: start one (it trains its runs one after another), resume one that stopped, list them all. */
export type SweepRequest =
  { type: 'start-sweep'; sweep: SweepStart } | { type: 'resume-sweep'; id: string } | { type: 'list-sweeps' };

/** Requests about the recorded runs (the runs folder); the same from the page and from the hosts. */
export type RunRequest =
  | { type: 'list-runs' }
  | { type: 'get-run-history'; ids: string[] }
  | { type: 'rename-run'; id: string; name: string }
  | { type: 'note-run'; id: string; note: string }
  /**
   * Deletes records and their own checkpoints (never copies saved elsewhere); `force`: also one recorded as
   * training on another computer.
   */
  | { type: 'delete-runs'; ids: string[]; force?: boolean }
  /** Deletes runs' own checkpoints; their records stay. */
  | { type: 'delete-run-files'; ids: string[]; force?: boolean }
  /**
   * Loads the checkpoint a run saved (as load-checkpoint does), if it still holds that run's model;
   * `replaceUnsaved` as for load-checkpoint.
   */
  | { type: 'open-run-checkpoint'; id: string; replaceUnsaved?: boolean };

/** Requests the hosts send to the training worker (file paths only ever come from the hosts). */
export type WorkerRequest =
  | { type: 'get-state' }
  | { type: 'load-default-data' }
  | { type: 'load-dataset'; role: DatasetRole; paths: string[] }
  | { type: 'start'; settings: RunSettings; autosave: boolean; continue: boolean; allowOtherData: boolean }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'evaluate' }
  /** `download`: a temporary file the browser host offers as a download (no run record remembers it). */
  | { type: 'save-checkpoint'; path: string; download?: boolean }
  | { type: 'export-model'; format: ExportFormat; path: string }
  /** `replaceUnsaved`: the user agreed to replace a model held in no file (else such a load is refused). */
  | { type: 'load-checkpoint'; path: string; replaceUnsaved?: boolean }
  | { type: 'resume-run'; id: string; autosave: boolean }
  | { type: 'get-insight' }
  | { type: 'get-test-images' }
  /** The app is quitting: end a run at its last whole epoch and keep that for resuming at the next start. */
  | { type: 'shutdown' }
  | RunRequest
  | SweepRequest;

/** The training worker as the hosts reach it: each request answered with the answer of its type. */
export interface Backend {
  request<R extends WorkerRequest>(request: R): Promise<Answer<R['type']>>;
}

/** A file the browser host prepared for download (its URL carries the launch token). */
export interface Download {
  url: string;
  name: string;
}

/** A request that failed: one line for the user. */
export interface Refusal {
  ok: false;
  error: string;
  /** The request can go ahead if the user agrees (ask, then send it again allowing it). */
  confirm?: 'train-on-other-data';
}

/** The studio as it is after the request. */
interface WithState {
  state: StudioState;
}

/** The user closed a dialog (open, save) without choosing a file: nothing happened. */
interface Cancelled {
  cancelled: true;
}

/** A save in the browser host: the file is offered as a download. */
interface Offered extends WithState {
  download: Download;
}

/** Nothing to tell beyond success. */
type Done = Record<never, never>;

/** What each request answers when it succeeds, beside `ok: true`: the page's requests and the hosts'. */
export interface Answers {
  'get-state': WithState;
  'load-default-data': WithState;
  'open-dataset': WithState | Cancelled;
  'load-uploaded': WithState;
  'load-dataset': WithState;
  start: WithState;
  pause: WithState;
  resume: WithState;
  stop: WithState;
  evaluate: WithState;
  'save-checkpoint': WithState | Offered | Cancelled;
  'export-model': WithState | Offered | Cancelled;
  'load-checkpoint': WithState | Cancelled;
  'load-uploaded-checkpoint': WithState;
  'resume-run': WithState;
  'save-file': Done | Cancelled;
  /** Cancelled when the user cancelled the download. */
  'download-data': WithState | Cancelled;
  'cancel-download': Done;
  'get-insight': { insight: ModelInsight };
  'get-test-images': { testImages: TestImages };
  shutdown: WithState;
  'list-runs': { runs: RunListing };
  'start-sweep': WithState;
  'resume-sweep': WithState;
  /** Every sweep, newest first, and a line for each record that could not be read. */
  'list-sweeps': { sweeps: SweepListing[]; warnings: string[] };
  'get-run-history': { runHistories: RunHistories };
  /** The record as it is after the edit. */
  'rename-run': { run: RunRecord };
  'note-run': { run: RunRecord };
  /** The runs left. */
  'delete-runs': { runs: RunListing };
  'delete-run-files': { runs: RunListing };
  'open-run-checkpoint': WithState;
}

/** The answer to a request of type T. */
export type Answer<T extends keyof Answers> = ({ ok: true } & Answers[T]) | Refusal;

/** Any answer (for code that passes answers on without looking inside). */
export type Response = Answer<keyof Answers>;

/** File names suggested when saving. */
export const SUGGESTED_NAMES: Record<'checkpoint' | ExportFormat, string> = {
  checkpoint: 'fashion-mnist-checkpoint.safetensors',
  onnx: 'fashion-mnist.onnx',
  safetensors: 'fashion-mnist-weights.safetensors',
  pytorch: 'fashion-mnist-pytorch',
};

/** The one bridge object the preload exposes as `window.studio`. */
export interface StudioBridge {
  request<R extends Request>(request: R): Promise<Answer<R['type']>>;
  onEvent(listener: (event: BackendEvent) => void): () => void;
  /**
   * Electron: opens files dropped on the window (the page's File objects; their paths are read in the preload,
   * so the page never names a path). `role` is the data card they were dropped on, if any.
   */
  openDropped(files: readonly unknown[], role: DatasetRole | null): Promise<Response>;
}

/** What the preload sends on the open-files channel: paths of dropped files. */
export interface OpenFilesMessage {
  paths: string[];
  role: DatasetRole | null;
}

export const MAX_OPEN_FILES = 8;
const MAX_PATH_CHARS = 4096;

/** Validates an open-files message from the preload. */
export function validateOpenFiles(value: unknown): OpenFilesMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw refuse('not an object');
  const raw = value as Record<string, unknown>;
  checkKeys(raw, ['paths', 'role']);
  const { paths, role } = raw;
  if (!Array.isArray(paths) || paths.length < 1 || paths.length > MAX_OPEN_FILES)
    throw refuse(`open 1 to ${MAX_OPEN_FILES} files at a time`);
  if (!paths.every((p) => typeof p === 'string' && p.length > 0 && p.length <= MAX_PATH_CHARS && !p.includes('\0'))) {
    throw refuse('malformed file path');
  }
  return { paths: paths as string[], role: role === null ? null : checkRole(role) };
}

export const UPLOAD_ID = /^[0-9a-f]{32}$/;
export const MAX_UPLOADS_PER_REQUEST = 4;
/** The largest chart image or file the renderer may hand to save-file (base64 characters). */
export const MAX_SAVE_FILE_CHARS = 32 * 1024 * 1024;
export const MAX_FILE_NAME = 200;
/** The most runs one request may name (the charts overlay at most this many). */
export const MAX_RUNS_PER_REQUEST = 100;

function refuse(problem: string): FmnistError {
  return new FmnistError('bad-option', `invalid request: ${problem}`);
}

function checkKeys(value: Record<string, unknown>, allowed: string[]): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) throw refuse(`unexpected field "${key}"`);
}

function checkFlag(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw refuse(`${name} must be true or false`);
  return value;
}

function checkRole(value: unknown): DatasetRole {
  if (value !== 'train' && value !== 'test') throw refuse('role must be "train" or "test"');
  return value;
}

/** Checks the settings of a run: the same rules as the CLI, with the field named in the message. */
export function validateSettings(value: unknown): RunSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw refuse('settings must be an object');
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!(SETTING_KEYS as string[]).includes(key)) throw refuse(`unknown setting "${key}"`);
  }
  for (const key of SETTING_KEYS) if (raw[key] === undefined) throw refuse(`setting "${key}" is missing`);
  const config = resolveRunConfig(raw);
  const settings = {} as Record<string, unknown>;
  for (const key of SETTING_KEYS) settings[key] = config[key];
  return settings as unknown as RunSettings;
}

function checkRunId(value: unknown): string {
  if (typeof value !== 'string' || !RUN_ID.test(value)) throw refuse('malformed run id');
  return value;
}

function checkRunIds(value: unknown): string[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > MAX_RUNS_PER_REQUEST)
    throw refuse(`ids must list 1 to ${MAX_RUNS_PER_REQUEST} runs`);
  return value.map(checkRunId);
}

/** A sweep's id, as its store makes them (the run ids' form). */
const SWEEP_ID = RUN_ID;

/** The longest file name a page may suggest for a save. */
const MAX_FILE_NAME_CHARS = 255;

function checkText(value: unknown, name: string, max: number): string {
  if (typeof value !== 'string' || value.length > max)
    throw refuse(`${name} must be text of at most ${max} characters`);
  return value;
}

/** Validates a request from the user interface; throws an FmnistError naming the problem. */
export function validateRequest(value: unknown): Request {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw refuse('not an object');
  const raw = value as Record<string, unknown>;
  switch (raw.type) {
    case 'get-state':
    case 'load-default-data':
    case 'pause':
    case 'resume':
    case 'stop':
    case 'evaluate':
    case 'load-checkpoint':
    case 'download-data':
    case 'cancel-download':
    case 'get-insight':
    case 'get-test-images':
    case 'list-runs':
    case 'list-sweeps':
      checkKeys(raw, ['type']);
      return { type: raw.type };
    case 'get-run-history':
      checkKeys(raw, ['type', 'ids']);
      return { type: raw.type, ids: checkRunIds(raw.ids) };
    case 'delete-runs':
    case 'delete-run-files':
      checkKeys(raw, ['type', 'ids', 'force']);
      return {
        type: raw.type,
        ids: checkRunIds(raw.ids),
        ...(raw.force === undefined ? {} : { force: checkFlag(raw.force, 'force') }),
      };
    case 'rename-run':
      checkKeys(raw, ['type', 'id', 'name']);
      return { type: 'rename-run', id: checkRunId(raw.id), name: checkText(raw.name, 'the name', MAX_NAME_CHARS) };
    case 'note-run':
      checkKeys(raw, ['type', 'id', 'note']);
      return { type: 'note-run', id: checkRunId(raw.id), note: checkText(raw.note, 'the note', MAX_NOTE_CHARS) };
    case 'open-run-checkpoint':
      checkKeys(raw, ['type', 'id', 'replaceUnsaved']);
      return {
        type: 'open-run-checkpoint',
        id: checkRunId(raw.id),
        ...(raw.replaceUnsaved === undefined
          ? {}
          : { replaceUnsaved: checkFlag(raw.replaceUnsaved, 'replaceUnsaved') }),
      };
    case 'save-checkpoint':
      checkKeys(raw, ['type', 'name']);
      return {
        type: 'save-checkpoint',
        ...(raw.name === undefined ? {} : { name: checkText(raw.name, 'the file name', MAX_FILE_NAME_CHARS) }),
      };
    case 'export-model':
      checkKeys(raw, ['type', 'format', 'name']);
      if (!EXPORT_FORMATS.includes(raw.format as ExportFormat))
        throw refuse('format must be "onnx", "safetensors" or "pytorch"');
      return {
        type: 'export-model',
        format: raw.format as ExportFormat,
        ...(raw.name === undefined ? {} : { name: checkText(raw.name, 'the file name', MAX_FILE_NAME_CHARS) }),
      };
    case 'load-uploaded-checkpoint':
      checkKeys(raw, ['type', 'upload']);
      if (typeof raw.upload !== 'string' || !UPLOAD_ID.test(raw.upload)) throw refuse('malformed upload id');
      return { type: 'load-uploaded-checkpoint', upload: raw.upload };
    case 'resume-run':
      checkKeys(raw, ['type', 'id', 'autosave']);
      return { type: 'resume-run', id: checkRunId(raw.id), autosave: checkFlag(raw.autosave, 'autosave') };
    case 'open-dataset':
      checkKeys(raw, ['type', 'role']);
      return { type: 'open-dataset', role: checkRole(raw.role) };
    case 'load-uploaded': {
      checkKeys(raw, ['type', 'role', 'uploads']);
      const uploads = raw.uploads;
      if (!Array.isArray(uploads) || uploads.length < 1 || uploads.length > MAX_UPLOADS_PER_REQUEST) {
        throw refuse(`uploads must list 1 to ${MAX_UPLOADS_PER_REQUEST} files`);
      }
      if (!uploads.every((id) => typeof id === 'string' && UPLOAD_ID.test(id))) throw refuse('malformed upload id');
      return { type: 'load-uploaded', role: checkRole(raw.role), uploads: uploads as string[] };
    }
    case 'start-sweep': {
      checkKeys(raw, ['type', 'sweep']);
      const sweep = raw.sweep as Record<string, unknown>;
      if (typeof sweep !== 'object' || sweep === null || Array.isArray(sweep)) throw refuse('sweep must be an object');
      checkKeys(sweep, ['settings', 'plan', 'name']);
      const settings = validateSettings(sweep.settings);
      const plan = sweep.plan as SweepPlan;
      if (typeof plan !== 'object' || plan === null || !Array.isArray(plan.axes) || !Array.isArray(plan.seeds))
        throw refuse('a sweep plan needs axes and seeds');
      return {
        type: 'start-sweep',
        sweep: {
          settings,
          // Its own checks: the settings swept, their values by each setting's rule, the seeds, the number of runs.
          plan: checkSweepPlan(
            {
              axes: plan.axes.map((axis) => ({
                field: axis?.field,
                values: Array.isArray(axis?.values) ? axis.values : [],
              })),
              seeds: plan.seeds,
            },
            resolveRunConfig({ ...settings }),
          ),
          name: checkText(sweep.name, 'the sweep name', MAX_NAME_CHARS),
        },
      };
    }
    case 'resume-sweep':
      checkKeys(raw, ['type', 'id']);
      if (typeof raw.id !== 'string' || !SWEEP_ID.test(raw.id)) throw refuse('malformed sweep id');
      return { type: 'resume-sweep', id: raw.id };
    case 'start':
      checkKeys(raw, ['type', 'settings', 'autosave', 'continue', 'allowOtherData']);
      return {
        type: 'start',
        settings: validateSettings(raw.settings),
        autosave: checkFlag(raw.autosave, 'autosave'),
        continue: checkFlag(raw.continue, 'continue'),
        allowOtherData: checkFlag(raw.allowOtherData, 'allowOtherData'),
      };
    case 'save-file': {
      checkKeys(raw, ['type', 'name', 'data']);
      const { name, data } = raw;
      if (typeof name !== 'string' || name.length < 1 || name.length > MAX_FILE_NAME || /[/\\\0]/.test(name)) {
        throw refuse('the file name must be a plain name without folders');
      }
      if (typeof data !== 'string' || data.length > MAX_SAVE_FILE_CHARS || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
        throw refuse('the file data must be base64, at most 32 MB');
      }
      return { type: 'save-file', name, data };
    }
    default:
      throw refuse(raw.type === undefined ? 'a request needs a type' : `unknown type ${describeValue(raw.type)}`);
  }
}
