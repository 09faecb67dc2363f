/**
 * One browser host per data folder: the host that starts first creates `host.json` in the folder (only where
 * none is, with its pid, its process's identity, its computer and, once it listens, its address), and a second
 * `npm run web` on the same folder finds it and points the user there instead of sharing the folder's kept
 * uploads. A lock whose process is gone (killed, crashed, its pid since given to another process) is stale
 * and is taken over; the file is removed when the host closes.
 */

import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { displayPath, FmnistError } from '@core/shared/errors';
import { createLockFile, recordedProcessOf, removeStaleLock } from '@core/records/lock-file';
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
    const holder = recordedProcessOf(value);
    return holder && { ...holder, url: typeof value.url === 'string' ? value.url : null };
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

/** Takes the data folder for this host, or says which host has it. */
export async function claimDataFolder(folder: string): Promise<HostClaim> {
  const file = join(folder, HOST_LOCK_FILE);
  const contents: LockContents = { ...(await thisProcess()), url: null };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createLockFile(file, `${JSON.stringify(contents)}\n`, 0o600)) return { lock: new HostLock(file) };
    const text = await readFile(file, 'utf8').catch(() => null);
    let held = await readLock(file);
    // A lock being written right now reads as nothing yet: look again.
    if (held === null) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      held = await readLock(file);
    }
    if (held && (await holderAlive(held))) return runningHolder(file, held);
    if (text !== null) await removeStaleLock(file, text);
  }
  throw new FmnistError(
    'io',
    `is held by browser hosts that keep starting and stopping: try again (or, if none runs, delete ${displayPath(file)})`,
    { file },
  );
}
