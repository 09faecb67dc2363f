/**
 * `fmnist bench` (also `npm run bench`): trains the default network on the real data and reports, per epoch,
 * seconds, samples/s and effective GFLOP/s (the dense network's FLOPs divided by the time), the peak resident
 * memory, the same epochs with the training recipes that cost time in every step (dropout, shifts and flips)
 * beside the plain ones, and — where python3 with NumPy is available — the NumPy
 * reference's seconds per epoch measured in the same run: float32 (the target) epoch by epoch in turn with
 * ours, with the median of the paired ratios, and float64 afterwards.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type RunConfig, resolveRunConfig } from '@core/shared/config';
import type { LabelledDataset } from '@core/shared/dataset';
import type { KernelChoice } from '@core/engine/engine';
import { FmnistError } from '@core/shared/errors';
import { layerSizes, mlpShape } from '@core/shared/mlp';
import { median } from '@core/median';
import { type EpochSummary, Trainer } from '@core/training/trainer';
import { type CommandSpec, kernelChoice, KERNELS_OPTION, parseOptions, threadCount, THREADS_OPTION } from '../args';
import { type CliContext, writeLine } from '../context';
import { percent } from '../progress';
import { loadTrainingData } from './train';

export const BENCH: CommandSpec = {
  name: 'bench',
  summary: 'time training of the default network against the NumPy reference',
  options: {
    epochs: { kind: 'integer', value: 'N', help: 'epochs to time (default 5; the median is reported)' },
    train: { kind: 'string', value: 'PATH', help: 'training data (default: search; IDX files are needed for NumPy)' },
    threads: THREADS_OPTION,
    kernels: KERNELS_OPTION,
    numpy: {
      kind: 'string',
      value: 'WHEN',
      help: 'run the NumPy reference: auto (if python3 has numpy), off (default auto)',
    },
    recipes: {
      kind: 'string',
      value: 'WHEN',
      help: 'also time epochs with dropout and augmentation: on, off (default on)',
    },
    python: { kind: 'string', value: 'COMMAND', help: 'the Python interpreter (default python3)' },
    json: { kind: 'boolean', help: 'print the results as one JSON object' },
  },
  examples: ['npm run bench', 'fmnist bench --epochs 3 --threads 1', 'fmnist bench --kernels wasm --numpy off --json'],
};

/** Floating-point operations of one training epoch of the dense network: forward, weight and input gradients. */
export function denseFlopsPerSample(hiddenSizes: number[]): number {
  const sizes = layerSizes(mlpShape(hiddenSizes));
  let flops = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const products = sizes[l] * sizes[l + 1];
    flops += 2 * products; // forward
    flops += 2 * products; // weight gradient
    if (l > 0) flops += 2 * products; // input gradient (none for the first layer)
  }
  return flops;
}

interface NumpyRun {
  dtype: 'float32' | 'float64';
  epochSeconds: number[];
  testAccuracy: number | null;
  /** Run in turn with ours: our epoch k's seconds over its epoch k's, per epoch. */
  pairedRatios: number[] | null;
}

/** The NumPy reference script, in the repository's bench/ folder (two levels up from out/node, three from here). */
function numpyScript(): string | null {
  return (
    [
      join(__dirname, '..', '..', 'bench', 'numpy_reference.py'),
      join(__dirname, '..', '..', '..', 'bench', 'numpy_reference.py'),
    ].find(existsSync) ?? null
  );
}

/** Why the script failed, from its exit code and stderr. */
function numpyFailure(code: number | null, stderr: string): string {
  const reason = /No module named .numpy/.test(stderr)
    ? 'numpy is not installed'
    : stderr.trim().split('\n').pop() || `exit code ${code}`;
  return `the NumPy reference did not run: ${reason}`;
}

const epochSecondsOf = (line: string): number => Number(/epoch_s ([\d.]+)/.exec(line)?.[1]);
const testAccuracyOf = (line: string | undefined): number | null => {
  const accuracy = /test_acc ([\d.]+)/.exec(line ?? '');
  return accuracy ? Number(accuracy[1]) / 100 : null;
};

