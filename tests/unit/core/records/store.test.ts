/**
 * The runs folder: records written whole (also when the writer is killed mid-write), listed without ever
 * throwing (damaged and foreign files named in one warning each), runs whose process is gone reported as
 * interrupted, the user's edits kept across the trainer's writes, prefixes, deletion, and 500 runs listed fast.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { builtinModules } from 'node:module';
import { mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'vite';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveRunConfig } from '@core/shared/config';
import { atomicWriteHooks } from '@core/io';
import { parseRunEdits } from '@core/shared/run-record';
import { type RunStart, StoreRecorder } from '@core/records/recorder';
import { HOST_NAME, PROCESS_STARTED_MS, processIdentity, thisProcess } from '@core/records/liveness';
import { RunStore } from '@core/records/store';
import type { EpochSummary } from '@core/shared/events';
import { tempDir } from '../../../helpers/data';
import { deadPid, recordFor } from '../../../helpers/runs';

function epoch(n: number, testAccuracy: number | null, cost = 1 / n): EpochSummary {
  return {
    epoch: n,
    epochs: 5,
    cost,
    trainAccuracy: 0.5 + n / 100,
    validationCost: null,
    validationAccuracy: null,
    testCost: testAccuracy === null ? null : 0.4,
    testAccuracy,
    seconds: 1.5,
    evaluationSeconds: 0.1,
    samplesPerSecond: 1000,
  };
}

const START: RunStart = {
  config: resolveRunConfig({ epochs: 5, hiddenSizes: [32], learningRate: 0.002 }),
  data: { fingerprint: '0123456789abcdef', sources: { train: ['/d/train.csv'], test: ['/d/test.csv'] }, history: null },
  kernels: 'wasm-fma',
  threads: 2,
  trainingSamples: 900,
  validationSamples: 100,
  history: [],
};

describe('the runs store', () => {
  let folder: string;
  let store: RunStore;
  beforeAll(async () => {
    folder = join(await tempDir('fmnist-runs-'), 'runs');
    store = new RunStore(folder);
  });
  afterEach(() => {
    atomicWriteHooks.beforeRename = undefined;
  });

  it('records a run as it goes: running at the start, every epoch, the final status and metrics at the end', async () => {
    const recorder = new StoreRecorder(store, {
      origin: 'app',
      name: 'first try',
      checkpoint: '/ckpt/autosave.safetensors',
    });
    await recorder.start(START);
    const id = recorder.id!;
    expect(id).toMatch(/^\d{8}-\d{6}-[0-9a-f]{4}$/);
    const atStart = await store.get(id);
    expect(atStart).toMatchObject({
      status: 'running',
      name: 'first try',
      pid: process.pid,
      origin: 'app',
      kernels: 'wasm-fma',
      threads: 2,
      endedAt: null,
    });
    expect(atStart.config).toEqual(START.config);
    expect(await store.history(id)).toEqual([]);

    const epochs = [epoch(1, 0.8), epoch(2, 0.86), epoch(3, 0.84)];
    for (const summary of epochs) await recorder.epoch(summary);
    expect(await store.history(id)).toEqual(epochs);
    expect((await store.get(id)).metrics).toMatchObject({ epochs: 3, finalTestAccuracy: 0.84 });

    await recorder.end({
      status: 'stopped',
      error: null,
      summary: {
        status: 'stopped',
        epochsDone: 3,
        history: epochs,
        trainingSeconds: 4.5,
        bestEpoch: null,
        stoppedEarly: false,
        restoredBest: false,
      },
    });
    const ended = await store.get(id);
    expect(ended.status).toBe('stopped');
    expect(ended.endedAt).not.toBeNull();
    // Best is epoch 2 (86%), final is epoch 3 (84%); 3 epochs of 1.5 s.
    expect(ended.metrics).toEqual({
      epochs: 3,
      finalCost: 1 / 3,
      finalTrainAccuracy: 0.53,
      finalValidationAccuracy: null,
      finalTestCost: 0.4,
      finalTestAccuracy: 0.84,
      bestTestAccuracy: 0.86,
      bestTestEpoch: 2,
      trainingSeconds: 4.5,
    });
    // The trainer's summary as it came, without its history (kept in the history file).
    expect(ended.summary).toEqual({
      status: 'stopped',
      epochsDone: 3,
      bestEpoch: null,
      stoppedEarly: false,
      restoredBest: false,
      trainingSeconds: 4.5,
    });
    const onDisk = JSON.parse(await readFile(join(folder, `${id}.json`), 'utf8'));
    expect(onDisk.history).toBeUndefined();
    expect(JSON.parse(await readFile(join(folder, `${id}.history.json`), 'utf8')).epochs).toEqual(epochs);
    // Nothing but the two files of the run and the folder of its own checkpoints (claimed with its id; none
    // written here): every temporary file was renamed into place.
    expect((await readdir(folder)).filter((name) => name.startsWith(id) || name.startsWith('.')).sort()).toEqual([
      id,
      `${id}.history.json`,
      `${id}.json`,
    ]);
    expect(ended.files).toBeNull();
  });

  it('counts only its own epochs in the training time of a continued model, and records where the model came from', async () => {
    const recorder = new StoreRecorder(store, {
      origin: 'cli',
      checkpoint: null,
      resumedFile: '/ckpt/half.safetensors',
    });
    await recorder.start({ ...START, history: [epoch(1, 0.7), epoch(2, 0.75)] });
    await recorder.epoch(epoch(3, 0.74));
    await recorder.end({ status: 'finished', error: null, summary: null });
    const record = await store.get(recorder.id!);
    expect(record.resumedFrom).toEqual({ epochsDone: 2, file: '/ckpt/half.safetensors' });
    expect(record.metrics).toMatchObject({ epochs: 3, bestTestAccuracy: 0.75, bestTestEpoch: 2, trainingSeconds: 1.5 });
    expect((await store.history(recorder.id!)).map((e) => e.epoch)).toEqual([1, 2, 3]);
  });

  it('records a failure with its message, keeping the epochs that were whole', async () => {
    const recorder = new StoreRecorder(store, { origin: 'cli', checkpoint: null });
    await recorder.start(START);
    await recorder.epoch(epoch(1, 0.8));
    await recorder.end({
      status: 'failed',
      error: 'training diverged at epoch 2, batch 3 (the cost became NaN)',
      summary: null,
    });
    const record = await store.get(recorder.id!);
    expect(record).toMatchObject({
      status: 'failed',
      error: 'training diverged at epoch 2, batch 3 (the cost became NaN)',
    });
    expect(record.metrics.epochs).toBe(1);
  });

  it('keeps the previous file whole when a write fails, says so once, and once more when writing works again', async () => {
    const problems: (string | null)[] = [];
    const recorder = new StoreRecorder(store, { origin: 'cli', checkpoint: null, onProblem: (p) => problems.push(p) });
    await recorder.start(START);
    await recorder.epoch(epoch(1, 0.8));
    const id = recorder.id!;
    const before = await readFile(join(folder, `${id}.json`), 'utf8');
    atomicWriteHooks.beforeRename = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    };
    await recorder.epoch(epoch(2, 0.82));
    await recorder.epoch(epoch(3, 0.83));
    expect(await readFile(join(folder, `${id}.json`), 'utf8')).toBe(before);
    expect((await store.history(id)).map((e) => e.epoch)).toEqual([1]);
    atomicWriteHooks.beforeRename = undefined;
    await recorder.epoch(epoch(4, 0.84));
    expect(problems).toEqual([`${join(folder, `${id}.history.json`)}: no space left on the device`, null]);
    expect((await store.history(id)).map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    // No temporary file was left behind by the failed writes.
    expect((await readdir(folder)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps a name and note given during the run through the trainer’s later writes; stops writing a deleted record', async () => {
    const recorder = new StoreRecorder(store, { origin: 'app', checkpoint: null });
    await recorder.start(START);
    const id = recorder.id!;
    const renamed = await store.edit(id, { name: '  lr 0.002\nwide  ', note: 'line one\r\nline two' });
    expect(renamed).toMatchObject({ name: 'lr 0.002 wide', note: 'line one\nline two', status: 'running' });
    await recorder.epoch(epoch(1, 0.8));
    await recorder.end({ status: 'finished', error: null, summary: null });
    expect(await store.get(id)).toMatchObject({
      name: 'lr 0.002 wide',
      note: 'line one\nline two',
      status: 'finished',
    });

    const doomed = new StoreRecorder(store, { origin: 'app', checkpoint: null });
    await doomed.start(START);
    await expect(store.remove([doomed.id!])).rejects.toThrow(
      `run ${doomed.id} is still training: stop it before deleting it`,
    );
    // Deleted behind its back (by hand): the recorder does not bring it back.
    await rm(join(folder, `${doomed.id}.json`));
    await doomed.epoch(epoch(1, 0.8));
    await doomed.end({ status: 'finished', error: null, summary: null });
    await expect(store.get(doomed.id!)).rejects.toThrow(`there is no run ${doomed.id} in ${folder}`);
  });

  it('deletes both files of a run but never its checkpoint', async () => {
    const checkpoint = join(folder, '..', 'kept.safetensors');
    await writeFile(checkpoint, 'model');
    const recorder = new StoreRecorder(store, { origin: 'cli', checkpoint });
    await recorder.start(START);
    await recorder.epoch(epoch(1, 0.8));
    await recorder.end({ status: 'finished', error: null, summary: null });
    await store.remove([recorder.id!]);
    expect((await readdir(folder)).some((name) => name.startsWith(recorder.id!))).toBe(false);
    expect(await readFile(checkpoint, 'utf8')).toBe('model');
  });

  it('finds a run by a unique prefix of its id, and says which runs an ambiguous one names', async () => {
    const own = await tempDir('fmnist-runs-prefix-');
    const prefixed = new RunStore(own);
    for (const id of ['20261125-143012-ab12', '20261125-143012-ab34', '20261126-090000-0f0f']) {
      await writeFile(join(own, `${id}.json`), JSON.stringify(recordFor(id)));
    }
    expect((await prefixed.find('20261126')).id).toBe('20261126-090000-0f0f');
    expect((await prefixed.find('20261125-143012-ab34')).id).toBe('20261125-143012-ab34');
    await expect(prefixed.find('20261125-143012-ab')).rejects.toThrow(
      '"20261125-143012-ab" names 2 runs (20261125-143012-ab12, 20261125-143012-ab34): give more of the id',
    );
    await expect(prefixed.find('2027')).rejects.toThrow(`there is no run "2027" in ${own} (fmnist runs lists them)`);
    await expect(prefixed.get('../etc/passwd')).rejects.toThrow(`there is no run "../etc/passwd" in ${own}`);
    await expect(prefixed.history('../x')).rejects.toThrow(`there is no run "../x" in ${own}`);
  });
});

describe('listing', () => {
  it('skips damaged and foreign files with one warning each, naming the file and the problem, and lists the rest', async () => {
    const folder = await tempDir('fmnist-runs-damaged-');
    const good = '20261125-100000-aaaa';
    await writeFile(join(folder, `${good}.json`), JSON.stringify(recordFor(good)));
    const whole = JSON.stringify(recordFor('20261125-100001-bbbb'));
    await writeFile(join(folder, '20261125-100001-bbbb.json'), whole.slice(0, whole.length / 2));
    await writeFile(join(folder, '20261125-100002-cccc.json'), '');
    await writeFile(join(folder, '20261125-100003-dddd.json'), JSON.stringify({ name: 'package', version: '1.0.0' }));
    await writeFile(
      join(folder, '20261125-100004-eeee.json'),
      JSON.stringify(recordFor('20261125-100004-eeee', { formatVersion: 7 })),
    );
    await writeFile(join(folder, '20261125-100005-ffff.json'), JSON.stringify(recordFor('20261125-999999-ffff')));
    await writeFile(
      join(folder, '20261125-100006-0000.json'),
      JSON.stringify(recordFor('20261125-100006-0000', { status: 'exploded' as never })),
    );
    await writeFile(
      join(folder, '20261125-100007-1111.json'),
      JSON.stringify({
        ...recordFor('20261125-100007-1111'),
        metrics: { ...recordFor('x').metrics, finalTestAccuracy: 'high' },
      }),
    );
    await mkdir(join(folder, '20261125-100008-2222.json'));
    // Temporary files of interrupted writes, other files and histories are not summaries: never read.
    await writeFile(join(folder, `.${good}.json.4242.lq3k2.tmp`), '{"format": "fashion-mnist-st');
    await writeFile(join(folder, `${good}.history.json`), 'garbage');
    await writeFile(join(folder, 'notes.txt'), 'x');

    const { runs, damaged, warnings } = await new RunStore(folder).list();
    expect(runs.map((run) => run.id)).toEqual([good]);
    const file = (id: string): string => join(folder, `${id}.json`);
    // Summaries of ours that cannot be read are damaged runs, by id, with what is wrong (they can be deleted).
    const entry = (id: string, problem: string | RegExp) => ({
      id,
      file: file(id),
      problem: typeof problem === 'string' ? problem : expect.stringMatching(problem),
      files: null,
    });
    expect(damaged).toEqual([
      entry('20261125-100001-bbbb', /^is not valid JSON \(.+\)$/),
      entry('20261125-100002-cccc', 'is empty'),
      entry('20261125-100003-dddd', 'not a run record of Fashion-MNIST Studio'),
      entry('20261125-100004-eeee', 'format version 7 is newer than this version reads (1)'),
      entry('20261125-100005-ffff', 'names the run "20261125-999999-ffff", not 20261125-100005-ffff'),
      entry('20261125-100006-0000', 'status is "exploded"'),
      entry('20261125-100007-1111', 'metrics.finalTestAccuracy is "high"'),
      entry('20261125-100008-2222', 'is a directory, expected a file'),
    ]);
    for (const run of damaged) expect(run.problem).not.toContain('\n');
    expect(warnings).toEqual([]);
    // A damaged history is refused by name when it is asked for.
    await expect(new RunStore(folder).history(good)).rejects.toThrow(
      `${join(folder, `${good}.history.json`)}: is not valid JSON`,
    );
  });

  it('removes the temporary files of writes whose process was killed, once they are a minute old', async () => {
    const folder = await tempDir('fmnist-runs-leftovers-');
    const dead = deadPid();
    const id = '20261125-100000-aaaa';
    await writeFile(join(folder, `${id}.json`), JSON.stringify(recordFor(id)));
    const leftover = `.${id}.json.${dead}.lq3k2.tmp`;
    const fresh = `.${id}.history.json.${dead}.lq3k3.tmp`;
    const ours = `.${id}.json.${process.pid}.lq3k4.tmp`;
    const other = '.notes.txt.tmp';
    for (const name of [leftover, fresh, ours, other]) await writeFile(join(folder, name), '{"format": "fashion-mn');
    const aMinuteAgo = new Date(Date.now() - 61_000);
    for (const name of [leftover, ours, other]) await utimes(join(folder, name), aMinuteAgo, aMinuteAgo);
    const { runs, warnings } = await new RunStore(folder).list();
    expect(runs.map((run) => run.id)).toEqual([id]);
    expect(warnings).toEqual([]);
    // Gone: the old one of a dead process. Kept: a fresh one (its write may be under way elsewhere), one of a
    // live process, and anything that is not a temporary file of ours.
    expect((await readdir(folder)).sort()).toEqual([fresh, ours, other, `${id}.json`].sort());
  });

  it('reports a run whose process is gone as interrupted, and one still training as running', async () => {
    const folder = await tempDir('fmnist-runs-interrupted-');
    const store = new RunStore(folder);
    const host = HOST_NAME;
    const parent = await processIdentity(process.ppid);
    const own = await thisProcess();
    const dead = deadPid();
    const records = [
      recordFor('20261125-100000-0001', { status: 'running', host, pid: dead, endedAt: null }),
      // Another process, alive: this one's parent (the test runner), and it started then.
      recordFor('20261125-100000-0002', {
        status: 'running',
        host,
        pid: process.ppid,
        processStartedMs: 0,
        processIdentity: parent,
        endedAt: null,
      }),
      // A live pid whose process started at another time: the pid was handed on after a crash.
      recordFor('20261125-100000-0007', {
        status: 'running',
        host,
        pid: process.ppid,
        processStartedMs: 0,
        processIdentity: `${parent}-before`,
        endedAt: null,
      }),
      // This pid, but an earlier process that had it.
      recordFor('20261125-100000-0003', {
        status: 'running',
        host,
        pid: process.pid,
        processStartedMs: PROCESS_STARTED_MS - 3_600_000,
        processIdentity: `${own.processIdentity}-before`,
        endedAt: null,
      }),
      // This very process, but no recorder writes it (a training worker that crashed).
      recordFor('20261125-100000-0004', {
        status: 'running',
        host,
        pid: process.pid,
        processStartedMs: PROCESS_STARTED_MS,
        processIdentity: own.processIdentity,
        endedAt: null,
      }),
      // Another computer: nothing can be known, it stays running.
      recordFor('20261125-100000-0005', { status: 'running', host: 'other-host', pid: dead, endedAt: null }),
      // Ended runs keep their status whatever their process does.
      recordFor('20261125-100000-0006', { status: 'finished', host, pid: dead }),
    ];
    for (const record of records) await writeFile(join(folder, `${record.id}.json`), JSON.stringify(record));
    const recorder = new StoreRecorder(store, { origin: 'app', checkpoint: null });
    await recorder.start(START);

    const { runs, warnings } = await store.list();
    expect(warnings).toEqual([]);
    const status = Object.fromEntries(runs.map((run) => [run.id, run.status]));
    expect(status).toEqual({
      '20261125-100000-0001': 'interrupted',
      '20261125-100000-0002': 'running',
      '20261125-100000-0003': 'interrupted',
      '20261125-100000-0004': 'interrupted',
      '20261125-100000-0005': 'running',
      '20261125-100000-0006': 'finished',
      '20261125-100000-0007': 'interrupted',
      [recorder.id!]: 'running',
    });
    // Reading never rewrites: the file still says running; an interrupted run can be renamed and deleted.
    const summary = await readFile(join(folder, '20261125-100000-0001.json'), 'utf8');
    expect(JSON.parse(summary).status).toBe('running');
    expect((await store.edit('20261125-100000-0001', { name: 'killed' })).status).toBe('interrupted');
    // The name goes to the run's journal; the summary stays as its trainer wrote it.
    expect(await readFile(join(folder, '20261125-100000-0001.json'), 'utf8')).toBe(summary);
    expect((await store.get('20261125-100000-0001')).name).toBe('killed');
    await store.remove(['20261125-100000-0001', '20261125-100000-0007']);
    // One recorded as training on another computer is deleted only when forced.
    await expect(store.remove(['20261125-100000-0005'])).rejects.toThrow(
      'run 20261125-100000-0005 is recorded as training on other-host, which this computer cannot check: if it is over there, delete it anyway (--force)',
    );
    await store.remove(['20261125-100000-0005'], { force: true });
    await expect(store.remove([recorder.id])).rejects.toThrow(
      `run ${recorder.id} is still training: stop it before deleting it`,
    );
    await recorder.end({ status: 'finished', error: null, summary: null });
    expect((await store.get(recorder.id!)).status).toBe('finished');
  });

  it('lists 500 runs quickly, reading their summaries only', async () => {
    const folder = await tempDir('fmnist-runs-500-');
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 500; i++) {
      const id = `20261125-${String(100000 + i)}-${i.toString(16).padStart(4, '0')}`;
      writes.push(
        writeFile(
          join(folder, `${id}.json`),
          JSON.stringify(recordFor(id, { startedAt: new Date(Date.UTC(2026, 10, 25, 10, 0, i)).toISOString() })),
        ),
      );
      // Large histories that cannot be parsed: listing must not even open them.
      writes.push(writeFile(join(folder, `${id}.history.json`), 'x'.repeat(200_000)));
    }
    await Promise.all(writes);
    const store = new RunStore(folder);
    await store.list();
    const started = performance.now();
    const { runs, warnings } = await store.list();
    const elapsedMs = performance.now() - started;
    expect(warnings).toEqual([]);
    expect(runs).toHaveLength(500);
    expect(runs[0].id).toBe('20261125-100000-0000');
    expect(runs[499].id).toBe('20261125-100499-01f3');
    // About 60 ms here (2 cores, Node 20); the bound leaves room for a busy machine.
    expect(elapsedMs).toBeLessThan(1000);
  });
});

/** Bundles a child-process helper of tests/helpers (Node cannot run TypeScript; Vite builds the CLI the same way). */
async function bundle(name: string): Promise<string> {
  const outDir = await tempDir(`fmnist-${name}-`);
  await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      ssr: join(__dirname, `../../../helpers/${name}.ts`),
      outDir,
      target: 'node20',
      minify: false,
      rolldownOptions: {
        external: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
        output: { format: 'cjs', entryFileNames: `${name}.js` },
      },
    },
    ssr: { noExternal: true },
  });
  return join(outDir, `${name}.js`);
}

