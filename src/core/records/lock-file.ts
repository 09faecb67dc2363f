/**
 * Lock files that name the process holding something (the browser host's data folder, a sweep): created
 * exclusively (O_EXCL) with the holder's identity, read back leniently (a half-written one reads as nothing), and a
 * stale one moved out of the way without ever replacing a newer lock. The holders judge liveness themselves.
 */

import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { asFileError, FmnistError } from '@core/shared/errors';
import { HOST_NAME, isThisProcess, type RecordedProcess, recordedProcessAlive, thisProcess } from './liveness';

/** Creates `file` with `contents`, synced; false when it exists already (another holder's). */
export async function createLockFile(file: string, contents: string, mode: number): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'wx', mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw asFileError(error, file);
  }
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

/** The process a lock's JSON names, or null when it names none (being written, or not a lock). */
export function recordedProcessOf(value: Partial<RecordedProcess>): RecordedProcess | null {
  if (typeof value.pid !== 'number' || typeof value.processStartedMs !== 'number' || typeof value.host !== 'string')
    return null;
  return {
    pid: value.pid,
    host: value.host,
    processStartedMs: value.processStartedMs,
    processIdentity: typeof value.processIdentity === 'string' ? value.processIdentity : null,
  };
}

/**
 * Moves a stale lock aside under a name of our own and reads it there: if it is not the lock judged stale (another
 * process took over and made its own in between), it is put back with link(), which fails rather than replace a
 * lock made meanwhile; that one's maker then holds it.
 */
export async function removeStaleLock(file: string, stale: string): Promise<void> {
  const aside = `${file}.${randomBytes(4).toString('hex')}.stale`;
  const moved = await rename(file, aside).then(
    () => true,
    () => false,
  );
  if (!moved) return;
  if ((await readFile(aside, 'utf8').catch(() => null)) !== stale) await link(aside, file).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/** The process a lock file names, or null (no file, one being written, or not a lock). */
async function holderOf(file: string): Promise<{ text: string | null; holder: RecordedProcess | null }> {
  const text = await readFile(file, 'utf8').catch(() => null);
  try {
    return { text, holder: text === null ? null : recordedProcessOf(JSON.parse(text) as Partial<RecordedProcess>) };
  } catch {
    return { text, holder: null };
  }
}

/** Per lock file, the last call of this process to want it: calls of one process take it one after another. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `work` while holding the lock file `file`, for short work that no two processes (or two calls in one) may do
 * at once. Calls in one process wait for each other; a lock held by another live process is waited for, up to
 * `waitMs`; a lock whose process is gone (this one included: its calls hold it one at a time), or that still names
 * nobody at a second look, is taken over. Past the wait, a one-line error names the holder and the file.
 */
export function whileLocked<T>(file: string, work: () => Promise<T>, waitMs = 60_000): Promise<T> {
  const mine = (queues.get(file) ?? Promise.resolve()).then(() => holdingLock(file, work, waitMs));
  const settled = mine.catch(() => undefined);
  queues.set(file, settled);
  void settled.then(() => {
    if (queues.get(file) === settled) queues.delete(file);
  });
  return mine;
}

async function holdingLock<T>(file: string, work: () => Promise<T>, waitMs: number): Promise<T> {
  const contents = `${JSON.stringify(await thisProcess())}\n`;
  const deadline = performance.now() + waitMs;
  let unreadable: string | null = null;
  for (;;) {
    if (await createLockFile(file, contents, 0o644)) {
      try {
        return await work();
      } finally {
        await unlink(file).catch(() => undefined);
      }
    }
    const { text, holder } = await holderOf(file);
    // Gone meanwhile: try again at once.
    if (text === null) continue;
    const live =
      holder !== null &&
      (holder.host !== HOST_NAME || (!(await isThisProcess(holder)) && (await recordedProcessAlive(holder))));
    // One that names nobody may be being written: it is stale only if it reads the same at the next look.
    if (!live && (holder !== null || unreadable === text)) {
      await removeStaleLock(file, text);
      unreadable = null;
      continue;
    }
    unreadable = holder === null ? text : null;
    if (performance.now() > deadline) {
      const who = holder
        ? `process ${holder.pid}${holder.host !== HOST_NAME ? ` on ${holder.host}` : ''}`
        : 'another process';
      throw new FmnistError('io', `is held by ${who}, still busy after ${waitMs / 1000} s: try again`, { file });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
