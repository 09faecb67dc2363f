/**
 * The host of the training worker, with the real built worker: when the worker dies (killed while idle,
 * mid-run, or while saving), waiting requests are answered, a fresh worker gets the data and the model back
 * (from the file that holds it) before anything else runs, the window sees one failed state (no flicker)
 * that says what was restored or lost, and closing the host answers what was still waiting.
 */

import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type BackendEvent,
  DEFAULT_SETTINGS,
  type Response,
  type RunSettings,
  type StudioState,
} from '@core/shared/contract';
import { loadCheckpoint } from '@core/checkpoint/checkpoint';
import { BackendHost } from '../../../src/worker/backend-host';
import { builtFile, REAL_DATA_DIR, tempDir } from '../../helpers/data';
import { bareStateDict } from '../../helpers/safetensors';

type Worker = { postMessage(value: unknown): void; terminate(): Promise<number> };

const small: RunSettings = { ...DEFAULT_SETTINGS, limit: 3000, hiddenSizes: [32], threads: 1 };
const start = (host: BackendHost, settings: RunSettings, autosave: boolean): Promise<Response> =>
  host.request({ type: 'start', settings, autosave, continue: false, allowOtherData: false });

async function newHost(runs = 'runs'): Promise<{
  host: BackendHost;
  events: BackendEvent[];
  dataFolder: string;
  states: () => StudioState[];
  worker: () => Worker;
}> {
  process.env.FMNIST_DATA = REAL_DATA_DIR;
  const events: BackendEvent[] = [];
  const dataFolder = await tempDir('fmnist-host-data-');
  const host = new BackendHost(
    builtFile('out/node/worker.js'),
    (event) => events.push(event),
    () => ({
      dataDirectory: dataFolder,
      runsDirectory: join(dataFolder, runs),
    }),
  );
  const states = (): StudioState[] =>
    events.filter((e): e is Extract<BackendEvent, { type: 'state' }> => e.type === 'state').map((e) => e.state);
  // The host's worker, to simulate faults.
  const worker = (): Worker => (host as unknown as { worker: Worker }).worker;
  return { host, events, dataFolder, states, worker };
}

const epochsIn = (events: BackendEvent[]): number =>
  events.reduce((sum, e) => sum + (e.type === 'progress' ? e.progress.completedEpochs.length : 0), 0);

let hosts: BackendHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.map((h) => h.dispose()));
  hosts = [];
});