describe('a writer killed mid-write', () => {
  let writer: string;
  beforeAll(async () => {
    writer = await bundle('run-writer');
  });

  const startWriter = (folder: string): Promise<ChildProcess> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [writer, folder], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (chunk) => {
        output += chunk;
        if (output.includes('recording')) resolve(child);
      });
      child.stderr!.on('data', (chunk) => (output += chunk));
      child.on('exit', (code) => reject(new Error(`the writer exited (${code}): ${output}`)));
    });

  it('leaves only whole records: every run listed parses, with its history, and the one it was writing is interrupted', async () => {
    const folder = await tempDir('fmnist-runs-killed-');
    for (let round = 0; round < 10; round++) {
      const child = await startWriter(folder);
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 400));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    // As if a minute had passed: the writes the kills cut short leave no temporary file behind after a listing.
    const aMinuteAgo = new Date(Date.now() - 61_000);
    for (const name of await readdir(folder))
      if (name.endsWith('.tmp')) await utimes(join(folder, name), aMinuteAgo, aMinuteAgo);
    const store = new RunStore(folder);
    const { runs, warnings } = await store.list();
    expect(warnings).toEqual([]);
    expect((await readdir(folder)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(runs.length).toBeGreaterThan(10);
    for (const run of runs) {
      // Every listed record is whole, and so is its history, which has at least the epochs its summary counts.
      const history = await store.history(run.id);
      expect(history.length).toBeGreaterThanOrEqual(run.metrics.epochs);
      expect(history.map((e) => e.epoch)).toEqual(history.map((_, i) => i + 1));
      // No process writes these any more: none is shown as still running.
      expect(['finished', 'interrupted']).toContain(run.status);
    }
    expect(runs.filter((run) => run.status === 'interrupted').length).toBeGreaterThan(0);
  });
});

