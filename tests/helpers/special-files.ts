/**
 * Files that are not regular files, as users give them by mistake: a named pipe nobody writes to (opening it
 * for reading would wait forever), /dev/zero (endless), a directory. And a time bound, so a test of a reader
 * that hangs fails instead of hanging the run. And a count of a file's open descriptors, to see a reader close it.
 */

import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** A named pipe (mkfifo) with no writer. */
export function makeFifo(dir: string, name: string): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return path;
}

/**
 * Lets a reader blocked in opening `fifo` go on (it sees end of file), so a failed test leaves no thread of
 * the pool waiting. Harmless when nobody is blocked (then there is no reader and the open fails).
 */
export function releaseFifo(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: no reader is waiting.
  }
}

/** The promise's outcome, or a rejection saying it took longer than `ms`. */
export function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * How many of this process's open files are `file`, where Linux lists them (/proc/self/fd); 0 elsewhere. Other
 * tests in the process open and close their own files, so only those pointing at `file` count.
 */
export function openDescriptorsOf(file: string): number {
  if (!existsSync('/proc/self/fd')) return 0;
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false; // closed while being listed
    }
  }).length;
}
