/**
 * An import that fails part-way leaves nothing behind in the runs folder: no record, no copy of the file, not the
 * folder its run id claimed, and no lock. The disk fills up (stand-ins for copyFile and for the rename that puts a
 * record in place) while the file is copied, or once the copy is in place and the record is written.
 */

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_SETTINGS } from '@core/shared/contract';
import { StudioSession } from '@core/backend/session';
import { importRun } from '@core/records/import';
import { RunStore } from '@core/records/store';
import { randomDataset, tempDir, toKaggleCsv, writeTemp } from '../../../helpers/data';

/** Where the disk is full: while the checkpoint is copied, or when a record is put in place. */
const failing = vi.hoisted(() => ({ at: null as 'copy' | 'record' | null }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const full = (): Promise<never> =>
    Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
  // A copy that fills the disk part-way: some of the file is written before it fails.
  const copyFile: typeof actual.copyFile = async (from, to, mode) => {
    if (failing.at !== 'copy') return actual.copyFile(from, to, mode);
    await actual.writeFile(to, (await actual.readFile(from)).subarray(0, 1000));
    return full();
  };
  const rename: typeof actual.rename = (from, to) =>
    failing.at === 'record' && String(to).endsWith('.json') ? full() : actual.rename(from, to);
  return { ...actual, default: { ...actual, copyFile, rename }, copyFile, rename };
});

describe('a failed import', () => {
  it('leaves the runs folder as it was, whether the copy or the record failed', async () => {
    const dir = await tempDir('fmnist-import-failure-');
    const session = new StudioSession({ emit: () => {}, env: {} });
    const train = await writeTemp(dir, 'train.csv', toKaggleCsv(randomDataset(200, 43)));
    expect((await session.handle({ type: 'load-dataset', role: 'train', paths: [train] })).ok).toBe(true);
    const settings = { ...DEFAULT_SETTINGS, epochs: 1, hiddenSizes: [8], batchSize: 50 };
    expect(
      (await session.handle({ type: 'start', settings, autosave: false, continue: false, allowOtherData: false })).ok,
    ).toBe(true);
    await session.whenIdle();
    const file = join(dir, 'model.safetensors');
    expect((await session.handle({ type: 'save-checkpoint', path: file })).ok).toBe(true);

    for (const at of ['copy', 'record'] as const) {
      const store = new RunStore(join(dir, `runs-${at}`));
      failing.at = at;
      // Named: the runs folder that is full (not the file being imported), or the file that cannot be recorded.
      await expect(importRun(store, file)).rejects.toThrow(
        at === 'copy' ? `${store.folder}: ` : `${file}: cannot be recorded in ${store.folder}`,
      );
      failing.at = null;
      expect(await readdir(store.folder)).toEqual([]);
      expect((await store.list()).runs).toEqual([]);
      // The same file imports once the disk has room.
      expect((await importRun(store, file)).origin).toBe('import');
    }
  });
});