describe('one record edited by several processes while its trainer writes it', () => {
  let editor: string;
  let writer: string;
  beforeAll(async () => {
    [editor, writer] = await Promise.all([bundle('run-editor'), bundle('run-writer')]);
  });

  /** Runs a helper; resolves with its output once it exits (or is killed). */
  const spawnHelper = (file: string, args: string[]) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
      child.on('exit', (code) => resolve({ code, output })),
    );
    return { child, exited, output: () => output };
  };

  /** The edits each editor said it wrote ("ok N" lines). */
  const acknowledged = (output: string): number[] => [...output.matchAll(/^ok (\d+)$/gm)].map((m) => Number(m[1]));

  it('loses no rename, no note and not the final status, whatever the interleaving', async () => {
    const folder = join(await tempDir('fmnist-runs-hammer-'), 'runs');
    const training = spawnHelper(writer, [folder, '--once', '300']);
    await expect.poll(() => /started (\S+)/.exec(training.output())?.[1] ?? null, { timeout: 20_000 }).not.toBeNull();
    const id = /started (\S+)/.exec(training.output())![1];
    const editors = ['a', 'b', 'c'].map((label) => spawnHelper(editor, [folder, id, label, '60']));
    const results = await Promise.all(editors.map((e) => e.exited));
    expect((await training.exited).code).toBe(0);
    for (const result of results) expect(result.code).toBe(0);

    const store = new RunStore(folder);
    const record = await store.get(id);
    // The trainer's final write stands: no edit put back an earlier status or an earlier epoch count.
    expect(record.status).toBe('finished');
    expect(record.metrics.epochs).toBe(300);
    expect(await store.history(id)).toHaveLength(300);
    // Every edit each editor made is in the journal, in its own order; the record shows the last of each kind.
    const journal = parseRunEdits(await readFile(store.editsFile(id), 'utf8'));
    expect(journal).toHaveLength(180);
    for (const label of ['a', 'b', 'c']) {
      const own = journal.map((edit) => edit.name ?? edit.note).filter((text) => text?.startsWith(`${label} `));
      expect(own).toEqual(Array.from({ length: 60 }, (_, n) => `${label} ${n}`));
    }
    expect(record.name).toBe(journal.findLast((edit) => edit.name !== undefined)!.name);
    expect(record.note).toBe(journal.findLast((edit) => edit.note !== undefined)!.note);
  }, 60_000);

  it('keeps every acknowledged edit and a readable record when editors and the trainer are killed at random points', async () => {
    const folder = join(await tempDir('fmnist-runs-hammer-killed-'), 'runs');
    const acked: Map<string, number[]> = new Map();
    let id = '';
    for (let round = 0; round < 6; round++) {
      const training = spawnHelper(writer, [folder, '--once', '100000']);
      await expect.poll(() => /started (\S+)/.exec(training.output())?.[1] ?? null, { timeout: 20_000 }).not.toBeNull();
      id = /started (\S+)/.exec(training.output())![1];
      const editors = ['a', 'b'].map((label) => ({
        label: `${label}${round}`,
        helper: spawnHelper(editor, [folder, id, `${label}${round}`, '100000']),
      }));
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 400));
      for (const { helper } of editors) helper.child.kill('SIGKILL');
      training.child.kill('SIGKILL');
      for (const { label, helper } of editors) {
        await helper.exited;
        acked.set(`${id} ${label}`, acknowledged(helper.output()));
      }
      await training.exited;
    }
    const store = new RunStore(folder);
    const { runs, damaged } = await store.list();
    expect(damaged).toEqual([]);
    expect(runs).toHaveLength(6);
    for (const run of runs) {
      // Killed: shown as interrupted, its history whole.
      expect(run.status).toBe('interrupted');
      expect((await store.history(run.id)).length).toBeGreaterThanOrEqual(run.metrics.epochs);
      const journal = parseRunEdits(await readFile(store.editsFile(run.id), 'utf8').catch(() => ''));
      for (const [key, numbers] of acked) {
        const [runId, label] = key.split(' ');
        if (runId !== run.id) continue;
        const written = journal.map((edit) => edit.name ?? edit.note).filter((text) => text?.startsWith(`${label} `));
        // Everything acknowledged is there, in order (a write cut off by the kill may add one more).
        expect(written.slice(0, numbers.length)).toEqual(numbers.map((n) => `${label} ${n}`));
        expect(written.length - numbers.length).toBeLessThanOrEqual(1);
      }
    }
  }, 90_000);
});

