/**
 * The sweep runner with a stand-in trainer that writes run records as a real run would: the order of the runs,
 * what a stop leaves, what a resume skips, starts again or finds finished, and how a diverged or failed run ends.
 * Continuing a run from its own checkpoint is trained for real in tests/unit/cli/sweep.test.ts.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { thisProcess } from '@core/records/liveness';
import { RunStore } from '@core/records/store';
import { resolveFields } from '@core/shared/config';
import { FmnistError } from '@core/shared/errors';
import type { RunRecord } from '@core/shared/run-record';
import { checkSweepPlan, plannedConfig } from '@core/shared/sweep/plan';
import { pendingEntries, SWEEP_RECORD_FORMAT, type SweepRecord } from '@core/shared/sweep/record';
import { type SweepEvent, type SweepJob, type SweepJobEnd, SweepRunner } from '@core/sweep/runner';
import { SweepStore, sweepsFolder } from '@core/sweep/store';
import { tempDir } from '../../../helpers/data';
import { recordFor } from '../../../helpers/runs';

const base = resolveFields({ epochs: 3, hiddenSizes: [16] });
const plan = checkSweepPlan({ axes: [{ field: 'learningRate', values: [0.001, 0.002] }], seeds: [1, 2] }, base);

/** Run ids the stand-in gives, in order. */
const ids = Array.from({ length: 20 }, (_, i) => `20261207-1000${String(i).padStart(2, '0')}-abcd`);

