import { describe, expect, it } from 'vitest';
import { denseFlopsPerSample } from '../../../src/cli/commands/bench';
import { median } from '../../../src/core/stats';

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
    const result = await runCliInProcess(['bench', '--epochs', '1', '--numpy', 'off', '--threads', '1', '--json'], { FMNIST_DATA: REAL_DATA_DIR });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      epochSeconds: number[];
      medianSeconds: number;
      threads: number;
      testAccuracy: number;
      recipes: { settings: Record<string, unknown>; epochSeconds: number[]; medianSeconds: number; ratio: number; testAccuracy: number };
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
