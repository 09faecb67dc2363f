/**
 * Lock files that name the process holding something (the browser host's data folder, a sweep): created
 * exclusively (O_EXCL) with the holder's identity, read back leniently (a half-written one reads as nothing), and a
 * stale one moved out of the way without ever replacing a newer lock. The holders judge liveness themselves.
 */

import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { asFileError } from '@core/shared/errors';
import type { RecordedProcess } from './liveness';

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
