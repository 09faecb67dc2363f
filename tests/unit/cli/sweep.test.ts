/**
 * `fmnist sweep`, the built command run for real on the first 600 training and 500 test images of Fashion-MNIST:
 * the runs in order, the table and --json against the runs' own records (means and spreads worked out here from
 * the records' numbers), --list, the refusals, and a sweep stopped by SIGTERM mid-way that --resume finishes
 * without training any epoch twice, its stopped run continued exactly as if it had never stopped.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { takeFirst } from '@core/shared/dataset';
import { percent } from '@core/shared/format';
import type { RunRecord } from '@core/shared/run-record';
import { runBuiltCli, runCliInProcess } from '../../helpers/cli';
import { builtFile, NO_REAL_DATA, realDataAvailable, realDataset, tempDir, toIdx, writeTemp } from '../../helpers/data';

/** "45.98% ± 2.45%" from two accuracies: their mean and their sample standard deviation, |a − b| / √2 for two. */
function twoSeeds(a: number, b: number): string {
  return `${percent((a + b) / 2)} ± ${percent(Math.abs(a - b) / Math.SQRT2)}`;
}

/** The table's rows (after its header) up to the blank line, each split into its cells. */
function tableRows(stdout: string): string[][] {
  const lines = stdout.split('\n');
  const header = lines.findIndex((line) => /^\s*lr\s+seeds\s+final test\s+best test\s+runs$/.test(line));
  expect(header).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(header + 1)) {
    if (!line.trim()) break;
    rows.push(line.trim().split(/ {2,}/));
  }
  return rows;
}