describe('records that cannot be read, and leftovers', () => {
  it('refuses to delete a damaged record whose process (still readable in it) trains; deletes one whose process is gone', async () => {
    const folder = await tempDir('fmnist-runs-damaged-live-');
    const store = new RunStore(folder);
    const own = await thisProcess();
    // A newer format this version cannot read, written by a process still alive (this one, for another run).
    const live = recordFor('20261125-100000-0001', { status: 'running', ...own, formatVersion: 2, endedAt: null });
    const gone = recordFor('20261125-100000-0002', {
      status: 'running',
      host: HOST_NAME,
      pid: deadPid(),
      processStartedMs: 0,
      formatVersion: 2,
      endedAt: null,
    });
    for (const record of [live, gone]) await writeFile(join(folder, `${record.id}.json`), JSON.stringify(record));
    expect((await store.list()).damaged.map((run) => run.problem)).toEqual([
      'format version 2 is newer than this version reads (1)',
      'format version 2 is newer than this version reads (1)',
    ]);
    await expect(store.remove([live.id])).rejects.toThrow(
      `run ${live.id} is still training: stop it before deleting it`,
    );
    await store.remove([gone.id]);
    expect((await readdir(folder)).sort()).toEqual([`${live.id}.json`]);
  });

  it('lists a run’s folder whose record is gone (a minute old) as damaged, with its size, and deletes it', async () => {
    const folder = await tempDir('fmnist-runs-orphan-');
    const id = '20261125-100000-0abc';
    await mkdir(join(folder, id));
    await writeFile(join(folder, id, 'last.safetensors'), Buffer.alloc(3000));
    const young = '20261125-100000-0def';
    await mkdir(join(folder, young));
    const aMinuteAgo = new Date(Date.now() - 61_000);
    await utimes(join(folder, id), aMinuteAgo, aMinuteAgo);
    const store = new RunStore(folder);
    const { damaged } = await store.list();
    expect(damaged).toEqual([
      {
        id,
        file: join(folder, id),
        problem: 'has files but no record',
        files: { last: join(folder, id, 'last.safetensors'), best: null, bytes: 3000 },
      },
    ]);
    await store.remove([id]);
    expect(await readdir(folder)).toEqual([young]);
  });

  it('folds only the newest part of a journal grown past its bound, and the record stays whole', async () => {
    const folder = await tempDir('fmnist-runs-journal-');
    const id = '20261125-100000-0aaa';
    await writeFile(join(folder, `${id}.json`), JSON.stringify(recordFor(id)));
    const note = JSON.stringify({ at: 't', note: 'n'.repeat(9000) });
    await writeFile(
      join(folder, `${id}.edits.jsonl`),
      `${`\n${note}\n`.repeat(2000)}\n${JSON.stringify({ at: 't', name: 'last one' })}\n`,
    );
    const { runs, damaged } = await new RunStore(folder).list();
    expect(damaged).toEqual([]);
    expect(runs[0]).toMatchObject({ id, name: 'last one', note: 'n'.repeat(9000) });
  });

  it('removes temporary files a killed writer left in a run’s own folder', async () => {
    const folder = await tempDir('fmnist-runs-folder-leftovers-');
    const id = '20261125-100000-0bbb';
    await writeFile(join(folder, `${id}.json`), JSON.stringify(recordFor(id)));
    await mkdir(join(folder, id));
    await writeFile(join(folder, id, 'last.safetensors'), 'model');
    const leftover = `.last.safetensors.${deadPid()}.lq3k2.tmp`;
    await writeFile(join(folder, id, leftover), 'half a model');
    const aMinuteAgo = new Date(Date.now() - 61_000);
    await utimes(join(folder, id, leftover), aMinuteAgo, aMinuteAgo);
    await new RunStore(folder).list();
    expect(await readdir(join(folder, id))).toEqual(['last.safetensors']);
  });
});
