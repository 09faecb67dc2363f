/**
 * A sweep's plan: lists as users type them, the checks (each refusal's exact line), and the expansion into runs
 * in order (first setting outermost, seeds innermost), written out by hand below.
 */

import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, resolveFields } from '@core/shared/config';
import {
  checkSweepPlan,
  describeSettings,
  expandSweep,
  MAX_SWEEP_RUNS,
  parseSweepList,
  plannedConfig,
  type SweepNames,
  sweepRunName,
} from '@core/shared/sweep/plan';

const base = resolveFields({});

/** The one-line message a call is refused with (null when it is not refused). */
function refusal(call: () => unknown): string | null {
  try {
    call();
  } catch (error) {
    return (error as Error).message;
  }
  return null;
}
const OPTIONS: SweepNames = (field) =>
  ({
    seed: '--seeds',
    learningRate: '--lr',
    batchSize: '--batch-size',
    hiddenSizes: '--hidden',
    dropout: '--dropout',
    weightDecay: '--weight-decay',
    labelSmoothing: '--label-smoothing',
    epochs: '--epochs',
    shiftPixels: '--shift',
  })[field];

describe('parseSweepList', () => {
  it('reads numbers separated by commas, spaces allowed, in the order given', () => {
    expect(parseSweepList('learningRate', '0.002, 0.0005,1e-3')).toEqual([0.002, 0.0005, 0.001]);
    expect(parseSweepList('batchSize', '64,128')).toEqual([64, 128]);
    expect(parseSweepList('seed', '3')).toEqual([3]);
  });

  it('reads hidden layers as networks separated by "/", each a comma-separated list ("none": no hidden layer)', () => {
    expect(parseSweepList('hiddenSizes', '512,256/256/none')).toEqual([[512, 256], [256], []]);
  });

  it.each([
    ['learningRate', '0.001,,0.002', '--lr has an empty value in "0.001,,0.002"'],
    ['learningRate', '0.001,', '--lr has an empty value in "0.001,"'],
    ['learningRate', '0.001,abc', '--lr must be a number, got "abc" in "0.001,abc"'],
    ['dropout', 'high', '--dropout must be a number, got "high"'],
    ['learningRate', '0.001,1e-3', '--lr gives 0.001 twice'],
    ['hiddenSizes', '64,32/64, 32', '--hidden gives 64,32 twice'],
    ['seed', '1,2,1', '--seeds gives 1 twice'],
    // The settings' own rules, in the words fmnist train uses for them.
    ['learningRate', '0.001,-1', 'learning rate must be greater than 0, got -1'],
    ['batchSize', '64.5', 'batch size must be a whole number, got 64.5'],
    ['dropout', '0,0.95', 'dropout must be at most 0.9, got 0.95'],
    ['hiddenSizes', '32/abc', 'hidden layer sizes must be comma-separated whole numbers like 512,256, got "abc"'],
    ['seed', '-1', 'seed must be between 0 and 4294967295, got -1'],
  ] as const)('refuses %s "%s": %s', (field, text, message) => {
    expect(refusal(() => parseSweepList(field, text, OPTIONS))).toBe(message);
  });

  it('names a setting by its label when no names are given (as the settings form would)', () => {
    expect(() => parseSweepList('learningRate', '1,1')).toThrow(/^learning rate gives 1 twice$/);
  });
});

