/**
 * Sweeps in the app's backend: the session trains a sweep's runs one after another through its own run controls,
 * records each in the run history under the sweep's name for it, lists the sweep with its results per combination,
 * and a sweep stopped part-way resumes where it stopped, training no run twice. Expected values: the plan's order
 * written out by hand, and each run's own record (read from the runs folder with RunStore, not through the session).
 */

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BackendEvent, DEFAULT_SETTINGS, type RunSettings, type StudioState } from '@core/shared/contract';
import { StudioSession } from '@core/backend/session';
import { RunStore } from '@core/records/store';
import { randomDataset, tempDir, toKaggleCsv, writeTemp } from '../../../helpers/data';

const base: RunSettings = { ...DEFAULT_SETTINGS, epochs: 2, hiddenSizes: [16], batchSize: 64 };

async function stateOf(session: StudioSession): Promise<StudioState> {
  const response = await session.handle({ type: 'get-state' });
  if (!response.ok) throw new Error(response.error);
  return response.state;
}

async function sweepsOf(session: StudioSession) {
  const response = await session.handle({ type: 'list-sweeps' });
  if (!response.ok) throw new Error(response.error);
  return response.sweeps;
}

/** Waits until the session has no sweep under way. */
async function sweepEnded(session: StudioSession): Promise<void> {
  await expect.poll(async () => (await stateOf(session)).sweep, { timeout: 60_000, interval: 50 }).toBeNull();
}