describe('SweepRunner', () => {
  let runs: RunStore;
  let sweeps: SweepStore;
  let record: SweepRecord;
  let nextId: number;
  let events: string[];
  let jobs: SweepJob[];

  /** Writes a run's record as its trainer would have. */
  async function writeRun(id: string, changes: Partial<RunRecord>): Promise<void> {
    await mkdir(runs.folder, { recursive: true });
    await writeFile(runs.summaryFile(id), JSON.stringify(recordFor(id, changes)));
  }

  /** The metrics a stand-in run of `epochs` epochs ends with: test accuracy 0.5 + run number / 100. */
  const metricsOf = (n: number, epochs: number) => ({
    epochs,
    finalCost: 1,
    finalTrainAccuracy: 0.5,
    finalValidationAccuracy: null,
    finalTestCost: 1,
    finalTestAccuracy: 0.5 + n / 100,
    bestTestAccuracy: 0.6 + n / 100,
    bestTestEpoch: 1,
    trainingSeconds: 1,
  });

  /** A stand-in trainer: records the run as finished (or as `outcome` says) and returns as TrainingRun would. */
  function trainer(
    outcome: (job: SweepJob, id: string) => Promise<SweepJobEnd | 'finished'> = async () => 'finished',
  ): (job: SweepJob) => Promise<SweepJobEnd> {
    return async (job) => {
      jobs.push(job);
      const id = ids[nextId++];
      job.data({ fingerprint: '0123456789abcdef', sources: null });
      await job.started(id);
      const end = await outcome(job, id);
      if (end !== 'finished') return end;
      await writeRun(id, { status: 'finished', config: job.config, metrics: metricsOf(nextId, job.config.epochs) });
      return { runId: id, status: 'finished', summary: null };
    };
  }

  function runner(train: (job: SweepJob) => Promise<SweepJobEnd>, lock: Awaited<ReturnType<SweepStore['claim']>>) {
    return new SweepRunner({
      sweeps,
      runs,
      record,
      lock,
      train,
      onEvent: (event: SweepEvent) =>
        events.push(event.type === 'notice' ? `notice: ${event.message}` : `${event.type} ${event.position}`),
    });
  }

  beforeEach(async () => {
    const folder = join(await tempDir('fmnist-sweep-runner-'), 'runs');
    runs = new RunStore(folder);
    sweeps = new SweepStore(sweepsFolder(folder));
    nextId = 0;
    events = [];
    jobs = [];
    const owner = { processIdentity: null, ...(await thisProcess()) };
    const created = await sweeps.create((id) => ({
      format: SWEEP_RECORD_FORMAT,
      formatVersion: 1,
      id,
      name: 'rates',
      status: 'running',
      error: null,
      origin: 'cli',
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      endedAt: null,
      ...owner,
      appVersion: '0.1.0',
      plan,
      base,
      kernels: 'auto',
      data: { train: ['/d/train.csv'], test: ['/d/test.csv'], fingerprint: null },
      runs: pendingEntries(plan),
    }));
    record = created.record;
    await created.lock.release();
  });

  it('trains every planned run in order, each named and tagged with the sweep, and records their results', async () => {
    const ended = await runner(trainer(), await sweeps.claim(record.id)).run();
    expect(jobs.map((job) => [job.position, job.total, job.config.learningRate, job.config.seed])).toEqual([
      [1, 4, 0.001, 1],
      [2, 4, 0.001, 2],
      [3, 4, 0.002, 1],
      [4, 4, 0.002, 2],
    ]);
    expect(jobs.map((job) => job.name)).toEqual([
      'rates · lr 0.001 · seed 1',
      'rates · lr 0.001 · seed 2',
      'rates · lr 0.002 · seed 1',
      'rates · lr 0.002 · seed 2',
    ]);
    expect(jobs.map((job) => job.sweep)).toEqual([0, 1, 2, 3].map((index) => ({ id: record.id, index })));
    expect(jobs[2].config).toEqual(plannedConfig(base, { settings: { learningRate: 0.002 }, seed: 1 }));
    expect(events).toEqual([1, 2, 3, 4].flatMap((k) => [`run-started ${k}`, `run-ended ${k}`]));
    expect(ended.status).toBe('finished');
    // Each result is its run record's metrics: run n ended at 0.5 + n / 100, best 0.6 + n / 100.
    expect(ended.runs.map((run) => [run.status, run.runId, run.result])).toEqual(
      [1, 2, 3, 4].map((n) => [
        'finished',
        ids[n - 1],
        { epochs: 3, finalTestAccuracy: 0.5 + n / 100, bestTestAccuracy: 0.6 + n / 100, bestTestEpoch: 1 },
      ]),
    );
    expect(ended.data.fingerprint).toBe('0123456789abcdef');
    // On disk as in memory; the lock is gone.
    expect(await sweeps.read(record.id)).toEqual(ended);
    await (await sweeps.claim(record.id)).release();
  });

  it('stops after the run in training, which stays resumable; a resume starts it again and trains the rest', async () => {
    const first = runner(
      trainer(async (job, id) => {
        if (job.position < 2) return 'finished';
        // Run 2 trains one epoch, then the sweep is stopped: the trainer's stop ends it.
        let stopped = false;
        job.onStop(() => (stopped = true));
        first.stop();
        expect(stopped).toBe(true);
        await writeRun(id, { status: 'stopped', config: job.config, metrics: metricsOf(2, 1) });
        return { runId: id, status: 'stopped', summary: null };
      }),
      await sweeps.claim(record.id),
    );
    const stopped = await first.run();
    expect(stopped.status).toBe('stopped');
    expect(stopped.runs.map((run) => [run.status, run.runId])).toEqual([
      ['finished', ids[0]],
      ['stopped', ids[1]],
      ['pending', null],
      ['pending', null],
    ]);
    expect((await sweeps.read(record.id)).status).toBe('stopped');

    // Resumed: run 1 is skipped; run 2 has no checkpoint of its own (no files), so it is trained again from the
    // start, the stopped run noted as its earlier run; runs 3 and 4 follow.
    jobs = [];
    events = [];
    record = await sweeps.read(record.id);
    const resumed = await runner(trainer(), await sweeps.claim(record.id)).run();
    expect(jobs.map((job) => [job.position, job.resume])).toEqual([
      [2, null],
      [3, null],
      [4, null],
    ]);
    expect(events[0]).toBe('skipped 1');
    expect(resumed.status).toBe('finished');
    expect(resumed.runs[1]).toMatchObject({ status: 'finished', runId: ids[2], earlierRunIds: [ids[1]] });
  });

  it('finds a run finished in its record when the sweep was killed before it said so, and trains nothing for it', async () => {
    // As a sweep killed right after run 1's last write leaves it: the record still says it trains.
    record.runs[0] = { ...record.runs[0], status: 'running', runId: '20261207-090000-0001' };
    await writeRun('20261207-090000-0001', { status: 'finished', config: base, metrics: metricsOf(9, 3) });
    const ended = await runner(trainer(), await sweeps.claim(record.id)).run();
    expect(jobs.map((job) => job.position)).toEqual([2, 3, 4]);
    expect(events[0]).toBe('skipped 1');
    expect(ended.runs[0]).toMatchObject({
      status: 'finished',
      runId: '20261207-090000-0001',
      result: { epochs: 3, finalTestAccuracy: 0.59, bestTestAccuracy: 0.69 },
    });
  });

  it('goes on from a continuation made outside the sweep (Runs ▸ Resume), not from its stopped run', async () => {
    // Run 1 stopped; then continued from Runs as another run, which finished: the sweep takes that one.
    record.runs[0] = { ...record.runs[0], status: 'stopped', runId: '20261207-090000-0003' };
    await writeRun('20261207-090000-0003', {
      status: 'stopped',
      config: base,
      metrics: metricsOf(7, 1),
      continuedBy: '20261207-090500-0004',
    });
    await writeRun('20261207-090500-0004', { status: 'finished', config: base, metrics: metricsOf(8, 3) });
    const ended = await runner(trainer(), await sweeps.claim(record.id)).run();
    expect(jobs.map((job) => job.position)).toEqual([2, 3, 4]);
    expect(ended.runs[0]).toMatchObject({
      status: 'finished',
      runId: '20261207-090500-0004',
      earlierRunIds: ['20261207-090000-0003'],
      result: { epochs: 3, finalTestAccuracy: 0.58 },
    });
  });

  it('trains again a run whose record is gone, saying so', async () => {
    record.runs[0] = { ...record.runs[0], status: 'stopped', runId: '20261207-090000-0002' };
    const ended = await runner(trainer(), await sweeps.claim(record.id)).run();
    expect(jobs.map((job) => job.position)).toEqual([1, 2, 3, 4]);
    expect(events[0]).toMatch(
      /^notice: Run 20261207-090000-0002 cannot be read \(there is no run .+\): it is trained again from the start\.$/,
    );
    expect(ended.runs[0]).toMatchObject({ status: 'finished', earlierRunIds: ['20261207-090000-0002'] });
  });

  it('goes on after a run that diverges (it is done: it would diverge again), and fails on any other error', async () => {
    const diverging = runner(
      trainer(async (job, id) => {
        if (job.position !== 3) return 'finished';
        await writeRun(id, { status: 'failed', config: job.config, metrics: metricsOf(3, 1) });
        throw new FmnistError('diverged', 'the cost became NaN at epoch 2, batch 3: try a lower learning rate');
      }),
      await sweeps.claim(record.id),
    );
    const ended = await diverging.run();
    expect(ended.status).toBe('finished');
    expect(ended.runs.map((run) => run.status)).toEqual(['finished', 'finished', 'diverged', 'finished']);
    expect(ended.runs[2].error).toBe('the cost became NaN at epoch 2, batch 3: try a lower learning rate');

    // A failure of another kind (a full disk) ends the sweep as failed, the lock released; a resume tries it again.
    const fresh = await sweeps.read(record.id);
    fresh.runs = pendingEntries(plan);
    record = fresh;
    nextId = 10;
    const failing = runner(
      trainer(async (job) => {
        if (job.position === 2) throw new FmnistError('io', 'no space left on the device', { file: '/d/x' });
        return 'finished';
      }),
      await sweeps.claim(record.id),
    );
    await expect(failing.run()).rejects.toThrow('/d/x: no space left on the device');
    const failed = await sweeps.read(record.id);
    expect(failed).toMatchObject({ status: 'failed', error: '/d/x: no space left on the device' });
    expect(failed.runs.map((run) => run.status)).toEqual(['finished', 'failed', 'pending', 'pending']);
    jobs = [];
    record = failed;
    await runner(trainer(), await sweeps.claim(record.id)).run();
    expect(jobs.map((job) => job.position)).toEqual([2, 3, 4]);
  });

  it('starts nothing once stopped between runs, and refuses training data other than the sweep began with', async () => {
    const stopping = runner(
      trainer(async () => {
        stopping.stop();
        return 'finished';
      }),
      await sweeps.claim(record.id),
    );
    const ended = await stopping.run();
    expect(ended.runs.map((run) => run.status)).toEqual(['finished', 'pending', 'pending', 'pending']);
    expect(ended.status).toBe('stopped');

    record = await sweeps.read(record.id);
    const otherData = runner(
      async (job) => {
        job.data({ fingerprint: 'fedcba9876543210', sources: { train: ['/d/other.csv'], test: null } });
        return { runId: null, status: 'stopped', summary: null };
      },
      await sweeps.claim(record.id),
    );
    await expect(otherData.run()).rejects.toThrow(
      `/d/other.csv: is not the training data sweep ${record.id} began with ` +
        '(data with fingerprint 0123456789abcdef; now data with fingerprint fedcba9876543210)',
    );
  });
});
