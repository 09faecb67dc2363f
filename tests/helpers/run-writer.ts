/**
 * A child process for the runs-store tests: records runs into the folder given as its argument, in a loop,
 * as fast as it can (every epoch rewrites a run's history and summary), until it is killed. It prints
 * "recording" once the first record exists. Bundled by the test with Vite, since Node cannot run TypeScript.
 */

import { resolveRunConfig } from '../../src/core/config';
import { StoreRecorder } from '../../src/core/runs/recorder';
import { RunStore } from '../../src/core/runs/store';
import type { EpochSummary } from '../../src/core/train/events';

const EPOCHS = 40;

function epoch(n: number): EpochSummary {
  return {
    epoch: n,
    epochs: EPOCHS,
    cost: 1 / n,
    trainAccuracy: 1 - 1 / (n + 1),
    validationCost: null,
    validationAccuracy: null,
    testCost: 1.1 / n,
    testAccuracy: 1 - 1.1 / (n + 1),
    seconds: 0.01,
    evaluationSeconds: 0.001,
    samplesPerSecond: 10_000,
  };
}

async function main(): Promise<void> {
  const store = new RunStore(process.argv[2]);
  for (let n = 0; ; n++) {
    const recorder = new StoreRecorder(store, { origin: 'cli', name: `writer ${n}`, checkpoint: null });
    await recorder.start({
      config: resolveRunConfig({ epochs: EPOCHS, hiddenSizes: [16] }),
      data: { fingerprint: 'f'.repeat(16), sources: { train: ['/data/train.csv'], test: null }, history: null },
      kernels: 'typescript',
      threads: 1,
      trainingSamples: 100,
      validationSamples: 0,
      history: [],
    });
    if (n === 0) process.stdout.write('recording\n');
    for (let e = 1; e <= EPOCHS; e++) await recorder.epoch(epoch(e));
    await recorder.end({ status: 'finished', error: null, summary: null });
    await store.edit(recorder.id!, { note: `note of run ${n} `.repeat(200) });
  }
}

void main();
