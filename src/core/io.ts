/**
 * The core's file-system edge for writing: atomic replacement (write a temporary file beside the target,
 * flush it to disk, rename it over the target), so a crash, a full disk or a kill mid-save never damages
 * the previous file. Errors name the target and say what is wrong.
 */

import { open, rename, unlink, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { asFileError } from './errors';

/** Test seam: called between writing and renaming, to simulate a failure there. */
export const atomicWriteHooks: { beforeRename?: (temporary: string) => Promise<void> | void } = {};

export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  try {
    handle = await open(temporary, 'wx', 0o644);
    let written = 0;
    while (written < data.byteLength) {
      const { bytesWritten } = await handle.write(data, written, data.byteLength - written);
      written += bytesWritten;
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

export async function readFileChecked(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw asFileError(error, path);
  }
}
