import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { LabelledDataset } from '@core/shared/dataset';
import { IMAGE_SIZE } from '@core/shared/dataset';
import { describeBlas, isReferenceBlas, parseBlasLine } from '../../../src/cli/python-references';
import { runCliInProcess } from '../../helpers/cli';
import {
  builtFile,
  NO_REAL_DATA,
  realDataAvailable,
  realDataset,
  REAL_DATA_DIR,
  tempDir,
  toIdx,
} from '../../helpers/data';

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

/** An interpreter for the benchmarks: `python` with `environment` set. */
async function interpreter(folder: string, name: string, environment: string, python = PYTHON): Promise<string> {
  const path = join(folder, name);
  await writeFile(path, `#!/bin/sh\n${environment} exec ${python} "$@"\n`);
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

/**
 * Debian's two BLAS builds, each in a folder of its own; LD_LIBRARY_PATH picks which one Debian's NumPy (that of
 * /usr/bin/python3, python3-numpy) loads.
 */
const DEBIAN_PYTHON = '/usr/bin/python3';

const DEBIAN_BLAS = {
  reference: '/usr/lib/x86_64-linux-gnu/blas',
  openblas: '/usr/lib/x86_64-linux-gnu/openblas-pthread',
};

function blasMissing(which: keyof typeof DEBIAN_BLAS): string | null {
  if (!existsSync(join(DEBIAN_BLAS[which], 'libblas.so.3'))) {
    return `${DEBIAN_BLAS[which]}/libblas.so.3 is missing (apt-get install ${which === 'reference' ? 'libblas3' : 'libopenblas0-pthread'})`;
  }
  if (!realDataAvailable()) return NO_REAL_DATA;
  const probe = spawnSync(DEBIAN_PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' });
  return probe.status === 0 ? null : `${DEBIAN_PYTHON} with numpy is missing (apt-get install python3-numpy)`;
}

describe("NumPy's BLAS", () => {
  it('reads the blas line, and tells the reference BLAS from optimised ones by its file', () => {
    expect(parseBlasLine('blas 7.7 /usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0')).toEqual({
      gflops: 7.7,
      library: '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0',
    });
    expect(parseBlasLine('ready')).toBeNull();
    expect(parseBlasLine('epoch 1/1 cost 0.5 train_acc 80.00 test_acc 81.50 epoch_s 1.000')).toBeNull();
    const reference = (library: string): boolean => isReferenceBlas({ library, gflops: 1 });
    // Netlib's: Debian's and Fedora's files, and a Windows path.
    expect(reference('/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0')).toBe(true);
    expect(reference('/usr/lib64/libblas.so.3.12.0')).toBe(true);
    expect(reference('C:\\lib\\libblas.dll')).toBe(true);
    // Optimised ones: Debian's OpenBLAS and ATLAS alternatives (also named libblas), NumPy's wheels, MKL, BLIS,
    // Accelerate and NumPy's own name for its build.
    expect(reference('/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3')).toBe(false);
    expect(reference('/usr/lib/x86_64-linux-gnu/atlas/libblas.so.3.10.3')).toBe(false);
    expect(reference('/venv/lib/python3.12/site-packages/numpy.libs/libscipy_openblas64_-ff651d7f.so')).toBe(false);
    expect(reference('/opt/intel/mkl/lib/libmkl_rt.so.2')).toBe(false);
    expect(reference('/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3')).toBe(false);
    expect(reference('/System/Library/Frameworks/Accelerate.framework/Versions/A/Accelerate')).toBe(false);
    expect(reference('scipy-openblas')).toBe(false);
    expect(reference('unknown')).toBe(false);
    expect(describeBlas({ library: '/usr/lib64/libblas.so.3', gflops: 8 })).toEqual([
      "NumPy's BLAS: /usr/lib64/libblas.so.3, 8.0 GFLOP/s on a 512×512 float32 product.",
      'That is the reference BLAS, which multiplies many times slower than an optimised one: NumPy is no fair peer with it (Debian: apt-get install libopenblas0).',
    ]);
  });

  for (const which of ['reference', 'openblas'] as const) {
    it(`is named by numpy_reference.py's first line, with NumPy on Debian's ${which} BLAS`, (ctx) => {
      const why = blasMissing(which);
      ctx.skip(why !== null, why ?? '');
      const result = spawnSync(
        DEBIAN_PYTHON,
        [join(BENCH, 'numpy_reference.py'), '--data', REAL_DATA_DIR, '--limit', '200', '--no-test'],
        { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: DEBIAN_BLAS[which] } },
      );
      expect(result.status, result.stderr).toBe(0);
      const blas = parseBlasLine(result.stdout.split('\n')[0]);
      expect(blas, result.stdout).not.toBeNull();
      // The file the products ran in: the folder LD_LIBRARY_PATH named.
      expect(realpathSync(blas!.library).startsWith(`${realpathSync(DEBIAN_BLAS[which])}/`), blas!.library).toBe(true);
      expect(isReferenceBlas(blas!)).toBe(which === 'reference');
      expect(blas!.gflops).toBeGreaterThan(0);
    }, 60_000);
  }

  it('is named by fmnist bench and bench:scale, which warn of the reference BLAS', async (ctx) => {
    const why = blasMissing('reference');
    ctx.skip(why !== null, why ?? '');
    const data = await smallRealData();
    const python = await interpreter(
      data,
      'python-on-netlib',
      `LD_LIBRARY_PATH=${DEBIAN_BLAS.reference}`,
      DEBIAN_PYTHON,
    );
    const args = ['bench', '--train', data, '--epochs', '1', '--recipes', 'off', '--threads', '1', '--jax', 'off'];
    const text = await runCliInProcess([...args, '--python', python], {});
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    const named = lines.findIndex((line) => line.startsWith("NumPy's BLAS: /usr/lib/x86_64-linux-gnu/blas/libblas"));
    expect(named, text.stdout).toBeGreaterThan(0);
    expect(lines[named + 1]).toMatch(/^That is the reference BLAS, /);
    const json = await runCliInProcess([...args, '--python', python, '--json'], {});
    const report = JSON.parse(json.stdout) as { numpyBlas: { library: string; gflops: number } };
    expect(report.numpyBlas.library).toMatch(/^\/usr\/lib\/x86_64-linux-gnu\/blas\/libblas\.so/);

    const scale = spawnSync(
      process.execPath,
      [
        builtFile('out/node/scale.js'),
        ...['--data', data, '--limit', '500', '--only', 'batch', '--batches', '128', '--epochs', '1'],
        ...['--warmup', '0', '--threads', '1', '--python', python, '--jax', 'off'],
      ],
      { encoding: 'utf8' },
    );
    expect(scale.status, scale.stderr).toBe(0);
    expect(scale.stdout).toMatch(
      /^NumPy's BLAS: \/usr\/lib\/x86_64-linux-gnu\/blas\/libblas\.so\S*, [\d.]+ GFLOP\/s /m,
    );
    expect(scale.stdout).toMatch(/^That is the reference BLAS, /m);
  }, 120_000);
});
