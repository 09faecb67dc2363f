/**
 * The app's runs: every run the session trains is recorded with its own checkpoint; the page lists them, reads
 * their histories, renames, annotates and deletes them (or only their files), and opens a run's checkpoint
 * (only while the file holds that run's model). Expected values come from the session's own state (its run
 * history) and from the files.
 */

import { copyFile, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type BackendEvent,
  DEFAULT_SETTINGS,
  type RunListing,
  type RunSettings,
  type StudioState,
} from '@core/shared/contract';
import { StudioSession } from '@core/backend/session';
import { loadCheckpoint } from '@core/checkpoint/checkpoint';
import { HOST_NAME } from '@core/records/liveness';
import { RunStore } from '@core/records/store';
import { randomDataset, tempDir, toKaggleCsv, writeTemp } from '../../../helpers/data';

const quick: RunSettings = { ...DEFAULT_SETTINGS, epochs: 2, hiddenSizes: [16], batchSize: 64 };

async function stateOf(session: StudioSession): Promise<StudioState> {
  const response = await session.handle({ type: 'get-state' });
  if (!response.ok) throw new Error(response.error);
  return response.state;
}

async function listing(session: StudioSession): Promise<RunListing> {
  const response = await session.handle({ type: 'list-runs' });
  if (!response.ok) throw new Error(response.error);
  return response.runs;
}

