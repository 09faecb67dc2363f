/**
 * `fmnist bench` (also `npm run bench`): trains the default network on the real data and reports, per epoch,
 * seconds, samples/s and effective GFLOP/s (the dense network's FLOPs divided by the time), the peak resident
 * memory, the same epochs with the training recipes that cost time in every step (dropout, shifts and flips)
 * beside the plain ones, and — where python3 with NumPy is available — the NumPy
 * reference's seconds per epoch (float32 and float64) measured in the same run, one after the other, with the
 * ratios of the medians.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type RunConfig, resolveRunConfig } from '../../core/config';
import type { LabelledDataset } from '../../core/data/dataset';
import type { KernelChoice } from '../../core/engine/engine';
import { FmnistError } from '../../core/errors';
import { layerSizes, mlpShape } from '../../core/model/mlp';
import { median } from '../../core/stats';
import { type EpochSummary, Trainer } from '../../core/train/trainer';
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
    numpy: { kind: 'string', value: 'WHEN', help: 'run the NumPy reference: auto (if python3 has numpy), off (default auto)' },
    recipes: { kind: 'string', value: 'WHEN', help: 'also time epochs with dropout and augmentation: on, off (default on)' },
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
}

/** Runs the NumPy reference script; resolves null (with the reason) when Python or NumPy is missing. */
function runNumpy(python: string, dataDirectory: string, dtype: 'float32' | 'float64', epochs: number): Promise<NumpyRun | string> {
  // In the repository's bench/ folder: two levels up from the built bundle (out/node), three from this file.
  const script = [join(__dirname, '..', '..', 'bench', 'numpy_reference.py'), join(__dirname, '..', '..', '..', 'bench', 'numpy_reference.py')].find(existsSync) ?? 'numpy_reference.py';
  if (!existsSync(script)) return Promise.resolve('bench/numpy_reference.py is missing');
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
        const reason = /No module named .numpy/.test(stderr) ? 'numpy is not installed' : stderr.trim().split('\n').pop() || `exit code ${code}`;
        resolve(`the NumPy reference did not run: ${reason}`);
        return;
      }
      const lines = stdout.split('\n').filter((l) => l.startsWith('epoch '));
      const epochSeconds = lines.map((l) => Number(/epoch_s ([\d.]+)/.exec(l)?.[1]));
      const accuracy = /test_acc ([\d.]+)/.exec(lines[lines.length - 1] ?? '');
      resolve({ dtype, epochSeconds, testAccuracy: accuracy ? Number(accuracy[1]) / 100 : null });
    });
  });
}

/** The recipes timed beside the plain epochs: those with work in every step (dropout, shifts and flips). */
export const TIMED_RECIPES: Pick<RunConfig, 'dropout' | 'shiftPixels' | 'flip'> = Object.freeze({ dropout: 0.2, shiftPixels: 2, flip: true });

/** Trains `config` and returns its epochs, reporting each as it ends. */
async function timeEpochs(
  config: RunConfig,
  data: { train: LabelledDataset; test: LabelledDataset | null },
  kernels: KernelChoice,
  onStart: (trainer: Trainer) => void,
  onEpoch: (summary: EpochSummary) => void,
): Promise<{ history: EpochSummary[]; kernels: string; threads: number }> {
  const history: EpochSummary[] = [];
  const trainer = await Trainer.create({
    config,
    ...data,
    kernels,
    onEpoch: (summary) => {
      history.push(summary);
      onEpoch(summary);
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
  const { train, test, description, sources } = await loadTrainingData(options.train as string | undefined, undefined, context.env);
  const directory = sources ? dirname(sources.train[0]) : null;
  const flopsPerEpoch = denseFlopsPerSample(config.hiddenSizes) * train.count;
  let zeros = 0;
  for (let i = 0; i < train.images.length; i++) if (train.images[i] === 0) zeros++;

  const epochLine = (summary: EpochSummary): string =>
    `  epoch ${summary.epoch}/${epochs}  ${summary.seconds.toFixed(3)} s  ${Math.round(summary.samplesPerSecond)} samples/s  ` +
    `${(flopsPerEpoch / summary.seconds / 1e9).toFixed(1)} effective GFLOP/s  test ${percent(summary.testAccuracy)}`;
  const plain = await timeEpochs(
    config,
    { train, test },
    kernels,
    (trainer) => {
      say(`Benchmark: 784-512-256-10, batch ${config.batchSize}, Adam; ${description}.`);
      say(`${(zeros / train.images.length * 100).toFixed(1)}% of the training pixels are zero; one dense epoch is ${(flopsPerEpoch / 1e9).toFixed(1)} GFLOP.`);
      say(`This project: ${trainer.kernelBackend} kernels, ${trainer.threads} threads`);
    },
    (summary) => say(epochLine(summary)),
  );
  const history = plain.history;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const ours = median(history.map((h) => h.seconds));
  say(`  median ${ours.toFixed(3)} s/epoch, peak RSS ${peakRssMb.toFixed(0)} MB`);

  let recipes: { epochSeconds: number[]; medianSeconds: number; ratio: number; testAccuracy: number | null } | null = null;
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

  const numpyRuns: NumpyRun[] = [];
  let numpyNote: string | null = null;
  if (numpyMode === 'auto') {
    if (!directory || !existsSync(join(directory, 'train-images-idx3-ubyte.gz'))) {
      numpyNote = 'the NumPy reference needs the gzipped IDX files in a directory';
    } else {
      for (const dtype of ['float32', 'float64'] as const) {
        say(`NumPy reference (${dtype}):`);
        const run = await runNumpy((options.python as string | undefined) ?? 'python3', directory, dtype, epochs);
        if (typeof run === 'string') {
          numpyNote = run;
          break;
        }
        run.epochSeconds.forEach((s, i) => say(`  epoch ${i + 1}/${epochs}  ${s.toFixed(3)} s  ${(flopsPerEpoch / s / 1e9).toFixed(1)} GFLOP/s`));
        say(`  median ${median(run.epochSeconds).toFixed(3)} s/epoch, test ${percent(run.testAccuracy)}`);
        numpyRuns.push(run);
      }
    }
  }
  if (numpyNote) say(`NumPy reference skipped: ${numpyNote}.`);

  const rows = [
    { system: `this project (${plain.kernels}, ${plain.threads} threads)`, seconds: ours, testAccuracy: history[history.length - 1]?.testAccuracy ?? null },
    ...(recipes ? [{ system: '  with dropout and augmentation', seconds: recipes.medianSeconds, testAccuracy: recipes.testAccuracy }] : []),
    ...numpyRuns.map((r) => ({ system: `NumPy ${r.dtype}`, seconds: median(r.epochSeconds), testAccuracy: r.testAccuracy })),
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
        numpy: numpyRuns.map((r) => ({ dtype: r.dtype, epochSeconds: r.epochSeconds, medianSeconds: median(r.epochSeconds), ratio: ours / median(r.epochSeconds) })),
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
        `${(ours / row.seconds).toFixed(2).padStart(6)}`,
    );
  }
  say('ratio = this project\'s median seconds per epoch / the system\'s (below 1: this project is faster).');
  return 0;
}
