import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { takeFirst } from '@core/shared/dataset';
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

/** Why a test that runs `python` with NumPy on the real data cannot run here; null when it can. */
function missing(python = PYTHON): string | null {
  if (!realDataAvailable()) return NO_REAL_DATA;
  const probe = spawnSync(python, ['-c', 'import numpy'], { stdio: 'ignore' });
  return probe.status === 0 ? null : `${python} with numpy is missing (apt-get install python3-numpy)`;
}

interface EpochLine {
  cost: number;
  trainAccuracy: string;
  testAccuracy: string;
}

/** Runs a reference script with the stand-in first on the path and reads its epoch lines. */
function runScript(script: string, args: string[], environment: Record<string, string> = {}): EpochLine[] {
  const result = spawnSync(PYTHON, [join(BENCH, script), '--data', REAL_DATA_DIR, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: STAND_IN, ...environment },
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

/** A folder of the first 1000 training and 1000 test images of the real data, as gzipped IDX files. */
async function smallRealData(): Promise<string> {
  const data = await tempDir();
  for (const [role, prefix] of [
    ['train', 'train'],
    ['test', 't10k'],
  ] as const) {
    const { images, labels } = toIdx(takeFirst(await realDataset(role), 1000));
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

  it('trains in float64 where --dtype float64 turns on jax_enable_x64, and in float32 otherwise', async (ctx) => {
    const why = missing();
    ctx.skip(why !== null, why ?? '');
    const folder = await tempDir();
    // The stand-in writes down the floating-point types of the arrays its jitted functions took and returned.
    const trainedIn = (dtype: string): { epochs: EpochLine[]; types: string } => {
      const types = join(folder, `${dtype}.txt`);
      const args = ['--dtype', dtype, '--limit', '1000', '--epochs', '1', '--no-test'];
      const epochs = runScript('jax_reference.py', args, { JAX_STAND_IN_DTYPES: types });
      return { epochs, types: readFileSync(types, 'utf8') };
    };
    const float64 = trainedIn('float64');
    expect(float64.types).toBe('float64\n');
    expect(float64.epochs).toEqual(
      runScript('numpy_reference.py', ['--dtype', 'float64', '--limit', '1000', '--no-test']),
    );
    expect(trainedIn('float32').types).toBe('float32\n');
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
 * Debian's two BLAS builds, each in a folder of its own under the architecture's library folder; LD_LIBRARY_PATH
 * picks which one Debian's NumPy (that of /usr/bin/python3, python3-numpy) loads.
 */
const DEBIAN_PYTHON = '/usr/bin/python3';

function debianBlasFolder(which: 'reference' | 'openblas'): string {
  const probe = spawnSync(DEBIAN_PYTHON, ['-c', 'import sys; print(sys.implementation._multiarch)'], {
    encoding: 'utf8',
  });
  return join('/usr/lib', probe.stdout.trim(), which === 'reference' ? 'blas' : 'openblas-pthread');
}

function blasMissing(which: 'reference' | 'openblas'): string | null {
  const why = missing(DEBIAN_PYTHON);
  if (why) return why;
  const folder = debianBlasFolder(which);
  if (!existsSync(join(folder, 'libblas.so.3'))) {
    return `${folder}/libblas.so.3 is missing (apt-get install ${which === 'reference' ? 'libblas3' : 'libopenblas0-pthread'})`;
  }
  return null;
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
    // Netlib's: Debian's libblas (as dladdr names it), conda-forge's netlib CBLAS, and one in a folder whose name
    // merely contains an optimised library's.
    expect(reference('/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0')).toBe(true);
    expect(reference('/opt/conda/lib/libcblas.so.3')).toBe(true);
    expect(reference('/srv/publish/lib/libblas.so.3')).toBe(true);
    // Optimised ones: Debian's OpenBLAS, ATLAS and BLIS alternatives (also named libblas), NumPy's wheels, MKL, and
    // Accelerate's BLAS on a Mac.
    expect(reference('/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3')).toBe(false);
    expect(reference('/usr/lib/x86_64-linux-gnu/atlas/libblas.so.3.10.3')).toBe(false);
    expect(reference('/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3')).toBe(false);
    expect(reference('/venv/lib/python3.12/site-packages/numpy.libs/libscipy_openblas64_-ff651d7f.so')).toBe(false);
    expect(reference('/opt/intel/oneapi/mkl/latest/lib/libmkl_rt.so.2')).toBe(false);
    expect(
      reference(
        '/System/Library/Frameworks/Accelerate.framework/Versions/A/Frameworks/vecLib.framework/Versions/A/libBLAS.dylib',
      ),
    ).toBe(false);
    // Not judged: dispatchers whose backend the file does not tell, and names without a file.
    expect(reference('/usr/lib64/libflexiblas.so.3.4')).toBe(false);
    expect(reference('/usr/lib/libblastrampoline.so.5')).toBe(false);
    expect(reference('scipy-openblas')).toBe(false);
    expect(reference('unknown')).toBe(false);
    // The warning follows the first line only for the reference BLAS.
    const netlib = describeBlas({ library: '/opt/conda/lib/libcblas.so.3', gflops: 8 });
    expect(netlib).toHaveLength(2);
    expect(netlib[0]).toBe("NumPy's BLAS: /opt/conda/lib/libcblas.so.3, 8.0 GFLOP/s on a 512×512 float32 product.");
    expect(netlib[1]).toMatch(/^That is netlib's reference BLAS, .*apt-get install libopenblas0\)\.$/);
    expect(describeBlas({ library: '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3', gflops: 240 })).toEqual([
      "NumPy's BLAS: /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3, 240.0 GFLOP/s on a 512×512 float32 product.",
    ]);
  });

  for (const which of ['reference', 'openblas'] as const) {
    it(`is named by numpy_reference.py's first line, with NumPy on Debian's ${which} BLAS`, (ctx) => {
      const why = blasMissing(which);
      ctx.skip(why !== null, why ?? '');
      const folder = debianBlasFolder(which);
      const result = spawnSync(
        DEBIAN_PYTHON,
        [join(BENCH, 'numpy_reference.py'), '--data', REAL_DATA_DIR, '--limit', '200', '--no-test'],
        { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: folder } },
      );
      expect(result.status, result.stderr).toBe(0);
      const blas = parseBlasLine(result.stdout.split('\n')[0]);
      expect(blas, result.stdout).not.toBeNull();
      // The file the products ran in: the folder LD_LIBRARY_PATH named.
      expect(existsSync(blas!.library), blas!.library).toBe(true);
      expect(realpathSync(blas!.library).startsWith(`${realpathSync(folder)}/`), blas!.library).toBe(true);
      expect(isReferenceBlas(blas!)).toBe(which === 'reference');
      expect(blas!.gflops).toBeGreaterThan(0);
    }, 60_000);
  }

  it('is named by fmnist bench and bench:scale, which warn of the reference BLAS', async (ctx) => {
    const why = blasMissing('reference');
    ctx.skip(why !== null, why ?? '');
    const data = await smallRealData();
    const folder = realpathSync(debianBlasFolder('reference'));
    const python = await interpreter(data, 'python-on-netlib', `LD_LIBRARY_PATH=${folder}`, DEBIAN_PYTHON);
    // The library dladdr names: the folder's libblas.so.3, its version in full.
    const library = new RegExp(`^${folder.replace(/[.+]/g, '\\$&')}/libblas\\.so\\.3\\S*$`);
    const args = ['bench', '--train', data, '--epochs', '1', '--recipes', 'off', '--threads', '1', '--jax', 'off'];
    const text = await runCliInProcess([...args, '--python', python], {});
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    const named = lines.findIndex((line) => line.startsWith("NumPy's BLAS: "));
    expect(named, text.stdout).toBeGreaterThan(0);
    const [, named1, gflops] = /^NumPy's BLAS: (\S+), ([\d.]+) GFLOP\/s /.exec(lines[named])!;
    expect(named1).toMatch(library);
    expect(Number(gflops)).toBeGreaterThan(0);
    expect(lines[named + 1]).toMatch(/^That is netlib's reference BLAS, /);
    const json = await runCliInProcess([...args, '--python', python, '--json'], {});
    const report = JSON.parse(json.stdout) as { numpyBlas: { library: string; gflops: number } };
    expect(report.numpyBlas.library).toMatch(library);

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
    const scaleLines = scale.stdout.split('\n');
    const scaleNamed = scaleLines.findIndex((line) => line.startsWith("NumPy's BLAS: "));
    expect(scaleNamed, scale.stdout).toBeGreaterThanOrEqual(0);
    expect(/^NumPy's BLAS: (\S+), /.exec(scaleLines[scaleNamed])![1]).toMatch(library);
    expect(scaleLines[scaleNamed + 1]).toMatch(/^That is netlib's reference BLAS, /);
  }, 120_000);
});