describe('fmnist sweep', () => {
  let files: string;
  let train: string;
  let test: string;

  beforeEach((ctx) => ctx.skip(!realDataAvailable(), NO_REAL_DATA));

  beforeAll(async () => {
    if (!realDataAvailable()) return;
    files = await tempDir('fmnist-sweep-data-');
    for (const [role, prefix, count] of [
      ['train', 'train', 600],
      ['test', 't10k', 500],
    ] as const) {
      const { images, labels } = toIdx(takeFirst(await realDataset(role), count));
      await writeTemp(files, `${prefix}-labels-idx1-ubyte`, labels);
      const path = await writeTemp(files, `${prefix}-images-idx3-ubyte`, images);
      if (role === 'train') train = path;
      else test = path;
    }
  });

  /** The data folder of one test, and the CLI in it. */
  async function dataFolder(): Promise<{ env: NodeJS.ProcessEnv; records: () => Promise<RunRecord[]> }> {
    const folder = await tempDir('fmnist-sweep-cli-');
    const env = { FMNIST_STUDIO_DATA: folder, FMNIST_DATA_PATH: '' };
    const records = async (): Promise<RunRecord[]> =>
      JSON.parse((await runCliInProcess(['runs', '--json'], env)).stdout).runs;
    return { env, records };
  }

  const common = () => ['--train', train, '--test', test, '--hidden', '16', '--batch-size', '64'];

  it('trains the grid in order, seeds innermost, and its table gives each combination the mean ± spread of its runs’ records', async () => {
    const { env, records } = await dataFolder();
    const result = runBuiltCli(
      ['sweep', ...common(), '--epochs', '2', '--lr', '0.001,0.01', '--seeds', '1,2', '--name', 'rates'],
      { env, timeoutMs: 120_000 },
    );
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.filter((line) => line.startsWith('run '))).toEqual([
      'run 1 of 4: lr 0.001, seed 1',
      'run 2 of 4: lr 0.001, seed 2',
      'run 3 of 4: lr 0.01, seed 1',
      'run 4 of 4: lr 0.01, seed 2',
    ]);
    expect(lines.filter((line) => /^ {2}epoch [12]\/2 {2}cost /.test(line))).toHaveLength(8);
    const id = /^Sweep (\d{8}-\d{6}-[0-9a-f]{4}), rates: lr 0\.001, 0\.01 × seeds 1, 2: 4 runs\.$/m.exec(
      result.stderr,
    )?.[1];
    expect(id).toBeDefined();

    const byId = new Map((await records()).map((record) => [record.id, record]));
    expect(byId.size).toBe(4);
    const rows = tableRows(result.stdout);
    expect(rows.map((row) => row.slice(0, 2))).toEqual([
      ['0.001', '2'],
      ['0.01', '2'],
    ]);
    for (const [r, row] of rows.entries()) {
      const runs = row[4].split(', ').map((runId) => byId.get(runId)!);
      expect(runs.map((run) => [run.name, run.status, run.config.learningRate, run.config.seed, run.sweep])).toEqual(
        [1, 2].map((seed, s) => [
          `rates · lr ${row[0]} · seed ${seed}`,
          'finished',
          Number(row[0]),
          seed,
          { id, index: 2 * r + s },
        ]),
      );
      const [a, b] = runs.map((run) => run.metrics);
      expect(a.epochs).toBe(2);
      expect(row[2]).toBe(twoSeeds(a.finalTestAccuracy!, b.finalTestAccuracy!));
      expect(row[3]).toBe(twoSeeds(a.bestTestAccuracy!, b.bestTestAccuracy!));
    }
    expect(result.stdout).toContain('the spread is the sample standard deviation (n − 1), — for a single seed.');

    const list = await runCliInProcess(['sweep', '--list'], env);
    expect(list.stdout.split('\n')[1].split(/ {2,}/)).toEqual([
      id,
      'rates',
      'lr',
      '2',
      '4/4',
      'finished',
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d$/),
    ]);
    expect(existsSync(join(env.FMNIST_STUDIO_DATA!, 'runs', 'sweeps', `${id}.json`))).toBe(true);
  });

  it('prints one JSON document with --json: the plan, every run with its id and figures, every combination', async () => {
    const { env, records } = await dataFolder();
    const result = runBuiltCli(
      ['sweep', ...common(), '--epochs', '1', '--dropout', '0,0.2', '--seeds', '3', '--json'],
      {
        env,
        timeoutMs: 120_000,
      },
    );
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    const sweep = JSON.parse(result.stdout);
    expect(sweep).toMatchObject({
      type: 'sweep',
      name: '',
      status: 'finished',
      plan: { settings: [{ setting: 'dropout', option: 'dropout', values: [0, 0.2] }], seeds: [3] },
      base: { epochs: 1, hiddenSizes: [16], batchSize: 64 },
    });
    const byId = new Map((await records()).map((record) => [record.id, record]));
    expect(sweep.runs).toHaveLength(2);
    for (const [i, run] of sweep.runs.entries()) {
      const record = byId.get(run.run)!;
      expect(record).toMatchObject({
        name: `dropout sweep · dropout ${[0, 0.2][i]} · seed 3`,
        sweep: { id: sweep.id, index: i },
        config: { dropout: [0, 0.2][i], seed: 3 },
      });
      expect(run).toEqual({
        index: i,
        settings: { dropout: [0, 0.2][i] },
        seed: 3,
        status: 'finished',
        run: record.id,
        earlierRuns: [],
        epochs: 1,
        finalTestAccuracy: record.metrics.finalTestAccuracy,
        bestTestAccuracy: record.metrics.bestTestAccuracy,
        bestTestEpoch: 1,
        error: null,
      });
      // One seed: the mean is the run's own figure, and there is no spread.
      expect(sweep.combinations[i]).toEqual({
        settings: { dropout: [0, 0.2][i] },
        cell: [i],
        planned: 1,
        finished: 1,
        diverged: 0,
        runs: [record.id],
        finalTestAccuracy: { n: 1, mean: record.metrics.finalTestAccuracy, sd: null },
        bestTestAccuracy: { n: 1, mean: record.metrics.bestTestAccuracy, sd: null },
      });
    }
    // Resuming a finished sweep trains nothing and gives the same document.
    const again = runBuiltCli(['sweep', '--resume', sweep.id, '--json'], { env, timeoutMs: 60_000 });
    expect(again.status).toBe(0);
    expect({ ...JSON.parse(again.stdout) }).toEqual(sweep);
    expect((await records()).length).toBe(2);
  });

  it.each([
    [
      ['--train', '/no/such/file', '--lr', '0.001'],
      'no setting is swept: give two or more values to one or two of --lr, --batch-size, --hidden, --dropout, --weight-decay, --label-smoothing, --epochs, --shift',
    ],
    [
      ['--train', '/no/such/file', '--lr', '0.001,0.002', '--dropout', '0,0.1', '--batch-size', '32,64'],
      'at most 2 settings can be swept at once (besides the seeds), got 3: --lr, --dropout, --batch-size',
    ],
    [['--train', '/no/such/file', '--lr', '0.001,,0.002'], '--lr has an empty value in "0.001,,0.002"'],
    [['--train', '/no/such/file', '--dropout', '0,lots'], '--dropout must be a number, got "lots" in "0,lots"'],
    [['--train', '/no/such/file', '--lr', '0.001,1e-3'], '--lr gives 0.001 twice'],
    [['--train', '/no/such/file', '--hidden', '64/64'], '--hidden gives 64 twice'],
    [['--train', '/no/such/file', '--lr', '0.001,0.002', '--seeds', '1,1'], '--seeds gives 1 twice'],
    [['--train', '/no/such/file', '--lr', '0,0.1'], 'learning rate must be greater than 0, got 0'],
    [['--train', '/no/such/file', '--lr', '0.1,0.2', '--epochs', '0'], 'epochs must be between 1 and 100000, got 0'],
    [
      ['--train', '/no/such/file', '--lr', '0.1,0.2', '--patience', '2'],
      'the run with lr 0.1: patience needs a validation split (its cost decides): set the validation split above 0',
    ],
    [
      ['--train', '/no/such/file', '--seed', '2', '--lr', '0.1,0.2'],
      '--seed: a sweep takes --seeds LIST, one seed or several (see fmnist sweep --help)',
    ],
    [
      ['--resume', '20261207-000000-0000', '--lr', '0.1'],
      '--lr does not apply with --resume: a sweep resumes with the settings it began with',
    ],
    [['--list', '--lr', '0.1'], '--list takes no other option but --json, got --lr'],
  ])('refuses %j in one line, before reading any data, exit 2', async (args, message) => {
    const { env } = await dataFolder();
    const result = await runCliInProcess(['sweep', ...args], env);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `fmnist sweep: ${message}\n` });
  });

  it('stops on SIGTERM after the batch (exit 143, resumable), refuses a second process meanwhile, and --resume finishes without training an epoch twice', async () => {
    const { env, records } = await dataFolder();
    // About 10 ms an epoch here: a run lasts about a second, so the stop lands inside run 2.
    const epochs = 100;
    const child = spawn(
      process.execPath,
      [
        builtFile('out/node/fmnist.js'),
        'sweep',
        ...common(),
        '--epochs',
        String(epochs),
        '--lr',
        '0.001,0.01',
        '--seeds',
        '1,2',
      ],
      { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    /** The conditions waited for, looked at whenever output comes. */
    const waiting: (() => void)[] = [];
    const look = (): void => waiting.forEach((check) => check());
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      look();
    });
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      look();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const until = (ready: () => boolean): Promise<void> =>
      new Promise((resolve, reject) => {
        let done = false;
        const check = (): void => {
          if (done || !ready()) return;
          done = true;
          resolve();
        };
        waiting.push(check);
        void exited.then((code) => {
          if (!done) reject(new Error(`fmnist sweep exited early (${code}): ${stderr}`));
        });
        check();
      });
    const epochsOfRun = (k: number): number =>
      stdout
        .split(`run ${k} of 4:`)[1]
        ?.split('\n')
        .filter((line) => line.startsWith('  epoch ')).length ?? 0;

    await until(() => epochsOfRun(1) >= 1);
    const id = /^Sweep (\S+), /m.exec(stderr)![1];
    // A second process may not run the same sweep meanwhile.
    expect(await runCliInProcess(['sweep', '--resume', id], env)).toEqual({
      code: 2,
      stdout: '',
      stderr: `fmnist sweep: sweep ${id} is already running (process ${child.pid}): let it finish, or stop it first\n`,
    });
    await until(() => epochsOfRun(2) >= 2);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).toContain(`Sweep ${id} stopped with 1 of 4 runs done: fmnist sweep --resume ${id} continues it.`);
    const listed = JSON.parse((await runCliInProcess(['sweep', '--list', '--json'], env)).stdout).sweeps;
    expect(listed).toMatchObject([{ id, status: 'stopped' }]);
    expect(listed[0].runs.map((run: { status: string }) => run.status)).toEqual([
      'finished',
      'stopped',
      'pending',
      'pending',
    ]);
    const stopped = (await records()).find((record) => record.status === 'stopped')!;
    expect(stopped.sweep).toEqual({ id, index: 1 });
    expect(stopped.metrics.epochs).toBeGreaterThanOrEqual(2);
    expect(stopped.metrics.epochs).toBeLessThan(epochs);

    const resumed = runBuiltCli(['sweep', '--resume', id.slice(0, 17), '--json'], { env, timeoutMs: 120_000 });
    expect(resumed.status).toBe(0);
    const sweep = JSON.parse(resumed.stdout);
    expect(sweep.status).toBe('finished');
    expect(sweep.runs.map((run: { status: string }) => run.status)).toEqual(Array(4).fill('finished'));
    const all = (await records()).filter((record) => record.sweep?.id === id);
    const finished = sweep.runs.map((run: { run: string }) => all.find((record) => record.id === run.run)!);
    expect(finished.map((record: RunRecord) => [record.status, record.metrics.epochs, record.sweep!.index])).toEqual(
      [0, 1, 2, 3].map((index) => ['finished', epochs, index]),
    );
    // The stopped run was continued from its own checkpoint, not trained again: its continuation starts where
    // it stopped, and every record of the sweep together trained 4 × 100 epochs, none twice.
    const continued = finished[1] as RunRecord;
    expect(continued.resumedFrom).toEqual({ epochsDone: stopped.metrics.epochs, file: stopped.files!.last });
    expect(sweep.runs[1].earlierRuns).toEqual([stopped.id]);
    expect(all.find((record) => record.id === stopped.id)!.continuedBy).toBe(continued.id);
    expect(all).toHaveLength(5);
    const trained = all.reduce((sum, record) => sum + record.metrics.epochs - (record.resumedFrom?.epochsDone ?? 0), 0);
    expect(trained).toBe(4 * epochs);

    // Exactly as if it had never stopped: the same run trained in one go ends with the same cost and accuracy.
    const straight = runBuiltCli(
      ['train', ...common(), '--epochs', String(epochs), '--lr', '0.001', '--seed', '2', '--json', '--no-record'],
      { env, timeoutMs: 120_000 },
    );
    const summary = JSON.parse(straight.stdout.trim().split('\n').at(-1)!);
    expect(summary.cost).toBe(continued.metrics.finalCost);
    expect(summary.testAccuracy).toBe(continued.metrics.finalTestAccuracy);
  }, 240_000);
});