describe('the session records every run', () => {
  let dir: string;
  let session: StudioSession;
  const events: BackendEvent[] = [];
  /** The histories of the two runs as the session's state gave them after each run. */
  const histories: StudioState['run']['history'][] = [];

  const train = async (settings: RunSettings, autosaveOn = true): Promise<void> => {
    const started = await session.handle({
      type: 'start',
      settings,
      autosave: autosaveOn,
      continue: false,
      allowOtherData: false,
    });
    if (!started.ok) throw new Error(started.error);
    await session.whenIdle();
  };

  beforeAll(async () => {
    dir = await tempDir('fmnist-session-runs-');
    session = new StudioSession({
      emit: (event) => events.push(event),
      env: {},
      dataDirectory: join(dir, 'data'),
      runsDirectory: join(dir, 'data', 'runs'),
    });
    const trainCsv = await writeTemp(dir, 'train.csv', toKaggleCsv(randomDataset(500, 21)));
    const testCsv = await writeTemp(dir, 'test.csv', toKaggleCsv(randomDataset(200, 22)));
    expect((await session.handle({ type: 'load-dataset', role: 'train', paths: [trainCsv] })).ok).toBe(true);
    expect((await session.handle({ type: 'load-dataset', role: 'test', paths: [testCsv] })).ok).toBe(true);
    for (const learningRate of [0.001, 0.01]) {
      await train({ ...quick, learningRate });
      histories.push((await stateOf(session)).run.history);
    }
  });

  it('lists the runs with their settings, results and their own checkpoint, which holds their model', async () => {
    const { folder, runs, damaged, warnings } = await listing(session);
    expect(folder).toBe(join(dir, 'data', 'runs'));
    expect(warnings).toEqual([]);
    expect(damaged).toEqual([]);
    expect(runs).toHaveLength(2);
    for (const [i, run] of runs.entries()) {
      const history = histories[i]!;
      const own = join(dir, 'data', 'runs', run.id, 'last.safetensors');
      expect(run).toMatchObject({
        status: 'finished',
        origin: 'app',
        checkpoint: own,
        trainingSamples: 500,
        resumedFrom: null,
      });
      expect(run.files).toEqual({ last: own, best: null, bytes: (await stat(own)).size });
      expect((await loadCheckpoint(own)).history).toEqual(history);
      expect(run.config.learningRate).toBe([0.001, 0.01][i]);
      expect(run.metrics.finalTestAccuracy).toBe(history[1].testAccuracy);
      expect(run.metrics.bestTestAccuracy).toBe(Math.max(history[0].testAccuracy!, history[1].testAccuracy!));
      expect(run.data.sources).toEqual({ train: [join(dir, 'train.csv')], test: [join(dir, 'test.csv')] });
    }
    const response = await session.handle({ type: 'get-run-history', ids: runs.map((run) => run.id) });
    expect(response.ok && response.runHistories).toEqual({
      histories: { [runs[0].id]: histories[0], [runs[1].id]: histories[1] },
      warnings: [],
    });
  });

  it('opens the checkpoint of each run, a later run having replaced nothing; says when a file no longer holds its run', async () => {
    const [first, second] = (await listing(session)).runs;
    for (const [i, run] of [first, second].entries()) {
      expect((await session.handle({ type: 'open-run-checkpoint', id: run.id })).ok).toBe(true);
      const state = await stateOf(session);
      expect(state.model).toMatchObject({
        file: run.files!.last,
        epochsDone: 2,
        settings: { ...quick, learningRate: [0.001, 0.01][i] },
      });
      expect(state.run.history).toEqual(histories[i]);
    }
    // A file written over by hand with another run's model is refused, naming the run (named after the settings it
    // changed from the defaults: hidden 16, batch 64, 2 epochs; its rate, 0.001, is the default).
    const own = first.files!.last!;
    const original = await readFile(own);
    await copyFile(second.files!.last!, own);
    expect(await session.handle({ type: 'open-run-checkpoint', id: first.id })).toEqual({
      ok: false,
      error:
        `${own}: no longer holds the model of run "hidden 16 · batch 64 · 2 epochs" ` +
        '(2 epochs of another run were saved over it)',
    });
    await writeFile(own, original);
  });

  it('keeps the model of a run without autosave too, notes copies saved elsewhere (not a download’s), and deletes its files on request', async () => {
    await train({ ...quick, learningRate: 0.003, epochs: 1 }, false);
    const third = (await listing(session)).runs[2];
    expect(third.checkpoint).toBe(third.files!.last);
    expect((await loadCheckpoint(third.files!.last!)).config?.learningRate).toBe(0.003);
    const download = join(dir, 'download.safetensors');
    expect((await session.handle({ type: 'save-checkpoint', path: download, download: true })).ok).toBe(true);
    expect((await listing(session)).runs[2].copies).toBeUndefined();
    const kept = join(dir, 'third.safetensors');
    expect((await session.handle({ type: 'save-checkpoint', path: kept })).ok).toBe(true);
    expect((await listing(session)).runs[2].copies).toEqual([kept]);
    // Its own files deleted, the record stays; the copy saved elsewhere still opens as the run's model.
    const emptied = await session.handle({ type: 'delete-run-files', ids: [third.id] });
    expect(emptied.ok && emptied.runs?.runs[2]).toMatchObject({ id: third.id, files: null });
    expect((await session.handle({ type: 'open-run-checkpoint', id: third.id })).ok).toBe(true);
    expect((await stateOf(session)).model?.file).toBe(kept);
    await rm(kept);
    expect(await session.handle({ type: 'open-run-checkpoint', id: third.id })).toEqual({
      ok: false,
      error:
        `${third.checkpoint}: the checkpoint of run "hidden 16 · lr 0.003 · batch 64 · 1 epoch" ` +
        'is missing (moved or deleted)',
    });
  });

  it('renames, annotates and deletes runs; a run still training cannot be deleted', async () => {
    const [first] = (await listing(session)).runs;
    const renamed = await session.handle({ type: 'rename-run', id: first.id, name: 'slow\nlearner' });
    expect(renamed.ok && renamed.run).toMatchObject({ id: first.id, name: 'slow learner' });
    const noted = await session.handle({ type: 'note-run', id: first.id, note: 'lr 0.001 is too slow for 2 epochs' });
    expect(noted.ok && noted.run?.note).toBe('lr 0.001 is too slow for 2 epochs');
    // Kept in the run's journal, read back by every process.
    expect(await new RunStore(join(dir, 'data', 'runs')).get(first.id)).toMatchObject({
      name: 'slow learner',
      note: 'lr 0.001 is too slow for 2 epochs',
    });

    const started = await session.handle({
      type: 'start',
      settings: { ...quick, epochs: 100_000 },
      autosave: false,
      continue: false,
      allowOtherData: false,
    });
    expect(started.ok).toBe(true);
    // The run's record appears once it is training.
    await expect
      .poll(async () => (await listing(session)).runs.find((run) => run.status === 'running')?.id ?? null)
      .not.toBeNull();
    const running = (await listing(session)).runs.find((run) => run.status === 'running')!;
    expect(await session.handle({ type: 'delete-runs', ids: [running.id] })).toEqual({
      ok: false,
      error: `run ${running.id} is still training: stop it before deleting it`,
    });
    await session.handle({ type: 'stop' });
    await session.whenIdle();
    expect((await listing(session)).runs.find((run) => run.id === running.id)?.status).toBe('stopped');

    const deleted = await session.handle({ type: 'delete-runs', ids: [first.id, running.id] });
    expect(deleted.ok && deleted.runs?.runs.map((run) => run.id)).not.toContain(first.id);
    expect(deleted.ok && deleted.runs?.runs).toHaveLength(2);
    // Its files went with it.
    await expect(stat(join(dir, 'data', 'runs', first.id))).rejects.toThrow(/ENOENT/);
    expect(await session.handle({ type: 'rename-run', id: first.id, name: 'x' })).toEqual({
      ok: false,
      error: `there is no run ${first.id} in ${join(dir, 'data', 'runs')}`,
    });
    const missing = await session.handle({ type: 'get-run-history', ids: [first.id] });
    expect(missing.ok && missing.runHistories).toEqual({ histories: { [first.id]: [] }, warnings: [] });
  });

  it('pauses a run asked to pause at once (recording its start does not hold the trainer back)', async () => {
    events.length = 0;
    const started = await session.handle({
      type: 'start',
      settings: { ...quick, epochs: 100_000 },
      autosave: false,
      continue: false,
      allowOtherData: false,
    });
    expect(started.ok).toBe(true);
    const paused = await session.handle({ type: 'pause' });
    expect(paused.ok && paused.state?.run.status).toBe('paused');
    const progress = (): number => events.filter((event) => event.type === 'progress').length;
    const seen = progress();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(progress()).toBe(seen);
    // Its record exists all the same, as running (a paused run is still going).
    await expect.poll(async () => (await listing(session)).runs.at(-1)?.status).toBe('running');
    await session.handle({ type: 'stop' });
    await session.whenIdle();
  });

  it('says when a run cannot be recorded, and goes on training', async () => {
    const blocked = await writeTemp(dir, 'not-a-folder', 'x');
    const seen: BackendEvent[] = [];
    const failing = new StudioSession({
      emit: (event) => seen.push(event),
      env: {},
      runsDirectory: join(blocked, 'runs'),
    });
    await failing.handle({ type: 'load-dataset', role: 'train', paths: [join(dir, 'train.csv')] });
    expect(
      (
        await failing.handle({
          type: 'start',
          settings: quick,
          autosave: false,
          continue: false,
          allowOtherData: false,
        })
      ).ok,
    ).toBe(true);
    await failing.whenIdle();
    expect((await stateOf(failing)).run).toMatchObject({ status: 'finished', epochsDone: 2 });
    const notices = seen.filter((event) => event.type === 'notice');
    expect(notices).toEqual([
      {
        type: 'notice',
        tone: 'error',
        message: `The run cannot be recorded: ${join(blocked, 'runs')}: a part of this path is not a directory. Training goes on.`,
      },
    ]);
  });
});

