import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { takeFirst } from '@core/shared/dataset';
import { runCliInProcess } from '../../helpers/cli';
import { builtFile, REAL_DATA_DIR, realDataset, tempDir, toKaggleCsv, writeTemp } from '../../helpers/data';
import { countConfusion, imagesCountedElsewhere, nearTies, referenceOutputs } from '../../helpers/reference-outputs';

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCliInProcess(args, { FMNIST_DATA: REAL_DATA_DIR, ...env });

describe('fmnist CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('fmnist-cli-');
  });

  it.each([
    [['train', '--epochs', '-3'], /^fmnist train: epochs must be between 1 and 100000, got -3\n$/],
    [['train', '--lr', '0'], /^fmnist train: learning rate must be greater than 0, got 0\n$/],
    [['train', '--batch-size', '0'], /^fmnist train: batch size must be between 1 and 65536, got 0\n$/],
    [
      ['train', '--epochs', 'many'],
      /^fmnist train: --epochs must be a number, got "many" \(see fmnist train --help\)\n$/,
    ],
    [['train', '--frobnicate'], /^fmnist train: unknown option --frobnicate/],
    [['train', '--train', '/does/not/exist'], /^fmnist train: \/does\/not\/exist: no such file or directory\n$/],
    [
      ['train', '--out', '/does/not/exist/model.safetensors'],
      /^fmnist train: \/does\/not\/exist\/model\.safetensors: the folder \/does\/not\/exist does not exist\n$/,
    ],
    [['train', '--out', '/tmp/'], /^fmnist train: \/tmp\/: names a folder: give a file name\n$/],
    [['train', '--allow-other-data'], /^fmnist train: --allow-other-data only applies with --resume\n$/],
    [['evaluate'], /^fmnist evaluate: --model CHECKPOINT is required/],
    [
      ['evaluate', '--model', '/nope.safetensors'],
      /^fmnist evaluate: \/nope\.safetensors: no such file or directory\n$/,
    ],
    [['transmogrify'], /^fmnist: unknown command "transmogrify"/],
    [['train', '--threads', '-1'], /^fmnist train: --threads must be between 0 \(one per core\) and 64, got -1\n$/],
    [
      ['train', '--kernels', 'gpu'],
      /^fmnist train: --kernels must be one of auto, wasm-fma, wasm, typescript, got "gpu"\n$/,
    ],
    [
      ['evaluate', '--model', 'x', '--threads', '99'],
      /^fmnist evaluate: --threads must be between 0 \(one per core\) and 64, got 99\n$/,
    ],
    [['bench', '--numpy', 'sometimes'], /^fmnist bench: --numpy must be auto or off, got "sometimes"\n$/],
    [['bench', '--jax', 'maybe'], /^fmnist bench: --jax must be auto or off, got "maybe"\n$/],
    [
      ['train', '--autosave-every', '-1'],
      /^fmnist train: --autosave-every must be between 0 and 86400 seconds, got -1\n$/,
    ],
    [
      ['train', '--autosave-every', 'soon'],
      /^fmnist train: --autosave-every must be a number, got "soon" \(see fmnist train --help\)\n$/,
    ],
  ])('%j exits with 2 and one line', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reports a malformed CSV with its file, line and column', async () => {
    const csv = await writeTemp(
      dir,
      'bad.csv',
      `label,${Array.from({ length: 784 }, (_, i) => `pixel${i + 1}`).join(',')}\n3,${'0,'.repeat(700)}x${',0'.repeat(83)}\n`,
    );
    const result = await run(['train', '--train', csv, '--epochs', '1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `fmnist train: ${csv}: line 2, column 702: pixel701 value "x" is not a whole number 0–255\n`,
    );
  });

  it('trains with --json, saves a checkpoint, evaluates and predicts with it', async () => {
    const model = join(dir, 'model.safetensors');
    const trained = await run([
      'train',
      '--epochs',
      '2',
      '--limit',
      '2000',
      '--hidden',
      '64',
      '--json',
      '--out',
      model,
    ]);
    expect(trained.code).toBe(0);
    const lines = trained.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
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
    // How long the evaluation took, and the rate that makes (the speed itself is npm run bench's business).
    expect(report.seconds).toBeGreaterThan(0);
    // (seconds are printed to 0.1 ms, the rate from the exact time)
    expect(Math.abs(report.imagesPerSecond * report.seconds - 10000)).toBeLessThan(10000 * 0.01);
    const evaluatedText = await run(['evaluate', '--model', model]);
    expect(evaluatedText.stdout).toMatch(/^Time {2}\d+ ms to evaluate them \([\d,]+ images\/s, \d+ threads?\)$/m);
    // The confusion matrix is what the float64 reference forward pass predicts, counted independently of the engine.
    const { loadCheckpoint } = await import('@core/checkpoint/checkpoint');
    const testSet = await realDataset('test');
    const reference = referenceOutputs((await loadCheckpoint(model)).parameters, testSet);
    const expected = countConfusion(reference.predictions, testSet.labels);
    const ties = nearTies(reference);
    expect(imagesCountedElsewhere(report.confusionMatrix, expected)).toBeLessThanOrEqual(ties.size);
    if (ties.size === 0) expect(report.confusionMatrix).toEqual(expected);

    const test = takeFirst(await realDataset('test'), 20);
    const input = await writeTemp(dir, 'few.csv', toKaggleCsv(test, { labels: false }));
    const predicted = await run(['predict', '--model', model, '--input', input, '--json']);
    expect(predicted.code).toBe(0);
    const rows = predicted.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(rows).toHaveLength(20);
    expect(rows[0].probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 4);
    expect(rows[0].label).toBeNull();
    const text = await run(['predict', '--model', model, '--input', input]);
    expect(text.stdout.split('\n')[0]).toMatch(/^\s+0 {2}\S.*\d+\.\d%$/);
  });

  it('prints the usage on stderr (stdout empty) with exit 2 when no command is given; help on stdout only when asked', async () => {
    for (const args of [[], ['']]) {
      const result = await run(args);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        new RegExp(
          `^fmnist: ${args.length ? 'the command is empty' : 'no command given'}\n\nfmnist \\S+ — train and evaluate`,
        ),
      );
      expect(result.stderr).toContain('Usage: fmnist <command> [options]');
    }
    for (const args of [['--help'], ['-h'], ['help']]) {
      const result = await run(args);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toContain('Usage: fmnist <command> [options]');
    }
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

describe('fmnist checkpoints', () => {
  let dir: string;
  /** A 2-epoch checkpoint made once for the tests below (none of them depends on another). */
  let half: string;
  const small = ['--limit', '2000', '--hidden', '48', '--seed', '3', '--json'];
  beforeAll(async () => {
    dir = await tempDir('fmnist-cli-checkpoints-');
    half = join(dir, 'half.safetensors');
    const made = await run(['train', '--epochs', '2', ...small, '--out', half]);
    if (made.code !== 0) throw new Error(made.stderr);
  });

  it('resumes exactly: 2 epochs then 1 more equals 3 straight', async () => {
    const { loadCheckpoint } = await import('@core/checkpoint/checkpoint');
    const resumed = join(dir, 'resumed.safetensors');
    const straight = join(dir, 'straight.safetensors');
    const continued = await run(['train', '--resume', half, '--epochs', '3', '--json', '--out', resumed]);
    expect(continued.code).toBe(0);
    expect(
      continued.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).epoch)
        .filter(Boolean),
    ).toEqual([3]);
    expect((await run(['train', '--epochs', '3', ...small, '--out', straight])).code).toBe(0);
    const a = await loadCheckpoint(resumed);
    const b = await loadCheckpoint(straight);
    expect(a.parameters.weights).toEqual(b.parameters.weights);
    expect(a.optimizer!.step).toBe(b.optimizer!.step);
    expect(a.history.map((h) => h.testAccuracy)).toEqual(b.history.map((h) => h.testAccuracy));
  });

  it('records the checkpoints a run was resumed from and saved to by their full paths, typed relative or not', async () => {
    const bin = join(__dirname, '../../../bin/fmnist.js');
    const data = await tempDir('fmnist-cli-relative-');
    const env = { ...process.env, FMNIST_DATA: REAL_DATA_DIR, FMNIST_STUDIO_DATA: data };
    const args = ['train', '--resume', basename(half), '--epochs', '3', '--out', 'more.safetensors', ...small];
    const trained = spawnSync(process.execPath, [bin, ...args], { cwd: dir, env, encoding: 'utf8' });
    expect(trained.status, trained.stderr).toBe(0);
    const listed = spawnSync(process.execPath, [bin, 'runs', '--json'], { env, encoding: 'utf8' });
    expect(JSON.parse(listed.stdout).runs).toMatchObject([
      { resumedFrom: { file: half }, copies: [join(dir, 'more.safetensors')] },
    ]);
  });

  it('refuses to resume with fewer epochs or changed settings', async () => {
    expect(await run(['train', '--resume', half, '--epochs', '2'])).toMatchObject({
      code: 2,
      stderr: 'fmnist train: the model already has 2 epochs: ask for more (epochs is the total, e.g. 12)\n',
    });
    expect((await run(['train', '--resume', half, '--epochs', '4', '--lr', '0.01'])).stderr).toBe(
      'fmnist train: learning rate cannot change when resuming: the model was trained with 0.001, got 0.01\n',
    );
  });

  it('resumes on other training data only with --allow-other-data, and records both data sets', async () => {
    const { loadCheckpoint } = await import('@core/checkpoint/checkpoint');
    const train = takeFirst(await realDataset('train'), 2000);
    const csv = await writeTemp(
      dir,
      'other.csv',
      toKaggleCsv({ ...train, labels: train.labels.map((l) => (l + 1) % 10) }),
    );
    const refused = await run(['train', '--resume', half, '--epochs', '3', '--train', csv]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^fmnist train: ${half.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was trained on .*train-images-idx3-ubyte\\.gz \\(fingerprint \\w{16}\\), but the training data given now is .*other\\.csv \\(fingerprint \\w{16}\\): add --allow-other-data to train it on different data\\n$`,
      ),
    );
    const out = join(dir, 'other-data.safetensors');
    const allowed = await run([
      'train',
      '--resume',
      half,
      '--epochs',
      '3',
      '--train',
      csv,
      '--allow-other-data',
      '--out',
      out,
    ]);
    expect(allowed.code).toBe(0);
    const saved = await loadCheckpoint(out);
    expect(saved.dataHistory?.map((segment) => segment.fromEpoch)).toEqual([1, 3]);
    expect(saved.dataSources?.train).toEqual([csv]);
  });

  it('autosaves after every epoch the same file the app writes: autosave.safetensors with the cost curve and the data files', async () => {
    const { loadCheckpoint } = await import('@core/checkpoint/checkpoint');
    const folder = join(dir, 'autosave', 'nested');
    expect((await run(['train', '--epochs', '2', ...small, '--autosave', folder, '--threads', '0'])).code).toBe(0);
    const saved = await loadCheckpoint(join(folder, 'autosave.safetensors'));
    expect(saved.epochsDone).toBe(2);
    expect(saved.optimizer).not.toBeNull();
    expect(saved.dataSources).toEqual({
      train: [join(REAL_DATA_DIR, 'train-images-idx3-ubyte.gz'), join(REAL_DATA_DIR, 'train-labels-idx1-ubyte.gz')],
      test: [join(REAL_DATA_DIR, 't10k-images-idx3-ubyte.gz'), join(REAL_DATA_DIR, 't10k-labels-idx1-ubyte.gz')],
    });
    // 2 000 samples in batches of 128 are 16 batches, each its own point: 32 points ending at epoch 2.
    expect(saved.costCurve).toHaveLength(32);
    expect(saved.costCurve!.at(-1)![0]).toBe(2);
  });

  it('says once on stderr when autosaving fails, and once when it works again', async () => {
    const { atomicWriteHooks } = await import('@core/io');
    let writes = 0;
    // Only the autosave's writes count (the run's record is written through the same atomic writes).
    atomicWriteHooks.beforeRename = (temporary) => {
      if (!basename(temporary).startsWith('.autosave.safetensors.')) return;
      writes++;
      if (writes === 2 || writes === 3)
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    };
    try {
      const folder = join(dir, 'flaky');
      const result = await run(['train', '--epochs', '4', ...small, '--autosave', folder, '--autosave-every', '0']);
      expect(result.code).toBe(0);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toEqual([
        `Autosave failed after epoch 2: ${join(folder, 'autosave.safetensors')}: no space left on the device (training goes on; the next autosave tries again)`,
        `Autosave works again: ${join(folder, 'autosave.safetensors')}`,
      ]);
    } finally {
      atomicWriteHooks.beforeRename = undefined;
    }
  });

  it('checks every file it will write before training: a parent that is a file, an autosave folder it cannot make', async () => {
    const blocker = await writeTemp(dir, 'blocker', 'x');
    const started = Date.now();
    expect(await run(['train', '--epochs', '50', '--out', join(blocker, 'model.safetensors')])).toMatchObject({
      code: 2,
      stderr: `fmnist train: ${join(blocker, 'model.safetensors')}: ${blocker} is a file, not a folder\n`,
    });
    expect((await run(['train', '--epochs', '50', '--autosave', join(blocker, 'runs')])).stderr).toBe(
      `fmnist train: ${join(blocker, 'runs')}: a part of this path is not a directory\n`,
    );
    // Refused before any data was read or any epoch trained.
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('exports ONNX and weights-only safetensors, and describes checkpoints', async () => {
    const { decodeCheckpoint, loadCheckpoint } = await import('@core/checkpoint/checkpoint');
    const { decodeSafetensors } = await import('@core/checkpoint/safetensors');
    const { readFile } = await import('node:fs/promises');
    const model = await loadCheckpoint(half);
    const onnx = join(dir, 'model.onnx');
    const weights = join(dir, 'weights.safetensors');
    expect((await run(['export', '--model', half, '--format', 'onnx', '--out', onnx])).code).toBe(0);
    // The first layer's weights are in the ONNX file as float32 initializer bytes ([in, out] for Gemm).
    const w0 = model.parameters.weights[0];
    expect((await readFile(onnx)).indexOf(Buffer.from(w0.buffer, w0.byteOffset, w0.byteLength))).toBeGreaterThan(0);
    expect((await run(['export', '--model', half, '--format', 'safetensors', '--out', weights])).code).toBe(0);
    const bytes = await readFile(weights);
    expect([...decodeSafetensors(bytes, weights).tensors.keys()].sort()).toEqual([
      '0.bias',
      '0.weight',
      '2.bias',
      '2.weight',
    ]);
    const exported = decodeCheckpoint(bytes, weights);
    expect(exported.parameters.weights).toEqual(model.parameters.weights);
    expect(exported.parameters.biases).toEqual(model.parameters.biases);
    expect(exported.optimizer).toBeNull();
    expect((await run(['export', '--model', half, '--format', 'pdf', '--out', onnx])).stderr).toBe(
      'fmnist export: --format must be onnx, safetensors or pytorch, got "pdf"\n',
    );
    expect(
      (await run(['export', '--model', half, '--format', 'onnx', '--out', join(dir, 'no-such-folder', 'm.onnx')]))
        .stderr,
    ).toBe(
      `fmnist export: ${join(dir, 'no-such-folder', 'm.onnx')}: the folder ${join(dir, 'no-such-folder')} does not exist\n`,
    );

    const info = await run(['info', half]);
    expect(info.stdout).toMatch(/Network +784-48-10 \(ReLU, softmax\), 38,170 parameters/);
    expect(info.stdout).toMatch(/Trained +2 epochs of 2, 32 Adam steps \(resumable\)/);
    expect(info.stdout).toMatch(/\n +2 +\d\.\d{4} +\d+\.\d\d%/);
    const json = JSON.parse((await run(['info', '--model', weights, '--json'])).stdout);
    expect(json).toMatchObject({ architecture: '784-48-10', resumable: false, epochsDone: 2 });
    const garbage = await writeTemp(dir, 'garbage.safetensors', 'not a model at all');
    expect(await run(['info', garbage])).toMatchObject({
      code: 2,
      stderr: `fmnist info: ${garbage}: is not a safetensors file (its header length is implausible)\n`,
    });
  });
});

describe('fmnist train stopped by a signal', () => {
  // SIGINT is Ctrl-C, SIGHUP a closed terminal (and Windows' console close), SIGTERM kill/timeout/a scheduler.
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)(
    '%s: stops after the batch, saves the last whole epoch to --out and its own checkpoint, records it stopped, exits %i',
    async (signal, code) => {
      const dataFolder = await tempDir('fmnist-cli-signal-');
      const out = join(dataFolder, 'model.safetensors');
      const child = spawn(
        process.execPath,
        [
          builtFile('out/node/fmnist.js'),
          'train',
          '--epochs',
          '1000',
          '--limit',
          '2000',
          '--hidden',
          '32',
          '--json',
          '--out',
          out,
        ],
        {
          env: { PATH: process.env.PATH, FMNIST_DATA: REAL_DATA_DIR, FMNIST_STUDIO_DATA: dataFolder },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stderr!.on('data', (chunk) => (stderr += chunk));
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (chunk) => {
          stdout += chunk;
          if (stdout.split('\n').filter((line) => line.startsWith('{"type":"epoch"')).length >= 2) resolve();
        });
        child.on('exit', (exit) => reject(new Error(`fmnist train exited early (${exit}): ${stderr}`)));
      });
      child.kill(signal);
      const exit = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(exit).toBe(code);
      const lines = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      const summary = lines.at(-1);
      expect(summary).toMatchObject({ type: 'summary', status: 'stopped', checkpoint: out });
      const { loadCheckpoint } = await import('@core/checkpoint/checkpoint');
      const saved = await loadCheckpoint(out);
      expect(saved.epochsDone).toBe(summary.epochs);
      expect(saved.epochsDone).toBeGreaterThanOrEqual(2);
      const listed = JSON.parse((await runCliInProcess(['runs', '--json'], { FMNIST_STUDIO_DATA: dataFolder })).stdout);
      expect(listed.runs).toMatchObject([
        { id: summary.run, status: 'stopped', metrics: { epochs: saved.epochsDone }, copies: [out] },
      ]);
      expect((await loadCheckpoint(listed.runs[0].files.last)).parameters.weights).toEqual(saved.parameters.weights);
    },
    60_000,
  );
});

describe('fmnist train in a terminal that is closed', () => {
  // A real terminal (a pseudo-terminal, opened by Python's pty module): closing it hangs the process up, and every
  // later write to it fails with EIO. The run must still save its last whole epoch and end as hung up.
  const python = spawnSync('python3', ['-c', 'import pty'], { encoding: 'utf8' });
  it.skipIf(python.status !== 0)(
    'saves the last whole epoch to --out and its own checkpoint, records it stopped, and ends by the hang-up',
    async () => {
      const dataFolder = await tempDir('fmnist-cli-hangup-');
      const out = join(dataFolder, 'model.safetensors');
      const script = [
        'import os, pty, sys, time',
        'pid, fd = pty.fork()',
        'if pid == 0:',
        `    os.execv(sys.argv[1], [sys.argv[1], sys.argv[2], 'train', '--epochs', '1000', '--limit', '2000', '--hidden', '32', '--out', sys.argv[3]])`,
        "buffer = b''",
        'start = time.time()',
        "while buffer.count(b'epoch ') < 6 and time.time() - start < 60:",
        '    buffer += os.read(fd, 4096)',
        'os.close(fd)',
        '_, status = os.waitpid(pid, 0)',
        "print('signal', os.WTERMSIG(status)) if os.WIFSIGNALED(status) else print('exit', os.WEXITSTATUS(status))",
      ].join('\n');
      const result = spawnSync('python3', ['-c', script, process.execPath, builtFile('out/node/fmnist.js'), out], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, FMNIST_DATA: REAL_DATA_DIR, FMNIST_STUDIO_DATA: dataFolder },
        timeout: 90_000,
      });
      // SIGHUP is signal 1.
      expect(result.stdout.trim()).toBe('signal 1');
      const { loadCheckpoint } = await import('@core/checkpoint/checkpoint');
      const saved = await loadCheckpoint(out);
      const listed = JSON.parse((await runCliInProcess(['runs', '--json'], { FMNIST_STUDIO_DATA: dataFolder })).stdout);
      expect(listed.runs).toMatchObject([{ status: 'stopped', metrics: { epochs: saved.epochsDone }, copies: [out] }]);
      expect((await loadCheckpoint(listed.runs[0].files.last)).parameters.weights).toEqual(saved.parameters.weights);
    },
    120_000,
  );
});
