/**
 * Downloading Fashion-MNIST into the app's data folder, when the user asks (it is the only network access
 * the app makes). The four original .gz files are fetched one after another into `.download/<name>.part`,
 * resumed with an HTTP range request after an interruption (also after a restart), checked against the
 * SHA-256 and size of their decompressed contents (so a mirror that re-compressed them still passes, and a
 * damaged or foreign file never does), and kept in `.download/` until all are verified; then they are
 * renamed into place together, all or nothing (a rename that fails undoes the ones before it). A file
 * already in place and verified is kept, so only missing or damaged files are fetched. Cancelling keeps
 * what arrived for next time.
 */

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Answer, BackendEvent, DownloadState, Response } from '@core/shared/contract';
import { asFileError, FmnistError, userMessage } from '@core/shared/errors';

export interface DownloadFile {
  name: string;
  /** SHA-256 of the decompressed file. */
  sha256: string;
  /** Bytes of the decompressed file. */
  size: number;
  /** Bytes of the .gz as published, for progress before the server says. */
  compressedSize: number;
}

/** The original files, as linked from https://github.com/zalandoresearch/fashion-mnist#get-the-data. */
export const FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

export const FASHION_MNIST_FILES: readonly DownloadFile[] = [
  {
    name: 'train-images-idx3-ubyte.gz',
    sha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    size: 47_040_016,
    compressedSize: 26_421_880,
  },
  {
    name: 'train-labels-idx1-ubyte.gz',
    sha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    size: 60_008,
    compressedSize: 29_515,
  },
  {
    name: 't10k-images-idx3-ubyte.gz',
    sha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    size: 7_840_016,
    compressedSize: 4_422_102,
  },
  {
    name: 't10k-labels-idx1-ubyte.gz',
    sha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
    size: 10_008,
    compressedSize: 5_148,
  },
];

/** A download with no byte for this long is given up (it can be resumed). */
const STALL_MS = 30_000;
/** Progress reports at most this often. */
const PROGRESS_MS = 100;

export interface DownloadOptions {
  directory: string;
  /** Where the files are, ending in "/" (default: $FMNIST_DOWNLOAD_URL or the original location). */
  baseUrl?: string;
  files?: readonly DownloadFile[];
  signal?: AbortSignal;
  onProgress?: (state: DownloadState) => void;
  stallMs?: number;
}

/** The base URL to download from: $FMNIST_DOWNLOAD_URL (a mirror of the four files) or the original. */
export function downloadBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.FMNIST_DOWNLOAD_URL || FASHION_MNIST_URL;
  return url.endsWith('/') ? url : `${url}/`;
}

export function initialDownloadState(
  directory: string,
  files: readonly DownloadFile[] = FASHION_MNIST_FILES,
): DownloadState {
  return {
    status: 'idle',
    file: null,
    receivedBytes: 0,
    totalBytes: files.reduce((sum, f) => sum + f.compressedSize, 0),
    error: null,
    directory,
  };
}

async function sizeOf(path: string): Promise<number | null> {
  const info = await stat(path).catch(() => null);
  return info?.isFile() ? info.size : null;
}

/** SHA-256 and size of a gzip file's contents; null when it is not valid gzip. */
async function contentsDigest(path: string): Promise<{ sha256: string; size: number } | null> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    await pipeline(createReadStream(path), createGunzip(), async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) {
        hash.update(chunk);
        size += chunk.length;
      }
    });
  } catch {
    return null;
  }
  return { sha256: hash.digest('hex'), size };
}

async function verified(path: string, file: DownloadFile): Promise<boolean> {
  const digest = await contentsDigest(path);
  return digest !== null && digest.sha256 === file.sha256 && digest.size === file.size;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** One line for a failed request: what the server or the network said. */
function networkProblem(error: unknown, url: string): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code ?? (error as { code?: string })?.code;
  if (code === 'ERR_INVALID_URL') return 'is not a valid URL (check $FMNIST_DOWNLOAD_URL)';
  // Any other code is the network's, for a URL that parsed.
  if (code) return `cannot reach ${new URL(url).host} (${code}); check the connection or proxy, then try again`;
  return `${userMessage(cause ?? error)}; try again`;
}

