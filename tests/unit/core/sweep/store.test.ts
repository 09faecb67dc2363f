/**
 * Sweep records on disk: they round-trip, damaged ones are refused in one line naming the file (and listed by id),
 * and the lock lets one process at a time run a sweep, taking over the lock of a process that is gone.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { HOST_NAME, processIdentity, thisProcess } from '@core/records/liveness';
import { resolveFields } from '@core/shared/config';
import { checkSweepPlan } from '@core/shared/sweep/plan';
import {
  checkSweepRecord,
  pendingEntries,
  SWEEP_RECORD_FORMAT,
  type SweepRecord,
  sweepDisplayName,
  sweepProgress,
} from '@core/shared/sweep/record';
import { SweepStore, sweepsFolder } from '@core/sweep/store';
import { tempDir } from '../../../helpers/data';
import { deadPid } from '../../../helpers/runs';

const plan = checkSweepPlan(
  {
    axes: [
      { field: 'learningRate', values: [0.001, 0.002] },
      { field: 'hiddenSizes', values: [[32], []] },
    ],
    seeds: [1, 2],
  },
  resolveFields({}),
);

async function recordFor(id: string, changes: Partial<SweepRecord> = {}): Promise<SweepRecord> {
  return {
    format: SWEEP_RECORD_FORMAT,
    formatVersion: 1,
    id,
    name: 'widths',
    status: 'running',
    error: null,
    origin: 'cli',
    createdAt: '2026-12-07T10:00:00.000Z',
    updatedAt: '2026-12-07T10:00:00.000Z',
    endedAt: null,
    processIdentity: null,
    ...(await thisProcess()),
    appVersion: '0.1.0',
    plan,
    base: resolveFields({ epochs: 3, limit: 600 }),
    kernels: 'auto',
    data: { train: ['/d/train-images-idx3-ubyte.gz', '/d/train-labels-idx1-ubyte.gz'], test: null, fingerprint: null },
    runs: pendingEntries(plan),
    ...changes,
  };
}

describe('SweepStore', () => {
  let store: SweepStore;
  const children: number[] = [];

  beforeEach(async () => {
    store = new SweepStore(sweepsFolder(join(await tempDir('fmnist-sweeps-'), 'runs')));
  });

  afterAll(() => {
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  });

  it('writes a new sweep to runs/sweeps/<id>.json with its lock held, and reads back what it wrote', async () => {
    expect(store.folder).toMatch(/[\\/]runs[\\/]sweeps$/);
    const made = await recordFor('19700101-000000-0000');
    const { record, lock } = await store.create((id) => ({ ...structuredClone(made), id }));
    expect(record.id).toMatch(/^\d{8}-\d{6}-[0-9a-f]{4}$/);
    expect((await readdir(store.folder)).sort()).toEqual([`${record.id}.json`, `${record.id}.lock`]);
    record.runs[1] = {
      ...record.runs[1],
      status: 'finished',
      runId: '20261207-100001-abcd',
      earlierRunIds: ['20261207-100000-abcd'],
      result: { epochs: 3, finalTestAccuracy: 0.71, bestTestAccuracy: 0.72, bestTestEpoch: 2 },
    };
    await store.write(record);
    const read = await store.read(record.id);
    expect(read).toEqual(record);
    // Hidden layers of none survive as an empty list (a network without hidden layers).
    expect(read.runs[2].settings).toEqual({ learningRate: 0.001, hiddenSizes: [] });
    expect(sweepProgress(read)).toEqual({ done: 1, total: 8 });
    expect(await store.find(record.id.slice(0, 17))).toEqual(record);
    await lock.release();
    expect(existsSync(store.lockFile(record.id))).toBe(false);
  });

  it('names an unnamed sweep after what it sweeps', async () => {
    expect(sweepDisplayName({ name: '', plan })).toBe('lr × hidden sweep');
    expect(sweepDisplayName({ name: ' widths ', plan })).toBe('widths');
  });

  it.each([
    ['{"format": "fashion-mnist-studio-sweep", ', (file: string) => `${file}: is not valid JSON (`],
    ['', (file: string) => `${file}: is empty`],
    ['{"runs": []}', (file: string) => `${file}: not a sweep record of Fashion-MNIST Studio`],
  ])('refuses a damaged record in one line naming the file: %j', async (text, message) => {
    const id = '20261207-100000-0bad';
    await mkdir(store.folder, { recursive: true });
    await writeFile(store.file(id), text);
    const refused = await store.read(id).then(
      () => null,
      (error: Error) => error.message,
    );
    expect(refused?.startsWith(message(store.file(id)))).toBe(true);
    expect(refused).not.toContain('\n');
    const listed = await store.list();
    expect(listed.sweeps).toEqual([]);
    expect(listed.damaged).toEqual([{ id, file: store.file(id), problem: refused!.slice(store.file(id).length + 2) }]);
    await expect(store.find('20261207-100000')).rejects.toThrow(refused!);
  });

  it.each([
    [{ formatVersion: 2 }, 'format version 2 is newer than this version reads (1)'],
    [{ status: 'paused' }, 'status is "paused"'],
    [{ id: '20261207-100000-ffff' }, 'names the sweep "20261207-100000-ffff", not 20261207-100000-0abc'],
    [{ base: { learningRate: -1 } }, 'base: learning rate must be greater than 0, got -1'],
    [{ plan: { axes: [{ field: 'dropout', values: [0.1] }], seeds: [1] } }, 'plan: dropout needs two or more values'],
    [{ runs: [] }, 'lists 0 runs, but its plan has 8'],
    [{ data: { train: [], test: null, fingerprint: null } }, 'data.train is an empty list, not a list of files'],
  ] as [Partial<SweepRecord>, string][])('refuses a record with %j: %s', async (changes, problem) => {
    const record = await recordFor('20261207-100000-0abc', changes);
    const checked = checkSweepRecord(JSON.parse(JSON.stringify(record)), '20261207-100000-0abc');
    expect(typeof checked === 'string' && checked.startsWith(problem)).toBe(true);
  });

  it("refuses runs that are not the plan's, and run ids that are not ids", async () => {
    const swapped = await recordFor('20261207-100000-0abc');
    swapped.runs = [swapped.runs[1], swapped.runs[0], ...swapped.runs.slice(2)];
    expect(checkSweepRecord(JSON.parse(JSON.stringify(swapped)), swapped.id)).toBe(
      "runs entry 1 is not the plan's run 1",
    );
    const badId = await recordFor('20261207-100000-0abc');
    badId.runs[3].runId = '../../etc/passwd';
    expect(checkSweepRecord(JSON.parse(JSON.stringify(badId)), badId.id)).toBe(
      'runs entry 4: runId is "../../etc/passwd"',
    );
  });

  it('refuses a second claim on a sweep this process runs, and allows it once released', async () => {
    const made = await recordFor('19700101-000000-0000');
    const { record, lock } = await store.create((id) => ({ ...structuredClone(made), id }));
    await expect(store.claim(record.id)).rejects.toThrow(
      `sweep ${record.id} is already running (process ${process.pid}): let it finish, or stop it first`,
    );
    expect((await store.list()).sweeps.map((sweep) => sweep.listedStatus)).toEqual(['running']);
    await lock.release();
    // The record still says running, but nobody runs it.
    expect((await store.list()).sweeps.map((sweep) => sweep.listedStatus)).toEqual(['interrupted']);
    const again = await store.claim(record.id);
    await again.release();
  });

  it('refuses a sweep that another live process runs, and takes over the lock of one that is gone', async () => {
    const made = await recordFor('19700101-000000-0000');
    const { record, lock } = await store.create((id) => ({ ...structuredClone(made), id }));
    await lock.release();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    children.push(child.pid!);
    await new Promise((resolve) => child.once('spawn', resolve));
    const other = {
      pid: child.pid!,
      host: HOST_NAME,
      processStartedMs: Date.now(),
      processIdentity: await processIdentity(child.pid!),
    };
    await writeFile(store.lockFile(record.id), JSON.stringify(other));
    await expect(store.claim(record.id)).rejects.toThrow(
      `sweep ${record.id} is already running (process ${child.pid}): let it finish, or stop it first`,
    );
    expect((await store.list()).sweeps[0].listedStatus).toBe('running');

    // The same lock after its process is gone: stale, taken over.
    await writeFile(store.lockFile(record.id), JSON.stringify({ ...other, pid: deadPid() }));
    expect((await store.list()).sweeps[0].listedStatus).toBe('interrupted');
    const taken = await store.claim(record.id);
    expect(JSON.parse(await readFile(store.lockFile(record.id), 'utf8')).pid).toBe(process.pid);
    await taken.release();
  });

  it('refuses a sweep recorded as running on another computer, saying which lock to delete', async () => {
    const made = await recordFor('19700101-000000-0000');
    const { record, lock } = await store.create((id) => ({ ...structuredClone(made), id }));
    await lock.release();
    await writeFile(
      store.lockFile(record.id),
      JSON.stringify({ pid: 1, host: 'elsewhere', processStartedMs: 0, processIdentity: null }),
    );
    await expect(store.claim(record.id)).rejects.toThrow(
      `sweep ${record.id} is recorded as running on elsewhere, which this computer cannot check: ` +
        `if it does not run there, delete ${store.lockFile(record.id)}`,
    );
  });

  it('says there is no such sweep, and asks for more of an id that names several', async () => {
    await expect(store.read('20261207-100000-0000')).rejects.toThrow(
      `there is no sweep 20261207-100000-0000 in ${store.folder} (fmnist sweep --list lists them)`,
    );
    const made = await recordFor('19700101-000000-0000');
    const first = await store.create((id) => ({ ...structuredClone(made), id }));
    const second = await store.create((id) => ({ ...structuredClone(made), id }));
    await first.lock.release();
    await second.lock.release();
    await expect(store.find('2')).rejects.toThrow(/^"2" names 2 sweeps \(.+\): give more of the id$/);
  });
});
