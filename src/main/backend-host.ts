/**
 * Hosts the training worker for either host (Electron's main process or the browser host): forwards
 * requests, routes responses and events, and survives the worker: when it throws or dies, the failure is
 * reported as the run's error and the next request starts a fresh worker that reads the data sets of the
 * last known state again. No computation happens here, so the host's thread stays responsive.
 */

import { Worker } from 'node:worker_threads';
import type { BackendEvent, Response, StudioState, WorkerRequest } from '../core/api/contract';
import { userMessage } from '../core/errors';
import type { WorkerInbound, WorkerOptions, WorkerOutbound } from './worker';

/** Heap for the worker's JavaScript objects; the data sets and the engine live outside it. */
const WORKER_HEAP_MB = 1024;

export class BackendHost {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (response: Response) => void>();
  private lastState: StudioState | null = null;
  private failure: string | null = null;

  constructor(
    private readonly workerPath: string,
    private readonly onEvent: (event: BackendEvent) => void,
    /** Read when a worker starts (in Electron the data folder is known only once the app is ready). */
    private readonly options: () => WorkerOptions = () => ({ dataDirectory: null }),
  ) {}

  async request(request: WorkerRequest): Promise<Response> {
    if (!this.worker) await this.spawn();
    const response = await this.send(request);
    if (response.ok && response.state) this.lastState = response.state;
    // Report the last crash with the next state, until a new run starts.
    if (this.failure && response.ok && response.state) {
      if (request.type === 'start') this.failure = null;
      else response.state.run = { ...response.state.run, status: 'failed', error: this.failure };
    }
    return response;
  }

  /** Whether a training worker is running (none before the first request, or after a crash). */
  hasWorker(): boolean {
    return this.worker !== null;
  }

  /** Whether a run holds the engine, as far as the last state tells. */
  runActive(): boolean {
    const status = this.lastState?.run.status;
    return status === 'running' || status === 'paused' || status === 'stopping';
  }

  async dispose(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private send(request: WorkerRequest): Promise<Response> {
    const worker = this.worker;
    if (!worker) return Promise.resolve({ ok: false, error: this.failure ?? 'the training worker is not running' });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ id, request } satisfies WorkerInbound);
    });
  }

  private async spawn(): Promise<void> {
    const worker = new Worker(this.workerPath, {
      workerData: this.options(),
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      stderr: false,
    });
    this.worker = worker;
    worker.on('message', (message: WorkerOutbound) => {
      if ('event' in message) {
        if (message.event.type === 'state') this.lastState = message.event.state;
        this.onEvent(message.event);
      } else {
        const resolve = this.pending.get(message.id);
        this.pending.delete(message.id);
        resolve?.(message.response);
      }
    });
    worker.on('error', (error) => this.lost(worker, userMessage(error)));
    worker.on('exit', (code) => this.lost(worker, `the training worker stopped unexpectedly (exit code ${code})`));
    // Put the user's data back after a crash: the data sets of the last known state, from their files.
    // (Taken before replaying: each load publishes a new state.)
    const datasets = this.lastState?.datasets;
    for (const role of ['train', 'test'] as const) {
      const dataset = datasets?.[role];
      if (!dataset || this.worker !== worker) continue;
      await this.send({ type: 'load-dataset', role, paths: dataset.paths });
    }
  }

  private lost(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    const wasRunning = this.lastState && ['running', 'paused', 'stopping'].includes(this.lastState.run.status);
    this.failure = `${wasRunning ? 'training failed' : 'the backend failed'}: ${reason}`;
    for (const resolve of this.pending.values()) resolve({ ok: false, error: this.failure });
    this.pending.clear();
    if (this.lastState) {
      const state: StudioState = { ...this.lastState, run: { ...this.lastState.run, status: 'failed', error: this.failure } };
      this.lastState = state;
      this.onEvent({ type: 'state', state });
    }
  }
}