/**
 * Downloads every file not yet in `directory` (resuming partial ones), verifies each, and moves them into
 * place together. Throws an FmnistError (kind "stopped" when cancelled) with one line naming the file.
 */
export async function downloadDataset(options: DownloadOptions): Promise<void> {
  const files = options.files ?? FASHION_MNIST_FILES;
  const baseUrl = options.baseUrl ?? downloadBaseUrl();
  // Files arrive in .download/ and move into place together, once all are verified (see moveIntoPlace), so
  // that the download does not leave the folder holding part of the data set (which the data search would
  // find and half-use).
  const staging = join(options.directory, '.download');
  const progress = new ProgressReport(options.directory, files, options.onProgress);
  const cancelled = (): boolean => options.signal?.aborted === true;
  try {
    await mkdir(staging, { recursive: true });
  } catch (error) {
    throw asFileError(error, options.directory);
  }
  try {
    // A file already in place and verified stays (and is not fetched again); only the missing or damaged
    // ones are fetched, and only they are moved in.
    const inPlace = await Promise.all(
      files.map(async (file) => {
        const target = join(options.directory, file.name);
        const size = await sizeOf(target);
        return size !== null && (await verified(target, file)) ? size : null;
      }),
    );
    const toMove: DownloadFile[] = [];
    for (const [index, file] of files.entries()) {
      const size = inPlace[index];
      if (size !== null) {
        progress.received(index, size, size);
        continue;
      }
      toMove.push(file);
      const staged = join(staging, file.name);
      const stagedSize = await sizeOf(staged);
      if (stagedSize !== null && (await verified(staged, file))) {
        progress.received(index, stagedSize, stagedSize);
        continue;
      }
      progress.phase('downloading', file.name);
      const part = `${staged}.part`;
      await fetchResumable(`${baseUrl}${file.name}`, part, file, options, (bytes, total) =>
        progress.received(index, bytes, total),
      );
      progress.phase('verifying', file.name);
      if (!(await verified(part, file))) {
        await rm(part, { force: true });
        progress.received(index, 0, null);
        throw new FmnistError(
          'bad-input',
          "does not match Fashion-MNIST's published contents (damaged in transit, or not the original file); it was removed, so the next try starts it afresh",
          { file: `${baseUrl}${file.name}` },
        );
      }
      await moveFile(part, staged);
      if (cancelled()) throw new FmnistError('stopped', 'the download was cancelled');
    }
    await moveIntoPlace(toMove, staging, options.directory);
    await rm(staging, { recursive: true, force: true });
    progress.phase('finished', null);
  } finally {
    progress.close();
  }
}

/** Test seam: called before each rename of the move into place and of its undo, to simulate a failure. */
export const downloadMoveHooks: { beforeRename?: (from: string, to: string) => Promise<void> | void } = {};

async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    throw asFileError(error, to);
  }
}

/**
 * Moves the verified `files` from `staging` into `directory`, all or nothing: when a rename fails, the ones
 * already done are undone in reverse order, so once it returns the folder holds the whole set or what it
 * held before (a damaged file it replaced included), and the verified files wait in `staging` for the next
 * try (while it runs, a reader may see the renames one by one: no platform has a multi-file rename). Should
 * an undo fail too, the others are still undone and that one verified file stays in place, where the next
 * try keeps it.
 *
 * Why file by file with an undo rather than filling a fresh folder and renaming it over this one: the data
 * folder is not ours alone (it holds .download/, and the data search or another program may have a file in
 * it open), and on Windows a folder with any file open inside cannot be renamed, while no platform renames
 * a folder over a non-empty one, so a folder swap needs a moment with no folder at all and can fail half
 * way just the same. Single-file renames are all that is needed here; a rename over (or of) a file another
 * program holds open fails on Windows (EPERM, EBUSY), and that failure is exactly what the undo handles. A
 * file to be replaced is first moved aside into `staging`, not renamed over, so that it can be put back.
 */
