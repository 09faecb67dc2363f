/**
 * What the gallery, the evaluation and the network view get from the session: the model's weights and its
 * outputs on the test set (the run's last whole epoch while it trains, the held model otherwise), and the
 * test images. Predictions are checked against the float64 reference, not against the engine.
 *
 * The first describe block follows one session through a user's steps, in order (no model, data, a run, a
 * checkpoint): each test starts where the one before left it.
 */

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type BackendEvent,
  DEFAULT_SETTINGS,
  type ModelInsight,
  type Response,
  type RunSettings,
  type StudioState,
} from '@core/shared/contract';
import { StudioSession } from '@core/backend/session';
import { mlpShape } from '@core/shared/mlp';
import { forward } from '@core/model/reference';
import { writeUntrainedCheckpoint } from '../../../../helpers/checkpoints';
import { REAL_DATA_DIR, realDataset, tempDir } from '../../../../helpers/data';

const quick: RunSettings = { ...DEFAULT_SETTINGS, epochs: 2, limit: 2000, hiddenSizes: [32], threads: 1 };

async function stateOf(session: StudioSession): Promise<StudioState> {
  const response = await session.handle({ type: 'get-state' });
  if (!response.ok) throw new Error(response.error);
  return response.state;
}

async function insightOf(session: StudioSession): Promise<ModelInsight> {
  const response = await session.handle({ type: 'get-insight' });
  if (!response.ok) throw new Error(response.error);
  return response.insight;
}

const start = (session: StudioSession, settings: RunSettings): Promise<Response> =>
  session.handle({ type: 'start', settings, autosave: false, continue: false, allowOtherData: false });

describe('model insight', () => {
  let session: StudioSession;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('fmnist-insight-');
    session = new StudioSession({ emit: (event) => events.push(event), env: { FMNIST_DATA: REAL_DATA_DIR } });
  });
  const events: BackendEvent[] = [];

  it('has nothing to show before there is a model', async () => {
    expect(await session.handle({ type: 'get-insight' })).toEqual({
      ok: false,
      error: 'there is no model yet: train one or load a checkpoint',
    });
    expect(await session.handle({ type: 'get-test-images' })).toEqual({
      ok: false,
      error: 'load test data to see its images',
    });
    expect((await stateOf(session)).insightKey).toBeNull();
  });

  it('sends the test images and labels as they were read', async () => {
    expect((await session.handle({ type: 'load-default-data' })).ok).toBe(true);
    const response = await session.handle({ type: 'get-test-images' });
    const images = response.ok ? response.testImages : null;
    const test = await realDataset('test');
    expect(images?.count).toBe(10000);
    expect(images?.images).toBeInstanceOf(Uint8Array);
    expect(images?.images.length).toBe(10000 * 784);
    expect(Buffer.from(images!.images).equals(Buffer.from(test.images))).toBe(true);
    expect(Buffer.from(images!.labels).equals(Buffer.from(test.labels))).toBe(true);
  });

  it('shows a run’s model after its first epoch, and after the run the outputs of its last epoch', async () => {
    expect((await start(session, { ...quick, epochs: 40 })).ok).toBe(true);
    // Before the first epoch ends there is no model of this run to show.
    expect(await session.handle({ type: 'get-insight' })).toEqual({
      ok: false,
      error: 'the model is shown once the run has finished its first epoch',
    });
    let during: ModelInsight | null = null;
    await expect
      .poll(
        async () => {
          const response = await session.handle({ type: 'get-insight' });
          during = response.ok ? response.insight : null;
          return during?.epochsDone ?? 0;
        },
        { timeout: 60_000 },
      )
      .toBeGreaterThanOrEqual(1);
    expect(during!.source).toBe('run');
    expect(during!.key).toMatch(/^[0-9a-f]{8}-run\d+-epoch\d+-/);
    expect((await stateOf(session)).insightRun).toBe(during!.key.slice(0, during!.key.indexOf('epoch')));
    expect(during!.test?.count).toBe(10000);
    expect((await session.handle({ type: 'stop' })).ok).toBe(true);
    await session.whenIdle();

    const state = await stateOf(session);
    const after = await insightOf(session);
    expect(after.source).toBe('model');
    expect(after.key).toBe(state.insightKey);
    expect(after.epochsDone).toBe(state.run.epochsDone);
    // The accuracy is the one the run measured after its last epoch.
    expect(after.test!.accuracy).toBe(state.run.history!.at(-1)!.testAccuracy);
    expect(after.test!.cost).toBeCloseTo(state.run.history!.at(-1)!.testCost!, 12);
    expect(await insightOf(session)).toEqual(after);
  });

  it('predicts what the float64 reference predicts, with probabilities that sum to 1', async () => {
    const insight = await insightOf(session);
    const test = await realDataset('test');
    const parameters = { shape: mlpShape(insight.hiddenSizes), weights: insight.weights, biases: insight.biases };
    expect(insight.weights.map((w) => w.length)).toEqual([784 * 32, 32 * 10]);
    const m = 400;
    const inputs = Float64Array.from(test.images.subarray(0, m * 784), (p) => p / 255);
    const logits = forward(parameters, inputs, m).at(-1)!;
    let disagreements = 0;
    for (let r = 0; r < m; r++) {
      const row = Array.from(logits.subarray(r * 10, r * 10 + 10));
      const best = row.indexOf(Math.max(...row));
      // A float32 near-tie may go either way; there should be hardly any.
      if (best !== insight.test!.predictions[r]) disagreements++;
      const p = insight.test!.probabilities.subarray(r * 10, r * 10 + 10);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(p[insight.test!.predictions[r]]).toBe(Math.max(...p));
    }
    expect(disagreements).toBeLessThanOrEqual(1);
  });

  it('evaluates a loaded checkpoint under a new key, and tells the page the evaluation at once', async () => {
    const file = join(dir, 'm.safetensors');
    expect((await session.handle({ type: 'save-checkpoint', path: file })).ok).toBe(true);
    const before = (await stateOf(session)).insightKey;
    expect((await session.handle({ type: 'load-checkpoint', path: file })).ok).toBe(true);
    const state = await stateOf(session);
    expect(state.insightKey).not.toBe(before);
    expect(state.evaluation).toBeNull();
    events.length = 0;
    const loaded = await insightOf(session);
    expect(loaded.key).toBe(state.insightKey);
    const evaluation = { count: 10000, accuracy: loaded.test!.accuracy, cost: loaded.test!.cost };
    // The model bar hears of it by an event, without asking.
    expect(events.filter((e) => e.type === 'state').at(-1)).toMatchObject({ state: { evaluation } });
    // The same weights as before it was saved: the same predictions.
    expect(loaded.test!.accuracy).toBe(state.run.history!.at(-1)!.testAccuracy);
  });
});

