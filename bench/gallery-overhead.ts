/**
 * What showing the model while it trains costs the training: the default network on the real data (60 000
 * training and 10 000 test images, 2 threads), timed per epoch by the wall clock between epochs, in three
 * variants, each run four times, interleaved (A B C A B C …), so drift of the machine falls on all of them:
 *
 *   A  the plain run (as the CLI trains): no test outputs kept, no weights copied
 *   B  the app's run: each epoch's test probabilities and weights kept for the gallery
 *   C  B with the gallery refreshed after every epoch: get-insight answered and cloned as IPC would
 *
 * Run with `npm run bench:gallery` (about 2 minutes). Prints the median seconds per epoch (first epoch of
 * each run left out: it compiles the kernels) and B and C relative to A.
 */

import { DEFAULT_SETTINGS, type RunSettings } from '@core/shared/contract';
import { StudioSession } from '@core/backend/session';
import { resolveRunConfig } from '@core/shared/config';
import { loadDataset } from '@core/data/load';
import { findDefaultData } from '@core/data/locate';
import { enableWasmFeatures } from '@core/engine/runtime';
import { TrainingRun } from '@core/training/training-run';
import { median } from '@core/median';

const EPOCHS = 4;
const ROUNDS = 4;
const THREADS = 2;

/** Seconds between consecutive epoch ends, the first epoch left out. */
function intervals(stamps: number[]): number[] {
  return stamps.slice(1).map((t, i) => (t - stamps[i]) / 1000);
}

async function plainOrKept(keepEpochModel: boolean, data: Awaited<ReturnType<typeof loadAll>>): Promise<number[]> {
  const stamps: number[] = [];
  const run = await TrainingRun.create({
    config: resolveRunConfig({ epochs: EPOCHS, threads: THREADS }),
    train: data.train,
    test: data.test,
    data: { fingerprint: null, sources: null, history: null },
    autosaveFiles: [],
    keepEpochModel,
    onEpoch: () => stamps.push(performance.now()),
  });
  try {
    await run.run();
  } finally {
    await run.dispose();
  }
  return intervals(stamps);
}

async function withGallery(): Promise<number[]> {
  const stamps: number[] = [];
  let asking: Promise<unknown> = Promise.resolve();
  const session: StudioSession = new StudioSession({
    emit: (event) => {
      if (event.type !== 'progress' || event.progress.completedEpochs.length === 0) return;
      stamps.push(performance.now());
      // As the window does when it asks for the newest epoch: the answer is copied as IPC copies it.
      asking = asking.then(async () => structuredClone(await session.handle({ type: 'get-insight' })));
    },
  });
  await session.handle({ type: 'load-default-data' });
  const settings: RunSettings = { ...DEFAULT_SETTINGS, epochs: EPOCHS, threads: THREADS };
  const started = await session.handle({
    type: 'start',
    settings,
    autosave: false,
    continue: false,
    allowOtherData: false,
  });
  if (!started.ok) throw new Error(started.error);
  await session.whenIdle();
  await asking;
  await session.dispose();
  return intervals(stamps);
}

async function loadAll() {
  const located = await findDefaultData();
  const [train, test] = await Promise.all([
    loadDataset(located.train, { requireLabels: true }),
    loadDataset(located.test!, { requireLabels: true }),
  ]);
  return { train, test };
}

async function main(): Promise<void> {
  enableWasmFeatures();
  const data = await loadAll();
  const seconds: Record<'A' | 'B' | 'C', number[]> = { A: [], B: [], C: [] };
  for (let round = 0; round < ROUNDS; round++) {
    seconds.A.push(...(await plainOrKept(false, data)));
    seconds.B.push(...(await plainOrKept(true, data)));
    seconds.C.push(...(await withGallery()));
  }
  const a = median(seconds.A);
  const line = (name: string, values: number[]): string => {
    const m = median(values);
    return `${name.padEnd(58)} ${m.toFixed(3).padStart(7)} s/epoch  ${((m / a - 1) * 100).toFixed(1).padStart(5)}%`;
  };
  process.stdout.write(
    [
      line('A plain run (as the CLI trains)', seconds.A),
      line('B the app: test outputs and weights kept each epoch', seconds.B),
      line('C the app with the gallery refreshed after every epoch', seconds.C),
      `(medians of ${seconds.A.length} epochs each; the last column is the difference from A)`,
    ].join('\n') + '\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`gallery-overhead: ${String(error)}\n`);
  process.exitCode = 1;
});
