import { describe, expect, it } from 'vitest';
import { denseFlopsPerSample } from '../../../src/cli/commands/bench';
import { median } from '@core/median';

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
    await writeFile(
      fake,
      `#!${process.execPath}
const fs = require('node:fs');
const args = process.argv.slice(2);
const epochs = Number(args[args.indexOf('--epochs') + 1]);
const dtype = args[args.indexOf('--dtype') + 1];
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
    fs.appendFileSync(${JSON.stringify(log)}, dtype + ' epoch ' + k + '\\n');
    console.log(line(k, 2 * k));
  }
});
`,
    );
    await chmod(fake, 0o755);
    const result = await runCliInProcess(
      ['bench', '--epochs', '2', '--recipes', 'off', '--threads', '1', '--python', fake, '--json'],
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
    expect(await readFile(log, 'utf8')).toBe('float32 epoch 1\nfloat32 epoch 2\n');

    // In text, each of our epochs is followed by NumPy's.
    const text = await runCliInProcess(
      ['bench', '--epochs', '2', '--recipes', 'off', '--threads', '1', '--python', fake],
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
    const report = JSON.parse(result.stdout) as { epochSeconds: number[]; numpy: unknown[]; numpyNote: string };
    expect(report.epochSeconds).toHaveLength(1);
    expect(report.numpy).toEqual([]);
    expect(report.numpyNote).toMatch(/^\/nonexistent\/python3 could not be started \(.*ENOENT.*\)$/);
  }, 60_000);
});
