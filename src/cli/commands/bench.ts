/**
 * `fmnist bench` (also `npm run bench`): trains the default network on the real data and reports, per epoch,
 * seconds, samples/s and effective GFLOP/s (the dense network's FLOPs divided by the time), the peak resident
 * memory, the same epochs with the training recipes that cost time in every step (dropout, shifts and flips)
 * beside the plain ones, and — where python3 with NumPy (and JAX) is available — the reference scripts' seconds
 * per epoch measured in the same run: NumPy float32 (the target) and JAX float32 epoch by epoch in turn with
 * ours, with the median of the paired ratios and the ratio of the sums over all epochs and over the first 5,
 * then NumPy float64 afterwards.
 */

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
import {
  describeBlas,
  JAX_REFERENCE,
  NUMPY_REFERENCE,
  PacedReference,
  type Reference,
  runReference,
} from '../python-references';
import { loadTrainingData } from './train';

export const BENCH: CommandSpec = {
  name: 'bench',
  summary: 'time training of the default network against the NumPy and JAX references',
  options: {
    epochs: { kind: 'integer', value: 'N', help: 'epochs to time (default 5; the median is reported)' },
    train: {
      kind: 'string',
      value: 'PATH',
      help: 'training data (default: search; IDX files are needed for NumPy and JAX)',
    },
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
    jax: {
      kind: 'string',
      value: 'WHEN',
      help: 'run the JAX reference in turn with ours: auto (if the interpreter has jax), off (default auto)',
    },
    python: { kind: 'string', value: 'COMMAND', help: 'the Python interpreter (default python3)' },
    'jax-python': {
      kind: 'string',
      value: 'COMMAND',
      help: 'the Python interpreter with jax (default: the --python one)',
    },
    json: { kind: 'boolean', help: 'print the results as one JSON object' },
  },
  examples: [
    'npm run bench',
    'fmnist bench --epochs 3 --threads 1',
    'fmnist bench --kernels wasm --numpy off --json',
    'fmnist bench --epochs 50 --recipes off --jax-python ~/jax-env/bin/python',
  ],
};

/** Floating-point operations of training the dense network on one sample: forward, weight and input gradients. */
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

/** A reference run: its seconds per epoch, and the ratios to ours when it ran in turn with ours. */
interface ReferenceRun {
  dtype: 'float32' | 'float64';
  epochSeconds: number[];
  testAccuracy: number | null;
  /** Run in turn with ours: our epoch k's seconds over its epoch k's, per epoch. */
  pairedRatios: number[] | null;
}

/** A reference script asked to train in turn with ours: its script while it runs, why it did not or stopped. */
interface PacedPeer {
  reference: Reference;
  script: PacedReference | null;
  note: string | null;
  epochSeconds: number[];
  pairedRatios: number[];
  testAccuracy: number | null;
}

/** Seconds summed over the first `epochs` epochs: ours, and each reference's with the ratio of our sum to its. */
export interface EpochTotals {
  epochs: number;
  oursSeconds: number;
  numpySeconds: number | null;
  numpyRatio: number | null;
  jaxSeconds: number | null;
  jaxRatio: number | null;
}

/**
 * The totals over our first `count` epochs (all of them when there are fewer). A reference that ran fewer
 * epochs than that in turn with ours has none.
 */
export function epochTotals(
  ours: number[],
  references: { numpy: number[] | null; jax: number[] | null },
  count: number,
): EpochTotals {
  const epochs = Math.min(count, ours.length);
  const sum = (seconds: number[]): number => seconds.slice(0, epochs).reduce((a, b) => a + b, 0);
  const oursSeconds = sum(ours);
  const theirs = (seconds: number[] | null): number | null =>
    seconds && seconds.length >= epochs ? sum(seconds) : null;
  const numpySeconds = theirs(references.numpy);
  const jaxSeconds = theirs(references.jax);
  return {
    epochs,
    oursSeconds,
    numpySeconds,
    numpyRatio: numpySeconds === null ? null : oursSeconds / numpySeconds,
    jaxSeconds,
    jaxRatio: jaxSeconds === null ? null : oursSeconds / jaxSeconds,
  };
}

