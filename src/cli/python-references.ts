/**
 * The Python scripts the benchmarks measure this project against, bench/numpy_reference.py and
 * bench/jax_reference.py: where they are, how to run one whole or epoch by epoch in turn with ours (its --paced
 * mode), how to read its lines, and why it did not run, in one line.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Reference {
  /** As the benchmarks name it. */
  name: 'NumPy' | 'JAX';
  file: string;
}

export const NUMPY_REFERENCE: Reference = Object.freeze({ name: 'NumPy', file: 'numpy_reference.py' });
export const JAX_REFERENCE: Reference = Object.freeze({ name: 'JAX', file: 'jax_reference.py' });

/** One epoch as the script reports it. */
export interface ReferenceEpoch {
  seconds: number;
  /** Null when the script left the test set out (--no-test). */
  testAccuracy: number | null;
}

/**
 * The script in the repository's bench/ folder, the nearest one up from this code: src/cli when run from source,
 * out/node or a shared chunk in out/node/assets when built.
 */
export function referenceScript(reference: Reference): string | null {
  for (let directory = __dirname, level = 0; level < 4; level++, directory = dirname(directory)) {
    const path = join(directory, 'bench', reference.file);
    if (existsSync(path)) return path;
  }
  return null;
}

/** Why a script failed, from its exit code and stderr; a missing Python module is named with the interpreter. */
export function referenceFailure(reference: Reference, python: string, code: number | null, stderr: string): string {
  const missing = /No module named '?([\w.]+)/.exec(stderr);
  if (missing) return `${missing[1].split('.')[0]} is not installed (${python})`;
  return `the ${reference.name} reference did not run: ${stderr.trim().split('\n').pop() || `exit code ${code}`}`;
}

/** The BLAS behind NumPy's matrix products, as numpy_reference.py reports it before training. */
export interface ReferenceBlas {
  /** The library's file (or its name, where the platform does not say which file). */
  library: string;
  /** A 512×512 float32 product's speed. */
  gflops: number;
}

/** A `blas GFLOPS LIBRARY` line; null for any other line. */
export function parseBlasLine(line: string): ReferenceBlas | null {
  const match = /^blas ([\d.]+) (.+)$/.exec(line);
  return match ? { library: match[2], gflops: Number(match[1]) } : null;
}

/**
 * Netlib's reference BLAS: a `libblas` or `libcblas` file that no optimised library's folder holds (Debian keeps
 * OpenBLAS's, ATLAS's and BLIS's `libblas.so.3` in folders named after them) and that is not Apple's Accelerate
 * (whose BLAS is vecLib's `libBLAS.dylib`). About 30 times slower than OpenBLAS at a product on a 2-core Zen 5, so a
 * NumPy built on it is no fair peer. A dispatcher such as FlexiBLAS, or a name without a file, is not judged.
 */
