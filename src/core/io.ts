/**
 * The core's file-system edge. Writing: atomic replacement (write a temporary file beside the target, flush
 * it to disk, rename it over the target), so a crash, a full disk or a kill mid-save never damages the
 * previous file. Reading a user's file: only regular files (a pipe without a writer would wait forever,
 * /dev/zero never ends), and never more than the file's size at opening or a caller's maximum. Errors name
 * the file and say what is wrong.
 */

import { constants } from 'node:fs';
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { asFileError, FmnistError } from './shared/errors';
import { formatBytes } from './shared/format';

/** Test seam: called between writing and renaming, to simulate a failure there. */
export const atomicWriteHooks: { beforeRename?: (temporary: string) => Promise<void> | void } = {};

export async function writeFileAtomic(path: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  try {
    handle = await open(temporary, 'wx', 0o644);
    for (const part of data instanceof Uint8Array ? [data] : data) {
      let written = 0;
      while (written < part.byteLength) {
        const { bytesWritten } = await handle.write(part, written, part.byteLength - written);
        written += bytesWritten;
      }
    }
    await handle.sync();
    await handle.close();
    handle = null;
    await atomicWriteHooks.beforeRename?.(temporary);
    await rename(temporary, path);
  } catch (error) {
    await handle?.close().catch(() => {});
    await unlink(temporary).catch(() => {});
    throw asFileError(error, path);
  }
  // Make the rename itself durable where the platform allows syncing a directory.
  try {
    const directory = await open(dirname(path), 'r');
    await directory.sync().catch(() => {});
    await directory.close();
  } catch {
    // Windows cannot open directories; the rename is already atomic there.
  }
}

export interface OpenedFile {
  handle: FileHandle;
  /** The size when it was opened: reads stop there, however the file changes meanwhile. */
  size: number;
}

function notRegular(path: string): FmnistError {
  return new FmnistError('bad-input', 'is not a regular file (a pipe, device or socket)', { file: path });
}

/**
 * Opens a user's file for reading after checking it is a regular file. O_NONBLOCK: should a pipe take the
 * file's place between the check and the open, opening it still returns at once (and is then refused).
 */
export async function openRegularFile(path: string): Promise<OpenedFile> {
  let handle: FileHandle | null = null;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new FmnistError('bad-input', 'is a directory, expected a file', { file: path });
    if (!info.isFile()) throw notRegular(path);
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const opened = await handle.stat();
    if (!opened.isFile()) throw notRegular(path);
    return { handle, size: opened.size };
  } catch (error) {
    await handle?.close().catch(() => {});
    throw asFileError(error, path);
  }
}

/** Reads up to `length` bytes at `position` (fewer at the end of the file), into `into` when given. */
export async function readAt(
  handle: FileHandle,
  position: number,
  length: number,
  into?: Uint8Array,
): Promise<Uint8Array> {
  const bytes = into?.subarray(0, length) ?? new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    // One read moves at most 2 GiB; files that shrink end the loop early.
    const { bytesRead } = await handle.read(bytes, filled, Math.min(length - filled, 1 << 30), position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? bytes : bytes.subarray(0, filled);
}

/** Reads a whole regular file, refusing one larger than `maxBytes` (naming what it should be) unread. */
export async function readRegularFile(path: string, maxBytes: number, what: string): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(path);
  try {
    if (size > maxBytes) {
      throw new FmnistError(
        'bad-input',
        `is ${formatBytes(size)}, larger than any ${what} can be (at most ${formatBytes(maxBytes)})`,
        { file: path },
      );
    }
    return await readAt(handle, 0, size);
  } catch (error) {
    throw asFileError(error, path);
  } finally {
    await handle.close().catch(() => {});
  }
}
