/**
 * The browser host (`npm run web`): serves the built renderer and the same backend as the desktop app over
 * a WebSocket, for tests and for users on a headless machine. It listens on 127.0.0.1 only, on a free
 * port. Every request (page, script, upload, download, WebSocket) needs the random token of this launch:
 * in the URL (printed at start), or in the HttpOnly, SameSite=Strict cookie that the first page request
 * with the token sets. Uploads and the WebSocket must also come from this server's own origin. Files are
 * opened by uploading them into a private temporary folder, removed on exit. Data sets are loaded from
 * "uploads" in the host's data folder instead, where their files are moved first: a run's checkpoint records
 * them, so a run can be resumed after a restart. A folder there is removed once nothing names it (neither a
 * loaded data set nor a run that may still be resumed). One host serves a data folder at a time (host-lock.ts),
 * so the folders it sweeps are those its hosts made. Each page's events are queued while its socket is backed
 * up (progress merged into one; a page that falls too far behind is disconnected), and each page has a
 * bounded number of requests in flight.
 */

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  type BackendEvent,
  type DatasetRole,
  type ProgressUpdate,
  type Request,
  type Answer,
  type Response,
  type StudioState,
  SUGGESTED_NAMES,
  validateRequest,
  type WorkerRequest,
} from '@core/shared/contract';
import { encodeMessage } from '@core/shared/wire';
import { plainName } from '@core/shared/file-names';
import { FmnistError, userMessage } from '@core/shared/errors';
import { appDataFolder, DOWNLOAD_FOLDER, runsFolder } from '@core/app-folders';
import { isResumable } from '@core/shared/run-record';
import { RunStore } from '@core/records/store';
import { SweepStore, sweepsFolder } from '@core/sweep/store';
import { BackendHost } from '../worker/backend-host';
import { DataDownloads } from '@core/data/download';
import { claimDataFolder, type HostLock, HostRunningError } from './host-lock';

export const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;
export const MAX_MESSAGE_BYTES = 64 * 1024;
export const MAX_UPLOADS = 64;
/** How long closing waits for the worker to end a run at its last whole epoch and write it to the autosave. */
export const SHUTDOWN_LIMIT_MS = 15_000;
/** A prepared download not fetched within this time is deleted. */
export const DOWNLOAD_LIFETIME_MS = 10 * 60 * 1000;
/** The folder of the host's data folder that holds the files of data sets loaded from uploads. */
export const KEPT_UPLOADS_FOLDER = 'uploads';
/** Requests one page may have waiting for answers; more are refused at once. */
export const MAX_REQUESTS_IN_FLIGHT = 32;
/** A page's socket holding more than this unsent is backed up: its events wait (progress merged) until it drains. */
export const BACKLOG_BYTES = 1024 * 1024;
/**
 * A page with this many messages waiting is disconnected (it reloads to catch up) rather than let its backlog
 * grow without bound: progress merges into one event, so only states, notices and answers pile up.
 */
export const MAX_WAITING_EVENTS = 256;
/** …and so is a page whose merged progress holds this many cost points (a run's worth of them). */
export const MAX_WAITING_POINTS = 100_000;

/** Two progress updates as one: the later one's position, the points and epochs of both. */
/** What waits for a page's socket: an event, or an answer already encoded (text, or a binary frame). */
type Outgoing = { event: BackendEvent } | { answer: string | Uint8Array };