describe('checkSweepPlan and expandSweep', () => {
  it('puts the settings in a fixed order and expands a grid with the seeds innermost', () => {
    // Given dropout first: the plan still lists the learning rate first (SWEEP_FIELDS order).
    const plan = checkSweepPlan(
      {
        axes: [
          { field: 'dropout', values: [0, 0.2] },
          { field: 'learningRate', values: [0.0005, 0.001, 0.002] },
        ],
        seeds: [1, 2],
      },
      base,
    );
    expect(plan.axes.map((axis) => axis.field)).toEqual(['learningRate', 'dropout']);
    const runs = expandSweep(plan);
    // 3 × 2 × 2, written out: lr outermost, then dropout, then the seed.
    const expected: [number, number, number, number, number[]][] = [
      [0.0005, 0, 1, 0, [0, 0]],
      [0.0005, 0, 2, 0, [0, 0]],
      [0.0005, 0.2, 1, 1, [0, 1]],
      [0.0005, 0.2, 2, 1, [0, 1]],
      [0.001, 0, 1, 2, [1, 0]],
      [0.001, 0, 2, 2, [1, 0]],
      [0.001, 0.2, 1, 3, [1, 1]],
      [0.001, 0.2, 2, 3, [1, 1]],
      [0.002, 0, 1, 4, [2, 0]],
      [0.002, 0, 2, 4, [2, 0]],
      [0.002, 0.2, 1, 5, [2, 1]],
      [0.002, 0.2, 2, 5, [2, 1]],
    ];
    expect(runs).toEqual(
      expected.map(([learningRate, dropout, seed, combination, cell], index) => ({
        index,
        combination,
        cell,
        settings: { learningRate, dropout },
        seed,
      })),
    );
  });

  it('expands one setting with one seed into one run per value', () => {
    const plan = checkSweepPlan({ axes: [{ field: 'hiddenSizes', values: [[64], [32, 16]] }], seeds: [7] }, base);
    expect(expandSweep(plan)).toEqual([
      { index: 0, combination: 0, cell: [0], settings: { hiddenSizes: [64] }, seed: 7 },
      { index: 1, combination: 1, cell: [1], settings: { hiddenSizes: [32, 16] }, seed: 7 },
    ]);
  });

  it.each([
    [
      { axes: [], seeds: [1, 2] },
      'no setting is swept: give two or more values to one or two of --lr, --batch-size, --hidden, --dropout, --weight-decay, --label-smoothing, --epochs, --shift',
    ],
    [
      {
        axes: [
          { field: 'learningRate', values: [0.001, 0.002] },
          { field: 'dropout', values: [0, 0.1] },
          { field: 'batchSize', values: [32, 64] },
        ],
        seeds: [1],
      },
      'at most 2 settings can be swept at once (besides the seeds), got 3: --lr, --dropout, --batch-size',
    ],
    [
      {
        axes: [
          { field: 'dropout', values: [0, 0.1] },
          { field: 'dropout', values: [0.2, 0.3] },
        ],
        seeds: [1],
      },
      '--dropout is swept twice',
    ],
    [
      { axes: [{ field: 'dropout', values: [0.1] }], seeds: [1] },
      '--dropout needs two or more values to be swept, got 0.1',
    ],
    [{ axes: [{ field: 'dropout', values: [0.1, 0.1] }], seeds: [1] }, '--dropout gives 0.1 twice'],
    [{ axes: [{ field: 'dropout', values: [0, 0.1] }], seeds: [] }, '--seeds needs one or more values'],
    [
      { axes: [{ field: 'flip', values: [0, 1] }], seeds: [1] },
      '"flip" cannot be swept (these can: learningRate, batchSize, hiddenSizes, dropout, weightDecay, labelSmoothing, epochs, shiftPixels)',
    ],
  ] as const)('refuses %j in one line', (plan, message) => {
    expect(refusal(() => checkSweepPlan(plan as never, base, OPTIONS))).toBe(message);
  });

  it('refuses more runs than allowed, counting values × values × seeds', () => {
    // 10 × 10 values × 11 seeds = 1100 runs.
    const values = (start: number) => Array.from({ length: 10 }, (_, i) => start + i);
    const seeds = Array.from({ length: 11 }, (_, i) => i);
    expect(() =>
      checkSweepPlan(
        {
          axes: [
            { field: 'batchSize', values: values(1) },
            { field: 'epochs', values: values(1) },
          ],
          seeds,
        },
        base,
      ),
    ).toThrow(`the sweep plans 1100 runs, more than the ${MAX_SWEEP_RUNS} allowed`);
  });

  it('checks each combination with the shared settings, naming the run that does not fit', () => {
    // lr × weight decay must stay below 1: 2 × 0.5 = 1 does not; 0.1 × 0.5 = 0.05 does.
    const shared = resolveFields({ weightDecay: 0.5 });
    expect(() =>
      checkSweepPlan({ axes: [{ field: 'learningRate', values: [0.1, 2] }], seeds: [1] }, shared, OPTIONS),
    ).toThrow(
      'the run with lr 2: weight decay times the learning rate must stay below 1 (each step multiplies the weights by 1 − 2 × 0.5)',
    );
    // A cosine schedule's warm-up must be shorter than the run: it is for 12 epochs, not for 10.
    const cosine = resolveFields({ schedule: 'cosine', warmupEpochs: 10 });
    expect(() => checkSweepPlan({ axes: [{ field: 'epochs', values: [12, 10] }], seeds: [1] }, cosine)).toThrow(
      /^the run with epochs 10: warm-up epochs must be fewer than the epochs \(10\)/,
    );
  });

  it('gives each run the shared settings with its own values and seed, and names it after them', () => {
    const run = { settings: { learningRate: 0.002, hiddenSizes: [] }, seed: 3 };
    expect(plannedConfig(resolveFields({ epochs: 4, dropout: 0.1 }), run)).toEqual({
      ...DEFAULT_CONFIG,
      epochs: 4,
      dropout: 0.1,
      learningRate: 0.002,
      hiddenSizes: [],
      seed: 3,
    });
    expect(describeSettings(run.settings)).toBe('lr 0.002, hidden none');
    expect(describeSettings({ dropout: 0.2, learningRate: 0.001 }, 2)).toBe('lr 0.001, dropout 0.2, seed 2');
    expect(sweepRunName('widths', { settings: { hiddenSizes: [512, 256] }, seed: 1 })).toBe(
      'widths · hidden 512,256 · seed 1',
    );
  });
});
