/**
 * Lock files that name the process holding something (the browser host's data folder, a sweep, the runs folder's
 * imports): created only where none is, whole (written to a file of our own, then linked in place), and a stale
 * one removed under a takeover guard, so that it is never a newer lock that goes. The holders judge liveness
 * themselves.
 */

import { randomBytes } from 'node:crypto';
import { link, lstat, open, readFile, rename, unlink } from 'node:fs/promises';
import { threadId } from 'node:worker_threads';
import { resolve as absolutePath } from 'node:path';
import { asFileError, FmnistError } from '@core/shared/errors';
import { HOST_NAME, isThisProcess, type RecordedProcess, recordedProcessAlive, thisProcess } from './liveness';

/** On Windows, a file being deleted keeps its name while another process has it open: creating it is refused. */
const WINDOWS = process.platform === 'win32';
/** What link() answers on a file system without hard links (FAT, exFAT, some network shares). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EISDIR', 'EINVAL', 'EXDEV']);

/**
 * Creates `file` with `contents`, synced; false when it exists already (another holder's, or on Windows one being
 * deleted). The contents are written whole to a file of our own first and then linked in place (link() fails
 * rather than replace a lock), so a lock is never seen half-written. Where the file system has no hard links, the
 * lock is created exclusively (O_EXCL) and written in place.
 */