async function moveIntoPlace(files: readonly DownloadFile[], staging: string, directory: string): Promise<void> {
  const step = async (from: string, to: string): Promise<void> => {
    await downloadMoveHooks.beforeRename?.(from, to);
    await rename(from, to);
  };
  const done: { from: string; to: string }[] = [];
  let target = directory;
  try {
    for (const file of files) {
      target = join(directory, file.name);
      const staged = join(staging, file.name);
      // A damaged file in place goes aside, to come back on failure. A folder under its name stays where it
      // is (it is not ours to delete with .download/): the rename over it fails, naming it.
      const existing = await lstat(target).catch(() => null);
      if (existing && !existing.isDirectory()) {
        const aside = `${staged}.replaced`;
        await step(target, aside);
        done.push({ from: target, to: aside });
      }
      await step(staged, target);
      done.push({ from: staged, to: target });
    }
  } catch (error) {
    for (const { from, to } of done.reverse()) {
      try {
        await step(to, from);
      } catch {
        // Best effort: a step that cannot be undone does not stop the others from being undone.
      }
    }
    throw asFileError(error, target);
  }
}

/** Progress of the four files, reported at most every PROGRESS_MS and always with the latest figures. */
class ProgressReport {
  private readonly state: DownloadState;
  private readonly sizes: number[];
  private readonly bytes: number[];
  private last = 0;
  private trailing: NodeJS.Timeout | undefined;

  constructor(
    directory: string,
    files: readonly DownloadFile[],
    private readonly listener?: (state: DownloadState) => void,
  ) {
    this.state = { ...initialDownloadState(directory, files), status: 'downloading' };
    this.sizes = files.map((f) => f.compressedSize);
    this.bytes = files.map(() => 0);
  }

  phase(status: DownloadState['status'], file: string | null): void {
    this.state.status = status;
    this.state.file = file;
    this.report(true);
  }

  received(index: number, bytes: number, total: number | null): void {
    this.bytes[index] = bytes;
    if (total !== null) this.sizes[index] = total;
    this.report(false);
  }

  close(): void {
    clearTimeout(this.trailing);
  }

  private report(force: boolean): void {
    this.state.receivedBytes = this.bytes.reduce((a, b) => a + b, 0);
    this.state.totalBytes = this.sizes.reduce((a, b) => a + b, 0);
    const now = Date.now();
    if (!force && now - this.last < PROGRESS_MS) {
      this.trailing ??= setTimeout(() => this.report(true), PROGRESS_MS - (now - this.last));
      return;
    }
    clearTimeout(this.trailing);
    this.trailing = undefined;
    this.last = now;
    this.listener?.({ ...this.state });
  }
}

