/**
 * Hosts the training worker for either host (Electron's main process or the browser host): forwards
 * requests, routes responses and events, and survives the worker. When it throws or dies, every request
 * waiting for it is answered, a fresh worker is started at once and given back what the user had — the data
 * sets from their files, and the model from the file that holds it (its checkpoint, or the run's autosave
 * after its last whole epoch) — while requests wait; the window then sees one state that says what happened
 * and exactly what was restored or lost. No computation happens here, so the host's thread stays responsive.
 */

import { Worker } from 'node:worker_threads';
import type { Answer, BackendEvent, Response, StudioState, WorkerRequest } from '@core/shared/contract';
import { plural } from '@core/shared/format';
import { userMessage } from '@core/shared/errors';
import type { WorkerInbound, WorkerOptions, WorkerOutbound } from './worker';

/** What a training worker starts with: its options and (by default this process's) environment. */
export interface WorkerLaunch extends WorkerOptions {
  env?: NodeJS.ProcessEnv;
}

/** Heap for the worker's JavaScript objects; the data sets and the engine live outside it. */
const WORKER_HEAP_MB = 1024;

export class BackendHost {
  private worker: Worker | null = null;
  /** A worker being started (and given back the data and model after a crash); requests wait for it. */
  private starting: Promise<void> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (response: Response) => void>();
  private lastState: StudioState | null = null;
  /** Epochs completed by the current run as progress reported them (state events are rare during a run). */
  private runEpochs = 0;
  /** What the last crash did, shown with every state until a new run starts. */
  private failure: string | null = null;
  private disposed = false;

  constructor(
    private readonly workerPath: string,
    private readonly onEvent: (event: BackendEvent) => void,
    /** Read when a worker starts (in Electron the data folder is known only once the app is ready). */
    private readonly options: () => WorkerLaunch = () => ({ dataDirectory: null }),
  ) {}

  async request<R extends WorkerRequest>(request: R): Promise<Answer<R['type']>> {
    if (this.disposed) return { ok: false, error: 'the app is closing' };
    if (!this.worker && !this.starting) this.starting = this.start().finally(() => (this.starting = null));
    if (this.starting) await this.starting;
    if (!this.worker) return { ok: false, error: this.failure ?? 'the training worker could not be started' };
    const response = await this.send(this.worker, request);
    if (response.ok && 'state' in response) {
      this.remember(response.state);
      // Report the last crash with the next state, until a new run starts.
      if (this.failure && request.type === 'start') this.failure = null;
      else if (this.failure) response.state = this.withFailure(response.state);
    }
    // The worker's session answers each request with the answer of its type.
    return response as Answer<R['type']>;
  }

  /** Whether a training worker is running (none before the first request, or while one restarts). */
  hasWorker(): boolean {
    return this.worker !== null;
  }

  /** Whether a run holds the engine, as far as the last state tells. */
  runActive(): boolean {
    const status = this.lastState?.run.status;
    return status === 'running' || status === 'paused' || status === 'stopping';
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const worker = this.worker;
    this.worker = null;
    this.answerPending('the app is closing');
    if (worker) await worker.terminate();
  }