/** Runs the NumPy reference script; resolves the reason instead when Python or NumPy is missing. */
function runNumpy(
  python: string,
  dataDirectory: string,
  dtype: 'float32' | 'float64',
  epochs: number,
): Promise<NumpyRun | string> {
  const script = numpyScript();
  if (!script) return Promise.resolve('bench/numpy_reference.py is missing');
  return new Promise((resolve) => {
    const child = spawn(python, [script, '--data', dataDirectory, '--epochs', String(epochs), '--dtype', dtype], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (error) => resolve(`${python} could not be started (${error.message})`));
    child.on('close', (code) => {
      if (code !== 0) {
        resolve(numpyFailure(code, stderr));
        return;
      }
      const lines = stdout.split('\n').filter((l) => l.startsWith('epoch '));
      resolve({
        dtype,
        epochSeconds: lines.map(epochSecondsOf),
        testAccuracy: testAccuracyOf(lines[lines.length - 1]),
        pairedRatios: null,
      });
    });
  });
}

/**
 * The NumPy reference run epoch by epoch in turn with ours (its --paced mode): each of its epochs starts when
 * one of ours has ended, so the two are timed side by side as the machine's speed drifts, and each pair gives
 * a ratio. Neither waits on the other's CPU: the idle one is blocked.
 */
class PacedNumpy {
  private stdout = '';
  private stderr = '';
  private lines: string[] = [];
  private waiting: ((line: string | Error) => void) | null = null;
  private failure: string | null = null;
  private readonly child: ReturnType<typeof spawn>;