export function isReferenceBlas(blas: ReferenceBlas): boolean {
  const parts = blas.library.split('/');
  const file = parts.pop()!;
  const folder = parts.pop() ?? '';
  if (!/^libc?blas(64)?[._]/i.test(file)) return false;
  if (/(^|\/)(Accelerate|vecLib)\.framework\//.test(blas.library)) return false;
  return !/^(openblas|atlas|blis|mkl)([-_.]|$)/i.test(folder);
}

/** What the benchmarks say of NumPy's BLAS: which it is and how fast, and a warning when it is the reference one. */
export function describeBlas(blas: ReferenceBlas): string[] {
  return [
    `NumPy's BLAS: ${blas.library}, ${blas.gflops.toFixed(1)} GFLOP/s on a 512×512 float32 product.`,
    ...(isReferenceBlas(blas)
      ? [
          "That is netlib's reference BLAS, which multiplies many times slower than an optimised one, so NumPy's times would flatter ours: install an optimised BLAS (Debian: sudo apt-get install libopenblas0).",
        ]
      : []),
  ];
}

/** An `epoch k/n cost … test_acc … epoch_s …` line. */
export function parseEpochLine(line: string): ReferenceEpoch {
  const accuracy = /test_acc ([\d.]+)/.exec(line);
  return {
    seconds: Number(/epoch_s ([\d.]+)/.exec(line)?.[1]),
    testAccuracy: accuracy ? Number(accuracy[1]) / 100 : null,
  };
}

const started = (reference: Reference, python: string, args: string[], stdin: 'pipe' | 'ignore'): ChildProcess =>
  spawn(python, [referenceScript(reference)!, ...args], { stdio: [stdin, 'pipe', 'pipe'] });

const cannotStart = (python: string, error: Error): string => `${python} could not be started (${error.message})`;

/**
 * Runs a script to its end with `args`; resolves its epochs and its peak resident memory (its last line), or
 * the reason it did not run.
 */
export function runReference(
  reference: Reference,
  python: string,
  args: string[],
): Promise<{ epochs: ReferenceEpoch[]; peakRssMb: number | null; blas: ReferenceBlas | null } | string> {
  if (!referenceScript(reference)) return Promise.resolve(`bench/${reference.file} is missing`);
  return new Promise((resolve) => {
    const child = started(reference, python, args, 'ignore');
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', (error) => resolve(cannotStart(python, error)));
    child.on('close', (code) => {
      if (code !== 0) {
        resolve(referenceFailure(reference, python, code, stderr));
        return;
      }
      const peak = /^peak_rss_mb ([\d.]+)$/m.exec(stdout);
      const lines = stdout.split('\n');
      resolve({
        epochs: lines.filter((l) => l.startsWith('epoch ')).map(parseEpochLine),
        peakRssMb: peak ? Number(peak[1]) : null,
        blas: lines.map(parseBlasLine).find((blas) => blas !== null) ?? null,
      });
    });
  });
}

/**
 * A script run epoch by epoch in turn with ours (its --paced mode): each of its epochs starts when one of ours
 * has ended, so the two are timed side by side as the machine's speed drifts, and each pair gives a ratio.
 * Neither waits on the other's CPU: the idle one is blocked.
 */
export class PacedReference {
  private stdout = '';
  private stderr = '';
  private lines: string[] = [];
  private waiting: ((line: string | Error) => void) | null = null;
  private failure: string | null = null;
  private readonly child: ChildProcess;
  /** NumPy's BLAS, where the script named it before it was ready. */
  blas: ReferenceBlas | null = null;

  private constructor(
    readonly reference: Reference,
    python: string,
    args: string[],
  ) {
    this.child = started(reference, python, [...args, '--paced'], 'pipe');
    this.child.stdout!.on('data', (d) => {
      this.stdout += d;
      const parts = this.stdout.split('\n');
      this.stdout = parts.pop()!;
      for (const line of parts) this.deliver(line);
    });
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.child.stdin!.on('error', () => {}); // a script that died is reported by 'close'
    this.child.on('error', (error) => this.fail(cannotStart(python, error)));
    this.child.on('close', (code) => this.fail(referenceFailure(reference, python, code, this.stderr)));
  }

  /** Starts the script and waits until it is set up; resolves the reason instead when it cannot be. */
  static async start(reference: Reference, python: string, args: string[]): Promise<PacedReference | string> {
    if (!referenceScript(reference)) return `bench/${reference.file} is missing`;
    const paced = new PacedReference(reference, python, args);
    const ready = await paced.next();
    return ready instanceof Error ? ready.message : paced;
  }

  /** Trains one epoch of the script's; the reason instead when the script has died. */
  async epoch(): Promise<ReferenceEpoch | Error> {
    this.child.stdin!.write('go\n');
    const line = await this.next();
    return line instanceof Error ? line : parseEpochLine(line);
  }

  /** Ends the script (end of input) and waits for it to exit. */
  async close(): Promise<void> {
    this.child.stdin!.end();
    await new Promise<void>((resolve) =>
      this.child.exitCode !== null || this.child.signalCode !== null
        ? resolve()
        : this.child.once('close', () => resolve()),
    );
  }

  private next(): Promise<string | Error> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.failure) return Promise.resolve(new Error(this.failure));
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private deliver(line: string): void {
    this.blas ??= parseBlasLine(line);
    if (line !== 'ready' && !line.startsWith('epoch ')) return;
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting) waiting(line);
    else this.lines.push(line);
  }

  private fail(reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.(new Error(reason));
  }
}