describe('backend host', () => {
  it('after a worker killed mid-run, answers what waited, restores the data and the run from its autosave, and says so once', async () => {
    const { host, events, dataFolder, states, worker } = await newHost();
    hosts.push(host);
    expect((await host.request({ type: 'load-default-data' })).ok).toBe(true);
    expect((await start(host, { ...small, epochs: 500 }, true)).ok).toBe(true);
    await expect.poll(() => epochsIn(events), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    // The run autosaves to its own checkpoint in the runs folder.
    const autosave = states().findLast((state) => state.run.autosaveFile)!.run.autosaveFile!;
    expect(autosave.startsWith(join(dataFolder, 'runs'))).toBe(true);
    // Written after the first epoch, beside the training.
    await expect.poll(() => existsSync(autosave), { timeout: 30_000 }).toBe(true);
    const kept = (await loadCheckpoint(autosave)).epochsDone;
    const before = events.length;
    // The worker is told to stop before the request is sent, so it can never answer it.
    const dying = worker().terminate();
    const waiting = host.request({ type: 'pause' });
    await dying;
    expect(await waiting).toEqual({
      ok: false,
      error: 'training failed: the training worker stopped unexpectedly (exit code 1).',
    });

    // A request while the fresh worker gets the data back waits for it, then sees everything in place.
    const state = await host.request({ type: 'get-state' });
    const restored = state.ok ? state.state : null;
    expect(restored?.datasets.train?.count).toBe(60000);
    expect(restored?.datasets.test?.count).toBe(10000);
    const epochsAtCrash = epochsIn(events);
    expect(restored?.model).toMatchObject({ file: autosave, epochsDone: expect.any(Number) });
    // The autosave's epoch: the last one written (at most a few seconds behind the training).
    const restoredEpochs = restored!.model!.epochsDone ?? 0;
    expect(restoredEpochs).toBeGreaterThanOrEqual(kept);
    expect(restoredEpochs).toBeLessThanOrEqual(epochsAtCrash);
    expect(restored?.run).toMatchObject({
      status: 'failed',
      error:
        'training failed: the training worker stopped unexpectedly (exit code 1). ' +
        `The data was reloaded; the run was restored from its autosave after epoch ${restoredEpochs}` +
        (restoredEpochs < epochsAtCrash
          ? ` (the ${epochsAtCrash - restoredEpochs} epoch${epochsAtCrash - restoredEpochs === 1 ? '' : 's'} after it had not been saved yet).`
          : '.'),
    });
    // The window saw the failure, then the restored state: never an idle state in between.
    const after = events
      .slice(before)
      .filter((e): e is Extract<BackendEvent, { type: 'state' }> => e.type === 'state')
      .map((e) => e.state.run.status);
    expect(after).toEqual(['failed', 'failed']);

    // A new run clears the failure.
    expect((await start(host, { ...small, epochs: 1 }, false)).ok).toBe(true);
    await expect.poll(() => states().at(-1)?.run.status, { timeout: 30_000 }).toBe('finished');
    expect(states().at(-1)?.run.error).toBeNull();
  });

  it('says what was lost when nothing held the model: a run without autosave', async () => {
    const { host, events, worker } = await newHost();
    hosts.push(host);
    await host.request({ type: 'load-default-data' });
    await start(host, { ...small, epochs: 500 }, false);
    await expect.poll(() => epochsIn(events), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    await worker().terminate();
    const state = await host.request({ type: 'get-state' });
    expect(state.ok && state.state?.model).toBeNull();
    expect(state.ok && state.state?.run.error).toMatch(
      /^training failed: the training worker stopped unexpectedly \(exit code 1\)\. The data was reloaded; the run's model \(\d+ epochs?\) was not saved and is lost \(autosave was off\)\.$/,
    );
  });

  it('gives back the model a run continued, without the run’s epochs, when autosave was off', async () => {
    const { host, events, worker, dataFolder } = await newHost();
    hosts.push(host);
    await host.request({ type: 'load-default-data' });
    const start1 = await start(host, { ...small, epochs: 1 }, false);
    expect(start1.ok).toBe(true);
    const saved = join(dataFolder, 'first.safetensors');
    await expect
      .poll(async () => (await host.request({ type: 'save-checkpoint', path: saved })).ok, { timeout: 30_000 })
      .toBe(true);
    expect((await host.request({ type: 'load-checkpoint', path: saved })).ok).toBe(true);
    const before = epochsIn(events);
    expect(
      (
        await host.request({
          type: 'start',
          settings: { ...small, epochs: 500 },
          autosave: false,
          continue: true,
          allowOtherData: false,
        })
      ).ok,
    ).toBe(true);
    await expect.poll(() => epochsIn(events), { timeout: 30_000 }).toBeGreaterThanOrEqual(before + 2);
    await worker().terminate();
    const state = await host.request({ type: 'get-state' });
    expect(state.ok && state.state?.model).toMatchObject({ file: saved, epochsDone: 1 });
    expect(state.ok && state.state?.run.error).toMatch(
      new RegExp(
        `^training failed: the training worker stopped unexpectedly \\(exit code 1\\)\\. The data was reloaded; the model was restored from ${saved.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, without the run's \\d+ epochs \\(autosave was off\\)\\.$`,
      ),
    );
  });

  it('says the run’s autosave could not be read when its file is damaged at the crash', async () => {
    const { host, events, worker, states } = await newHost();
    hosts.push(host);
    await host.request({ type: 'load-default-data' });
    await start(host, { ...small, epochs: 500 }, true);
    await expect.poll(() => epochsIn(events), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    const autosave = states().findLast((state) => state.run.autosaveFile)!.run.autosaveFile!;
    // Paused (answered once the run waits and its autosave holds the last whole epoch), so nothing writes the
    // file again; damaged; then the worker dies.
    expect((await host.request({ type: 'pause' })).ok).toBe(true);
    await writeFile(autosave, 'not a checkpoint any more');
    await worker().terminate();
    const state = await host.request({ type: 'get-state' });
    expect(state.ok && state.state?.run.error).toMatch(
      new RegExp(
        `^training failed: the training worker stopped unexpectedly \\(exit code 1\\)\\. The data was reloaded; the run's model \\(\\d+ epochs\\) was not saved and is lost \\(its autosave could not be read: ${autosave.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is not a safetensors file.*\\)\\.$`,
      ),
    );
  });

  it('says why the epochs of a run whose autosave was on but failing are lost (not that autosave was off)', async () => {
    const { host, events, worker, dataFolder } = await newHost('blocked/runs');
    hosts.push(host);
    await writeFile(join(dataFolder, 'blocked'), 'a file where the runs folder should be');
    await host.request({ type: 'load-default-data' });
    await start(host, { ...small, epochs: 500 }, true);
    await expect.poll(() => epochsIn(events), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    await expect
      .poll(
        async () =>
          ((await host.request({ type: 'get-state' })) as { state?: StudioState }).state?.autosave.failure ?? null,
        { timeout: 30_000 },
      )
      .not.toBeNull();
    await worker().terminate();
    const state = await host.request({ type: 'get-state' });
    expect(state.ok && state.state?.model).toBeNull();
    expect(state.ok && state.state?.run.error).toMatch(
      /^training failed: the training worker stopped unexpectedly \(exit code 1\)\. The data was reloaded; the run's model \(\d+ epochs?\) was not saved and is lost \(its autosave had failed: .*not a directory\)\.$/,
    );
  });

  it('after a worker killed while idle, gives back the model from the checkpoint it was loaded from', async () => {
    const { host, worker, dataFolder } = await newHost();
    hosts.push(host);
    await host.request({ type: 'load-default-data' });
    await start(host, { ...small, epochs: 1 }, false);
    const saved = join(dataFolder, 'model.safetensors');
    // Saving is refused while the run ends; retry until it is over.
    await expect
      .poll(async () => (await host.request({ type: 'save-checkpoint', path: saved })).ok, { timeout: 30_000 })
      .toBe(true);
    await worker().terminate();
    const state = await host.request({ type: 'get-state' });
    expect(state.ok && state.state?.model).toMatchObject({ file: saved, epochsDone: 1 });
    expect(state.ok && state.state?.run.error).toBe(
      `the backend failed: the training worker stopped unexpectedly (exit code 1). The data was reloaded; the model was restored from ${saved}.`,
    );
  });

  it('survives the worker dying while saving: the old file stays whole, and the request is answered', async () => {
    const { host, worker, dataFolder } = await newHost();
    hosts.push(host);
    await host.request({ type: 'load-default-data' });
    await start(host, { ...DEFAULT_SETTINGS, epochs: 1, limit: 2000, threads: 1 }, false);
    const target = join(dataFolder, 'big.safetensors');
    await expect
      .poll(async () => (await host.request({ type: 'save-checkpoint', path: target })).ok, { timeout: 60_000 })
      .toBe(true);
    const good = await loadCheckpoint(target);
    const saving = host.request({ type: 'save-checkpoint', path: target });
    await worker().terminate();
    const answer = await saving;
    // Either the save finished before the kill, or it was cut off: the file is a whole checkpoint either way.
    if (!answer.ok) expect(answer.error).toMatch(/stopped unexpectedly/);
    expect((await loadCheckpoint(target)).parameters.weights).toEqual(good.parameters.weights);
    expect(existsSync(target)).toBe(true);
  });

  it('says what was lost when the file a loaded model came from is gone, and no more than the failure when nothing was there', async () => {
    const { host, worker, dataFolder } = await newHost();
    hosts.push(host);
    // Nothing loaded: nothing to say beyond the failure.
    expect((await host.request({ type: 'get-state' })).ok).toBe(true);
    await worker().terminate();
    const empty = await host.request({ type: 'get-state' });
    expect(empty.ok && empty.state?.run.error).toBe(
      'the backend failed: the training worker stopped unexpectedly (exit code 1).',
    );

    const file = join(dataFolder, 'bare.safetensors');
    await writeFile(
      file,
      bareStateDict(8, (_layer, kind, i) => (kind === 'bias' ? 0 : ((i % 5) - 2) / 50)),
    );
    expect((await host.request({ type: 'load-checkpoint', path: file })).ok).toBe(true);
    await rm(file);
    await worker().terminate();
    const lost = await host.request({ type: 'get-state' });
    expect(lost.ok && lost.state?.model).toBeNull();
    expect(lost.ok && lost.state?.run.error).toBe(
      'the backend failed: the training worker stopped unexpectedly (exit code 1). The model (784-8-10, training unknown) was not saved and is lost.',
    );

    // Only data: it comes back, and no model is mentioned.
    expect((await host.request({ type: 'load-default-data' })).ok).toBe(true);
    await worker().terminate();
    const restored = await host.request({ type: 'get-state' });
    expect(restored.ok && restored.state?.datasets.test?.count).toBe(10000);
    expect(restored.ok && restored.state?.run.error).toBe(
      'the backend failed: the training worker stopped unexpectedly (exit code 1). The data was reloaded.',
    );
  });

  it('says in one line when no worker can start, and does not try again until asked', async () => {
    // A relative path is refused when the worker is created; a missing file only once it runs.
    const refused = new BackendHost('no-such-worker.js', () => {});
    hosts.push(refused);
    const answer = await refused.request({ type: 'get-state' });
    expect(!answer.ok && answer.error).toMatch(/^the training worker could not be started: .*no-such-worker\.js/);
    expect(refused.hasWorker()).toBe(false);

    const missing = new BackendHost(join(await tempDir('fmnist-host-'), 'missing-worker.js'), () => {});
    hosts.push(missing);
    const first = await missing.request({ type: 'get-state' });
    expect(!first.ok && first.error).toMatch(/^the backend failed: .*missing-worker\.js/);
    // It never answered, so it is not started again on its own: no loop of failing starts.
    expect(missing.hasWorker()).toBe(false);
    const second = await missing.request({ type: 'get-state' });
    expect(!second.ok && second.error).toMatch(/missing-worker\.js/);
  });

  it('answers requests still waiting when it is closed, and refuses new ones', async () => {
    const { host } = await newHost();
    const loading = host.request({ type: 'load-default-data' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await host.dispose();
    expect(await loading).toEqual({ ok: false, error: 'the app is closing' });
    expect(await host.request({ type: 'get-state' })).toEqual({ ok: false, error: 'the app is closing' });
  });
});
