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
    const started = await session.handle({ type: 'start', settings: quick });
    expect(started.ok && started.state?.run).toMatchObject({ status: 'running', id: 1, trainingSamples: 1800, validationSamples: 200 });
    expect(await session.handle({ type: 'start', settings: quick })).toEqual({ ok: false, error: 'a run is already in progress: stop it first' });
    expect(await session.handle({ type: 'load-default-data' })).toEqual({ ok: false, error: 'stop the training before loading other data' });
    const paused = await session.handle({ type: 'pause' });
    expect(paused.ok && paused.state?.run.status).toBe('paused');
    const progressWhilePaused = count('progress');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(count('progress')).toBe(progressWhilePaused);
    expect(count('epoch')).toBeLessThan(2);
    expect((await session.handle({ type: 'resume' })).ok).toBe(true);
    await session.whenIdle();
    const state = await session.handle({ type: 'get-state' });
    const run = state.ok ? state.state!.run : null;
    expect(run?.status).toBe('finished');
    expect(run?.history).toHaveLength(2);
    expect(run?.history[1].validationAccuracy).toBeGreaterThan(0.5);
    expect(run?.history[1].testAccuracy).toBeGreaterThan(0.5);
    expect(count('epoch')).toBe(2);
    expect(run?.costPoints.length).toBe(2 * Math.ceil(Math.ceil(1800 / 128) / Math.ceil(Math.ceil(1800 / 128) / 100)));
  });

  it('stops a run between batches and starts the next one from scratch', async () => {
    await session.handle({ type: 'start', settings: { ...quick, epochs: 200 } });
    const stopping = await session.handle({ type: 'stop' });
    expect(stopping.ok && ['stopping', 'stopped']).toContain(stopping.ok && stopping.state?.run.status);
    await session.whenIdle();
    const stopped = await session.handle({ type: 'get-state' });
    expect(stopped.ok && stopped.state?.run.status).toBe('stopped');
    expect(stopped.ok && stopped.state!.run.epochsDone).toBeLessThan(200);
    expect(await session.handle({ type: 'resume' })).toEqual({ ok: false, error: 'there is no paused training to resume' });
    const again = await session.handle({ type: 'start', settings: quick });
    expect(again.ok && again.state?.run).toMatchObject({ id: 3, epochsDone: 0, history: [] });
    await session.whenIdle();
  });

  it('shuts down cleanly', async () => {
    await session.handle({ type: 'start', settings: { ...quick, epochs: 100 } });
    await session.dispose();
    const state = await session.handle({ type: 'get-state' });
    expect(state.ok && state.state?.run.status).toBe('stopped');
  });
});
