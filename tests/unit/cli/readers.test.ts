/**
 * The readers as a user meets them: the built fmnist executable given damaged, hostile or odd files exits
 * with 2 and one line on stderr naming the file (npm run build:node first).
 */

import { mkdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkpointOf, encodeCheckpoint } from '@core/checkpoint/checkpoint';
import { resolveRunConfig } from '@core/shared/config';
import { displayPath } from '@core/shared/errors';
import { initParameters, mlpShape } from '@core/shared/mlp';
import { runBuiltCli, runCliInProcess } from '../../helpers/cli';
import { randomDataset, tempDir, toKaggleCsv, writeTemp } from '../../helpers/data';
import { oneLineProblems } from '../../helpers/failure';
import { gzipWithZeros, idxHeader } from '../../helpers/gzip-bomb';
import { bareStateDict, rawSafetensors } from '../../helpers/safetensors';
import { makeFifo, releaseFifo } from '../../helpers/special-files';

/** A refusal as users see it: exit code 2 and exactly one line on stderr, naming `file`. */
function expectRefusal(
  result: ReturnType<typeof runBuiltCli>,
  command: string,
  file: string,
  problem: RegExp | string,
): void {
  expect(result.signal, result.stderr).toBeNull();
  expect(result.status, result.stderr).toBe(2);
  expect(result.stderr.endsWith('\n')).toBe(true);
  const line = result.stderr.slice(0, -1);
  expect(oneLineProblems(line), line).toEqual([]);
  const prefix = `fmnist ${command}: ${displayPath(file)}: `;
  expect(line.startsWith(prefix), line).toBe(true);
  const rest = line.slice(prefix.length);
  if (typeof problem === 'string') expect(rest).toBe(problem);
  else expect(rest).toMatch(problem);
}

