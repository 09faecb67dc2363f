/**
 * How the cost of an epoch grows with the network and the batch: `npm run bench:scale` times this project,
 * NumPy float32 (bench/numpy_reference.py) and JAX float32 (bench/jax_reference.py) on
 *   - one hidden layer of 128 to 4096 units, batch 128 (`hidden`),
 *   - two equal hidden layers of 128 to 4096 units, batch 128 (`layers2`),
 *   - the default 512,256 network with batches of 32 to 1024 (`batch`),
 * each row's systems one after the other, each in a process of its own so that its peak resident memory is its
 * own: ours through the Trainer the CLI uses (this script again, with --child), the Python scripts with --no-test.
 * Seconds per epoch are the median of the timed epochs after the warm-up (the first epoch includes compiling the
 * kernels up to V8's optimising tier). Per row it prints the dense multiply-adds of an epoch, our effective
 * GFLOP/s and its share of the WebAssembly SIMD ceiling of the threads used, and our time over NumPy's (and
 * JAX's): a Markdown table for docs/performance.md, or one JSON object with --json.
 *
 * Options: --limit N (training samples, default all), --epochs N (timed, default 2), --warmup N (default 1),
 * --only hidden,layers2,batch, --sizes 128,256 (the hidden sizes swept), --batches 32,64 (the batch sizes swept),
 * --threads N, --data DIR (the gzipped IDX files), --numpy auto|off, --jax auto|off, --python COMMAND,
 * --jax-python COMMAND, --json.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveRunConfig } from '@core/shared/config';
import { openDataset } from '@core/data/load';
import { findDefaultData, resolveDataPath } from '@core/data/locate';
import { detectWasmFeatures } from '@core/engine/backends';
import { enableWasmFeatures } from '@core/engine/runtime';
import { median } from '@core/median';
import { Trainer } from '@core/training/trainer';
import { denseFlopsPerSample } from '../src/cli/commands/bench';
import { collectGarbage, peakMemoryMb } from '../src/cli/memory';
import {
  describeBlas,
  JAX_REFERENCE,
  NUMPY_REFERENCE,
  type Reference,
  type ReferenceBlas,
  runReference,
} from '../src/cli/python-references';
import { measureSimdCeilingGflops } from './simd-ceiling';

const SWEEPS = ['hidden', 'layers2', 'batch'] as const;
type Sweep = (typeof SWEEPS)[number];
const HIDDEN_SIZES = [128, 256, 512, 1024, 2048, 4096];
const BATCH_SIZES = [32, 64, 128, 256, 512, 1024];
const DEFAULT_HIDDEN = [512, 256];
const DEFAULT_BATCH = 128;

/** One system's epochs on one row. */
interface Measured {
  epochSeconds: number[];
  /** The median of the timed epochs (the warm-up left out). */
  medianSeconds: number;
  peakRssMb: number | null;
}

interface Row {
  sweep: Sweep;
  hiddenSizes: number[];
  batchSize: number;
  multiplyAddsPerEpoch: number;
  ours: Measured & { effectiveGflops: number; ofCeiling: number; kernels: string; threads: number };
  numpy: Measured | null;
  jax: Measured | null;
}

/** A whole number ≥ `least` from an option, or a one-line error naming the option. */
function wholeNumber(name: string, text: string, least: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < least)
    throw new Error(`--${name} must be a whole number of at least ${least}, got "${text}"`);
  return value;
}

function wholeNumbers(name: string, text: string): number[] {
  return text.split(',').map((part) => wholeNumber(name, part.trim(), 1));
}

/** The --child side: trains one row's network in this process and prints its epochs and peak memory as JSON. */
async function measureOurs(values: Record<string, string | boolean | undefined>): Promise<void> {
  enableWasmFeatures();
  const train = await openDataset(await resolveDataPath(String(values.data), 'train'), { requireLabels: true });
  // As in `fmnist train`: the loader's leftovers go before the engine takes its memory.
  collectGarbage();
  const epochSeconds: number[] = [];
  const trainer = await Trainer.create({
    config: resolveRunConfig({
      hiddenSizes: String(values.hidden),
      batchSize: wholeNumber('batch-size', String(values['batch-size']), 1),
      epochs: wholeNumber('epochs', String(values.epochs), 1),
      limit: wholeNumber('limit', String(values.limit), 0),
      threads: wholeNumber('threads', String(values.threads), 0),
    }),
    train,
    onEpoch: (summary) => {
      epochSeconds.push(summary.seconds);
    },
  });
  try {
    await trainer.run();
  } finally {
    await trainer.dispose();
  }
  process.stdout.write(
    `${JSON.stringify({ epochSeconds, peakRssMb: peakMemoryMb(), kernels: trainer.kernelBackend, threads: trainer.threads })}\n`,
  );
}

/** Runs this script with --child for one row; its result, or why it failed. */
function runOurs(
  args: string[],
): Promise<{ epochSeconds: number[]; peakRssMb: number; kernels: string; threads: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--child', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      else
        reject(
          new Error(
            `our training failed (${args.join(' ')}): ${stderr.trim().split('\n').pop() || `exit code ${code}`}`,
          ),
        );
    });
  });
}

