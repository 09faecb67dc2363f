/**
 * The training worker: a thin message loop over the core's StudioSession. Hosts (Electron's main process,
 * the browser host) post { id, request } and receive { id, response } and { event } messages. It must never
 * import Electron: it runs under plain Node threads in both hosts.
 */

import { parentPort, workerData } from 'node:worker_threads';
import type { BackendEvent, Response, WorkerRequest } from '../core/api/contract';
import { StudioSession } from '../core/api/session';
import { enableWasmFeatures } from '../core/engine/runtime';

export type WorkerInbound = { id: number; request: WorkerRequest };
export type WorkerOutbound = { id: number; response: Response } | { event: BackendEvent };
/** What the host tells the worker when starting it. */
export interface WorkerOptions {
  /** The app's data folder for autosaves, or null. */
  dataDirectory: string | null;
  /** Where the app downloads Fashion-MNIST (searched for data right after $FMNIST_DATA), or null. */
  downloadDirectory?: string | null;
}

enableWasmFeatures();
const port = parentPort;
if (!port) throw new Error('the training worker must run in a worker thread');

const options = (workerData ?? { dataDirectory: null }) as WorkerOptions;
const session = new StudioSession({
  emit: (event) => port.postMessage({ event } satisfies WorkerOutbound),
  dataDirectory: options.dataDirectory,
  downloadDirectory: options.downloadDirectory ?? null,
});

port.on('message', (message: WorkerInbound) => {
  void session.handle(message.request).then((response) => port.postMessage({ id: message.id, response } satisfies WorkerOutbound));
});
