/**
 * One process at a time runs a sweep: it holds `<id>.lock` beside the sweep's record, created only where none is
 * (createLockFile) with its pid, identity and computer, as the browser host holds its data folder. A second process is
 * refused in one line; a lock whose process is gone (killed, crashed, its pid since reused) is stale and is taken
 * over; the lock is removed when the sweep ends, stopped or finished.
 */

import { readFile, unlink } from 'node:fs/promises';
import { displayPath, FmnistError } from '@core/shared/errors';
import { createLockFile, recordedProcessOf, removeStaleLock } from '@core/records/lock-file';
import {
  HOST_NAME,
  isThisProcess,
  type RecordedProcess,
  recordedProcessAlive,
  thisProcess,
} from '@core/records/liveness';

/** The locks this process holds: one of ours that is not here was left by a sweep of ours that ended badly. */
const held = new Set<string>();

export class SweepLock {
  private released = false;

  constructor(readonly file: string) {}

  /** Gives the sweep up (only if the lock is still ours). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    held.delete(this.file);
    const holder = parseLock(await readFile(this.file, 'utf8').catch(() => null));
    if (holder && (await isThisProcess(holder))) await unlink(this.file).catch(() => undefined);
  }
}

function parseLock(text: string | null): RecordedProcess | null {
  if (text === null) return null;
  try {
    return recordedProcessOf(JSON.parse(text) as Partial<RecordedProcess>);
  } catch {
    return null;
  }
}

/** Whether the holder still runs the sweep: this process while it holds it, or a live one of this computer. */
async function holderAlive(file: string, holder: RecordedProcess): Promise<boolean> {
  if (holder.host !== HOST_NAME) return true;
  if (await isThisProcess(holder)) return held.has(file);
  return recordedProcessAlive(holder);
}

/** Whether the process named in a lock file runs the sweep now (false for no lock, or a stale one). */
export async function lockHeld(file: string): Promise<RecordedProcess | null> {
  const holder = parseLock(await readFile(file, 'utf8').catch(() => null));
  return holder && (await holderAlive(file, holder)) ? holder : null;
}

/** Takes the lock of sweep `id`, or refuses in one line naming who holds it. */
export async function claimSweepLock(file: string, id: string): Promise<SweepLock> {
  const contents = `${JSON.stringify(await thisProcess())}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createLockFile(file, contents, 0o644)) {
      held.add(file);
      return new SweepLock(file);
    }
    let text = await readFile(file, 'utf8').catch(() => null);
    // A lock being written right now reads as nothing yet: look again.
    if (text !== null && parseLock(text) === null) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      text = await readFile(file, 'utf8').catch(() => null);
    }
    const holder = parseLock(text);
    if (holder && (await holderAlive(file, holder))) {
      if (holder.host !== HOST_NAME)
        throw new FmnistError(
          'bad-option',
          `sweep ${id} is recorded as running on ${displayPath(holder.host)}, which this computer cannot check: ` +
            `if it does not run there, delete ${displayPath(file)}`,
        );
      throw new FmnistError(
        'bad-option',
        `sweep ${id} is already running (process ${holder.pid}): let it finish, or stop it first`,
      );
    }
    if (text !== null) await removeStaleLock(file, text);
  }
  throw new FmnistError(
    'io',
    `is held by processes that keep starting and stopping the sweep: try again (or, if none runs, delete it)`,
    { file },
  );
}
