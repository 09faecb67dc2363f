import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context';
import { main } from '../../../src/cli/main';
import { takeFirst } from '../../../src/core/data/dataset';
import { REAL_DATA_DIR, realDataset, tempDir, toKaggleCsv, writeTemp } from '../../helpers/data';

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const context: CliContext = {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    env: { FMNIST_DATA: REAL_DATA_DIR, ...env },
    onInterrupt: () => () => {},
  };
  const code = await main(args, context);
  return { code, stdout: out, stderr: err };
}

describe('fmnist CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('fmnist-cli-');
  });

  it.each([
    [['train', '--epochs', '-3'], /^fmnist train: epochs must be between 1 and 100000, got -3\n$/],
    [['train', '--lr', '0'], /^fmnist train: learning rate must be greater than 0, got 0\n$/],
    [['train', '--batch-size', '0'], /^fmnist train: batch size must be between 1 and 65536, got 0\n$/],
    [['train', '--epochs', 'many'], /^fmnist train: --epochs must be a number, got "many" \(see fmnist train --help\)\n$/],
    [['train', '--frobnicate'], /^fmnist train: unknown option --frobnicate/],
    [['train', '--train', '/does/not/exist'], /^fmnist train: \/does\/not\/exist: no such file or directory\n$/],
    [['train', '--out', '/does/not/exist/model.safetensors'], /^fmnist train: \/does\/not\/exist\/model\.safetensors: the folder \/does\/not\/exist does not exist\n$/],
    [['evaluate'], /^fmnist evaluate: --model CHECKPOINT is required/],
    [['evaluate', '--model', '/nope.safetensors'], /^fmnist evaluate: \/nope\.safetensors: no such file or directory\n$/],
    [['transmogrify'], /^fmnist: unknown command "transmogrify"/],
    [['train', '--threads', '0'], /^fmnist train: --threads must be between 1 and 64, got 0\n$/],
    [['train', '--kernels', 'gpu'], /^fmnist train: --kernels must be one of auto, wasm-fma, wasm, typescript, got "gpu"\n$/],
    [['evaluate', '--model', 'x', '--threads', '99'], /^fmnist evaluate: --threads must be between 1 and 64, got 99\n$/],
    [['bench', '--numpy', 'sometimes'], /^fmnist bench: --numpy must be auto or off, got "sometimes"\n$/],
  ])('%j exits with 2 and one line', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reports a malformed CSV with its file, line and column', async () => {
    const csv = await writeTemp(dir, 'bad.csv', `label,${Array.from({ length: 784 }, (_, i) => `pixel${i + 1}`).join(',')}\n3,${'0,'.repeat(700)}x${',0'.repeat(83)}\n`);
    const result = await run(['train', '--train', csv, '--epochs', '1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`fmnist train: ${csv}: line 2, column 702: pixel701 value "x" is not a whole number 0–255\n`);
  });

  it('trains with --json, saves a checkpoint, evaluates and predicts with it', async () => {
    const model = join(dir, 'model.safetensors');
    const trained = await run(['train', '--epochs', '2', '--limit', '2000', '--hidden', '64', '--json', '--out', model]);
    expect(trained.code).toBe(0);
    const lines = trained.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ type: 'epoch', epoch: 1 });
    for (const key of ['cost', 'trainAccuracy', 'testAccuracy', 'seconds']) expect(typeof lines[1][key]).toBe('number');
    expect(lines[2]).toMatchObject({ type: 'summary', status: 'finished', epochs: 2, checkpoint: model });
    expect(existsSync(model)).toBe(true);

    const evaluated = await run(['evaluate', '--model', model, '--json']);
    expect(evaluated.code).toBe(0);
    const report = JSON.parse(evaluated.stdout);
    expect(report.accuracy).toBeCloseTo(lines[1].testAccuracy, 6);
    expect(report.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(10000);
    expect(report.classes).toHaveLength(10);

    const test = takeFirst(await realDataset('test'), 20);
    const input = await writeTemp(dir, 'few.csv', toKaggleCsv(test, { labels: false }));
    const predicted = await run(['predict', '--model', model, '--input', input, '--json']);
    expect(predicted.code).toBe(0);
    const rows = predicted.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(rows).toHaveLength(20);
    expect(rows[0].probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 4);
    expect(rows[0].label).toBeNull();
    const text = await run(['predict', '--model', model, '--input', input]);
    expect(text.stdout.split('\n')[0]).toMatch(/^\s+0  \S.*\d+\.\d%$/);
  });

  it('runs as the built fmnist executable without a stack trace on errors', () => {
    const bin = join(__dirname, '../../../bin/fmnist.js');
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: fmnist <command>/);
    const bad = spawnSync(process.execPath, [bin, 'train', '--epochs', '0'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('fmnist train: epochs must be between 1 and 100000, got 0\n');
  });
});
