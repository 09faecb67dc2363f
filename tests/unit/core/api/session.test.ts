import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BackendEvent, DEFAULT_SETTINGS, type RunSettings } from '../../../../src/core/api/contract';
import { StudioSession } from '../../../../src/core/api/session';
import { REAL_DATA_DIR, tempDir, writeTemp } from '../../../helpers/data';

const quick: RunSettings = { ...DEFAULT_SETTINGS, epochs: 2, limit: 2000, hiddenSizes: [64], validationFraction: 0.1 };

describe('studio session', () => {
  let dir: string;
  const events: BackendEvent[] = [];
  const session = new StudioSession({ emit: (event) => events.push(event), env: { FMNIST_DATA: REAL_DATA_DIR } });
  const count = (type: BackendEvent['type']): number => events.filter((e) => e.type === type).length;
  const epochsReported = (): number =>
    events.reduce((sum, e) => sum + (e.type === 'progress' ? e.progress.completedEpochs.length : 0), 0);

  beforeAll(async () => {
    dir = await tempDir('fmnist-session-');
  });

  it('finds the data on this machine and loads it', async () => {
    const state = await session.handle({ type: 'get-state' });
    expect(state.ok && state.state?.defaultData.directory).toBe(REAL_DATA_DIR);
    const loaded = await session.handle({ type: 'load-default-data' });
    expect(loaded.ok).toBe(true);
    const { train, test } = loaded.ok ? loaded.state!.datasets : { train: null, test: null };
    expect(train?.count).toBe(60000);
    expect(test?.count).toBe(10000);
    expect(train?.classCounts).toEqual(new Array(10).fill(6000));
    expect(Buffer.from(train!.samples, 'base64').length).toBe(20 * 784);
    expect(train!.sampleLabels).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('refuses a bad file with a message naming it and keeps the loaded data', async () => {
    const bad = await writeTemp(dir, 'broken.csv', `label,${'0,'.repeat(783)}0\n12,${'0,'.repeat(783)}0\n`);
    const response = await session.handle({ type: 'load-dataset', role: 'train', paths: [bad] });
    expect(response).toEqual({ ok: false, error: `${bad}: line 2, column 1: label "12" is not a class number 0–9` });
    const state = await session.handle({ type: 'get-state' });
    expect(state.ok && state.state?.datasets.train?.count).toBe(60000);
  });

  it('loads an IDX images and labels pair picked together, under any names', async () => {
    const images = join(dir, 'pictures.gz');
    const labels = join(dir, 'answers.gz');
    await copyFile(join(REAL_DATA_DIR, 't10k-images-idx3-ubyte.gz'), images);
    await copyFile(join(REAL_DATA_DIR, 't10k-labels-idx1-ubyte.gz'), labels);
    const response = await session.handle({ type: 'load-dataset', role: 'test', paths: [labels, images] });
    expect(response.ok && response.state?.datasets.test).toMatchObject({ count: 10000, source: images });
    const lonely = await session.handle({ type: 'load-dataset', role: 'test', paths: [images] });
    expect(lonely).toMatchObject({ ok: false, error: expect.stringMatching(/pictures\.gz: found no labels file beside it/) });
  });

  it('runs, refuses a second start and data loads meanwhile, pauses, resumes and finishes', async () => {
    events.length = 0;
    const started = await session.handle({ type: 'start', settings: quick, autosave: false, continue: false });
    expect(started.ok && started.state?.run).toMatchObject({ status: 'running', id: 1, trainingSamples: 1800, validationSamples: 200 });
    expect(await session.handle({ type: 'start', settings: quick, autosave: false, continue: false })).toEqual({ ok: false, error: 'a run is already in progress: stop it first' });
    expect(await session.handle({ type: 'load-default-data' })).toEqual({ ok: false, error: 'stop the training before loading data' });
    const paused = await session.handle({ type: 'pause' });
    expect(paused.ok && paused.state?.run.status).toBe('paused');
    const progressWhilePaused = count('progress');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(count('progress')).toBe(progressWhilePaused);
    expect(epochsReported()).toBeLessThan(2);
    expect((await session.handle({ type: 'resume' })).ok).toBe(true);
    await session.whenIdle();
    const state = await session.handle({ type: 'get-state' });
    const run = state.ok ? state.state!.run : null;
    expect(run?.status).toBe('finished');
    expect(run?.history).toHaveLength(2);
    expect(run?.history[1].validationAccuracy).toBeGreaterThan(0.5);
    expect(run?.history[1].testAccuracy).toBeGreaterThan(0.5);
    expect(epochsReported()).toBe(2);
    expect(run?.costPoints.length).toBe(2 * Math.ceil(Math.ceil(1800 / 128) / Math.ceil(Math.ceil(1800 / 128) / 100)));
  });

  it('stops a run between batches and starts the next one from scratch', async () => {
    await session.handle({ type: 'start', settings: { ...quick, epochs: 200 }, autosave: false, continue: false });
    const stopping = await session.handle({ type: 'stop' });
    expect(stopping.ok && ['stopping', 'stopped']).toContain(stopping.ok && stopping.state?.run.status);
    await session.whenIdle();
    const stopped = await session.handle({ type: 'get-state' });
    expect(stopped.ok && stopped.state?.run.status).toBe('stopped');
    expect(stopped.ok && stopped.state!.run.epochsDone).toBeLessThan(200);
    expect(await session.handle({ type: 'resume' })).toEqual({ ok: false, error: 'there is no paused training to resume' });
    const again = await session.handle({ type: 'start', settings: quick, autosave: false, continue: false });
    expect(again.ok && again.state?.run).toMatchObject({ id: 3, epochsDone: 0, history: [] });
    await session.whenIdle();
  });

  it('shuts down cleanly', async () => {
    await session.handle({ type: 'start', settings: { ...quick, epochs: 100 }, autosave: false, continue: false });
    await session.dispose();
    const state = await session.handle({ type: 'get-state' });
    expect(state.ok && state.state?.run.status).toBe('stopped');
  });
});

describe('studio session: models and checkpoints', () => {
  let dir: string;
  const events: BackendEvent[] = [];
  let session: StudioSession;
  const stateOf = async (s: StudioSession) => {
    const response = await s.handle({ type: 'get-state' });
    if (!response.ok) throw new Error(response.error);
    return response.state!;
  };
  const start = (s: StudioSession, settings: RunSettings, extra: { autosave?: boolean; continue?: boolean } = {}) =>
    s.handle({ type: 'start', settings, autosave: extra.autosave ?? false, continue: extra.continue ?? false });

  beforeAll(async () => {
    dir = await tempDir('fmnist-session-models-');
    session = new StudioSession({ emit: (event) => events.push(event), env: { FMNIST_DATA: REAL_DATA_DIR }, dataDirectory: join(dir, 'data') });
    await session.handle({ type: 'load-default-data' });
  });

  it('saves a checkpoint, loads it back with its settings and history, and evaluates to the same test accuracy', async () => {
    await start(session, quick);
    await session.whenIdle();
    const trained = await stateOf(session);
    expect(trained.model).toMatchObject({ architecture: '784-64-10', epochsDone: 2, resumable: true, file: null });
    const file = join(dir, 'saved.safetensors');
    expect((await session.handle({ type: 'save-checkpoint', path: file })).ok).toBe(true);

    const fresh = new StudioSession({ emit: () => {}, env: { FMNIST_DATA: REAL_DATA_DIR } });
    await fresh.handle({ type: 'load-default-data' });
    const loaded = await fresh.handle({ type: 'load-checkpoint', path: file });
    expect(loaded.ok).toBe(true);
    const state = await stateOf(fresh);
    expect(state.model).toMatchObject({ file, epochsDone: 2, resumable: true, settings: { ...quick, epochs: 2 } });
    expect(state.run.history.map((h) => h.testAccuracy)).toEqual(trained.run.history.map((h) => h.testAccuracy));
    expect(state.run.costPoints.length).toBe(trained.run.costPoints.length);
    expect(state.run.status).toBe('idle');
    const evaluated = await fresh.handle({ type: 'evaluate' });
    expect(evaluated.ok && evaluated.state?.evaluation).toMatchObject({ count: 10000, accuracy: trained.run.history[1].testAccuracy });
  });

  it('refuses a corrupt checkpoint and keeps the model it has', async () => {
    const before = await stateOf(session);
    const corrupt = await writeTemp(dir, 'corrupt.safetensors', new Uint8Array(100).fill(7));
    const response = await session.handle({ type: 'load-checkpoint', path: corrupt });
    expect(response).toEqual({ ok: false, error: `${corrupt}: is not a safetensors file (its header length is implausible)` });
    expect((await stateOf(session)).model).toEqual(before.model);
  });

  it('continues training the current model, refusing changed settings', async () => {
    const changed = await start(session, { ...quick, epochs: 3, seed: 9 }, { continue: true });
    expect(changed).toEqual({ ok: false, error: 'seed cannot change when resuming: the model was trained with 1, got 9' });
    const response = await start(session, { ...quick, epochs: 3 }, { continue: true });
    expect(response.ok && response.state?.run.history).toHaveLength(2);
    await session.whenIdle();
    const state = await stateOf(session);
    expect(state.run.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(state.model?.epochsDone).toBe(3);
  });

  it('exports ONNX and weights', async () => {
    const { readFile } = await import('node:fs/promises');
    const onnx = join(dir, 'm.onnx');
    const weights = join(dir, 'w.safetensors');
    expect((await session.handle({ type: 'export-model', format: 'onnx', path: onnx })).ok).toBe(true);
    expect((await session.handle({ type: 'export-model', format: 'safetensors', path: weights })).ok).toBe(true);
    expect((await readFile(onnx)).length).toBeGreaterThan(784 * 64 * 4);
    expect((await readFile(weights)).length).toBeGreaterThan(784 * 64 * 4);
  });

  it('autosaves every epoch and offers an unfinished run at the next start, with its data reloaded', async () => {
    const epochsReported = (): number =>
      events.reduce((sum, e) => sum + (e.type === 'progress' ? e.progress.completedEpochs.length : 0), 0);
    const epochsSeen = epochsReported();
    await start(session, { ...quick, epochs: 50 }, { autosave: true });
    await expect.poll(epochsReported, { timeout: 30_000 }).toBeGreaterThanOrEqual(epochsSeen + 2);
    await session.handle({ type: 'stop' });
    await session.whenIdle();
    const stoppedAt = (await stateOf(session)).run.epochsDone;

    // A new session, as after a restart, with other data loaded.
    const restarted = new StudioSession({ emit: () => {}, env: { FMNIST_DATA: REAL_DATA_DIR }, dataDirectory: join(dir, 'data') });
    const offered = await stateOf(restarted);
    expect(offered.autosave.pending).toMatchObject({ epochsDone: stoppedAt, epochs: 50, architecture: '784-64-10' });
    const resumed = await restarted.handle({ type: 'resume-autosave', autosave: true });
    expect(resumed.ok && resumed.state?.run).toMatchObject({ status: 'running', epochsDone: stoppedAt });
    expect(resumed.ok && resumed.state?.datasets.train?.count).toBe(60000);
    await restarted.handle({ type: 'stop' });
    await restarted.whenIdle();
    expect((await stateOf(restarted)).autosave.pending).toBeNull();

    const third = new StudioSession({ emit: () => {}, env: {}, dataDirectory: join(dir, 'data') });
    expect((await stateOf(third)).autosave.pending).not.toBeNull();
    expect((await third.handle({ type: 'discard-autosave' })).ok).toBe(true);
    const fourth = new StudioSession({ emit: () => {}, env: {}, dataDirectory: join(dir, 'data') });
    expect((await stateOf(fourth)).autosave.pending).toBeNull();
    await session.dispose();
  });
});
