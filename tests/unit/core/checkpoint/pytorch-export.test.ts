/**
 * The PyTorch export as the app writes it: a folder, or one zip file holding that folder (the browser host's
 * download). The zip is read back by Python's zipfile, a reader of its own, which checks every CRC.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pytorchZip, writePytorchFolder, type ExportedFile } from '@core/checkpoint/pytorch-export';
import { tempDir } from '../../../helpers/data';

const PYTHON = '/usr/bin/python3';
const files: ExportedFile[] = [
  { name: 'train.py', bytes: new TextEncoder().encode('print("continue")\n'), executable: true },
  // Every byte value, twice: no text mode or encoding may touch it.
  { name: 'checkpoint.safetensors', bytes: Uint8Array.from({ length: 512 }, (_, i) => i % 256), executable: false },
  { name: 'README.txt', bytes: new TextEncoder().encode('Müller’s run\n'), executable: false },
];

describe('the PyTorch export', () => {
  it('zips the folder so that another reader gets every file back, byte for byte, train.py executable', async (ctx) => {
    ctx.skip(!existsSync(PYTHON), `${PYTHON} is not installed: Python's zipfile cannot check the archive`);
    const dir = await tempDir('fmnist-pytorch-zip-');
    const zip = join(dir, 'run-pytorch.zip');
    writeFileSync(zip, pytorchZip('run-pytorch', files));
    const script = [
      'import json, sys, zipfile',
      'z = zipfile.ZipFile(sys.argv[1])',
      'assert z.testzip() is None',
      'print(json.dumps([[i.filename, list(z.read(i)), i.external_attr >> 16] for i in z.infolist()]))',
    ].join('\n');
    const result = spawnSync(PYTHON, ['-c', script, zip], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const entries = JSON.parse(result.stdout) as [string, number[], number][];
    expect(entries.map(([name]) => name)).toEqual([
      'run-pytorch/train.py',
      'run-pytorch/checkpoint.safetensors',
      'run-pytorch/README.txt',
    ]);
    entries.forEach(([, bytes], i) => expect(Uint8Array.from(bytes)).toEqual(files[i].bytes));
    expect(entries.map(([, , mode]) => mode)).toEqual([0o100755, 0o100644, 0o100644]);
  });

  it('writes the folder (made when missing), and refuses a path that is a file in one line', async () => {
    const dir = await tempDir('fmnist-pytorch-folder-');
    const folder = join(dir, 'a', 'run-pytorch');
    await writePytorchFolder(folder, files);
    for (const file of files) expect(new Uint8Array(readFileSync(join(folder, file.name)))).toEqual(file.bytes);
    if (process.platform !== 'win32') expect(statSync(join(folder, 'train.py')).mode & 0o777).toBe(0o755);
    const blocker = join(dir, 'taken');
    writeFileSync(blocker, 'x');
    await expect(writePytorchFolder(blocker, files)).rejects.toThrow(
      `${blocker}: is a file; a PyTorch export is a folder`,
    );
  });
});