describe('fmnist with odd files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('fmnist-readers-');
  });

  it('says the settings of a bare state dict are unknown, also after exporting it', async () => {
    const bare = await writeTemp(
      dir,
      'bare.safetensors',
      bareStateDict(16, (_layer, kind, i) => (kind === 'bias' ? 0.01 : ((i % 5) - 2) / 50)),
    );
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
    for (let spaces = 1; (8 + bytes.readUInt32LE(0)) % 4 === 0; spaces++)
      bytes = bareStateDict(8, value, { headerSuffix: ' '.repeat(spaces) });
    const file = await writeTemp(dir, 'unpadded.safetensors', bytes);
    const info = runBuiltCli(['info', file]);
    expect(info.stderr).toBe('');
    expect(info.stdout).toMatch(/Network +784-8-10 \(ReLU, softmax\), 6,370 parameters/);
  });

  it('refuses a 1.6 MB .gz announcing 2.1 M images with a 10-label file, with a peak memory far below 1.6 GB', async () => {
    const model = await writeTemp(
      dir,
      'small.safetensors',
      bareStateDict(4, () => 0.01),
    );
    const bomb = await writeTemp(
      dir,
      'bomb-images-idx3-ubyte.gz',
      gzipWithZeros(idxHeader('images', 2_100_000), 2_100_000 * 784),
    );
    await writeTemp(
      dir,
      'bomb-labels-idx1-ubyte',
      Buffer.concat([idxHeader('labels', 10), Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])]),
    );
    // The child reports its own peak resident set when it exits.
    const report = join(dir, 'max-rss.txt');
    const probe = await writeTemp(
      dir,
      'probe.cjs',
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, String(process.resourceUsage().maxRSS * 1024)));`,
    );
    const result = runBuiltCli(['evaluate', '--model', model, '--test', bomb], {
      nodeOptions: ['-r', probe],
      timeoutMs: 20_000,
    });
    expectRefusal(
      result,
      'evaluate',
      join(dir, 'bomb-labels-idx1-ubyte'),
      `has 10 labels but ${bomb} has 2100000 images`,
    );
    const maxRss = Number(await readFile(report, 'utf8'));
    console.log(
      `fmnist evaluate on the .gz bomb: peak RSS ${(maxRss / 1e6).toFixed(1)} MB (announced: 1646.4 MB), ${result.elapsedMs} ms`,
    );
    expect(maxRss).toBeLessThan(200e6);
  });

  it('refuses a missing checkpoint in one line (the harness itself)', () => {
    const missing = join(dir, 'missing.safetensors');
    expectRefusal(runBuiltCli(['info', missing]), 'info', missing, 'no such file or directory');
  });
});

/** A resumable checkpoint of a 784-8-10 network, changed by `edit` before it is written. */
function resumable(edit: (state: ReturnType<typeof trainerState>) => void = () => {}): Uint8Array {
  const state = trainerState();
  edit(state);
  return encodeCheckpoint(
    checkpointOf(state, resolveRunConfig({ hiddenSizes: [8], epochs: 2 }), { datasetFingerprint: null }),
  );
}

function trainerState() {
  const shape = mlpShape([8]);
  const small = (seed: number) => {
    const p = initParameters(shape, seed);
    p.weights.forEach((w) => w.fill(0.001));
    return p;
  };
  return {
    epochsDone: 1,
    step: 3,
    shuffleState: [1, 2, 3, 4] as [number, number, number, number],
    parameters: initParameters(shape, 1),
    moments: { m: small(2), v: small(3) },
    history: [
      {
        epoch: 1,
        epochs: 2,
        cost: 1,
        trainAccuracy: 0.5,
        validationCost: null,
        validationAccuracy: null,
        testCost: null,
        testAccuracy: null,
        seconds: 1,
        evaluationSeconds: 0,
        samplesPerSecond: 10,
      },
    ],
  };
}

/** IDX images (3, 28×28) and labels files, in bytes. */
function idxPair(count = 3, labelValues = [1, 2, 3]): { images: Buffer; labels: Buffer } {
  const images = Buffer.concat([idxHeader('images', count), Buffer.alloc(count * 784, 9)]);
  const labels = Buffer.concat([idxHeader('labels', labelValues.length), Buffer.from(labelValues)]);
  return { images, labels };
}

describe('fmnist refuses each class of damaged file with exit code 2 and one line naming it', () => {
  let dir: string;
  let model: string;
  beforeAll(async () => {
    dir = await tempDir('fmnist-classes-');
    model = await writeTemp(
      dir,
      'good.safetensors',
      bareStateDict(4, (_l, kind, i) => (kind === 'bias' ? 0 : ((i % 3) - 1) / 20)),
    );
  });

  it('checkpoints: cut, flipped, hostile, absurd, unknown', async () => {
    const valid = resumable();
    const headerEnd = 8 + Number(Buffer.from(valid).readBigUInt64LE(0));
    const flippedData = Uint8Array.from(valid);
    flippedData[headerEnd + 100] ^= 1;
    const hostile = (header: string, data = Buffer.alloc(4)) => {
      const json = Buffer.from(header);
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([length, json, data]);
    };
    const description = JSON.parse(
      JSON.parse(Buffer.from(valid.subarray(8, headerEnd)).toString()).__metadata__.fmnist,
    );
    const withDescription = (changed: Record<string, unknown>) => {
      const { __metadata__, ...tensors } = JSON.parse(Buffer.from(valid.subarray(8, headerEnd)).toString());
      void __metadata__;
      const data = Buffer.from(valid.subarray(headerEnd));
      const entries = Object.entries(
        tensors as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>,
      ).sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
      return rawSafetensors(
        entries.map(([name, t]) => ({
          name,
          dtype: t.dtype,
          shape: t.shape,
          data: data.subarray(t.data_offsets[0], t.data_offsets[1]),
        })),
        { format: 'pt', fmnist: JSON.stringify({ ...description, ...changed }) },
      );
    };
    const withoutVersion = { ...description };
    delete withoutVersion.formatVersion;
    const cases: [string, Uint8Array, RegExp | string][] = [
      // 3 × 6370 float32s = 76,440 data bytes, less 50; the last weights (before 10 biases) end at 76,400.
      [
        'cut.safetensors',
        valid.subarray(0, valid.length - 50),
        'is truncated: tensor "optimizer.exp_avg_sq.2.weight" ends at byte 76400 of 76390 data bytes',
      ],
      ['flipped.safetensors', flippedData, 'is corrupt: its tensor data fails the checksum'],
      [
        'random.safetensors',
        Buffer.from('\u0007\u0000\u0000\u0000\u0000\u0000\u0000\u0000{"a":[1}'),
        'is not a safetensors file (its header is not valid JSON)',
      ],
      [
        'nested.safetensors',
        hostile(`{"0.weight":{"dtype":${'['.repeat(100_000)}${']'.repeat(100_000)},"shape":[1],"data_offsets":[0,4]}}`),
        'has a header nested deeper than 64 levels',
      ],
      [
        'dtype.safetensors',
        hostile('{"0.weight":{"dtype":{"a":1},"shape":[1],"data_offsets":[0,4]}}'),
        'tensor "0.weight" has a malformed dtype (an object)',
      ],
      ['version.safetensors', withDescription({ formatVersion: undefined }), 'has no checkpoint format version'],
      [
        'settings.safetensors',
        withDescription({ config: 'fast' }),
        'has invalid settings ("fast" instead of an object)',
      ],
      [
        'settings-object.safetensors',
        withDescription({ config: { ...description.config, seed: { n: 1 } } }),
        'has invalid settings: seed must be a whole number, got an object',
      ],
      [
        'absurd.safetensors',
        resumable((s) => (s.parameters.weights[0][3] = 3.4e38)),
        /^has weights too large to compute with: its activations could reach 3\.4e\+38 \(at most 1e\+30 is safe in float32\)$/,
      ],
      [
        'moments.safetensors',
        resumable((s) => (s.moments.m.weights[0][7] = 1e20)),
        'has Adam moments too large to resume from: a first moment of 1.0e+20 (at most 1e+15)',
      ],
      ['odd\nname\u001b.safetensors', Buffer.from('hello'), 'is 5 bytes long, too short to be a safetensors file'],
    ];
    for (const [name, bytes, problem] of cases) {
      const file = join(dir, name);
      await writeFile(file, bytes);
      expectRefusal(runBuiltCli(['info', file]), 'info', file, problem);
    }
    // The same refusals where a model is used: evaluating and resuming.
    const absurd = join(dir, 'absurd.safetensors');
    expectRefusal(
      runBuiltCli(['evaluate', '--model', absurd]),
      'evaluate',
      absurd,
      /^has weights too large to compute with/,
    );
    expectRefusal(
      runBuiltCli(['train', '--resume', absurd, '--epochs', '3']),
      'train',
      absurd,
      /^has weights too large to compute with/,
    );
    const moments = join(dir, 'moments.safetensors');
    expectRefusal(
      runBuiltCli(['train', '--resume', moments, '--epochs', '3']),
      'train',
      moments,
      /^has Adam moments too large to resume from/,
    );
  });

  it('checkpoints that are not regular files, loop, or are too large', async () => {
    const fifo = makeFifo(dir, 'pipe.safetensors');
    try {
      const result = runBuiltCli(['info', fifo], { timeoutMs: 10_000 });
      expectRefusal(result, 'info', fifo, 'is not a regular file (a pipe, device or socket)');
    } finally {
      releaseFifo(fifo);
    }
    expectRefusal(
      runBuiltCli(['info', '/dev/zero'], { timeoutMs: 10_000 }),
      'info',
      '/dev/zero',
      'is not a regular file (a pipe, device or socket)',
    );
    const folder = join(dir, 'folder.safetensors');
    await mkdir(folder);
    expectRefusal(runBuiltCli(['info', folder]), 'info', folder, 'is a directory, expected a file');
    const loop = join(dir, 'loop.safetensors');
    await symlink(loop, loop);
    expectRefusal(
      runBuiltCli(['info', loop]),
      'info',
      loop,
      'too many levels of symbolic links (a link may point back to itself)',
    );
    const huge = join(dir, 'huge.safetensors');
    await writeFile(huge, '');
    await truncate(huge, 3_000_000_000);
    expectRefusal(
      runBuiltCli(['info', huge]),
      'info',
      huge,
      'is 3.00 GB, larger than any checkpoint can be (at most 1.55 GB)',
    );
  });

  it('test data: cut, trailing, corrupt, mismatched, out of range, not regular, malformed CSV', async () => {
    const { images, labels } = idxPair();
    const write = async (prefix: string, imageBytes: Uint8Array, labelBytes: Uint8Array = labels) => {
      await writeFile(join(dir, `${prefix}-labels-idx1-ubyte`), labelBytes);
      return writeTemp(dir, `${prefix}-images-idx3-ubyte`, imageBytes);
    };
    const corrupt = gzipSync(
      Buffer.concat([idxHeader('images', 3), Buffer.alloc(3 * 784).map((_, i) => (i * 7919) % 251)]),
    );
    corrupt.fill(0x55, 20, 60);
    const cases: [string, string, RegExp | string][] = [
      [
        await write('cut', images.subarray(0, 16 + 784 * 2 + 10)),
        '',
        'is truncated: the header announces 3 images but only 2 are complete',
      ],
      [
        await write('trailing', gzipSync(Buffer.concat([images, Buffer.alloc(5)]))),
        '',
        'has 5 unexpected bytes after the 3 images its header announces',
      ],
      [await write('corrupt', corrupt), '', /^is not valid gzip data \((corrupt|truncated)\)$/],
      [
        await write('count', images, idxPair(2, [1, 2]).labels),
        'labels',
        `has 2 labels but ${join(dir, 'count-images-idx3-ubyte')} has 3 images`,
      ],
      [await write('range', images, idxPair(3, [1, 12, 3]).labels), 'labels', 'record 2: label 12 is out of range 0–9'],
      [
        await write(
          'size',
          Buffer.concat([Buffer.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 32, 0, 0, 0, 32]), Buffer.alloc(1024)]),
        ),
        '',
        'has 32×32 images, expected 28×28',
      ],
    ];
    for (const [imagesFile, whose, problem] of cases) {
      const named = whose === 'labels' ? imagesFile.replace('-images-idx3-', '-labels-idx1-') : imagesFile;
      expectRefusal(runBuiltCli(['evaluate', '--model', model, '--test', imagesFile]), 'evaluate', named, problem);
      // Training reads the images straight into the engine's memory: the same refusals from there.
      expectRefusal(
        runBuiltCli(['train', '--train', imagesFile, '--epochs', '1', '--no-record']),
        'train',
        named,
        problem,
      );
    }
    const csv = await writeTemp(dir, 'bad.csv', `${[3, ...new Array(783).fill(0), '\u001b[2J'].join(',')}\n`);
    expectRefusal(
      runBuiltCli(['evaluate', '--model', model, '--test', csv]),
      'evaluate',
      csv,
      'line 1, column 785: pixel784 value "\\x1b[2J" is not a whole number 0–255',
    );
    const fifo = makeFifo(dir, 'pipe-images-idx3-ubyte');
    try {
      expectRefusal(
        runBuiltCli(['predict', '--model', model, '--input', fifo], { timeoutMs: 10_000 }),
        'predict',
        fifo,
        'is not a regular file (a pipe, device or socket)',
      );
    } finally {
      releaseFifo(fifo);
    }
    expectRefusal(
      runBuiltCli(['predict', '--model', model, '--input', '/dev/zero'], { timeoutMs: 10_000 }),
      'predict',
      '/dev/zero',
      'is not a regular file (a pipe, device or socket)',
    );
  });
});

/** The CLI in this process, so a module can be replaced (below: a loader that lets absurd weights through). */
const runInProcess = (args: string[]) => runCliInProcess(args, { FMNIST_DATA_PATH: '' });

describe('evaluation and prediction of a model whose outputs are not finite', () => {
  afterEach(() => {
    vi.doUnmock('@core/checkpoint/checkpoint');
    vi.resetModules();
  });

  it('refuse in one line naming the model instead of printing NaN', async () => {
    // Loading refuses such weights now; this stands in for any other way to non-finite outputs.
    vi.resetModules();
    vi.doMock('@core/checkpoint/checkpoint', async (importOriginal) => {
      const original = await importOriginal<typeof import('@core/checkpoint/checkpoint')>();
      const { initParameters, mlpShape } = await import('@core/shared/mlp');
      return {
        ...original,
        loadCheckpoint: async () => {
          const parameters = initParameters(mlpShape([8]), 1);
          parameters.weights.forEach((w) => w.fill(3.4e38));
          return {
            parameters,
            config: null,
            epochsDone: 0,
            history: [],
            datasetFingerprint: null,
            appVersion: null,
            createdAt: null,
            optimizer: null,
          };
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
