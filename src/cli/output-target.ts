/**
 * Checks a file the CLI will write (a checkpoint, an export) before any work starts, so a long run never
 * fails at its end: the name is a file name, not a folder; its folder exists and is a folder; and a file can
 * be created there (a probe file is created and removed, which also catches read-only file systems).
 */

import { open, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { asFileError, FmnistError } from '@core/shared/errors';

export async function checkOutputFile(path: string): Promise<void> {
  if (/[\\/]$/.test(path)) throw new FmnistError('bad-option', 'names a folder: give a file name', { file: path });
  const existing = await stat(path).catch(() => null);
  if (existing?.isDirectory())
    throw new FmnistError('bad-option', 'is a directory, expected a file name', { file: path });
  if (existing && !existing.isFile())
    throw new FmnistError('bad-option', 'is not a regular file (a pipe, device or socket)', { file: path });
  const folder = dirname(resolve(path));
  const parent = await stat(folder).catch((error: NodeJS.ErrnoException) => error);
  if (parent instanceof Error) {
    if (parent.code === 'ENOENT')
      throw new FmnistError('not-found', `the folder ${folder} does not exist`, { file: path });
    if (parent.code === 'ENOTDIR')
      throw new FmnistError('bad-option', `a part of ${folder} is a file, not a folder`, { file: path });
    throw asFileError(parent, folder);
  }
  if (!parent.isDirectory()) throw new FmnistError('bad-option', `${folder} is a file, not a folder`, { file: path });
  const probe = join(folder, `.${basename(path)}.${process.pid}.probe`);
  try {
    await (await open(probe, 'wx')).close();
  } catch (error) {
    throw asFileError(error, path);
  }
  await unlink(probe).catch(() => {});
}