describe('model insight beside other work', () => {
  let dir: string;
  let checkpoint: string;
  beforeAll(async () => {
    dir = await tempDir('fmnist-insight-queue-');
    checkpoint = join(dir, 'c.safetensors');
    await writeUntrainedCheckpoint(checkpoint, [16]);
  });

  it('does the first-start load and a checkpoint opened from outside both, in the order asked', async () => {
    const session = new StudioSession({ emit: () => {}, env: { FMNIST_DATA: REAL_DATA_DIR } });
    const [data, model] = await Promise.all([
      session.handle({ type: 'load-default-data' }),
      session.handle({ type: 'load-checkpoint', path: checkpoint }),
    ]);
    expect(data.ok).toBe(true);
    expect(model.ok).toBe(true);
    const state = await stateOf(session);
    expect(state.datasets.test?.count).toBe(10000);
    expect(state.model?.file).toBe(checkpoint);
  });

  it('never refuses an action because the gallery is evaluating, nor the gallery because of an action', async () => {
    const session = new StudioSession({ emit: () => {}, env: { FMNIST_DATA: REAL_DATA_DIR } });
    expect((await session.handle({ type: 'load-default-data' })).ok).toBe(true);
    expect((await session.handle({ type: 'load-checkpoint', path: checkpoint })).ok).toBe(true);
    const other = join(dir, 'other.safetensors');
    await writeUntrainedCheckpoint(other, [24]);
    // The gallery asks (an evaluation starts), the Evaluate button too, and another checkpoint is opened.
    const [insight, evaluated, loaded] = await Promise.all([
      session.handle({ type: 'get-insight' }),
      session.handle({ type: 'evaluate' }),
      session.handle({ type: 'load-checkpoint', path: other }),
    ]);
    expect(insight.ok && insight.insight?.hiddenSizes).toEqual([16]);
    expect(evaluated.ok).toBe(true);
    expect(loaded.ok).toBe(true);
    const after = await insightOf(session);
    expect(after.hiddenSizes).toEqual([24]);
    expect(after.key).not.toBe(insight.ok && insight.insight?.key);
  });

  it('names the same model differently in two sessions (a restarted worker never reuses a key)', async () => {
    const keys = [];
    for (let i = 0; i < 2; i++) {
      const session = new StudioSession({ emit: () => {}, env: { FMNIST_DATA: REAL_DATA_DIR } });
      expect((await session.handle({ type: 'load-checkpoint', path: checkpoint })).ok).toBe(true);
      keys.push((await stateOf(session)).insightKey);
    }
    expect(keys[0]).toMatch(/^[0-9a-f]{8}-model1-no-test$/);
    expect(keys[1]).toMatch(/^[0-9a-f]{8}-model1-no-test$/);
    expect(keys[0]).not.toBe(keys[1]);
  });
});
