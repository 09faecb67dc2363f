/**
 * One browser host per data folder: the host that starts first creates `host.json` in the folder (O_EXCL,
 * with its pid, its process's identity, its computer and, once it listens, its address), and a second
 * `npm run web` on the same folder finds it and points the user there instead of sharing the folder's kept
 * uploads. A lock whose process is gone (killed, crashed, its pid since given to another process) is stale
 * and is taken over; the file is removed when the host closes.
 */

import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { asFileError, displayPath, FmnistError } from '@core/shared/errors';
import { writeFileAtomic } from '@core/io';
import {
  HOST_NAME,
  isThisProcess,
  type RecordedProcess,
  recordedProcessAlive,
  thisProcess,
} from '@core/records/liveness';

export const HOST_LOCK_FILE = 'host.json';

interface LockContents extends RecordedProcess {
  /** The address to open (with its token), once the host listens. */
  url: string | null;
}

/** A second host on a data folder that a running host has: it says where that one is. */
export class HostRunningError extends FmnistError {
  constructor(
    readonly url: string | null,
    readonly pid: number,
    folder: string,
    /** The computer the lock names, when it is not this one (this one cannot check it is still running). */
    readonly otherHost: string | null = null,
    /** The lock file (to delete by hand when that other computer's host is gone). */
    readonly lockFile: string | null = null,
  ) {
    super(
      'bad-option',
      `a browser host (process ${pid}${otherHost ? ` on ${otherHost}` : ''}) already serves ${folder}${url ? ` at ${url}` : ''}`,
    );
  }
}

export interface RunningHost {
  url: string | null;
  pid: number;
  /** Set when the holder runs on another computer (its liveness unknown here). */
  otherHost: string | null;
  file: string;
}

export type HostClaim = { lock: HostLock } | { running: RunningHost };

export class HostLock {
  private released = false;

  constructor(readonly file: string) {}

  /** Records the address the host listens at, for a second start to print. */
  async setUrl(url: string): Promise<void> {
    const contents: LockContents = { ...(await thisProcess()), url };
    await writeFileAtomic(this.file, new TextEncoder().encode(`${JSON.stringify(contents)}\n`));
  }

  /** Gives the folder up (only if the lock is still ours). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const held = await readLock(this.file);
    if (held && (await isThisProcess(held))) await unlink(this.file).catch(() => undefined);
  }
}

async function readLock(file: string): Promise<LockContents | null> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<LockContents>;
    if (typeof value.pid !== 'number' || typeof value.processStartedMs !== 'number' || typeof value.host !== 'string')
      return null;
    return {
      pid: value.pid,
      processStartedMs: value.processStartedMs,
      processIdentity: typeof value.processIdentity === 'string' ? value.processIdentity : null,
      host: value.host,
      url: typeof value.url === 'string' ? value.url : null,
    };
  } catch {
    return null;
  }
}

/** Whether the lock's holder still runs: this process, or a live one (one on another computer counts as running). */
async function holderAlive(lock: LockContents): Promise<boolean> {
  if (lock.host !== HOST_NAME) return true;
  return (await isThisProcess(lock)) || (await recordedProcessAlive(lock));
}

/** How long a second start waits for a host that is still starting to say where it listens. */
const ADDRESS_WAIT_MS = 10_000;

/** The running holder's address: a holder still starting is given a moment to write it. */
async function runningHolder(file: string, held: LockContents): Promise<HostClaim> {
  let lock = held;
  for (const started = Date.now(); lock.url === null && Date.now() - started < ADDRESS_WAIT_MS;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await readLock(file);
    if (!again || !(await holderAlive(again))) break;
    lock = again;
  }
  return { running: { url: lock.url, pid: lock.pid, otherHost: lock.host === HOST_NAME ? null : lock.host, file } };
}

/**
 * Moves a stale lock out of the way. It is moved aside under a name of our own and read there: if it is not
 * the lock judged stale (another host took over and made its own in between), it is put back with link(),
 * which fails rather than replace a lock made meanwhile; that one's maker then holds the folder.
 */
async function removeStale(file: string, stale: string): Promise<void> {
  const aside = `${file}.${randomBytes(4).toString('hex')}.stale`;
  if (
    !(await rename(file, aside).then(
      () => true,
      () => false,
    ))
  )
    return;
  if ((await readFile(aside, 'utf8').catch(() => null)) !== stale) await link(aside, file).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/** Takes the data folder for this host, or says which host has it. */
export async function claimDataFolder(folder: string): Promise<HostClaim> {
  const file = join(folder, HOST_LOCK_FILE);
  const contents: LockContents = { ...(await thisProcess()), url: null };
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
    const text = await readFile(file, 'utf8').catch(() => null);
    let held = await readLock(file);
    // A lock being written right now reads as nothing yet: look again.
    if (held === null) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      held = await readLock(file);
    }
    if (held && (await holderAlive(held))) return runningHolder(file, held);
    if (text !== null) await removeStale(file, text);
  }
  throw new FmnistError(
    'io',
    `is held by browser hosts that keep starting and stopping: try again (or, if none runs, delete ${displayPath(file)})`,
    { file },
  );
}