  private send(worker: Worker, request: WorkerRequest): Promise<Response> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ id, request } satisfies WorkerInbound);
    });
  }

  private remember(state: StudioState): void {
    if (state.run.id !== this.lastState?.run.id) this.runEpochs = state.run.epochsDone;
    this.lastState = state;
  }

  private withFailure(state: StudioState): StudioState {
    return { ...state, run: { ...state.run, status: 'failed', error: this.failure } };
  }

  private answerPending(error: string): void {
    for (const resolve of this.pending.values()) resolve({ ok: false, error });
    this.pending.clear();
  }

  /** Starts a worker; after a crash, gives it back the data and model of the last state before anyone else. */
  private async start(): Promise<void> {
    const { env, ...workerData } = this.options();
    let worker: Worker;
    try {
      worker = new Worker(this.workerPath, {
        workerData,
        env: env ?? process.env,
        resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
        stderr: false,
      });
    } catch (error) {
      this.failure = `the training worker could not be started: ${userMessage(error)}`;
      return;
    }
    this.worker = worker;
    let restoring = this.failure !== null;
    /** Whether this worker ever answered: one that dies before it does is not started again on its own. */
    let answered = false;
    worker.on('message', (message: WorkerOutbound) => {
      if ('event' in message) {
        const event = message.event;
        // While the user's data and model are put back, the window keeps showing the failure, not each step.
        if (restoring && event.type === 'state') return;
        if (event.type === 'progress')
          this.runEpochs = Math.max(this.runEpochs, ...event.progress.completedEpochs.map((e) => e.epoch));
        if (event.type === 'state') this.remember(event.state);
        this.onEvent(
          event.type === 'state' && this.failure ? { type: 'state', state: this.withFailure(event.state) } : event,
        );
      } else {
        answered = true;
        const resolve = this.pending.get(message.id);
        this.pending.delete(message.id);
        resolve?.(message.response);
      }
    });
    worker.on('error', (error) => this.lost(worker, userMessage(error), answered));
    worker.on('exit', (code) =>
      this.lost(worker, `the training worker stopped unexpectedly (exit code ${code})`, answered),
    );
    if (!restoring) return;
    const restored = await this.restore(worker, this.lastState, this.runEpochs);
    restoring = false;
    if (this.worker !== worker) return;
    if (restored) this.failure = `${this.failure} ${restored}`;
    const state = await this.send(worker, { type: 'get-state' });
    if (state.ok && 'state' in state) {
      this.remember(state.state);
      this.onEvent({ type: 'state', state: this.withFailure(state.state) });
    }
  }

  /** Loads the data sets and the model of `before` into a fresh worker; says what came back. */
  private async restore(worker: Worker, before: StudioState | null, runEpochs: number): Promise<string | null> {
    const problems: string[] = [];
    for (const role of ['train', 'test'] as const) {
      const dataset = before?.datasets[role];
      if (!dataset || this.worker !== worker) continue;
      const loaded = await this.send(worker, { type: 'load-dataset', role, paths: dataset.paths });
      if (!loaded.ok)
        problems.push(`the ${role === 'train' ? 'training' : 'test'} data could not be reloaded (${loaded.error})`);
    }
    const data =
      before && (before.datasets.train || before.datasets.test)
        ? problems.length
          ? problems.join('; ')
          : 'The data was reloaded'
        : null;
    const model = await this.restoreModel(worker, before, runEpochs);
    const said = [data, model].filter(Boolean).join('; ');
    return said ? `${said.charAt(0).toUpperCase()}${said.slice(1)}.` : null;
  }

  private async restoreModel(worker: Worker, before: StudioState | null, runEpochs: number): Promise<string | null> {
    const run = before?.run;
    const wasRunning = run && ['running', 'paused', 'stopping'].includes(run.status);
    const ranEpochs = wasRunning ? runEpochs - run.epochsDoneAtStart : 0;
    // A run that autosaved its epochs is back at its last whole epoch; otherwise the model it started from.
    const candidates: { file: string; what: string }[] = [];
    /** Why the run's own epochs could not come back, when they cannot. */
    let autosaveProblem: string | null = wasRunning && !run.autosaveFile ? 'autosave was off' : null;
    if (wasRunning && run.autosaveFile && ranEpochs > 0) {
      if (before.autosave.failure) autosaveProblem = `its autosave had failed: ${before.autosave.failure.reason}`;
      else candidates.push({ file: run.autosaveFile, what: 'the run was restored from its autosave' });
    }
    if (before?.model?.savedAs)
      candidates.push({ file: before.model.savedAs, what: `the model was restored from ${before.model.savedAs}` });
    for (const candidate of candidates) {
      if (this.worker !== worker) return null;
      const loaded = await this.send(worker, { type: 'load-checkpoint', path: candidate.file, replaceUnsaved: true });
      if (loaded.ok) {
        if (wasRunning && candidate.file === run.autosaveFile) {
          // The autosave is written every few seconds: it may hold fewer epochs than the run had trained.
          const held = ('state' in loaded ? loaded.state.model?.epochsDone : null) ?? runEpochs;
          const unsaved = runEpochs - held;
          return (
            `the run was restored from its autosave after epoch ${held}` +
            (unsaved > 0 ? ` (the ${plural(unsaved, 'epoch')} after it had not been saved yet)` : '')
          );
        }
        if (!wasRunning || ranEpochs <= 0) return candidate.what;
        return `${candidate.what}, without the run's ${plural(ranEpochs, 'epoch')} (${autosaveProblem ?? 'its autosave could not be read'})`;
      }
      if (candidate.file === run?.autosaveFile) autosaveProblem = `its autosave could not be read: ${loaded.error}`;
    }
    if (wasRunning && ranEpochs > 0)
      return `the run's model (${plural(runEpochs, 'epoch')}) was not saved and is lost${autosaveProblem ? ` (${autosaveProblem})` : ''}`;
    if (before?.model)
      return `the model (${before.model.architecture}, ${before.model.epochsDone === null ? 'training unknown' : plural(before.model.epochsDone, 'epoch')}) was not saved and is lost`;
    return null;
  }

  private lost(worker: Worker, reason: string, answered: boolean): void {
    if (this.worker !== worker) return;
    this.worker = null;
    const wasRunning = this.runActive();
    this.failure = `${wasRunning ? 'training failed' : 'the backend failed'}: ${reason}.`;
    this.answerPending(this.failure);
    if (this.lastState) this.onEvent({ type: 'state', state: this.withFailure(this.lastState) });
    // Give the user back what they had now, not at their next click; but a worker that died before it ever
    // answered (it cannot load, or what it was given back kills it) waits for the next request: no crash loop.
    if (!this.disposed && !this.starting && answered)
      this.starting = this.start().finally(() => (this.starting = null));
  }
}