export function mergeProgress(earlier: ProgressUpdate, later: ProgressUpdate): ProgressUpdate {
  return {
    ...later,
    costPoints: [...earlier.costPoints, ...later.costPoints],
    completedEpochs: [...earlier.completedEpochs, ...later.completedEpochs],
  };
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export interface WebHostOptions {
  port?: number;
  rendererDirectory: string;
  workerPath: string;
  /** Fixed token for tests; random by default. */
  token?: string;
  /**
   * The host's own folder: its lock and the uploaded data runs name (default: "browser-host" in the desktop app's data
   * folder).
   */
  dataDirectory?: string;
  /** Where Download Fashion-MNIST puts the files (default: the desktop app's, shared with it). */
  downloadDirectory?: string;
  /**
   * Where runs are recorded (default: the runs folder of the desktop app's data folder, shared with it and
   * the CLI; of the data folder given, when one is).
   */
  runsDirectory?: string;
  /** How long a prepared download waits to be fetched (default DOWNLOAD_LIFETIME_MS; shorter in tests). */
  downloadLifetimeMs?: number;
  /** How long close() waits for the worker to keep a run (default SHUTDOWN_LIMIT_MS). */
  shutdownLimitMs?: number;
  /** The environment of the host and its training worker (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** The largest upload (default MAX_UPLOAD_BYTES; smaller in tests). */
  maxUploadBytes?: number;
}

export interface WebHost {
  url: string;
  port: number;
  token: string;
  /**
   * Stops serving, lets the worker keep a run for the next start (within a time limit), then removes the temporary
   * files.
   */
  close(): Promise<void>;
}

/** The request's URL, or null when it cannot be parsed. */
function parseUrl(request: IncomingMessage): URL | null {
  try {
    return new URL(request.url ?? '/', 'http://127.0.0.1');
  } catch {
    return null;
  }
}

/** decodeURIComponent without throwing on malformed escapes (null instead). */
function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

function sameToken(given: string | null | undefined, token: string): boolean {
  if (typeof given !== 'string' || given.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
}

/** The value of one cookie of a Cookie header, or null. */
function cookieValue(request: IncomingMessage, name: string): string | null {
  for (const pair of (request.headers.cookie ?? '').split(';')) {
    const separator = pair.indexOf('=');
    if (separator > 0 && pair.slice(0, separator).trim() === name) return pair.slice(separator + 1).trim();
  }
  return null;
}

/**
 * Removes a folder of ours without throwing: one that cannot go now (held open on Windows) goes at exit with the rest.
 */
async function removeFolder(folder: string): Promise<void> {
  try {
    await rm(folder, { recursive: true, force: true });
  } catch {
    // Left for close(), which removes the whole temporary folder.
  }
}

/**
 * The data files that runs which may still be resumed name (stopped or interrupted, their own checkpoint
 * there, not continued since), and those of sweeps not finished; null when that cannot be known now (a record
 * cannot be read), so nothing should be removed.
 */
export async function resumableSources(store: RunStore): Promise<string[] | null> {
  const { runs, damaged, warnings } = await store.list();
  if (damaged.length > 0 || warnings.some((warning) => warning.endsWith('(no runs listed)'))) return null;
  // A sweep not finished goes on with its data (even stopped between two runs, when no run of it is resumable).
  const sweeps = await new SweepStore(sweepsFolder(store.folder)).list();
  if (sweeps.damaged.length > 0 || sweeps.warnings.some((warning) => warning.endsWith('(no sweeps listed)')))
    return null;
  const sweepData = sweeps.sweeps
    .filter((sweep) => sweep.status !== 'finished')
    .flatMap((sweep) => [...sweep.data.train, ...(sweep.data.test ?? [])]);
  // A run training now names its data too (it becomes resumable the moment it stops).
  return runs
    .filter((run) => run.status === 'running' || isResumable(run, runs))
    .flatMap((run) => [...(run.data.sources?.train ?? []), ...(run.data.sources?.test ?? [])])
    .concat(sweepData);
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const rendererRoot = await realpath(options.rendererDirectory);
  const uploadRoot = await mkdtemp(join(tmpdir(), 'fmnist-studio-uploads-'));
  const uploads = new Map<string, string>();
  /** Uploads received or under way: taken as a request arrives, before anything is awaited, so none can overtake. */
  let uploadSlots = 0;
  const downloads = new Map<string, { path: string; name: string; expiry: NodeJS.Timeout }>();
  /**
   * Each page's socket, and what waits to be sent to it while it is backed up: events and answers, in order (an
   * answer never overtakes an event that came before it).
   */
  const clients = new Map<WebSocket, { waiting: Outgoing[]; timer: NodeJS.Timeout | null; inFlight: number }>();
  /** Sends what a page's socket can take now; the rest waits for it to drain. */
  const flush = (client: WebSocket): void => {
    const queue = clients.get(client);
    if (!queue) return;
    while (queue.waiting.length > 0 && client.bufferedAmount < BACKLOG_BYTES) {
      const next = queue.waiting.shift()!;
      client.send('answer' in next ? next.answer : JSON.stringify({ event: next.event }));
    }
    const last = queue.waiting.at(-1);
    const points =
      last && 'event' in last && last.event.type === 'progress' ? last.event.progress.costPoints.length : 0;
    if (queue.waiting.length > MAX_WAITING_EVENTS || points > MAX_WAITING_POINTS) {
      client.terminate();
      return;
    }
    if (queue.waiting.length > 0) queue.timer ??= setTimeout(() => ((queue.timer = null), flush(client)), 50);
  };
  /** Queues a message for a page (progress merged into the progress waiting last) and sends what it can. */
  const enqueue = (client: WebSocket, message: Outgoing): void => {
    const queue = clients.get(client);
    if (!queue) return;
    const last = queue.waiting.at(-1);
    if (
      'event' in message &&
      message.event.type === 'progress' &&
      last &&
      'event' in last &&
      last.event.type === 'progress'
    ) {
      last.event = { type: 'progress', progress: mergeProgress(last.event.progress, message.event.progress) };
    } else {
      queue.waiting.push(message);
    }
    flush(client);
  };
  const broadcast = (event: BackendEvent): void => {
    if (event.type === 'state') observe(event.state);
    for (const client of clients.keys()) enqueue(client, { event });
  };
  // Its own subfolder of the app's data folder: the desktop app's uploads are never touched from here.
  const env = options.env ?? process.env;
  const dataDirectory = options.dataDirectory ?? join(appDataFolder(env), 'browser-host');
  const downloadDirectory = options.downloadDirectory ?? join(appDataFolder(env), DOWNLOAD_FOLDER);
  const runsDirectory = options.runsDirectory ?? runsFolder(options.dataDirectory ?? appDataFolder(env));
  await mkdir(dataDirectory, { recursive: true }).catch(() => undefined);
  const claim = await claimDataFolder(dataDirectory).catch(async (error: unknown) => {
    await rm(uploadRoot, { recursive: true, force: true });
    throw error;
  });
  if ('running' in claim) {
    await rm(uploadRoot, { recursive: true, force: true });
    throw new HostRunningError(
      claim.running.url,
      claim.running.pid,
      dataDirectory,
      claim.running.otherHost,
      claim.running.file,
    );
  }
  const lock: HostLock = claim.lock;
  const runs = new RunStore(runsDirectory);
  // Absolute: the paths recorded in an autosave must not depend on the working folder.
  const keptRoot = resolve(dataDirectory, KEPT_UPLOADS_FOLDER);
  const backend = new BackendHost(options.workerPath, broadcast, () => ({
    dataDirectory,
    downloadDirectory,
    runsDirectory,
    env,
  }));
  /** The worker's last state, which names the data sets loaded and the autosave. */
  let lastState: StudioState | null = null;
  /** Kept folders being filled and loaded, which no state names yet. */
  const keeping = new Set<string>();
  /** The sweep under way, if any, and whether a state came since it started (it then sweeps again). */
  let sweeping: Promise<void> | null = null;
  let sweepWanted = false;

  /**
   * Removes the kept folders nothing names: no run that may still be resumed, nor (unless the host is
   * closing) a loaded data set. Nothing is known before the first state (a new launch), so nothing goes
   * before it.
   */
  const sweepKept = async (keepLoaded: boolean): Promise<void> => {
    if (!lastState) return;
    const named = await resumableSources(runs);
    if (!named) return;
    const folders = await readdir(keptRoot).catch(() => []);
    // The state as it is now, after the waits.
    const { datasets } = lastState;
    if (keepLoaded) named.push(...(datasets.train?.paths ?? []), ...(datasets.test?.paths ?? []));
    // A kept file is <keptRoot>/<folder>/<name>, the folder a random 128-bit name: matched by that name, a path
    // is recognised whichever way the data folder was spelt when it was recorded (a symbolic link, say).
    const inUse = new Set(named.map((path) => basename(dirname(path))));
    for (const folder of folders)
      if (!inUse.has(folder) && !keeping.has(folder)) await removeFolder(join(keptRoot, folder));
  };
  /** What a sweep depends on in a state: the data sets loaded and the run's status (a run that ends may free data). */
  let sweptFor = '';
  /**
   * Notes the worker's newest state; a sweep follows when what it depends on changed (one at a time: states
   * come in bursts, and a burst is one sweep), so the runs folder is not listed at every state.
   */
  function observe(state: StudioState): void {
    lastState = state;
    const key = JSON.stringify([
      state.datasets.train?.paths,
      state.datasets.test?.paths,
      state.run.id,
      state.run.status,
      state.autosave.pending?.id,
    ]);
    if (key === sweptFor) return;
    sweptFor = key;
    sweepWanted = true;
    sweeping ??= (async () => {
      try {
        while (sweepWanted) {
          sweepWanted = false;
          await sweepKept(true);
        }
      } finally {
        sweeping = null;
      }
    })();
  }
  /** A request to the worker, whose answer's state is noted like those of its events. */
  const ask = async <R extends WorkerRequest>(request: R): Promise<Answer<R['type']>> => {
    const response = await backend.request(request);
    if (response.ok && 'state' in response) observe(response.state);
    return response;
  };
  const dataDownloads = new DataDownloads(downloadDirectory, broadcast, () => ask({ type: 'load-default-data' }), env);
  let origin = '';
  let allowedHosts: string[] = [];
  // Cookies are shared by all ports of a host: each launch names its own after its port.
  let cookieName = '';

  /** The launch's token, in the URL's ?token= or (once the page has loaded) in its cookie. */
  const hasToken = (request: IncomingMessage, url: URL | null): boolean =>
    sameToken(url?.searchParams.get('token'), token) || sameToken(cookieValue(request, cookieName), token);
  const forbidden = (): string =>
    `Fashion-MNIST Studio: open the URL that npm run web printed (${origin}/?token=…); every request needs its token.\n`;
  /** A 403 that says what to do, on a connection then closed (a refused upload's body is never read). */
  const refuse403 = (request: IncomingMessage, response: ServerResponse): void => {
    response.setHeader('connection', 'close');
    response
      .writeHead(403, {
        'content-type': 'text/plain; charset=utf-8',
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      })
      .end(forbidden(), () => request.destroy());
  };

  /** Requests must come from this server's own page: right Host (no DNS rebinding) and right Origin. */
  const fromOwnPage = (request: IncomingMessage): boolean => {
    const host = request.headers.host ?? '';
    return allowedHosts.includes(host) && request.headers.origin === `http://${host}`;
  };

  const serveStatic = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = parseUrl(request);
    if (!hasToken(request, url)) {
      refuse403(request, response);
      return;
    }
    // The page's own requests (scripts, styles, icons) carry no token: the cookie does it for them.
    if (sameToken(url?.searchParams.get('token'), token)) {
      response.setHeader('set-cookie', `${cookieName}=${token}; Path=/; HttpOnly; SameSite=Strict`);
    }
    const relative = url && safeDecode(url.pathname === '/' ? '/index.html' : url.pathname);
    if (relative === null) {
      response.writeHead(400).end();
      return;
    }
    const file = resolve(rendererRoot, `.${relative}`);
    if (!file.startsWith(rendererRoot + sep)) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      const headers: Record<string, string> = {
        'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      };
      if (extname(file) === '.html') {
        headers['content-security-policy'] =
          "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
          `connect-src 'self' ws://${allowedHosts[0]}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;
      }
      response.writeHead(200, headers).end(body);
    } catch {
      response.writeHead(404).end();
    }
  };

  const receiveUpload = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const reply = (status: number, body: object): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    // A refused upload is answered at once and its connection closed: its body is never read.
    const refuse = (status: number, error: string): void => {
      response.setHeader('connection', 'close');
      response
        .writeHead(status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error }), () => request.destroy());
    };
    if (
      !fromOwnPage(request) ||
      !(sameToken(request.headers['x-studio-token'] as string | undefined, token) || hasToken(request, null))
    ) {
      refuse403(request, response);
      return;
    }
    // Without a Content-Length (a chunked body) the size is counted as it arrives.
    const declared = request.headers['content-length'];
    const length = declared === undefined ? 0 : Number(declared);
    const limit = options.maxUploadBytes ?? MAX_UPLOAD_BYTES;
    const tooLarge = `uploads are limited to ${limit % 2 ** 20 === 0 ? `${limit / 2 ** 20} MB` : `${limit} bytes`}`;
    if (!Number.isFinite(length) || length > limit) {
      refuse(413, tooLarge);
      return;
    }
    if (uploadSlots >= MAX_UPLOADS) {
      refuse(429, 'too many uploads since the browser host started; restart it');
      return;
    }
    uploadSlots++;
    const name =
      basename(safeDecode(String(request.headers['x-file-name'] ?? 'upload')) ?? 'upload').replace(/[^\w.\- ]/g, '_') ||
      'upload';
    const id = randomBytes(16).toString('hex');
    const folder = join(uploadRoot, id);
    const path = join(folder, name);
    let received = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        done(received > limit ? new FmnistError('bad-input', tooLarge) : null, chunk);
      },
    });
    try {
      await mkdir(folder);
      // A declared body is exactly content-length bytes (Node's parser holds the client to it); a chunked
      // one is counted on its way to the disk.
      await pipeline(request, counted, createWriteStream(path, { flags: 'wx' }));
      uploads.set(id, path);
      reply(200, { id, name });
    } catch (error) {
      uploadSlots--;
      await rm(folder, { recursive: true, force: true });
      if (received > limit) refuse(413, tooLarge);
      else if (!response.headersSent) reply(400, { error: `upload failed: ${userMessage(error)}` });
    }
  };

  /**
   * A prepared file (checkpoint, export), once, to a link with this launch's token; then it is deleted (also when it is
   * not fetched in time).
   */
  const serveDownload = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = parseUrl(request);
    if (!hasToken(request, url)) {
      refuse403(request, response);
      return;
    }
    const id = url?.pathname.slice('/download/'.length) ?? '';
    const file = downloads.get(id);
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    downloads.delete(id);
    clearTimeout(file.expiry);
    try {
      const body = await readFile(file.path);
      await rm(join(file.path, '..'), { recursive: true, force: true });
      response
        .writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-disposition': `attachment; filename="${file.name}"`,
          'x-content-type-options': 'nosniff',
          'cache-control': 'no-store',
        })
        .end(body);
    } catch {
      response.writeHead(404).end();
    }
  };

  const server = createServer((request, response) => {
    if (!allowedHosts.includes(request.headers.host ?? '')) {
      response.writeHead(421).end();
      return;
    }
    // No request may take the host down: an unexpected failure is a 500 for that request only.
    const handled = (work: Promise<void>): void => {
      work.catch(() => (response.headersSent ? response.destroy() : response.writeHead(500).end()));
    };
    if (request.method === 'PUT' && request.url === '/upload') handled(receiveUpload(request, response));
    else if (request.method === 'GET' && request.url?.startsWith('/download/'))
      handled(serveDownload(request, response));
    else if (request.method === 'GET' || request.method === 'HEAD') handled(serveStatic(request, response));
    else response.writeHead(405).end();
  });

  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
  });
  server.on('upgrade', (request, socket, head) => {
    const url = parseUrl(request);
    if (!url || url.pathname !== '/backend' || !fromOwnPage(request) || !hasToken(request, url)) {
      const body = Buffer.from(forbidden());
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit('connection', ws, request));
  });

  /** Saves or exports into a private folder, then offers the file as a download. */
  const prepareDownload = async (
    request: Extract<Request, { type: 'save-checkpoint' | 'export-model' }>,
  ): Promise<Response> => {
    const id = randomBytes(16).toString('hex');
    const kind = request.type === 'export-model' ? request.format : 'checkpoint';
    // A PyTorch export is a folder: offered as one zip file holding it.
    const name = `${plainName(request.name ?? '', kind) ?? SUGGESTED_NAMES[kind]}${kind === 'pytorch' ? '.zip' : ''}`;
    const folder = join(uploadRoot, `download-${id}`);
    await mkdir(folder);
    const path = join(folder, name);
    const response =
      request.type === 'export-model'
        ? await ask({ type: 'export-model', format: request.format, path })
        : await ask({ type: 'save-checkpoint', path, download: true });
    if (!response.ok) {
      await removeFolder(folder);
      return response;
    }
    const expiry = setTimeout(() => {
      downloads.delete(id);
      void removeFolder(folder);
    }, options.downloadLifetimeMs ?? DOWNLOAD_LIFETIME_MS);
    // A download left waiting never keeps the process alive.
    expiry.unref();
    downloads.set(id, { path, name, expiry });
    return { ...response, download: { url: `/download/${id}?token=${token}`, name } };
  };

  /**
   * A refusal that names the file the user chose ("bad.png: is not a safetensors file"), not the host's copy of it
   * in a folder of its own, whose path means nothing to the user.
   */
  const namingChosenFiles = <R extends Response>(response: R, paths: string[]): R => {
    if (response.ok || !('error' in response) || typeof response.error !== 'string') return response;
    let error = response.error;
    for (const path of paths) error = error.split(path).join(basename(path));
    return { ...response, error };
  };

  /**
   * Loads uploaded files as a data set from a folder of their own in the data folder, where they are moved
   * first, so the paths the data set (and so an autosave) records stay valid after a restart.
   */
  const loadUploadedData = async (role: DatasetRole, sources: string[]): Promise<Response> => {
    const folder = randomBytes(16).toString('hex');
    const target = join(keptRoot, folder);
    keeping.add(folder);
    try {
      const paths: string[] = [];
      await mkdir(target, { recursive: true, mode: 0o700 });
      for (const source of sources) {
        let path = join(target, basename(source));
        // Two uploads of the same name stay apart.
        for (let n = 2; paths.includes(path); n++) path = join(target, `${n}-${basename(source)}`);
        // Copied, not renamed: the temporary folder is often on another file system.
        await copyFile(source, path);
        await removeFolder(dirname(source));
        paths.push(path);
      }
      const response = await ask({ type: 'load-dataset', role, paths });
      if (!response.ok) await removeFolder(target);
      return namingChosenFiles(response, paths);
    } catch (error) {
      await removeFolder(target);
      throw new FmnistError('io', `cannot keep the uploaded files in the data folder: ${userMessage(error)}`);
    } finally {
      keeping.delete(folder);
    }
  };

  const serveRequest = async (request: Request): Promise<Response> => {
    switch (request.type) {
      case 'open-dataset':
      case 'load-checkpoint':
      case 'save-file':
        return { ok: false, error: 'the browser host opens files by upload and saves them by download' };
      case 'save-checkpoint':
      case 'export-model':
        return prepareDownload(request);
      case 'load-uploaded-checkpoint': {
        const path = uploads.get(request.upload);
        if (!path) return { ok: false, error: 'unknown upload: upload the file again' };
        // The page asked before a checkpoint replaces a model held in no file.
        return namingChosenFiles(await ask({ type: 'load-checkpoint', path, replaceUnsaved: true }), [path]);
      }
      case 'load-uploaded': {
        const paths = request.uploads.map((id) => uploads.get(id));
        if (paths.some((p) => p === undefined) || new Set(request.uploads).size < request.uploads.length) {
          return { ok: false, error: 'unknown upload: upload the file again' };
        }
        // Taken at once, so no other request can load them too: the page uploads each file it opens.
        for (const id of request.uploads) uploads.delete(id);
        return loadUploadedData(request.role, paths as string[]);
      }
      case 'get-state':
        return dataDownloads.withState(await ask(request));
      case 'download-data':
        return dataDownloads.start();
      case 'cancel-download':
        return dataDownloads.cancel();
      case 'delete-runs':
      case 'delete-run-files':
        // The runs deleted may have been all that named some kept data: it is looked at again.
        sweptFor = '';
        return ask(request);
      default:
        return ask(request);
    }
  };

  sockets.on('connection', (ws: WebSocket) => {
    const queue = { waiting: [] as Outgoing[], timer: null as NodeJS.Timeout | null, inFlight: 0 };
    clients.set(ws, queue);
    ws.on('close', () => {
      if (queue.timer) clearTimeout(queue.timer);
      clients.delete(ws);
    });
    // Oversized or malformed frames: ws closes the connection (1009/1002) and reports it here; never crash on it.
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      let id: unknown = null;
      void (async () => {
        let response: Response;
        try {
          if (isBinary) throw new Error('binary messages are not accepted');
          const message = JSON.parse(String(data)) as { id?: unknown; request?: unknown };
          id = message.id;
          if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new Error('a request needs a numeric id');
          if (queue.inFlight >= MAX_REQUESTS_IN_FLIGHT)
            throw new Error(`too many requests at once (at most ${MAX_REQUESTS_IN_FLIGHT} wait for answers)`);
          queue.inFlight++;
          try {
            response = await serveRequest(validateRequest(message.request));
          } finally {
            queue.inFlight--;
          }
        } catch (error) {
          response = { ok: false, error: userMessage(error) };
        }
        // Typed arrays (images, outputs, weights) go as one binary frame, everything else as JSON text.
        if (ws.readyState === ws.OPEN) enqueue(ws, { answer: encodeMessage({ id, response }) });
      })();
    });
  });

  await new Promise<void>((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      void rm(uploadRoot, { recursive: true, force: true });
      void lock.release();
      fail(
        new FmnistError(
          'io',
          error.code === 'EADDRINUSE' ? `port ${options.port} is already in use on 127.0.0.1` : userMessage(error),
        ),
      );
    });
    server.listen(options.port ?? 0, '127.0.0.1', done);
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  cookieName = `fmnist-studio-${port}`;
  // A second start on this folder prints this address (the file is the user's own: 0600).
  await lock.setUrl(`${origin}/?token=${token}`).catch(() => undefined);

  const close = async (): Promise<void> => {
    dataDownloads.cancel();
    // No new requests: pages are disconnected, and uploads still arriving are cut off.
    for (const client of clients.keys()) client.terminate();
    sockets.close();
    const closed = new Promise<void>((done) => server.close(() => done()));
    server.closeAllConnections();
    await closed;
    // A run ends at its last whole epoch and is written to its own checkpoint, so the next start offers to resume it.
    if (backend.hasWorker()) {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>(
        (done) => (timer = setTimeout(done, options.shutdownLimitMs ?? SHUTDOWN_LIMIT_MS)),
      );
      await Promise.race([ask({ type: 'shutdown' }), limit]);
      clearTimeout(timer);
    }
    await backend.dispose();
    // After a restart only the data of runs that may be resumed is needed.
    await sweeping;
    await sweepKept(false);
    await rm(uploadRoot, { recursive: true, force: true });
    await lock.release();
  };
  let closing: Promise<void> | null = null;

  return {
    url: `${origin}/?token=${token}`,
    port,
    token,
    close: () => (closing ??= close()),
  };
}
