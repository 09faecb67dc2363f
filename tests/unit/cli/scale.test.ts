/**
 * `npm run bench:scale` on a tiny subset of the real data (2 000 samples, 128 units): the built script trains
 * our side in a child process, runs stand-ins for the NumPy and JAX interpreters with the row's network and
 * batch, and reports multiply-adds, seconds, ratios and peak memory as counted here by hand.
 */

import { spawnSync } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtFile, REAL_DATA_DIR, tempDir } from '../../helpers/data';

/**
 * A stand-in for an interpreter running either reference script to its end: a warm-up epoch of 9 s, then
 * epochs of 0.5 s and 0.25 s for NumPy (median 0.375 s) and 0.125 s and 0.375 s for JAX (median 0.25 s), and
 * a peak of 321.4 MB (NumPy) or 654.3 MB (JAX). It writes down the script and its arguments.
 */
const fakePython = (log: string): string => `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const [script, ...args] = process.argv.slice(2);
const name = path.basename(script);
fs.appendFileSync(${JSON.stringify(log)}, name + ' ' + args.join(' ') + '\\n');
const seconds = name === 'jax_reference.py' ? [9, 0.125, 0.375] : [9, 0.5, 0.25];
seconds.forEach((s, k) =>
  console.log('epoch ' + (k + 1) + '/3 cost 0.5 train_acc 80.00 test_acc nan epoch_s ' + s.toFixed(3)),
);
console.log('peak_rss_mb ' + (name === 'jax_reference.py' ? '654.3' : '321.4'));
`;

function runScale(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [builtFile('out/node/scale.js'), ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('bench:scale', () => {
  it('times one and two hidden layers of 128 units against both references and counts their multiply-adds', async () => {
    const dir = await tempDir();
    const log = join(dir, 'calls.txt');
    const python = join(dir, 'python');
    await writeFile(python, fakePython(log));
    await chmod(python, 0o755);
    const args = ['--data', REAL_DATA_DIR, '--limit', '2000', '--only', 'hidden,layers2', '--sizes', '128'];
    const common = [...args, '--epochs', '2', '--warmup', '1', '--threads', '1', '--python', python];

    const text = runScale(common);
    expect(text.status, text.stderr).toBe(0);
    const table = text.stdout.split('\n').filter((line) => line.startsWith('|'));
    const cells = (line: string): string[] =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim());
    expect(cells(table[0])).toEqual([
      'Network',
      'Batch',
      'G multiply-adds per epoch',
      'Ours s/epoch',
      'NumPy s/epoch',
      'Ours / NumPy',
      'JAX s/epoch',
      'Ours / JAX',
      'Ours GFLOP/s',
      'Of SIMD ceiling',
      'Ours MB',
      'NumPy MB',
      'JAX MB',
    ]);
    expect(table[1]).toBe(`|${Array(13).fill('---').join('|')}|`);
    expect(table).toHaveLength(4);
    // By hand, per sample: 784×128 weights forward and for their gradient, 128×10 forward, gradient and input
    // gradient: 2 × 100 352 + 3 × 1 280 = 204 544 multiply-adds; 2 000 samples make 0.409 088 G. A second layer
    // of 128×128 adds 3 × 16 384 = 49 152 a sample: 253 696, or 0.507 392 G.
    const [one, two] = table.slice(2).map(cells);
    expect(one.slice(0, 3)).toEqual(['784-128-10', '128', '0.4091']);
    expect(two.slice(0, 3)).toEqual(['784-128-128-10', '128', '0.5074']);
    for (const row of [one, two]) {
      expect(row[4]).toBe('0.375');
      expect(row[6]).toBe('0.250');
      expect(row.slice(11)).toEqual(['321', '654']);
      expect(Number(row[10])).toBeGreaterThan(40); // our own process: Node alone takes that much
    }
    expect(text.stdout).not.toMatch(/skipped/);
    // Each reference ran each row's network and batch, float32, without the test set, warm-up included.
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    expect(calls).toHaveLength(4);
    for (const [i, script] of [
      'numpy_reference.py',
      'jax_reference.py',
      'numpy_reference.py',
      'jax_reference.py',
    ].entries()) {
      const hidden = i < 2 ? '128' : '128,128';
      expect(calls[i]).toBe(
        `${script} --data ${REAL_DATA_DIR} --epochs 3 --limit 2000 --hidden ${hidden} --batch-size 128 --dtype float32 --no-test`,
      );
    }

    const json = runScale([...common, '--json']);
    expect(json.status, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as {
      samples: number;
      ceilingGflopsPerThread: number;
      rows: {
        hiddenSizes: number[];
        multiplyAddsPerEpoch: number;
        ours: { epochSeconds: number[]; medianSeconds: number; effectiveGflops: number; ofCeiling: number };
        numpy: { medianSeconds: number; peakRssMb: number };
        jax: { medianSeconds: number; peakRssMb: number };
        oursOverNumpy: number;
        oursOverJax: number;
      }[];
    };
    expect(report.samples).toBe(2000);
    // Measured: any core that runs WebAssembly SIMD does billions of multiply-adds a second.
    expect(report.ceilingGflopsPerThread).toBeGreaterThan(1);
    expect(report.ceilingGflopsPerThread).toBeLessThan(1000);
    expect(report.rows.map((r) => [r.hiddenSizes, r.multiplyAddsPerEpoch])).toEqual([
      [[128], 409_088_000],
      [[128, 128], 507_392_000],
    ]);
    for (const row of report.rows) {
      const [, a, b] = row.ours.epochSeconds;
      expect(row.ours.epochSeconds).toHaveLength(3);
      expect(row.ours.medianSeconds).toBeCloseTo((a + b) / 2, 12);
      expect(row.numpy).toMatchObject({ medianSeconds: 0.375, peakRssMb: 321.4 });
      expect(row.jax).toMatchObject({ medianSeconds: 0.25, peakRssMb: 654.3 });
      expect(row.oursOverNumpy).toBeCloseTo(row.ours.medianSeconds / 0.375, 12);
      expect(row.oursOverJax).toBeCloseTo(row.ours.medianSeconds / 0.25, 12);
      expect(row.ours.effectiveGflops).toBeCloseTo((2 * row.multiplyAddsPerEpoch) / row.ours.medianSeconds / 1e9, 9);
      // One thread: one core's ceiling, as the command measured it.
      expect(row.ours.ofCeiling).toBeCloseTo(row.ours.effectiveGflops / report.ceilingGflopsPerThread, 12);
    }
  }, 180_000);

  it('leaves a reference out with one line when its interpreter lacks the module', async () => {
    const dir = await tempDir();
    const python = join(dir, 'python');
    await writeFile(python, `#!/bin/sh\necho "ModuleNotFoundError: No module named 'jax'" >&2\nexit 1\n`);
    await chmod(python, 0o755);
    const result = runScale([
      ...['--data', REAL_DATA_DIR, '--limit', '500', '--only', 'batch', '--batches', '64,128', '--epochs', '1'],
      ...['--threads', '1', '--numpy', 'off', '--jax-python', python],
    ]);
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.filter((line) => /skipped/.test(line))).toEqual([
      `JAX reference skipped: jax is not installed (${python}).`,
    ]);
    const table = lines.filter((line) => line.startsWith('|'));
    expect(table[0]).toBe(
      '| Network | Batch | G multiply-adds per epoch | Ours s/epoch | Ours GFLOP/s | Of SIMD ceiling | Ours MB |',
    );
    expect(table.slice(2).map((line) => line.split('|')[2].trim())).toEqual(['64', '128']);
  }, 120_000);
});