const networkName = (hiddenSizes: number[]): string => [784, ...hiddenSizes, 10].join('-');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      limit: { type: 'string', default: '0' },
      epochs: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '1' },
      only: { type: 'string', default: SWEEPS.join(',') },
      sizes: { type: 'string', default: HIDDEN_SIZES.join(',') },
      batches: { type: 'string', default: BATCH_SIZES.join(',') },
      threads: { type: 'string', default: '0' },
      data: { type: 'string' },
      numpy: { type: 'string', default: 'auto' },
      jax: { type: 'string', default: 'auto' },
      python: { type: 'string', default: 'python3' },
      'jax-python': { type: 'string' },
      json: { type: 'boolean', default: false },
      child: { type: 'boolean', default: false },
      hidden: { type: 'string' },
      'batch-size': { type: 'string' },
    },
  });
  if (values.child) return measureOurs(values);

  const limit = wholeNumber('limit', values.limit, 0);
  const timedEpochs = wholeNumber('epochs', values.epochs, 1);
  const warmup = wholeNumber('warmup', values.warmup, 0);
  const threads = wholeNumber('threads', values.threads, 0);
  const sizes = wholeNumbers('sizes', values.sizes);
  const batches = wholeNumbers('batches', values.batches);
  const only = values.only.split(',').map((s) => s.trim());
  for (const sweep of only) {
    if (!(SWEEPS as readonly string[]).includes(sweep))
      throw new Error(`--only must list ${SWEEPS.join(', ')} (comma-separated), got "${values.only}"`);
  }
  for (const name of ['numpy', 'jax'] as const) {
    if (values[name] !== 'auto' && values[name] !== 'off')
      throw new Error(`--${name} must be auto or off, got "${values[name]}"`);
  }
  const directory = values.data ?? (await findDefaultData()).directory;
  if (!directory) throw new Error('found no data directory: pass --data DIR (the gzipped IDX files)');
  const files = await resolveDataPath(directory, 'train');
  const available = (await openDataset(files, { requireLabels: true })).count;
  const samples = limit > 0 ? Math.min(limit, available) : available;
  const pythonReady = existsSync(join(directory, 'train-images-idx3-ubyte.gz'));

  const rows: { sweep: Sweep; hiddenSizes: number[]; batchSize: number }[] = [];
  if (only.includes('hidden'))
    for (const h of sizes) rows.push({ sweep: 'hidden', hiddenSizes: [h], batchSize: DEFAULT_BATCH });
  if (only.includes('layers2'))
    for (const h of sizes) rows.push({ sweep: 'layers2', hiddenSizes: [h, h], batchSize: DEFAULT_BATCH });
  if (only.includes('batch'))
    for (const b of batches) rows.push({ sweep: 'batch', hiddenSizes: DEFAULT_HIDDEN, batchSize: b });
  // Every row's configuration is checked before the first one runs (sizes above 4096, batches above 65 536).
  for (const row of rows) resolveRunConfig({ hiddenSizes: row.hiddenSizes, batchSize: row.batchSize });

  /** Each Python reference, until it fails once: then the reason, and it is left out of the rows after. */
  const peers = (
    [
      [NUMPY_REFERENCE, values.numpy, values.python],
      [JAX_REFERENCE, values.jax, values['jax-python'] ?? values.python],
    ] as const
  ).map(([reference, mode, python]) => ({
    reference: reference as Reference,
    python,
    on: mode === 'auto' && pythonReady,
    note:
      mode === 'auto' && !pythonReady
        ? `the ${reference.name} reference needs the gzipped IDX files in a directory`
        : null,
  }));
  const progress = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const measured = (epochSeconds: number[], peakRssMb: number | null): Measured => ({
    epochSeconds,
    medianSeconds: median(epochSeconds.slice(warmup)),
    peakRssMb,
  });

  // Measured before any row runs, on an idle machine, with the kernels ours will use.
  enableWasmFeatures();
  const ceiling = measureSimdCeilingGflops(detectWasmFeatures().relaxedSimd);
  const results: Row[] = [];
  let numpyBlas: ReferenceBlas | null = null;
  for (const row of rows) {
    const epochs = warmup + timedEpochs;
    const multiplyAddsPerEpoch = (denseFlopsPerSample(row.hiddenSizes) / 2) * samples;
    const hidden = row.hiddenSizes.join(',');
    const common = ['--data', directory, '--epochs', String(epochs), '--limit', String(samples)];
    const ours = await runOurs([
      ...common,
      '--hidden',
      hidden,
      '--batch-size',
      String(row.batchSize),
      '--threads',
      String(threads),
    ]);
    const oursMeasured = measured(ours.epochSeconds, ours.peakRssMb);
    const effectiveGflops = (2 * multiplyAddsPerEpoch) / oursMeasured.medianSeconds / 1e9;
    const result: Row = {
      ...row,
      multiplyAddsPerEpoch,
      ours: {
        ...oursMeasured,
        effectiveGflops,
        ofCeiling: effectiveGflops / (ceiling * ours.threads),
        kernels: ours.kernels,
        threads: ours.threads,
      },
      numpy: null,
      jax: null,
    };
    for (const peer of peers) {
      if (!peer.on) continue;
      const run = await runReference(peer.reference, peer.python, [
        ...common,
        '--hidden',
        hidden,
        '--batch-size',
        String(row.batchSize),
        '--dtype',
        'float32',
        '--no-test',
      ]);
      if (typeof run === 'string') {
        peer.note = run;
        peer.on = false;
        continue;
      }
      if (peer.reference === NUMPY_REFERENCE) numpyBlas ??= run.blas;
      result[peer.reference === NUMPY_REFERENCE ? 'numpy' : 'jax'] = measured(
        run.epochs.map((e) => e.seconds),
        run.peakRssMb,
      );
    }
    progress(
      `${networkName(row.hiddenSizes)}, batch ${row.batchSize}: ours ${result.ours.medianSeconds.toFixed(3)} s` +
        (result.numpy ? `, NumPy ${result.numpy.medianSeconds.toFixed(3)} s` : '') +
        (result.jax ? `, JAX ${result.jax.medianSeconds.toFixed(3)} s` : ''),
    );
    results.push(result);
  }

  const ratio = (ours: Measured, theirs: Measured | null): number | null =>
    theirs ? ours.medianSeconds / theirs.medianSeconds : null;
  const notes = peers.map((p) => ({ name: p.reference.name, note: p.note }));
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({
        type: 'bench-scale',
        samples,
        warmupEpochs: warmup,
        timedEpochs,
        ceilingGflopsPerThread: ceiling,
        rows: results.map((r) => ({ ...r, oursOverNumpy: ratio(r.ours, r.numpy), oursOverJax: ratio(r.ours, r.jax) })),
        numpyNote: notes[0].note,
        numpyBlas,
        jaxNote: notes[1].note,
      })}\n`,
    );
    return;
  }
  for (const { name, note } of notes) if (note) process.stdout.write(`${name} reference skipped: ${note}.\n`);
  if (numpyBlas) for (const line of describeBlas(numpyBlas)) process.stdout.write(`${line}\n`);
  const withNumpy = results.some((r) => r.numpy);
  const withJax = results.some((r) => r.jax);
  const seconds = (m: Measured | null): string => (m ? m.medianSeconds.toFixed(3) : '—');
  const times = (value: number | null): string => (value === null ? '—' : value.toFixed(2));
  const megabytes = (m: Measured | null): string => (m?.peakRssMb == null ? '—' : m.peakRssMb.toFixed(0));
  const columns: [string, (r: Row) => string][] = [
    ['Network', (r) => networkName(r.hiddenSizes)],
    ['Batch', (r) => String(r.batchSize)],
    ['G multiply-adds per epoch', (r) => (r.multiplyAddsPerEpoch / 1e9).toPrecision(4)],
    ['Ours s/epoch', (r) => seconds(r.ours)],
    ...(withNumpy
      ? ([
          ['NumPy s/epoch', (r) => seconds(r.numpy)],
          ['Ours / NumPy', (r) => times(ratio(r.ours, r.numpy))],
        ] as [string, (r: Row) => string][])
      : []),
    ...(withJax
      ? ([
          ['JAX s/epoch', (r) => seconds(r.jax)],
          ['Ours / JAX', (r) => times(ratio(r.ours, r.jax))],
        ] as [string, (r: Row) => string][])
      : []),
    ['Ours GFLOP/s', (r) => r.ours.effectiveGflops.toFixed(1)],
    ['Of SIMD ceiling', (r) => `${(r.ours.ofCeiling * 100).toFixed(0)}%`],
    ['Ours MB', (r) => megabytes(r.ours)],
    ...(withNumpy ? ([['NumPy MB', (r) => megabytes(r.numpy)]] as [string, (r: Row) => string][]) : []),
    ...(withJax ? ([['JAX MB', (r) => megabytes(r.jax)]] as [string, (r: Row) => string][]) : []),
  ];
  const first = results[0]?.ours;
  process.stdout.write(
    `\nSeconds per epoch of ${samples} training samples, the median of ${timedEpochs} after ${warmup} warm-up; ` +
      `ours with ${first?.kernels ?? '?'} kernels on ${first?.threads ?? '?'} threads. ` +
      `GFLOP/s: 2 × the dense multiply-adds over the time (the sparse kernels skip zeros, so it can pass the ` +
      `WebAssembly SIMD ceiling of ${(ceiling * (first?.threads ?? 1)).toFixed(1)} GFLOP/s, measured). ` +
      `Ours / NumPy below 1: ours is faster. MB: each process's peak resident memory.\n\n`,
  );
  process.stdout.write(`| ${columns.map(([name]) => name).join(' | ')} |\n`);
  process.stdout.write(`|${columns.map(() => '---').join('|')}|\n`);
  for (const row of results) process.stdout.write(`| ${columns.map(([, cell]) => cell(row)).join(' | ')} |\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`scale: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
