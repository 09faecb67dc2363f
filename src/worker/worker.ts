/**
 * The training worker: a thin message loop over the core's StudioSession. Hosts (Electron's main process,
 * the browser host) post { id, request } and receive { id, response } and { event } messages. A message of
 * any other shape is answered with an error (id null when it has no usable id): a thrown exception would
 * end the thread, and with it the run. It must never import Electron: it runs under plain Node threads in
 * both hosts.
 */

import { parentPort, workerData } from 'node:worker_threads';
import type { BackendEvent, Response, WorkerRequest } from '@core/shared/contract';
import { StudioSession } from '@core/backend/session';
import { enableWasmFeatures } from '@core/engine/runtime';

export type WorkerInbound = { id: number; request: WorkerRequest };
export type WorkerOutbound = { id: number; response: Response } | { event: BackendEvent };
/** The answer to a message without a usable id (hosts never send one; nothing waits for it). */
export type WorkerRefusal = { id: null; response: Response };
/** What the host tells the worker when starting it. */
export interface WorkerOptions {
  /** The app's data folder, or null. */
  dataDirectory: string | null;
  /** Where the app downloads Fashion-MNIST (searched for data right after $FMNIST_DATA), or null. */
  downloadDirectory?: string | null;
  /** Where every run is recorded (the data folder's runs folder), or null for no records. */
  runsDirectory?: string | null;
}

enableWasmFeatures();
const port = parentPort;
if (!port) throw new Error('the training worker must run in a worker thread');

const options = (workerData ?? { dataDirectory: null }) as WorkerOptions;
const session = new StudioSession({
  emit: (event) => port.postMessage({ event } satisfies WorkerOutbound),
  dataDirectory: options.dataDirectory,
  downloadDirectory: options.downloadDirectory ?? null,
  runsDirectory: options.runsDirectory ?? null,
});

/** Every request type the session serves (the Record makes the compiler check it against the contract). */
const REQUEST_TYPES: Record<WorkerRequest['type'], true> = {
  'get-state': true,
  'load-default-data': true,
  'load-dataset': true,
  start: true,
  pause: true,
  resume: true,
  stop: true,
  evaluate: true,
  'save-checkpoint': true,
  'export-model': true,
  'load-checkpoint': true,
  'resume-run': true,
  'get-insight': true,
  'get-test-images': true,
  shutdown: true,
  'list-runs': true,
  'get-run-history': true,
  'rename-run': true,
  'note-run': true,
  'delete-runs': true,
  'delete-run-files': true,
  'open-run-checkpoint': true,
  'start-sweep': true,
  'resume-sweep': true,
  'list-sweeps': true,
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The message as a host's request, or why it is not one. (The hosts build each request's fields from validated input.)
 */
function parseMessage(message: unknown): WorkerInbound | { id: number | null; error: string } {
  const id = isObject(message) && Number.isSafeInteger(message.id) ? (message.id as number) : null;
  if (id === null || !isObject(message) || !isObject(message.request))
    return { id, error: 'it needs a numeric id and a request' };
  const type = message.request.type;
  if (typeof type !== 'string' || !Object.hasOwn(REQUEST_TYPES, type))
    return { id, error: `unknown request "${String(type)}"` };
  return { id, request: message.request as WorkerRequest };
}

port.on('message', (message: unknown) => {
  const parsed = parseMessage(message);
  if ('error' in parsed) {
    const response: Response = { ok: false, error: `malformed message to the training worker: ${parsed.error}` };
    port.postMessage({ id: parsed.id, response } satisfies WorkerOutbound | WorkerRefusal);
    return;
  }
  // handle() answers every failure of a request with { ok: false }: it never rejects.
  void session
    .handle(parsed.request)
    .then((response) => port.postMessage({ id: parsed.id, response } satisfies WorkerOutbound));
});
