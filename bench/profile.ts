/**
 * Where an epoch's time goes: trains the default network on the real data with the calling thread's kernels
 * timed (src/core/engine/profile.ts) and prints, per phase, its milliseconds per epoch on one thread, its
 * share of the epoch, the multiply-adds it did and the GFLOP/s that makes against one core's WebAssembly
 * SIMD ceiling, measured after the training (simd-ceiling.ts). The first layer's forward product is then set beside
 * its loop alone (product-loop.ts) and the bound of the loop's 7 accumulators. Run with `npm run bench:profile
 * [-- --epochs N --threads N --batch-size N]` (about 15 s). The first epoch (compilation up to the optimising tier)
 * is left out.
 */

import { parseArgs } from 'node:util';
import { resolveRunConfig } from '@core/shared/config';
import { loadDataset } from '@core/data/load';
import { findDefaultData } from '@core/data/locate';
import { enableWasmFeatures } from '@core/engine/runtime';
import { Trainer } from '@core/training/trainer';
import { measureProductLoop } from './product-loop';
import { measureSimdCeilingGflops } from './simd-ceiling';

/** A whole number ≥ `least` from an option, or a one-line error naming the option. */
function wholeNumber(name: string, text: string, least: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < least)
    throw new Error(`--${name} must be a whole number of at least ${least}, got "${text}"`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      epochs: { type: 'string', default: '4' },
      threads: { type: 'string', default: '0' },
      'batch-size': { type: 'string', default: '128' },
    },
  });
  const epochs = wholeNumber('epochs', values.epochs, 2);
  const threads = wholeNumber('threads', values.threads, 0);
  const batchSize = wholeNumber('batch-size', values['batch-size'], 1);
  enableWasmFeatures();
  const located = await findDefaultData();
  const train = await loadDataset(located.train, { requireLabels: true });
  const test = located.test ? await loadDataset(located.test, { requireLabels: true }) : null;
  let timedMs = 0;
  let evaluationMs = 0;
  let timed = 0;
  const trainer = await Trainer.create({
    config: resolveRunConfig({ epochs, threads, batchSize }),
    train,
    test,
    onEpoch: (summary) => {
      if (summary.epoch === 1) {
        profiler.reset();
        start = timing();
        return;
      }
      timed++;
      timedMs += summary.seconds * 1000;
      evaluationMs += summary.evaluationSeconds * 1000;
    },
  });
  const { profiler, timing } = trainer.profile();
  let start = timing();
  await trainer.run();
  const end = timing();
  await trainer.dispose();

  const perEpoch = (ms: number): number => ms / timed;
  const epochMs = perEpoch(timedMs);
  const phases = profiler.phases();
  const evaluation = phases.find((p) => p.phase.startsWith('evaluation'));
  const training = phases.filter((p) => p !== evaluation);
  const kernelMs = perEpoch(training.reduce((sum, p) => sum + p.milliseconds, 0));
  const waitedMs = perEpoch(end.waitedMs - start.waitedMs);
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  const fused = trainer.kernelBackend === 'wasm-simd-fma';
  const ceiling = measureSimdCeilingGflops(fused);
  out(
    `Default network, batch ${batchSize}, ${train.count} images, ${trainer.threads} threads, ${trainer.kernelBackend}; ${timed} epochs timed.`,
  );
  out(`Times are thread 0's, per epoch; each thread does an even share of every phase.`);
  out(
    `Of peak: against one core's WebAssembly SIMD ceiling, measured: ${ceiling.toFixed(1)} GFLOP/s (independent ${trainer.kernelBackend === 'wasm-simd-fma' ? 'fused multiply-adds' : 'multiplies and adds'} on 4 lanes).\n`,
  );
  out(
    `${'phase'.padEnd(44)} ${'ms'.padStart(7)} ${'share'.padStart(6)} ${'GMAC'.padStart(6)} ${'GFLOP/s'.padStart(8)} ${'of peak'.padStart(8)}`,
  );
  const row = (phase: string, ms: number, multiplyAdds = 0): void => {
    const gflops = multiplyAdds ? (2 * multiplyAdds) / (ms / 1000) / 1e9 : 0;
    out(
      `${phase.padEnd(44)} ${ms.toFixed(1).padStart(7)} ${`${((100 * ms) / epochMs).toFixed(1)}%`.padStart(6)} ` +
        `${multiplyAdds ? (multiplyAdds / 1e9).toFixed(2).padStart(6) : ''.padStart(6)} ` +
        `${multiplyAdds ? gflops.toFixed(1).padStart(8) : ''.padStart(8)} ${multiplyAdds ? `${((100 * gflops) / ceiling).toFixed(0)}%`.padStart(8) : ''.padStart(8)}`,
    );
  };
  for (const p of training) row(p.phase, perEpoch(p.milliseconds), perEpoch(p.multiplyAdds));
  row('waiting for the other threads', waitedMs);
  row('host: batch setup, Adam scalars, totals', epochMs - kernelMs - waitedMs);
  const multiplyAdds = perEpoch(training.reduce((sum, p) => sum + p.multiplyAdds, 0));
  row('epoch (training steps)', epochMs, multiplyAdds);
  out(
    `\nAll kernels: ${kernelMs.toFixed(0)} ms of ${epochMs.toFixed(0)} (${((100 * kernelMs) / epochMs).toFixed(0)}%) at ${((2 * multiplyAdds) / (kernelMs / 1000) / 1e9).toFixed(1)} GFLOP/s on thread 0.`,
  );
  end.helperBusyMs.forEach((busy, h) => {
    const ms = perEpoch(busy - start.helperBusyMs[h]);
    out(
      `Thread ${h + 1} ran programs for ${ms.toFixed(0)} ms of each epoch's ${epochMs.toFixed(0)} (${((100 * ms) / epochMs).toFixed(0)}%).`,
    );
  });
  // The first layer's forward product against its loop alone and the bound of the loop's 7 accumulators.
  const forward = training.find((p) => p.phase === 'layer 1 forward');
  if (forward?.pairsPerRow && trainer.kernelBackend.startsWith('wasm')) {
    const loop = measureProductLoop(forward.pairsPerRow, fused);
    const bound = measureSimdCeilingGflops(fused, 7);
    const inTraining = (2 * forward.multiplyAdds) / (forward.milliseconds / 1000) / 1e9;
    const ofCeiling = (gflops: number): string => `${((100 * gflops) / ceiling).toFixed(0)}%`;
    out(
      `Layer 1 forward: ${inTraining.toFixed(1)} GFLOP/s (${ofCeiling(inTraining)}) on lists of ${forward.pairsPerRow.toFixed(1)} pairs a row. ` +
        `Its loop alone, on lists of ${Math.round(forward.pairsPerRow)} into a block of the matrix in L1: ${loop.gflops.toFixed(1)} GFLOP/s ` +
        `(${ofCeiling(loop.gflops)}, ${loop.nanosecondsPerPair.toFixed(2)} ns a pair). ` +
        `Independent multiply-adds into the tile's 7 accumulators: ${bound.toFixed(1)} GFLOP/s (${ofCeiling(bound)}).`,
    );
  }
  if (evaluation && test) {
    const ms = perEpoch(evaluationMs);
    out(
      `Test evaluation after each epoch: ${ms.toFixed(0)} ms for ${test.count} images (${Math.round(test.count / (ms / 1000))} images/s), ` +
        `of which thread 0's kernels ${perEpoch(evaluation.milliseconds).toFixed(0)} ms.`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`profile: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
