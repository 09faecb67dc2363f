/**
 * The readers as a user meets them: the built fmnist executable given damaged, hostile or odd files exits
 * with 2 and one line on stderr naming the file (npm run build:node first).
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CliContext } from '../../../src/cli/context';
import { runBuiltCli } from '../../helpers/cli';
import { randomDataset, tempDir, toKaggleCsv, writeTemp } from '../../helpers/data';
import { oneLineProblems } from '../../helpers/failure';
import { gzipWithZeros, idxHeader } from '../../helpers/gzip-bomb';
import { bareStateDict } from '../../helpers/safetensors';

/** A refusal as users see it: exit code 2 and exactly one line on stderr, naming `file`. */
function expectRefusal(result: ReturnType<typeof runBuiltCli>, command: string, file: string, problem: RegExp | string): void {
  expect(result.signal, result.stderr).toBeNull();
  expect(result.status, result.stderr).toBe(2);
  expect(result.stderr.endsWith('\n')).toBe(true);
  const line = result.stderr.slice(0, -1);
  expect(oneLineProblems(line), line).toEqual([]);
  expect(line.startsWith(`fmnist ${command}: ${file}: `), line).toBe(true);
  const rest = line.slice(`fmnist ${command}: ${file}: `.length);
  if (typeof problem === 'string') expect(rest).toBe(problem);
  else expect(rest).toMatch(problem);
}

describe('fmnist with odd files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('fmnist-readers-');
  });

  it('says the settings of a bare state dict are unknown, also after exporting it', async () => {
    const bare = await writeTemp(dir, 'bare.safetensors', bareStateDict(16, (_layer, kind, i) => (kind === 'bias' ? 0.01 : ((i % 5) - 2) / 50)));
    const exported = join(dir, 'exported.safetensors');
    expect(runBuiltCli(['export', '--model', bare, '--format', 'safetensors', '--out', exported]).status).toBe(0);
    for (const file of [bare, exported]) {
      const text = runBuiltCli(['info', file]);
      expect(text.status, text.stderr).toBe(0);
      expect(text.stdout).toContain('\nSettings     unknown (the file does not record how the model was trained)\n');
      expect(text.stdout).toContain('\nTrained      unknown (weights only)\n');
      expect(text.stdout).not.toMatch(/learning rate|seed/);
      const json = JSON.parse(runBuiltCli(['info', file, '--json']).stdout);
      expect(json).toMatchObject({ config: null, settingsKnown: false, architecture: '784-16-10' });
    }
  });

  it('reads a safetensors file whose header is not padded (fmnist info)', async () => {
    const value = (_layer: number, kind: 'weight' | 'bias', i: number): number => (kind === 'bias' ? 0 : (i % 3) / 10);
    let bytes = bareStateDict(8, value);
    for (let spaces = 1; (8 + bytes.readUInt32LE(0)) % 4 === 0; spaces++) bytes = bareStateDict(8, value, { headerSuffix: ' '.repeat(spaces) });
    const file = await writeTemp(dir, 'unpadded.safetensors', bytes);
    const info = runBuiltCli(['info', file]);
    expect(info.stderr).toBe('');
    expect(info.stdout).toMatch(/Network +784-8-10 \(ReLU, softmax\), 6,370 parameters/);
  });

  it('refuses a 1.6 MB .gz announcing 2.1 M images with a 10-label file, with a peak memory far below 1.6 GB', async () => {
    const model = await writeTemp(dir, 'small.safetensors', bareStateDict(4, () => 0.01));
    const bomb = await writeTemp(dir, 'bomb-images-idx3-ubyte.gz', gzipWithZeros(idxHeader('images', 2_100_000), 2_100_000 * 784));
    await writeTemp(dir, 'bomb-labels-idx1-ubyte', Buffer.concat([idxHeader('labels', 10), Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])]));
    // The child reports its own peak resident set when it exits.
    const report = join(dir, 'max-rss.txt');
    const probe = await writeTemp(dir, 'probe.cjs', `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, String(process.resourceUsage().maxRSS * 1024)));`);
    const result = runBuiltCli(['evaluate', '--model', model, '--test', bomb], { nodeOptions: ['-r', probe], timeoutMs: 20_000 });
    expectRefusal(result, 'evaluate', join(dir, 'bomb-labels-idx1-ubyte'), `has 10 labels but ${bomb} has 2100000 images`);
    const maxRss = Number(await readFile(report, 'utf8'));
    console.log(`fmnist evaluate on the .gz bomb: peak RSS ${(maxRss / 1e6).toFixed(1)} MB (announced: 1646.4 MB), ${result.elapsedMs} ms`);
    expect(maxRss).toBeLessThan(200e6);
  });

  it('refuses a missing checkpoint in one line (the harness itself)', () => {
    const missing = join(dir, 'missing.safetensors');
    expectRefusal(runBuiltCli(['info', missing]), 'info', missing, 'no such file or directory');
  });
});

/** The CLI in this process, so a module can be replaced (below: a loader that lets absurd weights through). */
async function runInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../../src/cli/main');
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const context: CliContext = {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    env: { FMNIST_DATA_PATH: '' },
    onInterrupt: () => () => {},
  };
  const code = await main(args, context);
  return { code, stdout: out, stderr: err };
}

describe('evaluation and prediction of a model whose outputs are not finite', () => {
  afterEach(() => {
    vi.doUnmock('../../../src/core/checkpoint/checkpoint');
    vi.resetModules();
  });

  it('refuse in one line naming the model instead of printing NaN', async () => {
    // Loading refuses such weights now; this stands in for any other way to non-finite outputs.
    vi.resetModules();
    vi.doMock('../../../src/core/checkpoint/checkpoint', async (importOriginal) => {
      const original = await importOriginal<typeof import('../../../src/core/checkpoint/checkpoint')>();
      const { initParameters, mlpShape } = await import('../../../src/core/model/mlp');
      return {
        ...original,
        loadCheckpoint: async () => {
          const parameters = initParameters(mlpShape([8]), 1);
          parameters.weights.forEach((w) => w.fill(3.4e38));
          return { parameters, config: null, epochsDone: 0, history: [], datasetFingerprint: null, appVersion: null, createdAt: null, optimizer: null };
        },
      };
    });
    const dir = await tempDir('fmnist-nan-');
    const data = await writeTemp(dir, 'few.csv', toKaggleCsv(randomDataset(6, 2)));
    const model = join(dir, 'huge.safetensors');
    const evaluated = await runInProcess(['evaluate', '--model', model, '--test', data, '--json']);
    expect(evaluated).toEqual({
      code: 2,
      stdout: '',
      stderr: `fmnist evaluate: ${model}: its outputs on ${data} are not finite numbers (NaN or infinity): the weights are unusable\n`,
    });
    const predicted = await runInProcess(['predict', '--model', model, '--input', data]);
    expect(predicted).toEqual({
      code: 2,
      stdout: '',
      stderr: `fmnist predict: ${model}: its outputs on ${data} are not finite numbers (NaN or infinity): the weights are unusable\n`,
    });
  });
});