  private constructor(python: string, script: string, dataDirectory: string, epochs: number) {
    this.child = spawn(
      python,
      [script, '--data', dataDirectory, '--epochs', String(epochs), '--dtype', 'float32', '--paced'],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    this.child.stdout!.on('data', (d) => {
      this.stdout += d;
      const parts = this.stdout.split('\n');
      this.stdout = parts.pop()!;
      for (const line of parts) this.deliver(line);
    });
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.child.stdin!.on('error', () => {}); // a script that died is reported by 'close'
    this.child.on('error', (error) => this.fail(`${python} could not be started (${error.message})`));
    this.child.on('close', (code) => this.fail(numpyFailure(code, this.stderr)));
  }

  /** Starts the script and waits until it has loaded the data; resolves the reason instead when it cannot. */
  static async start(python: string, dataDirectory: string, epochs: number): Promise<PacedNumpy | string> {
    const script = numpyScript();
    if (!script) return 'bench/numpy_reference.py is missing';
    const paced = new PacedNumpy(python, script, dataDirectory, epochs);
    const ready = await paced.next();
    return ready instanceof Error ? ready.message : paced;
  }

  /** Trains one NumPy epoch and returns its line. */
  async epoch(): Promise<string | Error> {
    this.child.stdin!.write('go\n');
    return this.next();
  }

  /** Ends the script (end of input) and waits for it to exit. */
  async close(): Promise<void> {
    this.child.stdin!.end();
    await new Promise<void>((resolve) =>
      this.child.exitCode !== null ? resolve() : this.child.once('close', () => resolve()),
    );
  }

  private next(): Promise<string | Error> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.failure) return Promise.resolve(new Error(this.failure));
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private deliver(line: string): void {
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

/** The recipes timed beside the plain epochs: those with work in every step (dropout, shifts and flips). */
export const TIMED_RECIPES: Pick<RunConfig, 'dropout' | 'shiftPixels' | 'flip'> = Object.freeze({
  dropout: 0.2,
  shiftPixels: 2,
  flip: true,
});

/** Trains `config` and returns its epochs, reporting each as it ends. */
async function timeEpochs(
  config: RunConfig,
  data: { train: LabelledDataset; test: LabelledDataset | null },
  kernels: KernelChoice,
  onStart: (trainer: Trainer) => void,
  onEpoch: (summary: EpochSummary) => void | Promise<void>,
): Promise<{ history: EpochSummary[]; kernels: string; threads: number }> {
  const history: EpochSummary[] = [];
  const trainer = await Trainer.create({
    config,
    ...data,
    kernels,
    onEpoch: (summary) => {
      history.push(summary);
      return onEpoch(summary);
    },
  });
  onStart(trainer);
  try {
    await trainer.run();
  } finally {
    await trainer.dispose();
  }
  return { history, kernels: trainer.kernelBackend, threads: trainer.threads };
}

export async function runBench(argv: string[], context: CliContext): Promise<number> {
  const options = parseOptions(BENCH, argv);
  const epochs = (options.epochs as number | undefined) ?? 5;
  const config = resolveRunConfig({ epochs, threads: threadCount(options.threads) });
  const kernels = kernelChoice(options.kernels);
  const numpyMode = (options.numpy as string | undefined) ?? 'auto';
  if (numpyMode !== 'auto' && numpyMode !== 'off') {
    throw new FmnistError('bad-option', `--numpy must be auto or off, got "${numpyMode}"`);
  }
  const recipesMode = (options.recipes as string | undefined) ?? 'on';
  if (recipesMode !== 'on' && recipesMode !== 'off') {
    throw new FmnistError('bad-option', `--recipes must be on or off, got "${recipesMode}"`);
  }
  const json = options.json === true;
  const say = (line = ''): void => {
    if (!json) writeLine(context.stdout, line);
  };
  const { train, test, description, sources } = await loadTrainingData(
    options.train as string | undefined,
    undefined,
    context.env,
  );
  const directory = sources ? dirname(sources.train[0]) : null;
  const flopsPerEpoch = denseFlopsPerSample(config.hiddenSizes) * train.count;
  let zeros = 0;
  for (let i = 0; i < train.images.length; i++) if (train.images[i] === 0) zeros++;

  const epochLine = (summary: EpochSummary): string =>
    `  epoch ${summary.epoch}/${epochs}  ${summary.seconds.toFixed(3)} s  ${Math.round(summary.samplesPerSecond)} samples/s  ` +
    `${(flopsPerEpoch / summary.seconds / 1e9).toFixed(1)} effective GFLOP/s  test ${percent(summary.testAccuracy)}`;

  // NumPy float32, the target, trains its epochs in turn with ours; float64 runs after, on its own.
  const python = (options.python as string | undefined) ?? 'python3';
  const numpyRuns: NumpyRun[] = [];
  let numpyNote: string | null = null;
  let paced: PacedNumpy | null = null;
  if (numpyMode === 'auto') {
    if (!directory || !existsSync(join(directory, 'train-images-idx3-ubyte.gz'))) {
      numpyNote = 'the NumPy reference needs the gzipped IDX files in a directory';
    } else {
      const started = await PacedNumpy.start(python, directory, epochs);
      if (typeof started === 'string') numpyNote = started;
      else paced = started;
    }
  }
  const pacedSeconds: number[] = [];
  const pairedRatios: number[] = [];
  let pacedAccuracy: number | null = null;
  const plain = await timeEpochs(
    config,
    { train, test },
    kernels,
    (trainer) => {
      say(`Benchmark: 784-512-256-10, batch ${config.batchSize}, Adam; ${description}.`);
      say(
        `${((zeros / train.images.length) * 100).toFixed(1)}% of the training pixels are zero; one dense epoch is ${(flopsPerEpoch / 1e9).toFixed(1)} GFLOP.`,
      );
      say(
        `This project: ${trainer.kernelBackend} kernels, ${trainer.threads} threads${paced ? ', each epoch followed by one of NumPy float32' : ''}`,
      );
    },
    async (summary) => {
      say(epochLine(summary));
      if (!paced) return;
      const line = await paced.epoch();
      if (line instanceof Error) {
        numpyNote = line.message;
        paced = null;
        return;
      }
      const seconds = epochSecondsOf(line);
      pacedSeconds.push(seconds);
      pairedRatios.push(summary.seconds / seconds);
      pacedAccuracy = testAccuracyOf(line);
      say(
        `          NumPy float32  ${seconds.toFixed(3)} s  ${(flopsPerEpoch / seconds / 1e9).toFixed(1)} GFLOP/s  (ours / NumPy ${(summary.seconds / seconds).toFixed(2)})`,
      );
    },
  );
  if (paced) await (paced as PacedNumpy).close();
  const history = plain.history;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const ours = median(history.map((h) => h.seconds));
  say(`  median ${ours.toFixed(3)} s/epoch, peak RSS ${peakRssMb.toFixed(0)} MB`);
  if (pacedSeconds.length > 0) {
    numpyRuns.push({ dtype: 'float32', epochSeconds: pacedSeconds, testAccuracy: pacedAccuracy, pairedRatios });
    say(
      `  NumPy float32: median ${median(pacedSeconds).toFixed(3)} s/epoch, test ${percent(pacedAccuracy)}; ours / NumPy epoch by epoch: median ${median(pairedRatios).toFixed(2)}`,
    );
  }

  let recipes: { epochSeconds: number[]; medianSeconds: number; ratio: number; testAccuracy: number | null } | null =
    null;
  if (recipesMode === 'on') {
    const timed = await timeEpochs(
      { ...config, ...TIMED_RECIPES },
      { train, test },
      kernels,
      () => say(`With dropout ${TIMED_RECIPES.dropout}, shifts of up to ${TIMED_RECIPES.shiftPixels} px and flips:`),
      (summary) => say(epochLine(summary)),
    );
    const seconds = timed.history.map((h) => h.seconds);
    recipes = {
      epochSeconds: seconds,
      medianSeconds: median(seconds),
      ratio: median(seconds) / ours,
      testAccuracy: timed.history[timed.history.length - 1]?.testAccuracy ?? null,
    };
    say(`  median ${recipes.medianSeconds.toFixed(3)} s/epoch: ${recipes.ratio.toFixed(2)}× the plain epoch`);
  }

  if (numpyRuns.length > 0 && !numpyNote) {
    say('NumPy reference (float64):');
    const run = await runNumpy(python, directory!, 'float64', epochs);
    if (typeof run === 'string') numpyNote = run;
    else {
      run.epochSeconds.forEach((s, i) =>
        say(`  epoch ${i + 1}/${epochs}  ${s.toFixed(3)} s  ${(flopsPerEpoch / s / 1e9).toFixed(1)} GFLOP/s`),
      );
      say(`  median ${median(run.epochSeconds).toFixed(3)} s/epoch, test ${percent(run.testAccuracy)}`);
      numpyRuns.push(run);
    }
  }
  if (numpyNote) say(`NumPy reference skipped: ${numpyNote}.`);

  const rows = [
    {
      system: `this project (${plain.kernels}, ${plain.threads} threads)`,
      seconds: ours,
      ratio: 1,
      testAccuracy: history[history.length - 1]?.testAccuracy ?? null,
    },
    ...(recipes
      ? [
          {
            system: '  with dropout and augmentation',
            seconds: recipes.medianSeconds,
            ratio: ours / recipes.medianSeconds,
            testAccuracy: recipes.testAccuracy,
          },
        ]
      : []),
    ...numpyRuns.map((r) => ({
      system: `NumPy ${r.dtype}${r.pairedRatios ? ' (in turn with ours)' : ''}`,
      seconds: median(r.epochSeconds),
      ratio: r.pairedRatios ? median(r.pairedRatios) : ours / median(r.epochSeconds),
      testAccuracy: r.testAccuracy,
    })),
  ];
  if (json) {
    writeLine(
      context.stdout,
      JSON.stringify({
        type: 'bench',
        epochs,
        kernels: plain.kernels,
        threads: plain.threads,
        denseGflopPerEpoch: flopsPerEpoch / 1e9,
        epochSeconds: history.map((h) => h.seconds),
        medianSeconds: ours,
        effectiveGflops: flopsPerEpoch / ours / 1e9,
        peakRssMb,
        testAccuracy: rows[0].testAccuracy,
        recipes: recipes ? { settings: TIMED_RECIPES, ...recipes } : null,
        numpy: numpyRuns.map((r) => ({
          dtype: r.dtype,
          epochSeconds: r.epochSeconds,
          medianSeconds: median(r.epochSeconds),
          ratio: r.pairedRatios ? median(r.pairedRatios) : ours / median(r.epochSeconds),
          pairedRatios: r.pairedRatios,
        })),
        numpyNote,
      }),
    );
    return 0;
  }
  say();
  say(`${'system'.padEnd(44)} ${'s/epoch'.padStart(8)} ${'GFLOP/s'.padStart(8)} ${'ratio'.padStart(6)}`);
  for (const row of rows) {
    say(
      `${row.system.padEnd(44)} ${row.seconds.toFixed(3).padStart(8)} ${(flopsPerEpoch / row.seconds / 1e9).toFixed(1).padStart(8)} ` +
        `${row.ratio.toFixed(2).padStart(6)}`,
    );
  }
  say(
    "ratio = this project's median seconds per epoch / the system's (below 1: this project is faster); for a system run in",
  );
  say('turn with ours, the median of the epoch-by-epoch ratios.');
  return 0;
}
