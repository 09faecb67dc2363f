/**
 * `fmnist train` records every run with its own checkpoint (named after its settings when given no name), and
 * `fmnist runs` lists them (newest first, as the app's Runs table), shows, compares, exports, renames, annotates
 * and deletes them (or only their files), and keeps damaged records manageable. Expected values come from what
 * `train --json` printed for each epoch, from the files, and from names and times worked out by hand.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '@core/checkpoint/checkpoint';
import { percent } from '@core/shared/format';
import { formatBytes } from '@core/shared/format';
import { sortRuns } from '@core/shared/run-display';
import type { RunRecord } from '@core/shared/run-record';
import { runCliInProcess } from '../../helpers/cli';
import { builtFile, randomDataset, tempDir, toKaggleCsv, writeTemp } from '../../helpers/data';

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The name the second run below gets with no --name: its settings that differ from the defaults (512,256 hidden,
 * lr 0.001, batch 128, 50 epochs), in the order names list them.
 */
const SECOND_NAME = 'hidden 16 · lr 0.01 · batch 64 · 2 epochs';

interface EpochLine {
  epoch: number;
  cost: number;
  trainAccuracy: number;
  testAccuracy: number;
  testCost: number;
  seconds: number;
}

describe('fmnist runs', () => {
  let dataFolder: string;
  let runsFolder: string;
  let files: string;
  let env: NodeJS.ProcessEnv;
  const run = (args: string[]) => runCliInProcess(args, env);
  /** The two runs trained below: their ids and what train --json printed per epoch. */
  const trained: { id: string; epochs: EpochLine[]; lr: string }[] = [];
  let model: string;

  beforeAll(async () => {
    dataFolder = await tempDir('fmnist-runs-cli-');
    runsFolder = join(dataFolder, 'runs');
    files = await tempDir('fmnist-runs-cli-files-');
    // Small generated data sets (random pixels and labels): the records are about what training printed.
    const train = await writeTemp(files, 'train.csv', toKaggleCsv(randomDataset(600, 3)));
    const test = await writeTemp(files, 'test.csv', toKaggleCsv(randomDataset(300, 4)));
    env = { FMNIST_STUDIO_DATA: dataFolder, FMNIST_DATA_PATH: '' };
    model = join(files, 'second.safetensors');
    for (const [lr, extra] of [
      ['0.001', ['--name', 'slow learner']],
      ['0.01', ['--out', model]],
    ] as const) {
      const result = await run([
        'train',
        '--train',
        train,
        '--test',
        test,
        '--epochs',
        '2',
        '--hidden',
        '16',
        '--batch-size',
        '64',
        '--lr',
        lr,
        '--json',
        ...extra,
      ]);
      if (result.code !== 0) throw new Error(result.stderr);
      const lines = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      const summary = lines.at(-1);
      expect(summary.run).toMatch(/^\d{8}-\d{6}-[0-9a-f]{4}$/);
      trained.push({ id: summary.run, epochs: lines.filter((l) => l.type === 'epoch'), lr });
    }
  });

  it('records each run of fmnist train in the runs folder of the data folder', async () => {
    // Each run: its summary, its history, its own checkpoint's folder; the one saved with --out notes the copy.
    const [a, b] = trained.map(({ id }) => id);
    expect((await readdir(runsFolder)).sort()).toEqual(
      [a, `${a}.history.json`, `${a}.json`, b, `${b}.edits.jsonl`, `${b}.history.json`, `${b}.json`].sort(),
    );
    const listed = JSON.parse((await run(['runs', '--json'])).stdout);
    expect(listed).toMatchObject({ type: 'runs', folder: runsFolder, warnings: [], damaged: [] });
    expect(listed.runs.map((r: { id: string }) => r.id)).toEqual(trained.map((t) => t.id));
    const [first, second] = listed.runs;
    const own = (id: string): string => join(runsFolder, id, 'last.safetensors');
    expect(first).toMatchObject({
      name: 'slow learner',
      status: 'finished',
      origin: 'cli',
      checkpoint: own(a),
      trainingSamples: 600,
      validationSamples: 0,
    });
    expect(first.files).toEqual({ last: own(a), best: null, bytes: (await stat(own(a))).size });
    expect(first.config).toMatchObject({ learningRate: 0.001, epochs: 2, hiddenSizes: [16], batchSize: 64 });
    expect(first.data.sources).toEqual({ train: [join(files, 'train.csv')], test: [join(files, 'test.csv')] });
    expect(second).toMatchObject({ name: SECOND_NAME, status: 'finished', checkpoint: own(b), copies: [model] });
    // The run's own checkpoint and the copy hold the same model.
    expect((await loadCheckpoint(own(b))).parameters.weights).toEqual((await loadCheckpoint(model)).parameters.weights);
    expect(second.config.learningRate).toBe(0.01);
    for (const [i, record] of listed.runs.entries()) {
      const epochs = trained[i].epochs;
      const best = epochs.reduce((a, b) => (b.testAccuracy > a.testAccuracy ? b : a));
      expect(record.metrics.epochs).toBe(2);
      expect(record.metrics.finalTestAccuracy).toBeCloseTo(epochs[1].testAccuracy, 6);
      expect(record.metrics.bestTestAccuracy).toBeCloseTo(best.testAccuracy, 6);
      expect(record.metrics.bestTestEpoch).toBe(best.epoch);
      expect(record.metrics.finalCost).toBeCloseTo(epochs[1].cost, 6);
      expect(record.metrics.trainingSeconds).toBeCloseTo(epochs[0].seconds + epochs[1].seconds, 2);
      expect(record.summary).toMatchObject({ status: 'finished', epochsDone: 2 });
      expect(Date.parse(record.endedAt)).toBeGreaterThanOrEqual(Date.parse(record.startedAt));
    }
  });

  it('lists the runs as a table, newest first: id, name, status, start, epochs, test accuracy, time', async () => {
    const { stdout, code } = await run(['runs']);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^id +name +status +started +epochs +final test +best test +time +files$/);
    const listed = JSON.parse((await run(['runs', '--json'])).stdout).runs;
    // Newest first, in the order of the app's Runs table on the same records: sortRuns with its default order,
    // which the app's store starts with (tests/unit/renderer/runs.test.ts). The JSON keeps the folder's order.
    expect(listed.map((r: RunRecord) => r.id)).toEqual(trained.map((t) => t.id));
    expect([lines[1], lines[2]].map((line) => line.split(' ')[0])).toEqual([trained[1].id, trained[0].id]);
    expect([lines[1], lines[2]].map((line) => line.split(' ')[0])).toEqual(sortRuns(listed).map((r) => r.id));
    for (const [i, { id, epochs }] of trained.entries()) {
      const row = lines.find((line) => line.startsWith(id))!;
      const started = new Date(listed[i].startedAt);
      const pad = (n: number): string => String(n).padStart(2, '0');
      const local = `${started.getFullYear()}-${pad(started.getMonth() + 1)}-${pad(started.getDate())} ${pad(started.getHours())}:${pad(started.getMinutes())}`;
      const best = Math.max(...epochs.map((e) => e.testAccuracy));
      // The name cut to 32 characters, the last an ellipsis.
      expect(row.split(/ {2,}/)).toEqual([
        id,
        i === 0 ? 'slow learner' : 'hidden 16 · lr 0.01 · batch 64…',
        'finished',
        local,
        '2',
        percent(epochs[1].testAccuracy),
        percent(best),
        expect.stringMatching(/^\d+s$/),
        formatBytes(listed[i].files.bytes),
      ]);
    }
    const bytes = listed[0].files.bytes + listed[1].files.bytes;
    expect(lines.at(-3)).toBe(`2 runs in ${runsFolder}; their own files take ${formatBytes(bytes)}`);
    expect(lines.at(-2)).toBe('Time is from start to end; fmnist runs show ID says how much of it was training.');
  });

  it('shows a run by a prefix of its id: settings, data, checkpoint, result and every epoch', async () => {
    const [, second] = trained;
    const json = JSON.parse((await run(['runs', 'show', second.id.slice(0, 18), '--json'])).stdout);
    expect(json).toMatchObject({
      type: 'run',
      id: second.id,
      checkpoint: join(runsFolder, second.id, 'last.safetensors'),
      copies: [model],
    });
    expect(json.history).toHaveLength(2);
    for (const [i, epoch] of json.history.entries()) {
      for (const key of ['cost', 'trainAccuracy', 'testAccuracy', 'testCost'] as const)
        expect(epoch[key]).toBeCloseTo(second.epochs[i][key], 6);
    }
    const text = (await run(['runs', 'show', second.id])).stdout;
    expect(text).toMatch(new RegExp(`^Run +${second.id}  "${SECOND_NAME}"\\n`));
    expect(text).toMatch(/\nStatus +finished\n/);
    // Both durations, each said for what it is; these runs take seconds, so each reads as whole seconds.
    const wall = Math.round((Date.parse(json.endedAt) - Date.parse(json.startedAt)) / 1000);
    const training = Math.round(second.epochs[0].seconds + second.epochs[1].seconds);
    expect(text).toContain(`\nTime         ${wall}s from start to end, of which ${training}s training\n`);
    expect(text).toContain(`\nPreset       none (the defaults, changed: ${SECOND_NAME})\n`);
    expect(text).toMatch(/\nSettings +hiddenSizes 16, epochs 2, batchSize 64, learningRate 0\.01, .*seed 1.*\n/);
    expect(text).toContain(`\nData         ${join(files, 'train.csv')} (fingerprint `);
    expect(text).toContain(`\nCheckpoint   ${join(runsFolder, second.id, 'last.safetensors')}\n`);
    expect(text).toMatch(
      new RegExp(`\\nFiles +[0-9.]+ (kB|MB|bytes) \\(last epoch\\) in ${escape(join(runsFolder, second.id))}\\n`),
    );
    expect(text).toContain(`\nSaved to     ${model}\n`);
    expect(text).toContain(`\nResult       2 epochs: test ${percent(second.epochs[1].testAccuracy)}`);
    const rows = text.trim().split('\n').slice(-3);
    expect(rows[0]).toMatch(/^epoch +cost +train +validation +test +test cost +seconds$/);
    expect(rows[2].trim().split(/ +/).slice(0, 5)).toEqual([
      '2',
      second.epochs[1].cost.toFixed(4),
      percent(second.epochs[1].trainAccuracy),
      '—',
      percent(second.epochs[1].testAccuracy),
    ]);
    // A checkpoint that has gone is marked as missing.
    const { rename } = await import('node:fs/promises');
    await rename(model, `${model}.moved`);
    try {
      expect((await run(['runs', 'show', second.id])).stdout).toContain(`\nSaved to     ${model} (missing)\n`);
    } finally {
      await rename(`${model}.moved`, model);
    }
  });

  it('compares runs: the settings that differ, and the results side by side', async () => {
    const [a, b] = trained;
    const text = (await run(['runs', 'compare', a.id, b.id])).stdout.trim().split('\n');
    const cells = (label: string): string[] =>
      text
        .find((line) => line.startsWith(`${label} `))!
        .trim()
        .split(/ {2,}/)
        .slice(1);
    expect(text[0].trim().split(/ +/)).toEqual([a.id, b.id]);
    expect(cells('learningRate')).toEqual(['0.001', '0.01']);
    // Only the learning rate differs: no other setting has a row.
    for (const key of ['epochs', 'hiddenSizes', 'seed', 'batchSize'])
      expect(text.filter((line) => new RegExp(`^${key} {2,}`).test(line))).toEqual([]);
    expect(cells('epochs trained')).toEqual([String(a.epochs.length), String(b.epochs.length)]);
    expect(cells('name')).toEqual(['slow learner', 'hidden 16 · lr 0.01 · batch 64…']);
    for (const cell of cells('time')) expect(cell).toMatch(/^\d+s, \d+s training$/);
    expect(cells('final test')).toEqual([percent(a.epochs[1].testAccuracy), percent(b.epochs[1].testAccuracy)]);
    expect(cells('final cost')).toEqual([a.epochs[1].cost.toFixed(4), b.epochs[1].cost.toFixed(4)]);
    const json = JSON.parse((await run(['runs', 'compare', a.id, b.id, '--json'])).stdout);
    expect(json.differingSettings).toEqual(['learningRate']);
    expect(json.runs.map((r: { id: string }) => r.id)).toEqual([a.id, b.id]);
  });

  it('exports the per-epoch history of runs as one CSV that reads back to the same numbers', async () => {
    const out = join(files, 'curves.csv');
    const result = await run(['runs', 'export', ...trained.map((t) => t.id), '--out', out]);
    expect(result).toMatchObject({ code: 0, stderr: `Wrote 4 rows (2 runs) to ${out}.\n` });
    const parsed = Papa.parse<string[]>((await readFile(out, 'utf8')).trim(), { header: false });
    expect(parsed.errors).toEqual([]);
    const [header, ...rows] = parsed.data;
    expect(header).toEqual([
      'run',
      'name',
      'epoch',
      'cost',
      'trainAccuracy',
      'validationCost',
      'validationAccuracy',
      'testCost',
      'testAccuracy',
      'seconds',
      'evaluationSeconds',
      'samplesPerSecond',
    ]);
    expect(rows.map((row) => [row[0], row[1], row[2]])).toEqual([
      [trained[0].id, 'slow learner', '1'],
      [trained[0].id, 'slow learner', '2'],
      [trained[1].id, SECOND_NAME, '1'],
      [trained[1].id, SECOND_NAME, '2'],
    ]);
    for (const [r, row] of rows.entries()) {
      const printed = trained[Math.floor(r / 2)].epochs[r % 2];
      expect(Number(row[3])).toBeCloseTo(printed.cost, 6);
      expect(Number(row[4])).toBeCloseTo(printed.trainAccuracy, 6);
      expect(row[5]).toBe('');
      expect(row[6]).toBe('');
      expect(Number(row[7])).toBeCloseTo(printed.testCost, 6);
      expect(Number(row[8])).toBeCloseTo(printed.testAccuracy, 6);
      expect(Number(row[9])).toBeCloseTo(printed.seconds, 3);
    }
    expect(await run(['runs', 'export', trained[0].id])).toMatchObject({
      code: 2,
      stderr: 'fmnist runs: fmnist runs export needs --out FILE (see fmnist runs --help)\n',
    });
    expect((await run(['runs', 'export', trained[0].id, '--out', join(files, 'nowhere', 'x.csv')])).stderr).toBe(
      `fmnist runs: ${join(files, 'nowhere', 'x.csv')}: the folder ${join(files, 'nowhere')} does not exist\n`,
    );
  });

  it('renames, annotates and deletes runs; deleting takes the run’s own files and keeps a copy saved elsewhere', async () => {
    const scratch = await tempDir('fmnist-runs-cli-scratch-');
    const local = { FMNIST_STUDIO_DATA: scratch };
    const train = join(files, 'train.csv');
    const made = await runCliInProcess(
      [
        'train',
        '--train',
        train,
        '--test',
        join(files, 'test.csv'),
        '--epochs',
        '1',
        '--hidden',
        '8',
        '--json',
        '--out',
        join(scratch, 'm.safetensors'),
      ],
      local,
    );
    const id = JSON.parse(made.stdout.trim().split('\n').at(-1)!).run as string;
    expect(await runCliInProcess(['runs', 'rename', id.slice(0, 17), 'wide', 'net'], local)).toMatchObject({
      code: 0,
      stdout: `Run ${id} is now named "wide net".\n`,
    });
    expect(await runCliInProcess(['runs', 'note', id, 'random labels; expect 10%'], local)).toMatchObject({
      code: 0,
      stdout: `Run ${id} has a note now.\n`,
    });
    const shown = (await runCliInProcess(['runs', 'show', id], local)).stdout;
    expect(shown).toContain(`Run          ${id}  "wide net"\n`);
    expect(shown).toContain('\nNote         random labels; expect 10%\n');
    // The edits are lines of the run's journal; the summary stays as its trainer wrote it.
    const journal = (await readFile(join(scratch, 'runs', `${id}.edits.jsonl`), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    expect(journal.map(({ at: _at, ...edit }) => edit)).toEqual([
      { copy: join(scratch, 'm.safetensors') },
      { name: 'wide net' },
      { note: 'random labels; expect 10%' },
    ]);
    // Trained with --hidden 8 --epochs 1 and no --name: named so when it started.
    expect(JSON.parse(await readFile(join(scratch, 'runs', `${id}.json`), 'utf8'))).toMatchObject({
      name: 'hidden 8 · 1 epoch',
      note: '',
    });
    expect((await runCliInProcess(['runs', 'note', id], local)).stdout).toBe(`Run ${id} has no note now.\n`);
    const bytes = (await stat(join(scratch, 'runs', id, 'last.safetensors'))).size;
    expect(await runCliInProcess(['runs', 'delete', '--files-only', id], local)).toMatchObject({
      code: 0,
      stdout: `Deleted the files of run ${id} (${formatBytes(bytes)}); its record stays.\n`,
    });
    expect(JSON.parse((await runCliInProcess(['runs', 'show', id, '--json'], local)).stdout).files).toBeNull();
    expect(await runCliInProcess(['runs', 'delete', id], local)).toMatchObject({
      code: 0,
      stdout: `Deleted run ${id} (wide net); copies saved elsewhere are kept (${join(scratch, 'm.safetensors')}).\n`,
    });
    expect(await readdir(join(scratch, 'runs'))).toEqual([]);
    expect((await readdir(scratch)).includes('m.safetensors')).toBe(true);
    expect((await runCliInProcess(['runs'], local)).stdout).toBe(
      `No runs recorded yet in ${join(scratch, 'runs')}: fmnist train and the app record every run there.\n`,
    );
  });

  it('records nothing with --no-record', async () => {
    const scratch = await tempDir('fmnist-runs-cli-none-');
    const result = await runCliInProcess(
      ['train', '--train', join(files, 'train.csv'), '--epochs', '1', '--hidden', '8', '--json', '--no-record'],
      { FMNIST_STUDIO_DATA: scratch },
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n').at(-1)!).run).toBeNull();
    expect(await readdir(scratch)).toEqual([]);
  });

  it('names a damaged record with its id and what is wrong, lists the others, and deletes it on request', async () => {
    const damaged = join(runsFolder, '20200101-000000-dead.json');
    await writeFile(damaged, '{"format": "fashion-mnist-studio-run", "id": ');
    const said = new RegExp(
      `^Run 20200101-000000-dead is damaged: ${escape(damaged)}: is not valid JSON \\(.+\\) \\(fmnist runs delete 20200101-000000-dead removes it\\)\\n$`,
    );
    const result = await run(['runs']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(said);
    expect(result.stdout).toContain(`2 runs and 1 damaged record in ${runsFolder}`);
    expect(await run(['runs', 'show', '20200101'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        /^fmnist runs: .*20200101-000000-dead\.json: run 20200101-000000-dead is damaged: is not valid JSON \(.+\); it can only be deleted\n$/,
      ),
    });
    expect(await run(['runs', 'delete', '20200101'])).toMatchObject({
      code: 0,
      stdout: 'Deleted the damaged run 20200101-000000-dead.\n',
    });
    expect((await run(['runs'])).stderr).toBe('');
  });

  it('with only damaged records, names them and says there are no intact runs (not "none recorded yet")', async () => {
    const scratch = await tempDir('fmnist-runs-cli-only-damaged-');
    await mkdir(join(scratch, 'runs'));
    await writeFile(
      join(scratch, 'runs', '20200101-000000-dead.json'),
      '{"format": "fashion-mnist-studio-run", "id": ',
    );
    const result = await runCliInProcess(['runs'], { FMNIST_STUDIO_DATA: scratch });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`No intact runs in ${join(scratch, 'runs')}; 1 damaged record (named above).\n`);
    expect(result.stderr).toMatch(/^Run 20200101-000000-dead is damaged: /);
  });

  it('shows a run whose history is damaged, and exports the other runs, each skipping with a line', async () => {
    const [a, b] = trained;
    const historyFile = join(runsFolder, `${a.id}.history.json`);
    const whole = await readFile(historyFile, 'utf8');
    for (const broken of [
      whole.slice(0, whole.length / 2),
      JSON.stringify({ format: 'fashion-mnist-studio-run-history', id: a.id, epochs: 5 }),
    ]) {
      await writeFile(historyFile, broken);
      const shown = await run(['runs', 'show', a.id]);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(new RegExp(`^Run +${a.id}  "slow learner"\\n`));
      expect(shown.stdout).toContain(`\nResult       2 epochs: test ${percent(a.epochs[1].testAccuracy)}`);
      expect(shown.stderr).toMatch(new RegExp(`^The history of run ${a.id} cannot be read: ${escape(historyFile)}: `));
      const out = join(files, 'partial.csv');
      const exported = await run(['runs', 'export', a.id, b.id, '--out', out]);
      expect(exported.code).toBe(0);
      expect(exported.stderr).toMatch(
        new RegExp(`^Skipped the history of run ${a.id}: ${escape(historyFile)}: .+\\nWrote 2 rows \\(1 run\\) to `),
      );
      const rows = Papa.parse<string[]>((await readFile(out, 'utf8')).trim()).data.slice(1);
      expect(rows.map((row) => row[0])).toEqual([b.id, b.id]);
    }
    await writeFile(historyFile, whole);
  });

  it('exports a name that would be a spreadsheet formula as text', async () => {
    const [a] = trained;
    for (const name of ['=HYPERLINK("http://x","y")', '+1', '-1', '@SUM(A1)']) {
      await run(['runs', 'rename', a.id, name]);
      const out = join(files, 'names.csv');
      expect((await run(['runs', 'export', a.id, '--out', out])).code).toBe(0);
      const rows = Papa.parse<string[]>((await readFile(out, 'utf8')).trim()).data.slice(1);
      expect(rows[0][1]).toBe(`'${name}`);
      // The numbers stay numbers (a negative one would start with a minus).
      expect(Number(rows[0][3])).toBeCloseTo(a.epochs[0].cost, 6);
    }
    await run(['runs', 'rename', a.id, 'slow learner']);
  });

  it.each([
    [['runs', 'show', 'nope'], () => `fmnist runs: there is no run "nope" in ${runsFolder} (fmnist runs lists them)\n`],
    [
      ['runs', 'show', '2'],
      () =>
        /^fmnist runs: "2" names 2 runs \(\d{8}-\d{6}-[0-9a-f]{4}, \d{8}-\d{6}-[0-9a-f]{4}\): give more of the id\n$/,
    ],
    [
      ['runs', 'delete', 'nope'],
      () => `fmnist runs: there is no run "nope" in ${runsFolder} (fmnist runs lists them)\n`,
    ],
    [
      ['runs', 'frobnicate'],
      () =>
        'fmnist runs: unknown subcommand "frobnicate" (list, show, compare, export, rename, note, delete, import) (see fmnist runs --help)\n',
    ],
    [['runs', 'show'], () => 'fmnist runs: fmnist runs show takes one run id (see fmnist runs --help)\n'],
    [
      ['runs', 'compare', 'x'],
      () => 'fmnist runs: fmnist runs compare takes two or more run ids (see fmnist runs --help)\n',
    ],
    [
      ['runs', 'list', '--out', 'x.csv'],
      () => 'fmnist runs: --out does not apply to fmnist runs list (see fmnist runs --help)\n',
    ],
    [['runs', '--frobnicate'], () => /^fmnist runs: unknown option --frobnicate \(see fmnist runs --help\)\n$/],
    [
      ['train', '--no-record', '--name', 'x'],
      () => 'fmnist train: --name names the run record, which --no-record turns off\n',
    ],
  ])('%j exits with 2 and one line', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    const expected = message();
    if (typeof expected === 'string') expect(result.stderr).toBe(expected);
    else expect(result.stderr).toMatch(expected);
  });

  it('explains itself in --help', async () => {
    const help = (await run(['runs', '--help'])).stdout;
    expect(help).toMatch(
      /^fmnist runs — list, show, compare, export, rename, annotate and delete the recorded training runs\n\nUsage:\n {2}fmnist runs \[list\] \[--json\]/,
    );
    expect(help).toContain('fmnist runs export ID... --out FILE');
    expect((await run(['--help'])).stdout).toMatch(/\n {2}runs +list, show, compare/);
    expect((await run(['train', '--help'])).stdout).toMatch(/--no-record +leave no record of the run/);
  });
});

describe('a run whose fmnist train was killed', () => {
  let child: ChildProcess | null = null;

  it('is listed as interrupted, with the epochs it recorded', async () => {
    const dataFolder = await tempDir('fmnist-runs-killed-cli-');
    const files = await tempDir('fmnist-runs-killed-files-');
    const train = await writeTemp(files, 'train.csv', toKaggleCsv(randomDataset(400, 5)));
    child = spawn(
      process.execPath,
      [builtFile('out/node/fmnist.js'), 'train', '--train', train, '--epochs', '100000', '--hidden', '8', '--json'],
      {
        env: { PATH: process.env.PATH, FMNIST_STUDIO_DATA: dataFolder, FMNIST_DATA_PATH: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // Killed once its record holds a few epochs (recorded once its checkpoint holds them, beside the training).
    await expect
      .poll(
        async () => {
          const listing = await runCliInProcess(['runs', '--json'], { FMNIST_STUDIO_DATA: dataFolder });
          return (JSON.parse(listing.stdout).runs[0]?.metrics?.epochs as number | undefined) ?? 0;
        },
        { timeout: 30_000, interval: 100 },
      )
      .toBeGreaterThanOrEqual(2);
    expect(child.exitCode, 'fmnist train is still running').toBeNull();
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const listed = await runCliInProcess(['runs', '--json'], { FMNIST_STUDIO_DATA: dataFolder });
    const [record] = JSON.parse(listed.stdout).runs;
    expect(record).toMatchObject({ status: 'interrupted', pid: child.pid, endedAt: null });
    expect(record.metrics.epochs).toBeGreaterThanOrEqual(2);
    // Killed at any moment, the record names no epoch its own checkpoint lacks (epochs are recorded once written).
    const held = await loadCheckpoint(record.files.last as string);
    expect(held.epochsDone).toBeGreaterThanOrEqual(record.metrics.epochs);
    const table = (await runCliInProcess(['runs'], { FMNIST_STUDIO_DATA: dataFolder })).stdout;
    expect(table.split('\n')[1]).toMatch(new RegExp(`^${record.id} +hidden 8 · 100000 epochs +interrupted +`));
  });
});