/** The issue's targets are stated over a whole run and over its first epochs, where ours are slowest. */
const FIRST_EPOCHS = 5;

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
  const whenOption = (name: 'numpy' | 'jax'): 'auto' | 'off' => {
    const mode = (options[name] as string | undefined) ?? 'auto';
    if (mode !== 'auto' && mode !== 'off')
      throw new FmnistError('bad-option', `--${name} must be auto or off, got "${mode}"`);
    return mode;
  };
  const numpyMode = whenOption('numpy');
  const jaxMode = whenOption('jax');
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

  // NumPy float32, the target, and JAX float32 train their epochs in turn with ours; NumPy float64 runs after,
  // on its own.
  const python = (options.python as string | undefined) ?? 'python3';
  const jaxPython = (options['jax-python'] as string | undefined) ?? python;
  const idxDirectory = directory && existsSync(join(directory, 'train-images-idx3-ubyte.gz')) ? directory : null;
  const startPeer = async (reference: Reference, mode: 'auto' | 'off', interpreter: string): Promise<PacedPeer> => {
    const peer: PacedPeer = {
      reference,
      script: null,
      note: null,
      epochSeconds: [],
      pairedRatios: [],
      testAccuracy: null,
    };
    if (mode === 'off') return peer;
    if (!idxDirectory) {
      peer.note = `the ${reference.name} reference needs the gzipped IDX files in a directory`;
      return peer;
    }
    const started = await PacedReference.start(reference, interpreter, [
      '--data',
      idxDirectory,
      '--epochs',
      String(epochs),
      '--dtype',
      'float32',
    ]);
    if (typeof started === 'string') peer.note = started;
    else peer.script = started;
    return peer;
  };
  // One after the other: NumPy times its BLAS while it starts, which JAX's start (its import, XLA's compiler)
  // would slow on a small machine.
  const peers = [
    await startPeer(NUMPY_REFERENCE, numpyMode, python),
    await startPeer(JAX_REFERENCE, jaxMode, jaxPython),
  ];
  const [numpyPeer, jaxPeer] = peers;
  const numpyBlas = numpyPeer.script?.blas ?? null;
  // The scripts end with their input, also when our training fails.
  const closePeers = (): Promise<unknown> => Promise.all(peers.map((peer) => peer.script?.close()));
  const plain = await timeEpochs(
    config,
    { train, test },
    kernels,
    (trainer) => {
      say(`Benchmark: 784-512-256-10, batch ${config.batchSize}, Adam; ${description}.`);
      say(
        `${((zeros / train.images.length) * 100).toFixed(1)}% of the training pixels are zero; one dense epoch is ${(flopsPerEpoch / 1e9).toFixed(1)} GFLOP.`,
      );
      const running = peers.filter((p) => p.script).map((p) => `one of ${p.reference.name} float32`);
      say(
        `This project: ${trainer.kernelBackend} kernels, ${trainer.threads} threads${running.length ? `, each epoch followed by ${running.join(' and ')}` : ''}`,
      );
      if (numpyBlas) describeBlas(numpyBlas).forEach((line) => say(line));
    },
    async (summary) => {
      say(epochLine(summary));
      for (const peer of peers) {
        if (!peer.script) continue;
        const epoch = await peer.script.epoch();
        if (epoch instanceof Error) {
          peer.note = epoch.message;
          peer.script = null;
          continue;
        }
        const ratio = summary.seconds / epoch.seconds;
        peer.epochSeconds.push(epoch.seconds);
        peer.pairedRatios.push(ratio);
        peer.testAccuracy = epoch.testAccuracy;
        const name = peer.reference.name;
        say(
          `          ${`${name} float32`.padEnd(13)}  ${epoch.seconds.toFixed(3)} s  ${(flopsPerEpoch / epoch.seconds / 1e9).toFixed(1)} GFLOP/s  (ours / ${name} ${ratio.toFixed(2)})`,
        );
      }
    },
  ).finally(closePeers);
  const history = plain.history;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const ours = median(history.map((h) => h.seconds));
  say(`  median ${ours.toFixed(3)} s/epoch, peak RSS ${peakRssMb.toFixed(0)} MB`);
  const pacedRun = (peer: PacedPeer): ReferenceRun[] =>
    peer.epochSeconds.length > 0
      ? [
          {
            dtype: 'float32',
            epochSeconds: peer.epochSeconds,
            testAccuracy: peer.testAccuracy,
            pairedRatios: peer.pairedRatios,
          },
        ]
      : [];
  const numpyRuns = pacedRun(numpyPeer);
  const jaxRuns = pacedRun(jaxPeer);
  for (const peer of peers) {
    if (peer.epochSeconds.length === 0) continue;
    const name = peer.reference.name;
    say(
      `  ${name} float32: median ${median(peer.epochSeconds).toFixed(3)} s/epoch, test ${percent(peer.testAccuracy)}; ours / ${name} epoch by epoch: median ${median(peer.pairedRatios).toFixed(2)}`,
    );
  }
  const ourSeconds = history.map((h) => h.seconds);
  const pairedSeconds = {
    numpy: numpyRuns.length > 0 ? numpyPeer.epochSeconds : null,
    jax: jaxRuns.length > 0 ? jaxPeer.epochSeconds : null,
  };
  const totals = {
    all: epochTotals(ourSeconds, pairedSeconds, ourSeconds.length),
    first5: epochTotals(ourSeconds, pairedSeconds, FIRST_EPOCHS),
  };
  const totalsLine = (what: string, t: EpochTotals): string =>
    `  ${what}: ours ${t.oursSeconds.toFixed(3)} s` +
    (t.numpySeconds === null
      ? ''
      : `, NumPy float32 ${t.numpySeconds.toFixed(3)} s (sum ratio ${t.numpyRatio!.toFixed(2)})`) +
    (t.jaxSeconds === null ? '' : `, JAX float32 ${t.jaxSeconds.toFixed(3)} s (sum ratio ${t.jaxRatio!.toFixed(2)})`);
  say(totalsLine(`over all ${totals.all.epochs} epochs`, totals.all));
  if (history.length > FIRST_EPOCHS) say(totalsLine(`over the first ${FIRST_EPOCHS} epochs`, totals.first5));

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

  let numpyNote = numpyPeer.note;
  if (numpyRuns.length > 0 && !numpyNote) {
    say('NumPy reference (float64):');
    const run = await runReference(NUMPY_REFERENCE, python, [
      '--data',
      idxDirectory!,
      '--epochs',
      String(epochs),
      '--dtype',
      'float64',
    ]);
    if (typeof run === 'string') numpyNote = run;
    else {
      const seconds = run.epochs.map((e) => e.seconds);
      seconds.forEach((s, i) =>
        say(`  epoch ${i + 1}/${epochs}  ${s.toFixed(3)} s  ${(flopsPerEpoch / s / 1e9).toFixed(1)} GFLOP/s`),
      );
      const testAccuracy = run.epochs[run.epochs.length - 1]?.testAccuracy ?? null;
      say(`  median ${median(seconds).toFixed(3)} s/epoch, test ${percent(testAccuracy)}`);
      numpyRuns.push({ dtype: 'float64', epochSeconds: seconds, testAccuracy, pairedRatios: null });
    }
  }
  const jaxNote = jaxPeer.note;
  if (numpyNote) say(`NumPy reference skipped: ${numpyNote}.`);
  if (jaxNote) say(`JAX reference skipped: ${jaxNote}.`);

  const referenceRows = (name: string, runs: ReferenceRun[]) =>
    runs.map((r) => ({
      system: `${name} ${r.dtype}${r.pairedRatios ? ' (in turn with ours)' : ''}`,
      seconds: median(r.epochSeconds),
      ratio: r.pairedRatios ? median(r.pairedRatios) : ours / median(r.epochSeconds),
      testAccuracy: r.testAccuracy,
    }));
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
    // Those run in turn with ours first.
    ...referenceRows(
      'NumPy',
      numpyRuns.filter((r) => r.pairedRatios),
    ),
    ...referenceRows('JAX', jaxRuns),
    ...referenceRows(
      'NumPy',
      numpyRuns.filter((r) => !r.pairedRatios),
    ),
  ];
  if (json) {
    const runJson = (r: ReferenceRun) => ({
      dtype: r.dtype,
      epochSeconds: r.epochSeconds,
      medianSeconds: median(r.epochSeconds),
      ratio: r.pairedRatios ? median(r.pairedRatios) : ours / median(r.epochSeconds),
      pairedRatios: r.pairedRatios,
      testAccuracy: r.testAccuracy,
    });
    writeLine(
      context.stdout,
      JSON.stringify({
        type: 'bench',
        epochs,
        kernels: plain.kernels,
        threads: plain.threads,
        denseGflopPerEpoch: flopsPerEpoch / 1e9,
        epochSeconds: ourSeconds,
        medianSeconds: ours,
        effectiveGflops: flopsPerEpoch / ours / 1e9,
        peakRssMb,
        testAccuracy: rows[0].testAccuracy,
        recipes: recipes ? { settings: TIMED_RECIPES, ...recipes } : null,
        numpy: numpyRuns.map(runJson),
        numpyNote,
        numpyBlas,
        jax: jaxRuns.map(runJson),
        jaxNote,
        totals,
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
