/**
 * The one-line messages users see: file names with control characters stay on one line, and every errno a
 * file operation can end with reads as a sentence, never as Node's "CODE: text, syscall 'path'".
 */

import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '@core/checkpoint/checkpoint';
import { readCsvDataset } from '@core/data/csv';
import { asFileError, describeSystemError, FmnistError, userMessage } from '@core/shared/errors';
import { tempDir } from '../../../helpers/data';
import { failureOf, oneLineProblems } from '../../../helpers/failure';

function expectOneLine(message: string): void {
  expect(oneLineProblems(message), message).toEqual([]);
}

describe('file names in messages', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('fmnist-errors-');
  });

  it('escapes a newline and other control characters in the file name', () => {
    const error = new FmnistError('bad-input', 'is empty', { file: '/data/a\nb\r\u001b[31m.csv', row: 3 });
    expect(error.message).toBe('/data/a\\nb\\r\\x1b[31m.csv: line 3: is empty');
    expect(error.file).toBe('/data/a\nb\r\u001b[31m.csv');
    expect(new FmnistError('io', 'x', { file: 'a\u2028b' }).message).toBe('a\\u2028b: x');
  });

  it('keeps a real file whose name holds a newline on one line', async () => {
    const file = join(dir, 'two\nlines.csv');
    await writeFile(file, '');
    const error = await failureOf(readCsvDataset(file, { requireLabels: true }));
    expect(error.message).toBe(`${dir}/two\\nlines.csv: is empty`);
    const missing = join(dir, 'gone\n.safetensors');
    expect((await failureOf(loadCheckpoint(missing))).message).toBe(
      `${dir}/gone\\n.safetensors: no such file or directory`,
    );
  });
});

describe('system errors', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('fmnist-errno-');
  });

  // The expected sentences are this project's wording, written out by hand.
  it.each([
    ['ENOENT', '/m: no such file or directory'],
    ['EACCES', '/m: permission denied'],
    ['EPERM', '/m: permission denied'],
    ['EISDIR', '/m: is a directory, expected a file'],
    ['ENOTDIR', '/m: a part of this path is not a directory'],
    ['ENOSPC', '/m: no space left on the device'],
    ['EROFS', '/m: the file system is read-only'],
    ['ELOOP', '/m: too many levels of symbolic links (a link may point back to itself)'],
    ['ENAMETOOLONG', '/m: the path, or a name in it, is too long'],
    ['EMFILE', '/m: too many files are open; close some programs and try again'],
    ['ENFILE', '/m: too many files are open; close some programs and try again'],
    ['EBUSY', '/m: the file or device is busy (in use by another program)'],
    ['ETXTBSY', '/m: the file is busy (it is a running program)'],
    ['EEXIST', '/m: already exists'],
    ['ENOTEMPTY', '/m: is a folder that is not empty'],
    ['EIO', '/m: an input/output error occurred (the disk or network drive may be failing)'],
    ['EFBIG', '/m: the file is too large for the file system'],
    ['EDQUOT', '/m: the disk quota is used up'],
    ['ENXIO', '/m: no such device or address (a device or socket that is not there)'],
    ['ENODEV', '/m: no such device'],
    ['EAGAIN', '/m: is temporarily unavailable; try again'],
    ['EINTR', '/m: the operation was interrupted; try again'],
    ['EINVAL', '/m: cannot be used this way (invalid argument)'],
    ['ETIMEDOUT', '/m: the operation timed out (is it on a network drive?)'],
    ['ESTALE', '/m: the network file handle is stale; open the folder again'],
    ['ENOMEM', '/m: not enough memory'],
    ['ERR_FS_FILE_TOO_LARGE', '/m: is too large to read (over 2 GiB)'],
  ])('%s reads as one sentence naming the file', (code, expected) => {
    const nodeText = `${code}: some text, open '/m'`;
    expect(describeSystemError(code, '/m', nodeText)).toBe(expected);
    const error = asFileError(Object.assign(new Error(nodeText), { code, path: '/m' }), '/m');
    expect(error).toBeInstanceOf(FmnistError);
    expect(error.message).toBe(expected);
    expect(error.kind).toBe(code === 'ENOENT' ? 'not-found' : 'io');
  });

  it("describes an unknown code generically, never in Node's format", () => {
    const nodeText = "EWEIRD: something odd, open '/m'";
    expect(describeSystemError('EWEIRD', '/m', nodeText)).toBe('/m: the system reported error EWEIRD');
    expect(userMessage(Object.assign(new Error(nodeText), { code: 'EWEIRD', path: '/m' }))).toBe(
      '/m: the system reported error EWEIRD',
    );
    // A code without a path (e.g. from a socket) still reads as a sentence.
    expect(userMessage(Object.assign(new Error('EMFILE: too many open files, watch'), { code: 'EMFILE' }))).toBe(
      'too many files are open; close some programs and try again',
    );
    expect(userMessage(Object.assign(new Error('EWEIRD: odd, read'), { code: 'EWEIRD' }))).toBe(
      'the system reported error EWEIRD',
    );
    expect(describeSystemError('not\na code', '/m')).toBe('/m: the system reported an unknown error');
  });

  it('escapes control characters in the path of a system error', () => {
    expect(describeSystemError('ENOENT', '/tmp/a\nb')).toBe('/tmp/a\\nb: no such file or directory');
  });

  it('turns a real symbolic-link loop and an over-long name into one readable line', async () => {
    const loop = join(dir, 'loop.safetensors');
    await symlink(join(dir, 'other.safetensors'), loop);
    await symlink(loop, join(dir, 'other.safetensors'));
    const looped = await failureOf(loadCheckpoint(loop));
    expect(looped).toBeInstanceOf(FmnistError);
    expect(looped.message).toBe(`${loop}: too many levels of symbolic links (a link may point back to itself)`);
    expectOneLine(looped.message);
    const long = join(dir, `${'x'.repeat(300)}.safetensors`);
    const tooLong = await failureOf(loadCheckpoint(long));
    expect(tooLong.message).toBe(`${long}: the path, or a name in it, is too long`);
  });

  it('never shows "[object Object]" or "undefined" for odd thrown values', () => {
    expect(userMessage({ reason: 1 })).toBe('an unexpected error (an object)');
    expect(userMessage(undefined)).toBe('an unexpected error (nothing)');
    expect(userMessage(null)).toBe('an unexpected error (null)');
    expect(userMessage('plain text\nsecond line')).toBe('plain text');
    expect(userMessage(new Error(''))).toBe('an unexpected error (Error)');
    for (const value of [{}, undefined, null, [], Symbol('s'), 12n, () => 1]) expectOneLine(userMessage(value));
  });
});