/** Fetches `url` into `part`, continuing from what `part` already holds when the server supports ranges. */
async function fetchResumable(
  url: string,
  part: string,
  file: DownloadFile,
  options: DownloadOptions,
  progress: (bytes: number, total: number | null) => void,
): Promise<void> {
  let start = (await sizeOf(part)) ?? 0;
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  options.signal?.addEventListener('abort', abort);
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const watch = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort();
    }, options.stallMs ?? STALL_MS);
  };
  try {
    if (options.signal?.aborted) throw new FmnistError('stopped', 'the download was cancelled');
    watch();
    let response: globalThis.Response;
    try {
      response = await fetch(url, {
        headers: start > 0 ? { range: `bytes=${start}-` } : {},
        signal: controller.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw new FmnistError('stopped', 'the download was cancelled');
      if (stalled)
        throw new FmnistError(
          'io',
          `the server sent nothing for ${((options.stallMs ?? STALL_MS) / 1000).toLocaleString('en', { maximumFractionDigits: 1 })} s; try again`,
          { file: url },
        );
      throw new FmnistError('io', networkProblem(error, url), { file: url });
    }
    if (response.status === 416 && start > 0) {
      // The part already holds the whole file (or more): let verification decide.
      await response.body?.cancel();
      progress(start, start);
      return;
    }
    if (response.status !== 200 && response.status !== 206) {
      await response.body?.cancel();
      throw new FmnistError(
        'io',
        `the server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}; try again later`,
        { file: url },
      );
    }
    const resumed =
      response.status === 206 && new RegExp(`^bytes ${start}-`).test(response.headers.get('content-range') ?? '');
    if (!resumed) start = 0;
    const length = Number(response.headers.get('content-length'));
    const total = Number.isFinite(length) && length > 0 ? start + length : null;
    if (total !== null && total > file.compressedSize * 4) {
      await response.body?.cancel();
      throw new FmnistError(
        'bad-input',
        `is ${megabytes(total)}, far more than Fashion-MNIST's ${megabytes(file.compressedSize)}: not the original file`,
        { file: url },
      );
    }
    let handle;
    try {
      handle = await open(part, resumed ? 'a' : 'w');
    } catch (error) {
      throw asFileError(error, part);
    }
    let bytes = start;
    progress(bytes, total);
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        watch();
        await handle.write(chunk);
        bytes += chunk.length;
        if (bytes > file.compressedSize * 4) {
          throw new FmnistError(
            'bad-input',
            `sends more than ${megabytes(file.compressedSize * 4)}: not the original file`,
            { file: url },
          );
        }
        progress(bytes, total);
      }
      await handle.sync();
    } catch (error) {
      if (error instanceof FmnistError) throw error;
      if (options.signal?.aborted) throw new FmnistError('stopped', 'the download was cancelled');
      const code = (error as NodeJS.ErrnoException).code;
      if (code && /^E(NOSPC|ACCES|PERM|ROFS|IO)$/.test(code)) throw asFileError(error, part);
      throw new FmnistError(
        'io',
        `the connection dropped after ${megabytes(bytes)}${total ? ` of ${megabytes(total)}` : ''}${stalled ? ' (no data for a while)' : ''}; ` +
          'download again to continue where it stopped',
        { file: url },
      );
    } finally {
      await handle.close();
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', abort);
  }
}

/**
 * The download as a host serves it: one at a time, its progress published as events, cancellable, and the
 * data loaded once it is complete.
 */
export class DataDownloads {
  private state: DownloadState;
  private controller: AbortController | null = null;

  constructor(
    private readonly directory: string,
    private readonly emit: (event: BackendEvent) => void,
    /** Loads the data once downloaded (the backend's default-data search includes `directory`). */
    private readonly load: () => Promise<Answer<'load-default-data'>>,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.state = initialDownloadState(directory);
  }

  get current(): DownloadState {
    return { ...this.state };
  }

  /** Downloads (resuming what an earlier attempt left), then loads the data; resolves when all is done. */
  async start(): Promise<Answer<'download-data'>> {
    if (this.controller) return { ok: false, error: 'Fashion-MNIST is already downloading' };
    const controller = new AbortController();
    this.controller = controller;
    this.publish({ ...initialDownloadState(this.directory), status: 'downloading' });
    try {
      await downloadDataset({
        directory: this.directory,
        baseUrl: downloadBaseUrl(this.env),
        signal: controller.signal,
        onProgress: (state) => this.publish(state),
      });
    } catch (error) {
      const cancelled = error instanceof FmnistError && error.kind === 'stopped';
      this.publish({
        ...this.state,
        status: cancelled ? 'cancelled' : 'failed',
        error: cancelled ? null : userMessage(error),
      });
      return cancelled ? { ok: true, cancelled: true } : { ok: false, error: userMessage(error) };
    } finally {
      this.controller = null;
    }
    return this.load();
  }

  cancel(): Answer<'cancel-download'> {
    this.controller?.abort();
    return { ok: true };
  }

  /** A get-state answer with the download's state, so a page that (re)connects shows it. */
  withState<T extends Response>(response: T): T {
    if (response.ok && 'state' in response) response.state.download = this.current;
    return response;
  }

  private publish(state: DownloadState): void {
    this.state = state;
    this.emit({ type: 'download', download: { ...state } });
  }
}