export async function createLockFile(file: string, contents: string, mode: number): Promise<boolean> {
  const own = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.new`;
  try {
    await writeSynced(own, contents, mode);
  } catch (error) {
    await unlink(own).catch(() => undefined);
    throw asFileError(error, file);
  }
  try {
    await link(own, file);
    return true;
  } catch (error) {
    if (await heldAlready(error, file)) return false;
    if (NO_HARD_LINKS.has((error as NodeJS.ErrnoException).code ?? '')) return createInPlace(file, contents, mode);
    throw asFileError(error, file);
  } finally {
    await unlink(own).catch(() => undefined);
  }
}

/**
 * Whether creating `file` failed because a file holds its name: one that exists, or on Windows one being deleted
 * (refused with EPERM or EACCES while the name is still there).
 */
async function heldAlready(error: unknown, file: string): Promise<boolean> {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EEXIST') return true;
  if (!WINDOWS || (code !== 'EPERM' && code !== 'EACCES')) return false;
  try {
    await lstat(file);
    return true;
  } catch (failure) {
    return (failure as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

async function writeSynced(file: string, contents: string, mode: number): Promise<void> {
  const handle = await open(file, 'wx', mode);
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function createInPlace(file: string, contents: string, mode: number): Promise<boolean> {
  try {
    await writeSynced(file, contents, mode);
    return true;
  } catch (error) {
    if (await heldAlready(error, file)) return false;
    throw asFileError(error, file);
  }
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

/** A takeover guard older than this was left by a process killed while it held it (it holds it for a moment). */
const GUARD_STALE_MS = 3_000;
/** How long a takeover waits for another process's to end. */
const GUARD_WAIT_MS = 1_000;

/**
 * Removes a stale lock, if it still reads `stale`: one process at a time does so, holding `<lock>.takeover`, so
 * that two processes that judged the same lock stale cannot remove a lock one of them (or a third) made since. A
 * lock is only ever created where none is (link() and O_EXCL fail otherwise), so the lock read as `stale` under
 * the guard is the one removed. False when it was not removed (changed, gone, or another takeover under way).
 */
export async function removeStaleLock(file: string, stale: string): Promise<boolean> {
  const guard = `${file}.takeover`;
  const mark = `${JSON.stringify({ pid: process.pid, token: randomBytes(8).toString('hex') })}\n`;
  const deadline = performance.now() + GUARD_WAIT_MS;
  while (!(await createLockFile(guard, mark, 0o644))) {
    if (performance.now() > deadline) return false;
    // A guard that stays is one whose process was killed while it held it.
    const left = await readAged(guard);
    if (left.text !== null && left.ageMs > GUARD_STALE_MS) await removeIfUnchanged(guard, left.text);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  try {
    return (await readFile(file, 'utf8').catch(() => null)) === stale && (await discard(file));
  } finally {
    if ((await readFile(guard, 'utf8').catch(() => null)) === mark) await discard(guard);
  }
}

/**
 * Removes a guard left behind, unless another process replaced it since it was read: moved aside (one rename, so
 * whatever is there moves whole), and put back with link() when it is not the one read (link() fails rather than
 * replace a guard made meanwhile).
 */
async function removeIfUnchanged(file: string, text: string): Promise<void> {
  const aside = await moveAside(file);
  if (aside === null) return;
  if ((await readFile(aside, 'utf8').catch(() => null)) !== text) await link(aside, file).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/** Moves a file to a name of its own beside it (one rename: whatever is there moves whole); null if it could not. */
async function moveAside(file: string): Promise<string | null> {
  const aside = `${file}.${randomBytes(4).toString('hex')}.stale`;
  try {
    await rename(file, aside);
    return aside;
  } catch {
    return null;
  }
}

/**
 * Removes a file; one that cannot be deleted (held open elsewhere, on Windows) is moved aside under a name of its
 * own instead, and deleted there if it can be. Whether the file is gone from its name.
 */
async function discard(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
  }
  const aside = await moveAside(file);
  if (aside === null) return false;
  await unlink(aside).catch(() => undefined);
  return true;
}

/**
 * A file's text and age, read through one handle (so the age is the text's): text null when there is none, or
 * (on Windows) when it is being deleted.
 */
async function readAged(file: string): Promise<{ text: string; ageMs: number } | { text: null }> {
  let handle;
  try {
    handle = await open(file, 'r');
    const ageMs = Date.now() - (await handle.stat()).mtimeMs;
    return { text: await handle.readFile('utf8'), ageMs };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || (WINDOWS && code === 'EPERM')) return { text: null };
    throw asFileError(error, file);
  } finally {
    await handle?.close();
  }
}

/** What a lock file holds: its text and age, the process it names (none for one that is not a lock). */
async function holderOf(file: string): Promise<
  | { text: null }
  | {
      text: string;
      holder: RecordedProcess | null;
      /** The thread of the process that holds it (locks written before threads were named have none). */
      thread: number | null;
      ageMs: number;
    }
> {
  const read = await readAged(file);
  if (read.text === null) return read;
  try {
    const value = JSON.parse(read.text) as Partial<RecordedProcess> & { thread?: unknown };
    const thread = typeof value.thread === 'number' ? value.thread : null;
    return { ...read, holder: recordedProcessOf(value), thread };
  } catch {
    return { ...read, holder: null, thread: null };
  }
}

/**
 * A lock that names no process (a lock of an older version being written, or damaged) is stale when it is older
 * than this.
 */
const NAMELESS_STALE_MS = 2_000;

/** Per lock file, the last call of this thread to want it: calls of one thread take it one after another. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `work` while holding the lock file `file`, for short work that no two processes (or two calls in one) may do
 * at once. Calls in one thread wait for each other; a lock held by another live process (or another thread of this
 * one) is waited for, up to `waitMs`; a lock whose process is gone, one left by this thread (its calls hold it one at
 * a time), and one that names no process and is a few seconds old are taken over. Past the wait, a one-line error
 * names the holder and the file.
 */
export function whileLocked<T>(file: string, work: () => Promise<T>, waitMs = 60_000): Promise<T> {
  const key = absolutePath(file);
  const mine = (queues.get(key) ?? Promise.resolve()).then(() => holdingLock(key, work, waitMs));
  const settled = mine.catch(() => undefined);
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return mine;
}

async function holdingLock<T>(file: string, work: () => Promise<T>, waitMs: number): Promise<T> {
  // Each hold is told from the others by its token, so a release removes only its own lock.
  const token = randomBytes(8).toString('hex');
  const contents = `${JSON.stringify({ ...(await thisProcess()), thread: threadId, token })}\n`;
  const deadline = performance.now() + waitMs;
  for (;;) {
    if (await createLockFile(file, contents, 0o644)) {
      try {
        return await work();
      } finally {
        if ((await readFile(file, 'utf8').catch(() => null)) === contents) await unlink(file).catch(() => undefined);
      }
    }
    const lock = await holderOf(file);
    const holder = lock.text === null ? null : lock.holder;
    if (lock.text !== null) {
      // This thread's calls hold the lock one at a time, so one naming this thread was left behind; another thread
      // of this process may hold it now.
      const live =
        lock.holder !== null &&
        (lock.holder.host !== HOST_NAME ||
          ((await isThisProcess(lock.holder))
            ? lock.thread !== null && lock.thread !== threadId
            : await recordedProcessAlive(lock.holder)));
      const stale = !live && (lock.holder !== null || lock.ageMs > NAMELESS_STALE_MS);
      if (stale && (await removeStaleLock(file, lock.text))) continue;
    }
    if (performance.now() > deadline) {
      const who = holder
        ? `process ${holder.pid}${holder.host !== HOST_NAME ? ` on ${holder.host}` : ''}`
        : 'another process';
      throw new FmnistError('io', `is held by ${who}, still busy after ${waitMs / 1000} s: try again`, { file });
    }
    // Released meanwhile: look again soon.
    await new Promise((resolve) => setTimeout(resolve, lock.text === null ? 5 : 50));
  }
}
