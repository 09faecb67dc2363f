/**
 * A sweep's results per combination: mean and sample standard deviation (n − 1) of the final and best test
 * accuracy over the seeds, each expected value worked out by hand in a comment.
 */

import { describe, expect, it } from 'vitest';
import { resolveFields } from '@core/shared/config';
import { aggregateSweep, meanAndSpread, spreadText } from '@core/shared/sweep/aggregate';
import { checkSweepPlan } from '@core/shared/sweep/plan';
import { pendingEntries, type SweepRunEntry } from '@core/shared/sweep/record';

describe('meanAndSpread', () => {
  it('three seeds at 0.80, 0.82, 0.84: mean 0.82, sample standard deviation 0.02', () => {
    // Deviations −0.02, 0, 0.02; squares 0.0004 + 0 + 0.0004 = 0.0008; / (3 − 1) = 0.0004; √ = 0.02.
    const spread = meanAndSpread([0.8, 0.82, 0.84]);
    expect(spread.n).toBe(3);
    expect(spread.mean).toBeCloseTo(0.82, 12);
    expect(spread.sd).toBeCloseTo(0.02, 12);
  });

  it('two values divide by 1, not 2: 0.5 and 0.7 give 0.1414…', () => {
    // Mean 0.6, squares 0.01 + 0.01 = 0.02, / (2 − 1) = 0.02, √0.02 = 0.141421356… (by 2 it would be 0.1).
    const spread = meanAndSpread([0.5, 0.7]);
    expect(spread.mean).toBeCloseTo(0.6, 12);
    expect(spread.sd).toBeCloseTo(0.1414213562, 9);
  });

  it('has no spread for one value and nothing at all for none', () => {
    expect(meanAndSpread([0.9])).toEqual({ n: 1, mean: 0.9, sd: null });
    expect(meanAndSpread([])).toEqual({ n: 0, mean: null, sd: null });
  });

  it('keeps the digits of nearly equal values (a one-pass formula would lose them)', () => {
    // 1e8 + 1, + 2, + 3: mean 1e8 + 2, deviations −1, 0, 1, so the sample standard deviation is exactly 1.
    expect(meanAndSpread([1e8 + 1, 1e8 + 2, 1e8 + 3]).sd).toBe(1);
  });
});

describe('aggregateSweep', () => {
  it('gives each combination its seeds’ runs; unfinished and diverged runs count in neither mean', () => {
    const plan = checkSweepPlan(
      {
        axes: [
          { field: 'learningRate', values: [0.001, 0.01] },
          { field: 'dropout', values: [0, 0.2] },
        ],
        seeds: [1, 2, 3],
      },
      resolveFields({}),
    );
    const runs = pendingEntries(plan);
    const finish = (run: SweepRunEntry, id: string, final: number, best: number): void => {
      Object.assign(run, {
        status: 'finished',
        runId: id,
        result: { epochs: 5, finalTestAccuracy: final, bestTestAccuracy: best, bestTestEpoch: 4 },
      });
    };
    // lr 0.001, dropout 0: seeds 1–3 all finished.
    finish(runs[0], '20261207-100000-0001', 0.8, 0.81);
    finish(runs[1], '20261207-100000-0002', 0.82, 0.84);
    finish(runs[2], '20261207-100000-0003', 0.84, 0.87);
    // lr 0.001, dropout 0.2: seed 1 finished, seed 2 diverged (its numbers left out), seed 3 not begun.
    finish(runs[3], '20261207-100000-0004', 0.7, 0.75);
    Object.assign(runs[4], {
      status: 'diverged',
      runId: '20261207-100000-0005',
      result: { epochs: 1, finalTestAccuracy: 0.1, bestTestAccuracy: 0.1, bestTestEpoch: 1 },
    });
    // lr 0.01, dropout 0: seed 1 stopped part-way (left out), seed 2 finished without a test set.
    Object.assign(runs[6], {
      status: 'stopped',
      runId: '20261207-100000-0007',
      result: { epochs: 2, finalTestAccuracy: 0.6, bestTestAccuracy: 0.6, bestTestEpoch: 2 },
    });
    Object.assign(runs[7], {
      status: 'finished',
      runId: '20261207-100000-0008',
      result: { epochs: 5, finalTestAccuracy: null, bestTestAccuracy: null, bestTestEpoch: null },
    });

    const [first, second, third, fourth] = aggregateSweep({ runs });
    expect(first).toMatchObject({
      combination: 0,
      cell: [0, 0],
      settings: { learningRate: 0.001, dropout: 0 },
      planned: 3,
      finished: 3,
      diverged: 0,
      runIds: ['20261207-100000-0001', '20261207-100000-0002', '20261207-100000-0003'],
    });
    // Final: 0.80, 0.82, 0.84 → 0.82 ± 0.02. Best: 0.81, 0.84, 0.87 → mean 0.84, deviations ∓0.03, so
    // (0.0009 + 0.0009) / 2 = 0.0009 and √ = 0.03.
    expect(first.finalTestAccuracy.n).toBe(3);
    expect(first.finalTestAccuracy.mean).toBeCloseTo(0.82, 12);
    expect(first.finalTestAccuracy.sd).toBeCloseTo(0.02, 12);
    expect(first.bestTestAccuracy.mean).toBeCloseTo(0.84, 12);
    expect(first.bestTestAccuracy.sd).toBeCloseTo(0.03, 12);

    expect(second).toMatchObject({
      cell: [0, 1],
      settings: { learningRate: 0.001, dropout: 0.2 },
      finished: 1,
      diverged: 1,
      runIds: ['20261207-100000-0004', '20261207-100000-0005', null],
      finalTestAccuracy: { n: 1, mean: 0.7, sd: null },
      bestTestAccuracy: { n: 1, mean: 0.75, sd: null },
    });
    expect(third).toMatchObject({
      cell: [1, 0],
      finished: 1,
      finalTestAccuracy: { n: 0, mean: null, sd: null },
      bestTestAccuracy: { n: 0, mean: null, sd: null },
    });
    expect(fourth).toMatchObject({
      cell: [1, 1],
      settings: { learningRate: 0.01, dropout: 0.2 },
      finished: 0,
      runIds: [null, null, null],
      finalTestAccuracy: { n: 0, mean: null, sd: null },
    });
  });
});

describe('spreadText', () => {
  it('reads mean ± sample standard deviation in points, as the CLI and the app show them', () => {
    // 0.80, 0.82, 0.84: mean 0.82; squares 0.0004 + 0 + 0.0004 over n − 1 = 2 → sd √0.0004 = 0.02.
    expect(spreadText(meanAndSpread([0.8, 0.82, 0.84]))).toBe('82.00% ± 2.00%');
    expect(spreadText(meanAndSpread([0.875]))).toBe('87.50% ± —');
    expect(spreadText(meanAndSpread([]))).toBe('—');
  });
});
