import { describe, expect, it } from 'vitest';
import { denseFlopsPerSample } from '../../../src/cli/commands/bench';
import { median } from '@core/median';

/**
 * A stand-in for an interpreter running a reference script: by its own account NumPy's paced float32 epoch k takes
 * 2k s, JAX's k/2 s, and a whole (unpaced) run's epochs 8 s each. It writes down who was asked for which epoch of
 * which script, in order, to `log`.
 */
function fakeInterpreter(log: string, name: string): string {
  return `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
const script = path.basename(args[0]);
const epochs = Number(args[args.indexOf('--epochs') + 1]);
const dtype = args[args.indexOf('--dtype') + 1];
const seconds = (k) => (script === 'jax_reference.py' ? k / 2 : 2 * k);
const line = (k, s) => 'epoch ' + k + '/' + epochs + ' cost 0.5 train_acc 80.00 test_acc 81.50 epoch_s ' + s.toFixed(3);
if (!args.includes('--paced')) {
  for (let k = 1; k <= epochs; k++) console.log(line(k, 8));
  process.exit(0);
}
console.log('ready');
let k = 0;
process.stdin.on('data', (d) => {
  for (const _ of String(d).split('\\n').filter(Boolean)) {
    k++;
    fs.appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(name)} + ' ' + script + ' ' + dtype + ' ' + k + '\\n');
    console.log(line(k, seconds(k)));
  }
});
`;
}

describe('bench arithmetic', () => {
  it('counts the dense FLOPs of one training sample: forward, weight gradients, input gradients of layers 2+', () => {
    // By hand: layers of 784×512, 512×256 and 256×10 weights (401 408 + 131 072 + 2 560 = 535 040). Forward:
    // 2 FLOPs per weight = 1 070 080; weight gradients the same; input gradients for the last two layers only:
    // 2 × 133 632 = 267 264. In all 2 407 424, and 60 000 samples make the ~144.4 GFLOP an epoch.
    expect(denseFlopsPerSample([512, 256])).toBe(2_407_424);
    expect((denseFlopsPerSample([512, 256]) * 60_000) / 1e9).toBeCloseTo(144.45, 2);
    // No hidden layer: 7 840 weights, forward and weight gradient only.
    expect(denseFlopsPerSample([])).toBe(31_360);
  });

  it('takes medians of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('fmnist bench', () => {
  it('times plain epochs and epochs with dropout and augmentation, and reports both', async () => {
    const { runCliInProcess } = await import('../../helpers/cli');
    const { REAL_DATA_DIR } = await import('../../helpers/data');
    const result = await runCliInProcess(['bench', '--epochs', '1', '--numpy', 'off', '--threads', '1', '--json'], {
      FMNIST_DATA: REAL_DATA_DIR,
    });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      epochSeconds: number[];
      medianSeconds: number;
      threads: number;
      testAccuracy: number;
      recipes: {
        settings: Record<string, unknown>;
        epochSeconds: number[];
        medianSeconds: number;
        ratio: number;
        testAccuracy: number;
      };
    };
    expect(report.threads).toBe(1);
    expect(report.epochSeconds).toHaveLength(1);
    expect(report.recipes.settings).toEqual({ dropout: 0.2, shiftPixels: 2, flip: true });
    expect(report.recipes.epochSeconds).toHaveLength(1);
    expect(report.recipes.ratio).toBeCloseTo(report.recipes.epochSeconds[0] / report.epochSeconds[0], 12);
    // One epoch of either learns: well above chance (10%).
    expect(report.testAccuracy).toBeGreaterThan(0.7);
    expect(report.recipes.testAccuracy).toBeGreaterThan(0.7);
  });
});

