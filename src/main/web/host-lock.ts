/**
 * One browser host per data folder: the host that starts first creates `host.json` in the folder (O_EXCL,
 * with its pid, when its process started, its computer and, once it listens, its address), and a second
 * `npm run web` on the same folder finds it and points the user there instead of sharing the folder's kept
 * uploads. A lock whose process is gone (killed, crashed, its pid since given to another process) is stale
 * and is taken over; the file is removed when the host closes.
 */

import { open, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { asFileError, FmnistError } from '../../core/errors';
import { writeFileAtomic } from '../../core/io';
import { PROCESS_STARTED_MS, sameProcessAlive, START_TOLERANCE_MS } from '../../core/runs/liveness';

export const HOST_LOCK_FILE = 'host.json';

interface LockContents {
  pid: number;
  processStartedMs: number;
  host: string;
  /** The address to open (with its token), once the host listens. */
  url: string | null;
}

/** A second host on a data folder that a running host has: it says where that one is. */
export class HostRunningError extends FmnistError {
  constructor(
    readonly url: string | null,
    readonly pid: number,
    folder: string,
  ) {
    super('bad-option', `a browser host (process ${pid}) already serves ${folder}${url ? ` at ${url}` : ''}`);
  }
}

export type HostClaim = { lock: HostLock } | { running: { url: string | null; pid: number } };

export class HostLock {
  private released = false;

  constructor(readonly file: string) {}

  /** Records the address the host listens at, for a second start to print. */
  async setUrl(url: string): Promise<void> {
    const contents: LockContents = { pid: process.pid, processStartedMs: PROCESS_STARTED_MS, host: hostname(), url };
    await writeFileAtomic(this.file, new TextEncoder().encode(`${JSON.stringify(contents)}\n`));
  }

  /** Gives the folder up (only if the lock is still ours). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const held = await readLock(this.file);
    if (held && held.pid === process.pid && held.processStartedMs === PROCESS_STARTED_MS) await unlink(this.file).catch(() => undefined);
  }
}

async function readLock(file: string): Promise<LockContents | null> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<LockContents>;
    if (typeof value.pid !== 'number' || typeof value.processStartedMs !== 'number' || typeof value.host !== 'string') return null;
    return { pid: value.pid, processStartedMs: value.processStartedMs, host: value.host, url: typeof value.url === 'string' ? value.url : null };
  } catch {
    return null;
  }
}

/** Whether the lock's holder still runs (one on another computer, sharing the folder, counts as running). */
function holderAlive(lock: LockContents): boolean {
  if (lock.host !== hostname()) return true;
  // This process: a host of its own that has not closed.
  if (lock.pid === process.pid) return Math.abs(lock.processStartedMs - PROCESS_STARTED_MS) <= START_TOLERANCE_MS;
  return sameProcessAlive(lock.pid, lock.processStartedMs);
}

/** How long a second start waits for a host that is still starting to say where it listens. */
const ADDRESS_WAIT_MS = 10_000;

/** The running holder's address: a holder still starting is given a moment to write it. */
async function runningHolder(file: string, held: LockContents): Promise<HostClaim> {
  let lock = held;
  for (const started = Date.now(); lock.url === null && Date.now() - started < ADDRESS_WAIT_MS; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await readLock(file);
    if (!again || !holderAlive(again)) break;
    lock = again;
  }
  return { running: { url: lock.url, pid: lock.pid } };
}

/** Takes the data folder for this host, or says which host has it. */
export async function claimDataFolder(folder: string): Promise<HostClaim> {
  const file = join(folder, HOST_LOCK_FILE);
  const contents: LockContents = { pid: process.pid, processStartedMs: PROCESS_STARTED_MS, host: hostname(), url: null };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(contents)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return { lock: new HostLock(file) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw asFileError(error, file);
    }
    const held = await readLock(file);
    // A lock being written right now reads as nothing yet: look again.
    if (held === null) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const again = await readLock(file);
      if (again && holderAlive(again)) return runningHolder(file, again);
    } else if (holderAlive(held)) {
      return runningHolder(file, held);
    }
    // Stale (or unreadable twice): moved aside under a name of our own, so of two hosts taking it over at
    // once only one moves it, and the other then finds the new holder's lock.
    const aside = `${file}.${randomBytes(4).toString('hex')}.stale`;
    if (await rename(file, aside).then(() => true, () => false)) await unlink(aside).catch(() => undefined);
  }
  throw new FmnistError('io', 'is held by browser hosts that keep starting and stopping: try again', { file });
}
