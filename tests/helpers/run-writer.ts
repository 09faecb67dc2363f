/**
 * A child process for the runs-store tests, recording runs into the folder given as its first argument as a
 * trainer does (start, every epoch, end).
 *  - `run-writer FOLDER`: runs one after another, as fast as it can (every epoch rewrites a run's history and
 *    summary, and each run ends with a note), until it is killed; prints "recording" once the first exists.
 *  - `run-writer FOLDER --once EPOCHS`: one run of EPOCHS epochs; prints "started ID" once its record exists
 *    (so other processes can edit it meanwhile) and "ended" after its last write.
 * Bundled by the test with Vite, since Node cannot run TypeScript.
 */

import { resolveRunConfig } from '@core/shared/config';
import { StoreRecorder } from '@core/records/recorder';
import { RunStore } from '@core/records/store';
import type { EpochSummary } from '@core/shared/events';

const LOOP_EPOCHS = 40;

function epoch(n: number, epochs: number): EpochSummary {
  return {
    epoch: n,
    epochs,
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

/** Records one run of `epochs` epochs; `started` is called once its record exists. */
async function record(store: RunStore, name: string, epochs: number, started: (id: string) => void): Promise<string> {
  const recorder = new StoreRecorder(store, { origin: 'cli', name, checkpoint: null });
  await recorder.start({
    config: resolveRunConfig({ epochs, hiddenSizes: [16] }),
    data: { fingerprint: 'f'.repeat(16), sources: { train: ['/data/train.csv'], test: null }, history: null },
    kernels: 'typescript',
    threads: 1,
    trainingSamples: 100,
    validationSamples: 0,
    history: [],
  });
  started(recorder.id);
  for (let e = 1; e <= epochs; e++) await recorder.epoch(epoch(e, epochs));
  await recorder.end({ status: 'finished', error: null, summary: null });
  return recorder.id;
}

async function main(): Promise<void> {
  const [folder, mode, epochsText] = process.argv.slice(2);
  const store = new RunStore(folder);
  if (mode === '--once') {
    await record(store, '', Number(epochsText), (id) => process.stdout.write(`started ${id}\n`));
    process.stdout.write('ended\n');
    return;
  }
  for (let n = 0; ; n++) {
    const id = await record(store, `writer ${n}`, LOOP_EPOCHS, () => n === 0 && process.stdout.write('recording\n'));
    await store.edit(id, { note: `note of run ${n} `.repeat(200) });
  }
}

void main();