describe('fmnist bench against NumPy', () => {
  it('runs NumPy float32 epoch by epoch in turn with ours and reports the median of the paired ratios', async () => {
    const { chmod, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { runCliInProcess } = await import('../../helpers/cli');
    const { REAL_DATA_DIR, tempDir } = await import('../../helpers/data');
    // A stand-in for python3 running the reference: its float32 epochs take 2 and 4 s by its own account, its
    // float64 ones 8 s, and it writes down the order in which it was asked for epochs.
    const dir = await tempDir();
    const log = join(dir, 'calls.txt');
    const fake = join(dir, 'python');
    await writeFile(fake, fakeInterpreter(log, 'python'));
    await chmod(fake, 0o755);
    const result = await runCliInProcess(
      ['bench', '--epochs', '2', '--recipes', 'off', '--threads', '1', '--python', fake, '--jax', 'off', '--json'],
      { FMNIST_DATA: REAL_DATA_DIR },
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      epochSeconds: number[];
      numpy: { dtype: string; epochSeconds: number[]; ratio: number; pairedRatios: number[] | null }[];
      numpyNote: string | null;
    };
    expect(report.numpyNote).toBeNull();
    const [f32, f64] = report.numpy;
    expect(f32).toMatchObject({ dtype: 'float32', epochSeconds: [2, 4] });
    // Ours over its epoch by epoch: (a/2 + b/4) / 2 as the median of two.
    const [a, b] = report.epochSeconds;
    expect(f32.pairedRatios).toEqual([a / 2, b / 4]);
    expect(f32.ratio).toBeCloseTo((a / 2 + b / 4) / 2, 12);
    expect(f64).toMatchObject({ dtype: 'float64', epochSeconds: [8, 8], pairedRatios: null });
    expect(f64.ratio).toBeCloseTo((a + b) / 2 / 8, 12);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(log, 'utf8')).toBe(
      'python numpy_reference.py float32 1\npython numpy_reference.py float32 2\n',
    );

    // In text, each of our epochs is followed by NumPy's.
    const text = await runCliInProcess(
      ['bench', '--epochs', '2', '--recipes', 'off', '--threads', '1', '--python', fake, '--jax', 'off'],
      { FMNIST_DATA: REAL_DATA_DIR },
    );
    const order = text.stdout
      .split('\n')
      .filter((l) => /^\s+(epoch \d|NumPy float32 )/.test(l))
      .map((l) => l.trim().split(/\s+/)[0]);
    expect(order).toEqual(['epoch', 'NumPy', 'epoch', 'NumPy', 'epoch', 'epoch']);
    expect(text.stdout).toMatch(/^NumPy float32 \(in turn with ours\) +[\d.]+ +[\d.]+ +[\d.]+$/m);
  }, 120_000);

  it('says why when the reference cannot start, and still times our epochs', async () => {
    const { runCliInProcess } = await import('../../helpers/cli');
    const { REAL_DATA_DIR } = await import('../../helpers/data');
    const result = await runCliInProcess(
      ['bench', '--epochs', '1', '--recipes', 'off', '--threads', '1', '--python', '/nonexistent/python3', '--json'],
      { FMNIST_DATA: REAL_DATA_DIR },
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      epochSeconds: number[];
      numpy: unknown[];
      numpyNote: string;
      jax: unknown[];
      jaxNote: string;
    };
    expect(report.epochSeconds).toHaveLength(1);
    expect(report.numpy).toEqual([]);
    expect(report.numpyNote).toMatch(/^\/nonexistent\/python3 could not be started \(.*ENOENT.*\)$/);
    // JAX's interpreter is --python's unless --jax-python names another.
    expect(report.jax).toEqual([]);
    expect(report.jaxNote).toMatch(/^\/nonexistent\/python3 could not be started \(.*ENOENT.*\)$/);
  }, 60_000);
});

describe('bench totals', () => {
  it('sums the seconds of all epochs and of the first five, and divides our sums by each reference’s', async () => {
    const { epochTotals } = await import('../../../src/cli/commands/bench');
    const ours = [1, 1, 1, 1, 1, 2, 2];
    const numpy = [2, 2, 2, 2, 2, 2, 2];
    const jax = [0.5, 0.5, 0.5, 0.5, 0.5, 4];
    // By hand: all 7 of ours take 9 s and NumPy's 14 s; JAX ran only 6 epochs in turn with ours, so it has no sum
    // over all 7. Over the first five: 5 s, 10 s and 2.5 s.
    expect(epochTotals(ours, { numpy, jax }, 7)).toEqual({
      epochs: 7,
      oursSeconds: 9,
      numpySeconds: 14,
      numpyRatio: 9 / 14,
      jaxSeconds: null,
      jaxRatio: null,
    });
    expect(epochTotals(ours, { numpy, jax }, 5)).toEqual({
      epochs: 5,
      oursSeconds: 5,
      numpySeconds: 10,
      numpyRatio: 0.5,
      jaxSeconds: 2.5,
      jaxRatio: 2,
    });
    // A run shorter than five epochs: the first five are all of them.
    expect(epochTotals([3, 1], { numpy: [2, 2], jax: null }, 5)).toEqual({
      epochs: 2,
      oursSeconds: 4,
      numpySeconds: 4,
      numpyRatio: 1,
      jaxSeconds: null,
      jaxRatio: null,
    });
  });
});