describe('a sweep in the app', () => {
  let dir: string;
  let session: StudioSession;
  const events: BackendEvent[] = [];

  beforeAll(async () => {
    dir = await tempDir('fmnist-session-sweeps-');
    session = new StudioSession({
      emit: (event) => events.push(event),
      env: {},
      dataDirectory: join(dir, 'data'),
      runsDirectory: join(dir, 'data', 'runs'),
    });
    const trainCsv = await writeTemp(dir, 'train.csv', toKaggleCsv(randomDataset(400, 31)));
    const testCsv = await writeTemp(dir, 'test.csv', toKaggleCsv(randomDataset(100, 32)));
    expect((await session.handle({ type: 'load-dataset', role: 'train', paths: [trainCsv] })).ok).toBe(true);
    expect((await session.handle({ type: 'load-dataset', role: 'test', paths: [testCsv] })).ok).toBe(true);
  });

  it('trains every planned run in order, records each, and lists the results per combination', async () => {
    const started = await session.handle({
      type: 'start-sweep',
      sweep: {
        settings: base,
        plan: { axes: [{ field: 'learningRate', values: [0.01, 0.001] }], seeds: [1, 2] },
        name: 'rates',
      },
    });
    expect(started.ok, !started.ok ? started.error : '').toBe(true);
    if (started.ok) expect(started.state.sweep).toMatchObject({ name: 'rates', total: 4 });
    // A run cannot start beside it.
    const refused = await session.handle({
      type: 'start',
      settings: base,
      autosave: true,
      continue: false,
      allowOtherData: false,
    });
    expect(refused).toEqual({ ok: false, error: 'a sweep is under way: stop it before starting another run' });
    await sweepEnded(session);

    const [sweep] = await sweepsOf(session);
    expect(sweep.status).toBe('finished');
    expect(sweep.name).toBe('rates');
    // The grid in order, seeds innermost, as planned by hand.
    expect(sweep.runs.map((run) => [run.settings.learningRate, run.seed, run.status])).toEqual([
      [0.01, 1, 'finished'],
      [0.01, 2, 'finished'],
      [0.001, 1, 'finished'],
      [0.001, 2, 'finished'],
    ]);
    const records = new RunStore(join(dir, 'data', 'runs'));
    const recorded = await Promise.all(sweep.runs.map((run) => records.get(run.runId!)));
    expect(recorded.map((run) => run.name)).toEqual([
      'rates · lr 0.01 · seed 1',
      'rates · lr 0.01 · seed 2',
      'rates · lr 0.001 · seed 1',
      'rates · lr 0.001 · seed 2',
    ]);
    expect(recorded.map((run) => [run.config.learningRate, run.config.seed, run.metrics.epochs])).toEqual([
      [0.01, 1, 2],
      [0.01, 2, 2],
      [0.001, 1, 2],
      [0.001, 2, 2],
    ]);
    // Each combination's mean and spread over its two seeds, from the records' own final accuracies.
    for (const [combination, pair] of [recorded.slice(0, 2), recorded.slice(2)].entries()) {
      const [a, b] = pair.map((run) => run.metrics.finalTestAccuracy!);
      const result = sweep.results[combination];
      expect(result.finalTestAccuracy.mean).toBeCloseTo((a + b) / 2, 12);
      // The sample standard deviation of two values is their distance over √2.
      expect(result.finalTestAccuracy.sd).toBeCloseTo(Math.abs(a - b) / Math.SQRT2, 12);
      expect(result.runIds).toEqual(pair.map((run) => run.id));
    }
  });

  it('stops with the run in training and resumes where it stopped, training no run twice', async () => {
    // More epochs than can end before the stop below.
    const long = { ...base, epochs: 100_000 };
    const started = await session.handle({
      type: 'start-sweep',
      sweep: { settings: long, plan: { axes: [{ field: 'dropout', values: [0, 0.2] }], seeds: [1] }, name: '' },
    });
    if (!started.ok) throw new Error(started.error);
    const id = started.state.sweep!.id;
    const sweepNow = async () => (await sweepsOf(session)).find((sweep) => sweep.id === id)!;
    // Stop once the first run's record names a whole epoch (its checkpoint holds it).
    const records = new RunStore(join(dir, 'data', 'runs'));
    await expect.poll(async () => (await sweepNow()).runs[0].runId, { timeout: 30_000, interval: 50 }).not.toBeNull();
    const first = (await sweepNow()).runs[0].runId!;
    await expect.poll(async () => (await records.get(first)).metrics.epochs, { timeout: 30_000 }).toBeGreaterThan(0);
    expect((await session.handle({ type: 'stop' })).ok).toBe(true);
    await sweepEnded(session);
    let sweep = await sweepNow();
    expect(sweep.name).toBe('dropout sweep');
    expect(sweep.status).toBe('stopped');
    expect(sweep.runs.map((run) => run.status)).toEqual(['stopped', 'pending']);
    const firstRun = sweep.runs[0].runId!;
    // The stopped run goes on with its sweep: it is not offered as the unfinished run of the app.
    expect((await stateOf(session)).autosave.pending).toBeNull();

    // Resumed: the stopped run continues from its own checkpoint as a new run.
    const stoppedAt = (await records.get(firstRun)).metrics.epochs;
    expect(stoppedAt).toBeGreaterThan(0);
    expect((await session.handle({ type: 'resume-sweep', id: sweep.id })).ok).toBe(true);
    // Stopped again at once the second time it is asked: the sweep remembers what it did.
    await expect.poll(async () => (await sweepNow()).runs[0].runId, { timeout: 30_000 }).not.toBe(firstRun);
    expect((await session.handle({ type: 'stop' })).ok).toBe(true);
    await sweepEnded(session);
    sweep = await sweepNow();
    const continued = await records.get(sweep.runs[0].runId!);
    expect(sweep.runs[0].earlierRunIds).toEqual([firstRun]);
    expect(continued.resumedFrom?.epochsDone).toBe(stoppedAt);
    expect((await records.get(firstRun)).continuedBy).toBe(continued.id);
    expect(sweep.runs[1].status).toBe('pending');
  });

  it('starts one sweep when two start requests come at once', async () => {
    const start = () =>
      session.handle({
        type: 'start-sweep',
        sweep: {
          settings: base,
          plan: { axes: [{ field: 'batchSize', values: [32, 64] }], seeds: [1] },
          name: 'twice',
        },
      });
    const answers = await Promise.all([start(), start()]);
    // Whatever happens, the sweep under way ends before the next test.
    const ended = sweepEnded(session);
    expect(answers.filter((answer) => answer.ok)).toHaveLength(1);
    expect(answers.find((answer) => !answer.ok)).toMatchObject({
      ok: false,
      // Refused by the session while the first one starts (or by the sweeps, had it reached them).
      error: expect.stringMatching(
        /^(stop the training before starting a sweep|a sweep is starting: wait for it to begin|sweep \S+ is under way: stop it first)$/,
      ),
    });
    await ended;
    const twice = (await sweepsOf(session)).filter((sweep) => sweep.name === 'twice');
    expect(twice.map((sweep) => sweep.status)).toEqual(['finished']);
  });

  it('refuses a plan that sweeps nothing, in one line', async () => {
    const response = await session.handle({
      type: 'start-sweep',
      sweep: { settings: base, plan: { axes: [], seeds: [1] }, name: '' },
    });
    expect(response.ok).toBe(false);
    expect(!response.ok && response.error).toMatch(/^no setting is swept: give two or more values to one or two of /);
  });
});