describe('a session without a runs folder', () => {
  it('lists no runs and refuses to change any', async () => {
    const session = new StudioSession({ emit: () => {}, env: {} });
    expect(await session.handle({ type: 'list-runs' })).toEqual({
      ok: true,
      runs: { folder: null, host: HOST_NAME, runs: [], damaged: [], warnings: [] },
    });
    expect(await session.handle({ type: 'rename-run', id: '20261125-143012-ab12', name: 'x' })).toEqual({
      ok: false,
      error: 'runs are not recorded here (the app has no data folder)',
    });
    expect(await session.handle({ type: 'open-run-checkpoint', id: '20261125-143012-ab12' })).toEqual({
      ok: false,
      error: 'runs are not recorded here (the app has no data folder)',
    });
  });
});

describe('a run that keeps its best epoch', () => {
  it('keeps its last and its best epoch, records and saves the kept model, which is finished: not resumable, not offered to continue', async () => {
    const dir = await tempDir('fmnist-session-best-');
    const session = new StudioSession({
      emit: () => undefined,
      env: {},
      dataDirectory: join(dir, 'data'),
      runsDirectory: join(dir, 'data', 'runs'),
    });
    // Random labels: the validation cost is lowest early and worse after, so an earlier epoch is kept.
    const trainCsv = await writeTemp(dir, 'train.csv', toKaggleCsv(randomDataset(400, 31)));
    expect((await session.handle({ type: 'load-dataset', role: 'train', paths: [trainCsv] })).ok).toBe(true);
    const settings: RunSettings = {
      ...quick,
      epochs: 12,
      learningRate: 0.01,
      validationFraction: 0.3,
      restoreBest: true,
    };
    expect(
      (await session.handle({ type: 'start', settings, autosave: true, continue: false, allowOtherData: false })).ok,
    ).toBe(true);
    await session.whenIdle();
    const state = await stateOf(session);
    const [run] = (await listing(session)).runs;
    const history = await new RunStore(join(dir, 'data', 'runs')).history(run.id);
    const costs = history.map((epoch) => epoch.validationCost!);
    const best = costs.indexOf(Math.min(...costs)) + 1;
    expect(history).toHaveLength(12);
    expect(best).toBeLessThan(12);
    expect(state.run.outcome).toBe(`Kept the model of epoch ${best}, the one with the lowest validation cost.`);
    expect(state.model).toMatchObject({ epochsDone: best, resumable: false });
    // The run's best file holds the kept model, marked finished, and the run's record opens it; its last file
    // holds the last epoch trained.
    expect(run.files).toMatchObject({
      best: join(dir, 'data', 'runs', run.id, 'best.safetensors'),
      last: join(dir, 'data', 'runs', run.id, 'last.safetensors'),
    });
    expect(run.checkpoint).toBe(run.files!.best);
    const saved = await loadCheckpoint(run.files!.best!);
    expect(saved).toMatchObject({ epochsDone: best, finishedEarly: true });
    expect((await loadCheckpoint(run.files!.last!)).epochsDone).toBe(12);
    expect((await session.handle({ type: 'open-run-checkpoint', id: run.id })).ok).toBe(true);
    expect((await stateOf(session)).model).toMatchObject({ file: run.files!.best, resumable: false });
    // A checkpoint saved from the app keeps the early-stopping memory and the mark.
    const file = join(dir, 'best.safetensors');
    expect((await session.handle({ type: 'save-checkpoint', path: file })).ok).toBe(true);
    const kept = await loadCheckpoint(file);
    expect(kept.finishedEarly).toBe(true);
    expect(kept.optimizer?.best).toMatchObject({ epoch: best, validationCost: costs[best - 1], state: null });
    expect(kept.parameters.weights).toEqual(saved.parameters.weights);
    // Continuing would replay the same epochs: refused in one line.
    expect(
      await session.handle({
        type: 'start',
        settings: { ...settings, epochs: 20 },
        autosave: true,
        continue: true,
        allowOtherData: false,
      }),
    ).toEqual({
      ok: false,
      error: `the model: the run finished after epoch ${best} (its best epoch was kept), so it has nothing left to train: start a new run`,
    });
  });
});
