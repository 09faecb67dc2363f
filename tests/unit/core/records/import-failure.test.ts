/**
 * An import whose copy of the file fails (a full disk here, made by a stand-in copyFile) leaves nothing behind in the
 * runs folder: no record, no partial copy, not the folder its run id claimed, and no lock.
 */

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_SETTINGS } from '@core/shared/contract';
import { StudioSession } from '@core/backend/session';
import { importRun } from '@core/records/import';
import { RunStore } from '@core/records/store';
import { randomDataset, tempDir, toKaggleCsv, writeTemp } from '../../../helpers/data';

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const full = (): Promise<never> =>
    Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
  return { ...actual, default: { ...actual, copyFile: full }, copyFile: full };
});

describe('a failed import', () => {
  it('leaves the runs folder as it was', async () => {
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

    const store = new RunStore(join(dir, 'runs'));
    await expect(importRun(store, file)).rejects.toThrow('ENOSPC');
    expect(await readdir(store.folder)).toEqual([]);
    expect((await store.list()).runs).toEqual([]);
  });
});
