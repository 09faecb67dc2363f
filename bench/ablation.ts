/**
 * What each optimisation of the training engine buys: the default network on the real training set, timed
 * with one optimisation added at a time, plus how much of the dense work the sparse kernels actually do.
 * Run with `npm run bench:ablation` (about 3 minutes). Seconds are medians of the timed epochs; the
 * TypeScript kernels are timed on a 6 000-sample subset and scaled to 60 000 samples.
 */

import { resolveRunConfig } from '@core/shared/config';
import { takeFirst, type LabelledDataset } from '@core/shared/dataset';
import { loadDataset } from '@core/data/load';
import { findDefaultData } from '@core/data/locate';
import { typeScriptBackend, type Backend } from '@core/engine/engine';
import { wasmBackend } from '@core/engine/backends';
import { enableWasmFeatures } from '@core/engine/runtime';
import { Trainer } from '@core/training/trainer';
import { median } from '@core/median';

interface Variant {
  name: string;
  backend: Backend;
  threads: number;
  maxChunkRows?: number;
  limit?: number;
  epochs: number;
}

async function time(variant: Variant, train: LabelledDataset): Promise<number> {
  const data = variant.limit ? takeFirst(train, variant.limit) : train;
  const seconds: number[] = [];
  const trainer = await Trainer.create({
    config: resolveRunConfig({ epochs: variant.epochs, threads: variant.threads }),
    train: data,
    backend: variant.backend,
    engineOptions: variant.maxChunkRows ? { maxChunkRows: variant.maxChunkRows } : undefined,
    onEpoch: (summary) => {
      seconds.push(summary.seconds);
    },
  });
  try {
    await trainer.run();
  } finally {
    await trainer.dispose();
  }
  // The first epoch includes compiling the kernels up to the optimising tier; leave it out when there are more.
  const timed = seconds.length > 2 ? seconds.slice(1) : seconds;
  return (median(timed) * train.count) / data.count;
}

async function main(): Promise<void> {
  enableWasmFeatures();
  const located = await findDefaultData();
  const train = await loadDataset(located.train, { requireLabels: true });
  const plain = wasmBackend({ fusedMultiplyAdd: false });
  const fused = wasmBackend({ fusedMultiplyAdd: true });
  const variants: Variant[] = [
    {
      name: 'TypeScript kernels (sparse, tiled), 1 thread',
      backend: typeScriptBackend,
      threads: 1,
      limit: 6000,
      epochs: 3,
    },
    {
      name: 'WebAssembly SIMD, no L1 blocking, 1 thread',
      backend: plain,
      threads: 1,
      maxChunkRows: 1 << 20,
      epochs: 4,
    },
    { name: 'WebAssembly SIMD, L1 blocking, 1 thread', backend: plain, threads: 1, epochs: 4 },
    { name: '+ fused multiply-add (relaxed SIMD), 1 thread', backend: fused, threads: 1, epochs: 4 },
    { name: '+ second thread', backend: fused, threads: 2, epochs: 4 },
  ];
  process.stdout.write(`${'variant'.padEnd(52)} ${'s/epoch'.padStart(8)} ${'speed-up'.padStart(9)}\n`);
  let previous = 0;
  for (const variant of variants) {
    const seconds = await time(variant, train);
    const speedUp = previous ? `×${(previous / seconds).toFixed(2)}` : '';
    process.stdout.write(`${variant.name.padEnd(52)} ${seconds.toFixed(3).padStart(8)} ${speedUp.padStart(9)}\n`);
    previous = seconds;
  }

  // How much of the dense work the sparse kernels do, measured on the last batch of a 3-epoch run.
  const trainer = await Trainer.create({ config: resolveRunConfig({ epochs: 3 }), train, backend: fused });
  await trainer.run();
  const report = trainer.sparsityReport();
  await trainer.dispose();
  const widths = [...report.inputWidth, 10];
  let dense = 0;
  let sparse = 0;
  const last = report.inputNonZeros.length - 1;
  report.inputNonZeros.forEach((nonZeros, l) => {
    dense += 2 * widths[l] * widths[l + 1]; // forward and weight gradient
    sparse += nonZeros * widths[l + 1];
    // The first layer's weight gradient runs over its non-zero dZ (against every pixel), the others over
    // their non-zero inputs.
    sparse += l === 0 ? report.deltaNonZeros[0] * widths[0] : nonZeros * widths[l + 1];
    if (l > 0) {
      dense += widths[l] * widths[l + 1]; // input gradient
      // Hidden layers: a dot product over the outputs for each non-zero input; the output layer: its dZ's
      // non-zeros times Wᵀ.
      sparse += l < last ? nonZeros * widths[l + 1] : report.deltaNonZeros[l] * widths[l];
    }
  });
  process.stdout.write(
    `\nNon-zero inputs per sample by layer: ${report.inputNonZeros.map((n, l) => `${n.toFixed(0)} of ${report.inputWidth[l]}`).join(', ')}; ` +
      `non-zero dZ by layer: ${report.deltaNonZeros.map((n) => n.toFixed(0)).join(', ')}.\n` +
      `The sparse kernels do ${((100 * sparse) / dense).toFixed(1)}% of the dense multiply-adds (×${(dense / sparse).toFixed(2)} less work).\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`ablation: ${String(error)}\n`);
  process.exitCode = 1;
});
