/**
 * Bringing back a run continued elsewhere: a checkpoint whose last epochs name the program that trained them (as the
 * PyTorch script writes) becomes a run of the history with its own copy of the file, the epochs before those the
 * model it continued; it is never imported twice, and opening it in the app records it too. The checkpoint here is
 * one the session trained, its last epoch marked by hand as trained elsewhere.
 */

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BackendEvent, DEFAULT_SETTINGS } from '@core/shared/contract';
import { loadCheckpoint, saveCheckpoint } from '@core/checkpoint/checkpoint';
import { StudioSession } from '@core/backend/session';
import { importRun, trainedElsewhereOf } from '@core/records/import';
import { RunStore } from '@core/records/store';
import { builtFile, randomDataset, tempDir, toKaggleCsv, writeTemp } from '../../../helpers/data';

describe('importing a run trained elsewhere', () => {
  let dir: string;
  let marked: string;
  let plain: string;
  const trainedBy = { program: 'train.py', torch: '2.4.0', device: 'cuda', worldSize: 4 };

  beforeAll(async () => {
    dir = await tempDir('fmnist-import-');
    const session = new StudioSession({ emit: () => {}, env: {} });
    const train = await writeTemp(dir, 'train.csv', toKaggleCsv(randomDataset(300, 41)));
    const test = await writeTemp(dir, 'test.csv', toKaggleCsv(randomDataset(100, 42)));
    expect((await session.handle({ type: 'load-dataset', role: 'train', paths: [train] })).ok).toBe(true);
    expect((await session.handle({ type: 'load-dataset', role: 'test', paths: [test] })).ok).toBe(true);
    const settings = { ...DEFAULT_SETTINGS, epochs: 3, hiddenSizes: [16], batchSize: 64 };
    expect(
      (await session.handle({ type: 'start', settings, autosave: false, continue: false, allowOtherData: false })).ok,
    ).toBe(true);
    await session.whenIdle();
    plain = join(dir, 'plain.safetensors');
    expect((await session.handle({ type: 'save-checkpoint', path: plain })).ok).toBe(true);
    const checkpoint = await loadCheckpoint(plain);
    // Epochs 2 and 3 trained elsewhere, epoch 1 here.
    checkpoint.history = checkpoint.history.map((epoch) => (epoch.epoch >= 2 ? { ...epoch, trainedBy } : epoch));
    marked = join(dir, 'marked.safetensors');
    await saveCheckpoint(marked, checkpoint);
  });

  it('finds the last stretch of epochs trained elsewhere, and none in a checkpoint trained here', async () => {
    expect(trainedElsewhereOf(await loadCheckpoint(marked))).toMatchObject({
      fromEpoch: 2,
      toEpoch: 3,
      program: 'train.py',
      torch: '2.4.0',
      device: 'cuda',
      worldSize: 4,
    });
    expect(trainedElsewhereOf(await loadCheckpoint(plain))).toBeNull();
  });

  it('records the run with its history, its own copy, and refuses a second import in one line', async () => {
    const store = new RunStore(join(dir, 'runs-a'));
    const run = await importRun(store, marked);
    const checkpoint = await loadCheckpoint(marked);
    expect(run.origin).toBe('import');
    expect(run.status).toBe('finished');
    expect(run.name).toBe('hidden 16 · batch 64 · 3 epochs, continued, train.py (PyTorch 2.4.0, cuda, 4 processes)');
    expect(run.resumedFrom).toEqual({ epochsDone: 1, file: marked });
    expect(run.metrics.epochs).toBe(3);
    expect(run.metrics.finalTestAccuracy).toBe(checkpoint.history[2].testAccuracy);
    expect((await store.history(run.id)).map((epoch) => epoch.epoch)).toEqual([1, 2, 3]);
    expect((await readFile(run.checkpoint!)).equals(await readFile(marked))).toBe(true);
    await expect(importRun(store, marked)).rejects.toThrow(`${marked}: was imported already, as run ${run.id}`);
    // A copy saved again (a new file, written at another time) is the same run.
    const copy = join(dir, 'copy.safetensors');
    await saveCheckpoint(copy, { ...(await loadCheckpoint(marked)), createdAt: '2027-01-01T00:00:00.000Z' });
    await expect(importRun(store, copy)).rejects.toThrow(`${copy}: was imported already, as run ${run.id}`);
    await expect(importRun(store, join(dir, 'train.csv'))).rejects.toThrow(/train\.csv: /);
  });

  it('records a file imported twice at once only once, in one process or in several', async () => {
    const store = new RunStore(join(dir, 'runs-c'));
    const outcomes = await Promise.allSettled([importRun(store, marked), importRun(store, marked)]);
    const imported = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    expect(imported).toHaveLength(1);
    expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({
      reason: { message: `${marked}: was imported already, as run ${imported[0].id}` },
    });
    expect((await store.list()).runs.map((run) => run.id)).toEqual([imported[0].id]);
    expect(existsSync(join(store.folder, '.import.lock'))).toBe(false);

    // Four `fmnist runs import` processes started together, on a runs folder whose import lock was left by a process
    // that is gone: they all find it stale at once, and still only one at a time holds the lock.
    const data = join(dir, 'data-d');
    await mkdir(join(data, 'runs'), { recursive: true });
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    const left = { pid: gone, host: hostname(), processStartedMs: Date.now() - 60_000, processIdentity: null };
    await writeFile(join(data, 'runs', '.import.lock'), `${JSON.stringify(left)}\n`);
    const runs = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<{ code: number | null; stderr: string }>((resolve) => {
            const child = spawn(process.execPath, [builtFile('out/node/fmnist.js'), 'runs', 'import', marked], {
              env: { PATH: process.env.PATH, HOME: process.env.HOME, FMNIST_STUDIO_DATA: data },
              stdio: ['ignore', 'ignore', 'pipe'],
            });
            let stderr = '';
            child.stderr.on('data', (chunk) => (stderr += chunk));
            child.on('close', (code) => resolve({ code, stderr }));
          }),
      ),
    );
    const listed = (await new RunStore(join(data, 'runs')).list()).runs;
    expect(listed).toHaveLength(1);
    expect(runs.map((run) => run.code).sort()).toEqual([0, 2, 2, 2]);
    for (const run of runs.filter((r) => r.code !== 0))
      expect(run.stderr.trim()).toBe(`fmnist runs: ${marked}: was imported already, as run ${listed[0].id}`);
    // No lock, takeover guard, staged copy or file of a lock's maker is left: the run's record and its folder only.
    expect((await readdir(join(data, 'runs'))).sort()).toEqual(
      [listed[0].id, `${listed[0].id}.history.json`, `${listed[0].id}.json`].sort(),
    );
  });

  it('takes over an import lock left by a process that is gone', async () => {
    const store = new RunStore(join(dir, 'runs-e'));
    await mkdir(store.folder, { recursive: true });
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    const lock = join(store.folder, '.import.lock');
    const left = { pid: gone, host: hostname(), processStartedMs: Date.now() - 60_000, processIdentity: null };
    await writeFile(lock, `${JSON.stringify(left)}\n`);
    const run = await importRun(store, marked);
    expect((await store.list()).runs.map((r) => r.id)).toEqual([run.id]);
    expect(existsSync(lock)).toBe(false);
  });

  it('records it when the app opens it, once', async () => {
    const events: BackendEvent[] = [];
    const session = new StudioSession({
      emit: (event) => events.push(event),
      env: {},
      runsDirectory: join(dir, 'runs-b'),
    });
    for (let i = 0; i < 2; i++)
      expect((await session.handle({ type: 'load-checkpoint', path: marked, replaceUnsaved: true })).ok).toBe(true);
    const listed = await session.handle({ type: 'list-runs' });
    if (!listed.ok) throw new Error(listed.error);
    expect(listed.runs.runs.map((run) => [run.origin, run.trainedElsewhere?.fromEpoch])).toEqual([['import', 2]]);
    const notices = events.filter((event) => event.type === 'notice');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({
      tone: 'info',
      message: expect.stringMatching(/^This model was trained on elsewhere: it is recorded in Runs as "/),
    });
  });
});
