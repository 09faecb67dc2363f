import { spawnSync } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { LabelledDataset } from '@core/shared/dataset';
import { IMAGE_SIZE } from '@core/shared/dataset';
import { runCliInProcess } from '../../helpers/cli';
import { NO_REAL_DATA, realDataAvailable, realDataset, REAL_DATA_DIR, tempDir, toIdx } from '../../helpers/data';

/**
 * The Python references of the benchmarks, run for real.
 *
 * bench/jax_reference.py cannot run under real JAX on machines without it (JAX is not packaged for Debian), so
 * these tests run the script's own code on a stand-in for `jax` built on NumPy (tests/helpers/jax-stand-in): its
 * arithmetic, its two jitted functions, its --paced protocol and its lines. With the stand-in, each operation is
 * NumPy's, so the script must train exactly the model bench/numpy_reference.py trains, epoch by epoch. What only
 * real JAX can check (that XLA traces and compiles the steps) is left to the machines that have it.
 */

const STAND_IN = join(__dirname, '..', '..', 'helpers', 'jax-stand-in');
const BENCH = join(__dirname, '..', '..', '..', 'bench');
const PYTHON = 'python3';

function missing(): string | null {
  if (!realDataAvailable()) return NO_REAL_DATA;
  const probe = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' });
  return probe.status === 0 ? null : `${PYTHON} with numpy is missing (apt-get install python3-numpy)`;
}

interface EpochLine {
  cost: number;
  trainAccuracy: string;
  testAccuracy: string;
}

/** Runs a reference script with the stand-in first on the path and reads its epoch lines. */
function runScript(script: string, args: string[]): EpochLine[] {
  const result = spawnSync(PYTHON, [join(BENCH, script), '--data', REAL_DATA_DIR, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: STAND_IN },
  });
  expect(result.status, `${script}: ${result.stderr}`).toBe(0);
  return result.stdout
    .split('\n')
    .filter((line) => line.startsWith('epoch '))
    .map((line) => {
      const match = /cost ([\d.]+) train_acc ([\d.]+) test_acc ([\d.]+|nan) /.exec(line);
      expect(match, line).not.toBeNull();
      return { cost: Number(match![1]), trainAccuracy: match![2], testAccuracy: match![3] };
    });
}

/** The first `count` samples of a real data set. */
function firstSamples(dataset: LabelledDataset, count: number): LabelledDataset {
  return {
    images: dataset.images.subarray(0, count * IMAGE_SIZE),
    labels: dataset.labels.subarray(0, count),
    count,
    source: dataset.source,
  };
}

/** A folder of the first 1000 training and 1000 test images of the real data, as gzipped IDX files. */
async function smallRealData(): Promise<string> {
  const data = await tempDir();
  for (const [role, prefix] of [
    ['train', 'train'],
    ['test', 't10k'],
  ] as const) {
    const { images, labels } = toIdx(firstSamples(await realDataset(role), 1000));
    await writeFile(join(data, `${prefix}-images-idx3-ubyte.gz`), gzipSync(images));
    await writeFile(join(data, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(labels));
  }
  return data;
}

/** An interpreter for the benchmarks: python3 with `environment` set. */
async function interpreter(folder: string, name: string, environment: string): Promise<string> {
  const path = join(folder, name);
  await writeFile(path, `#!/bin/sh\n${environment} exec ${PYTHON} "$@"\n`);
  await chmod(path, 0o755);
  return path;
}

describe('bench/jax_reference.py on a NumPy stand-in for jax', () => {
  it('trains the same model as bench/numpy_reference.py in float32, epoch by epoch', (ctx) => {
    const why = missing();
    ctx.skip(why !== null, why ?? '');
    const args = ['--dtype', 'float32', '--limit', '2000', '--epochs', '2'];
    const numpy = runScript('numpy_reference.py', args);
    const jax = runScript('jax_reference.py', args);
    expect(numpy).toHaveLength(2);
    expect(jax).toHaveLength(2);
    for (const [k, epoch] of jax.entries()) {
      // Same weights, same batches, same float32 arithmetic: the same predictions, train and test.
      expect(epoch.trainAccuracy).toBe(numpy[k].trainAccuracy);
      expect(epoch.testAccuracy).toBe(numpy[k].testAccuracy);
      // The epoch's cost is summed in float32 by the JAX script and in float64 by NumPy's (a Python float).
      expect(Math.abs(epoch.cost - numpy[k].cost)).toBeLessThanOrEqual(2e-4);
    }
    // Training happened: the second epoch fits the 2000 samples better than the first.
    expect(Number(jax[1].trainAccuracy)).toBeGreaterThan(Number(jax[0].trainAccuracy));
  }, 120_000);

  it('keeps float64 where --dtype float64 turns on jax_enable_x64', (ctx) => {
    const why = missing();
    ctx.skip(why !== null, why ?? '');
    const args = ['--dtype', 'float64', '--limit', '1000', '--epochs', '1', '--no-test'];
    const numpy = runScript('numpy_reference.py', args);
    const jax = runScript('jax_reference.py', args);
    expect(jax).toHaveLength(1);
    expect(jax[0]).toEqual(numpy[0]);
  }, 120_000);

  it('runs in turn with ours in fmnist bench, and ends with the same test accuracy as NumPy float32', async (ctx) => {
    const why = missing();
    ctx.skip(why !== null, why ?? '');
    const data = await smallRealData();
    const python = await interpreter(data, 'python-with-jax', `PYTHONPATH=${JSON.stringify(STAND_IN)}`);
    const args = ['bench', '--train', data, '--epochs', '2', '--recipes', 'off', '--threads', '1', '--json'];
    const result = await runCliInProcess([...args, '--python', python], {});
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      numpyNote: string | null;
      jaxNote: string | null;
      numpy: { dtype: string; epochSeconds: number[]; testAccuracy: number | null }[];
      jax: { dtype: string; epochSeconds: number[]; testAccuracy: number | null; pairedRatios: number[] }[];
    };
    expect(report.jaxNote).toBeNull();
    expect(report.jax).toHaveLength(1);
    const [jax] = report.jax;
    expect(jax.dtype).toBe('float32');
    expect(jax.epochSeconds).toHaveLength(2);
    for (const seconds of jax.epochSeconds) expect(seconds).toBeGreaterThan(0);
    expect(jax.pairedRatios).toHaveLength(2);
    const numpy32 = report.numpy.find((run) => run.dtype === 'float32')!;
    expect(jax.testAccuracy).not.toBeNull();
    expect(jax.testAccuracy).toBe(numpy32.testAccuracy);
  }, 120_000);
});
