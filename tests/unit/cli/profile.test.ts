/**
 * `npm run bench:profile` on the real data: the built script runs, names every phase, and its count of the
 * first layer's multiply-adds and the length of its pair lists agree with the non-zero pixels of the training set
 * counted here.
 */

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { builtFile, REAL_DATA_DIR, realDataset } from '../../helpers/data';

describe('bench:profile', () => {
  it('profiles two epochs by phase, with the first layer’s multiply-adds as the pixels say', async () => {
    const result = spawnSync(process.execPath, [builtFile('out/node/profile.js'), '--epochs', '2', '--threads', '2'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, FMNIST_DATA: REAL_DATA_DIR },
    });
    expect(result.status, result.stderr).toBe(0);
    const rows = new Map(
      result.stdout
        .split('\n')
        .map((line) => /^(\S.*?)\s{2,}([\d.]+)\s+([\d.]+)%\s*([\d.]*)/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1], { ms: Number(m[2]), share: Number(m[3]), gmac: m[4] ? Number(m[4]) : null }]),
    );
    for (const phase of [
      'gather the batch (pixels to pairs)',
      'layer 1 forward',
      'layer 3 dZ to pairs',
      'layer 2 input gradient (masked dot products)',
      'layer 1 weight gradient + Adam',
      'waiting for the other threads',
      'epoch (training steps)',
    ]) {
      expect(rows.has(phase), `${phase} in:\n${result.stdout}`).toBe(true);
    }
    expect(rows.get('epoch (training steps)')!.share).toBe(100);
    // Thread 0 takes half of each batch's samples: every non-zero pixel of half the training set meets the
    // 512 units once forward (18 tiles of 28 and the 8 real columns of a 19th). The script counts a random
    // sixteenth of the calls.
    const train = await realDataset('train');
    let nonZero = 0;
    for (let i = 0; i < train.images.length; i++) if (train.images[i] !== 0) nonZero++;
    const expected = ((nonZero / 2) * 512) / 1e9;
    expect(rows.get('layer 1 forward')!.gmac).toBeGreaterThan(expected * 0.9);
    expect(rows.get('layer 1 forward')!.gmac).toBeLessThan(expected * 1.1);
    // The loop alone is timed on lists of the training's mean length: a row's pixels in one of the 4 passes of 196
    // matrix rows, a quarter of an image's non-zero pixels on average.
    const loop =
      /^Layer 1 forward: ([\d.]+) GFLOP\/s \(\d+%\) on lists of ([\d.]+) pairs a row\. Its loop alone, on lists of (\d+) into a block of the matrix in L1: ([\d.]+) GFLOP\/s \(\d+%, [\d.]+ ns a pair\)\. Independent multiply-adds into the tile's 7 accumulators: ([\d.]+) GFLOP\/s \(\d+%\)\.$/m.exec(
        result.stdout,
      );
    expect(loop, result.stdout).not.toBeNull();
    const [inTraining, pairsPerRow, length, alone, bound] = loop!.slice(1).map(Number);
    const meanPairs = nonZero / train.count / 4;
    expect(pairsPerRow).toBeGreaterThan(meanPairs * 0.9);
    expect(pairsPerRow).toBeLessThan(meanPairs * 1.1);
    expect(length).toBe(Math.round(pairsPerRow));
    for (const gflops of [inTraining, alone, bound]) expect(gflops).toBeGreaterThan(1);
    expect(result.stdout).toMatch(/Test evaluation after each epoch: \d+ ms for 10000 images/);
  });
});