describe('fmnist bench against JAX', () => {
  /** A directory of small gzipped IDX files (300 random training images), enough for the references' protocol. */
  async function smallIdxDirectory(): Promise<string> {
    const { writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { gzipSync } = await import('node:zlib');
    const { randomDataset, tempDir, toIdx } = await import('../../helpers/data');
    const dir = await tempDir();
    const { images, labels } = toIdx(randomDataset(300));
    await writeFile(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(images));
    await writeFile(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(labels));
    return dir;
  }

  it('runs NumPy float32 and then JAX float32 after each of our epochs, with paired ratios and sums', async () => {
    const { chmod, readFile, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { runCliInProcess } = await import('../../helpers/cli');
    const data = await smallIdxDirectory();
    // Stand-ins for two interpreters running the references: by their own account NumPy's float32 epoch k takes
    // 2k s (float64: 8 s) and JAX's k/2 s. Each writes down who was asked for which epoch, in order.
    const log = join(data, 'calls.txt');
    const python = join(data, 'python');
    const jaxPython = join(data, 'python-with-jax');
    await writeFile(python, fakeInterpreter(log, 'python'));
    await writeFile(jaxPython, fakeInterpreter(log, 'python-with-jax'));
    await chmod(python, 0o755);
    await chmod(jaxPython, 0o755);
    const args = ['bench', '--train', data, '--epochs', '6', '--recipes', 'off', '--threads', '1'];
    const result = await runCliInProcess([...args, '--python', python, '--jax-python', jaxPython, '--json'], {});
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      epochSeconds: number[];
      numpy: { dtype: string; epochSeconds: number[]; ratio: number; pairedRatios: number[] | null }[];
      jax: { dtype: string; epochSeconds: number[]; medianSeconds: number; ratio: number; pairedRatios: number[] }[];
      jaxNote: string | null;
      totals: Record<'all' | 'first5', Record<string, number>>;
    };
    expect(report.jaxNote).toBeNull();
    const ours = report.epochSeconds;
    expect(ours).toHaveLength(6);
    expect(report.numpy.map((r) => r.dtype)).toEqual(['float32', 'float64']);
    expect(report.numpy[0].epochSeconds).toEqual([2, 4, 6, 8, 10, 12]);
    expect(report.jax).toHaveLength(1);
    const [jax] = report.jax;
    expect(jax).toMatchObject({ dtype: 'float32', epochSeconds: [0.5, 1, 1.5, 2, 2.5, 3], medianSeconds: 1.75 });
    expect(jax.pairedRatios).toEqual(ours.map((s, i) => s / ((i + 1) / 2)));
    // The median of six ratios is the mean of the 3rd and 4th smallest.
    const sorted = [...jax.pairedRatios].sort((a, b) => a - b);
    expect(jax.ratio).toBeCloseTo((sorted[2] + sorted[3]) / 2, 12);
    // Sums: NumPy 2 + 4 + … + 12 = 42 s (first five: 30 s), JAX 0.5 + … + 3 = 10.5 s (first five: 7.5 s).
    const sum = (seconds: number[]): number => seconds.reduce((a, b) => a + b, 0);
    const all = sum(ours);
    const first5 = sum(ours.slice(0, 5));
    expect(report.totals.all).toEqual({
      epochs: 6,
      oursSeconds: all,
      numpySeconds: 42,
      numpyRatio: all / 42,
      jaxSeconds: 10.5,
      jaxRatio: all / 10.5,
    });
    expect(report.totals.first5).toEqual({
      epochs: 5,
      oursSeconds: first5,
      numpySeconds: 30,
      numpyRatio: first5 / 30,
      jaxSeconds: 7.5,
      jaxRatio: first5 / 7.5,
    });
    // Each interpreter ran its own script, one epoch at a time: NumPy's, then JAX's, after each of ours.
    const calls = Array.from({ length: 6 }, (_, i) => [
      `python numpy_reference.py float32 ${i + 1}`,
      `python-with-jax jax_reference.py float32 ${i + 1}`,
    ]).flat();
    expect(await readFile(log, 'utf8')).toBe(calls.join('\n') + '\n');

    // In text: each of our epochs is followed by NumPy's and JAX's, then the sums over all and the first five.
    const text = await runCliInProcess([...args, '--python', python, '--jax-python', jaxPython], {});
    expect(text.code, text.stderr).toBe(0);
    const order = text.stdout
      .split('\n')
      .filter((l) => /^\s+(epoch \d+\/6 {2}\d|NumPy float32 |JAX float32 )/.test(l))
      .map((l) => l.trim().split(/\s+/)[0]);
    expect(order).toEqual([
      ...Array.from({ length: 6 }, () => ['epoch', 'NumPy', 'JAX']).flat(),
      ...Array(6).fill('epoch'),
    ]);
    for (const [what, numpySeconds, jaxSeconds] of [
      ['over all 6 epochs', '42.000', '10.500'],
      ['over the first 5 epochs', '30.000', '7.500'],
    ]) {
      const line = new RegExp(
        `^  ${what}: ours ([\\d.]+) s, NumPy float32 ${numpySeconds} s \\(sum ratio ([\\d.]+)\\), ` +
          `JAX float32 ${jaxSeconds} s \\(sum ratio ([\\d.]+)\\)$`,
        'm',
      ).exec(text.stdout);
      expect(line, `${what} in:\n${text.stdout}`).not.toBeNull();
      const oursSeconds = Number(line![1]);
      expect(Number(line![2])).toBeCloseTo(oursSeconds / Number(numpySeconds), 2);
      expect(Number(line![3])).toBeCloseTo(oursSeconds / Number(jaxSeconds), 2);
    }
    expect(text.stdout).toMatch(/^ {10}JAX float32 {4}[\d.]+ s {2}[\d.]+ GFLOP\/s {2}\(ours \/ JAX [\d.]+\)$/m);
    expect(text.stdout).toMatch(/^JAX float32 \(in turn with ours\) +[\d.]+ +[\d.]+ +[\d.]+$/m);
    expect(text.stdout).not.toMatch(/skipped/);
  }, 120_000);

  it('says in one line that JAX is skipped when the interpreter has no jax, and times the rest', async (ctx) => {
    const { spawnSync } = await import('node:child_process');
    const imports = (module: string): boolean =>
      spawnSync('python3', ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
    ctx.skip(!imports('numpy'), 'python3 with numpy is missing (apt-get install python3-numpy)');
    ctx.skip(imports('jax'), 'python3 has jax here, so nothing is skipped');
    const { runCliInProcess } = await import('../../helpers/cli');
    const data = await smallIdxDirectory();
    const args = ['bench', '--train', data, '--epochs', '1', '--recipes', 'off', '--threads', '1', '--numpy', 'off'];
    const text = await runCliInProcess(args, {});
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.split('\n').filter((l) => /JAX/.test(l))).toEqual([
      'JAX reference skipped: jax is not installed (python3).',
    ]);
    expect(text.stdout).toMatch(/^ {2}epoch 1\/1 /m);
    const json = await runCliInProcess([...args, '--json'], {});
    expect(JSON.parse(json.stdout)).toMatchObject({ jax: [], jaxNote: 'jax is not installed (python3)' });
  }, 60_000);

  it('refuses a --jax other than auto or off', async () => {
    const { runCliInProcess } = await import('../../helpers/cli');
    const result = await runCliInProcess(['bench', '--jax', 'on'], {});
    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe('fmnist bench: --jax must be auto or off, got "on"\n');
  });
});
