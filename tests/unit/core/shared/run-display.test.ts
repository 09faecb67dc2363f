/**
 * How runs read in the app and in `fmnist runs`: the default name of a new run (written out by hand for each
 * combination of settings below), the preset a run starts from, its settings line, the settings that differ
 * between runs, the start time in local time, the two durations, and the order runs are listed in.
 */

import { describe, expect, it } from 'vitest';
import { resolveRunConfig, type RunConfig } from '@core/shared/config';
import { presetSettings } from '@core/shared/presets';
import {
  basisText,
  defaultRunName,
  durationText,
  formatRunTime,
  presetLabel,
  runBasis,
  settingDifferences,
  settingsLine,
  sortRuns,
} from '@core/shared/run-display';
import { recordFor } from '../../../helpers/runs';

const config = (settings: Partial<RunConfig> = {}): RunConfig => resolveRunConfig(settings);
const quick = (changes: Partial<RunConfig> = {}): RunConfig => config({ ...presetSettings('quick'), ...changes });
const best = (changes: Partial<RunConfig> = {}): RunConfig => config({ ...presetSettings('best'), ...changes });

describe('the default name of a run', () => {
  it.each([
    ['the default settings', config(), 'defaults'],
    ['the quick preset', quick(), 'quick preset'],
    ['the best preset', best(), 'best preset'],
    ['the quick preset on a subset', quick({ limit: 600 }), 'quick preset · limit 600'],
    ['the quick preset with more epochs', quick({ epochs: 20 }), 'quick preset · 20 epochs'],
    ['the best preset without flips', best({ flip: false }), 'best preset · no flip'],
    ['two settings changed from the defaults', config({ learningRate: 0.002, dropout: 0.2 }), 'lr 0.002 · dropout 0.2'],
    // Against quick the run changed the rate and the schedule, against the defaults batch and epochs: a tie,
    // which the defaults win.
    ['half of the quick preset', config({ epochs: 8, batchSize: 256 }), 'batch 256 · 8 epochs'],
    ['other threads only (the computer’s, not the run’s)', config({ threads: 4 }), 'defaults'],
    ['a step setting under the constant schedule, where it changes nothing', config({ stepEpochs: 5 }), 'defaults'],
    [
      'the step schedule with its settings',
      config({ schedule: 'step', stepEpochs: 5, stepFactor: 0.1 }),
      'step decay · step every 5 · step ×0.1',
    ],
    ['no hidden layer and one epoch', config({ hiddenSizes: [], epochs: 1 }), 'no hidden layers · 1 epoch'],
    [
      'five changes: three named, two counted',
      config({ hiddenSizes: [32], learningRate: 0.01, batchSize: 64, epochs: 2, seed: 7 }),
      'hidden 32 · lr 0.01 · batch 64 · +2 more',
    ],
    [
      'four changes, all named',
      config({ hiddenSizes: [1024, 512], validationFraction: 0.1, patience: 3, restoreBest: true }),
      'hidden 1024,512 · validation 0.1 · patience 3 · keep best',
    ],
  ])('%s: %s', (_, settings, expected) => {
    expect(defaultRunName(settings)).toBe(expected);
  });

  it('says that a run continued a model', () => {
    expect(defaultRunName(quick(), { continued: true })).toBe('quick preset, continued');
    expect(defaultRunName(config(), { continued: true })).toBe('defaults, continued');
  });

  it('reads a record written before the recipes existed as the defaults', () => {
    const old: Partial<RunConfig> = {
      hiddenSizes: [512, 256],
      epochs: 50,
      batchSize: 128,
      learningRate: 0.001,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      seed: 1,
      validationFraction: 0,
      limit: 0,
      threads: 0,
    };
    expect(defaultRunName(old)).toBe('defaults');
    expect(presetLabel(old)).toBe('notebook');
  });
});

describe('the preset of a run', () => {
  it('is the preset with the fewest settings changed from it', () => {
    expect(runBasis(quick({ limit: 600 }))).toEqual({ preset: 'quick', changed: ['limit'] });
    expect(runBasis(config({ dropout: 0.2 }))).toEqual({ preset: 'notebook', changed: ['dropout'] });
    expect(runBasis(best())).toEqual({ preset: 'best', changed: [] });
  });

  it('reads quick or best when the settings start from one, notebook for the defaults, — for other settings', () => {
    expect(presetLabel(quick({ limit: 600 }))).toBe('quick');
    expect(presetLabel(best())).toBe('best');
    expect(presetLabel(config())).toBe('notebook');
    expect(presetLabel(config({ epochs: 2 }))).toBe('—');
  });

  it('is described with what was changed from it', () => {
    expect(basisText(quick())).toBe('quick');
    expect(basisText(quick({ limit: 600 }))).toBe('quick, changed: limit 600');
    expect(basisText(config())).toBe('notebook (the defaults)');
    expect(basisText(config({ learningRate: 0.002, dropout: 0.2 }))).toBe(
      'none (the defaults, changed: lr 0.002 · dropout 0.2)',
    );
  });
});

describe('the settings line of a run', () => {
  it('names the schedule, the recipes and the data used', () => {
    expect(settingsLine(quick())).toBe(
      'hidden 512,256, batch 256, 8 epochs, learning rate 0.002, cosine schedule, seed 1',
    );
    expect(settingsLine(config())).toBe(
      'hidden 512,256, batch 128, 50 epochs, learning rate 0.001, constant schedule, seed 1',
    );
    expect(
      settingsLine(config({ hiddenSizes: [32], dropout: 0.2, validationFraction: 0.1, limit: 5000, seed: 3 })),
    ).toBe(
      'hidden 32, batch 128, 50 epochs, learning rate 0.001, constant schedule, dropout 0.2, validation split 0.1, ' +
        'first 5000 training images, seed 3',
    );
  });
});

describe('the settings that differ between runs', () => {
  it('lists only the settings whose values differ, with each run’s value in the runs’ order', () => {
    const runs = [
      recordFor('20261206-210850-0001', { config: quick({ limit: 600 }) }),
      recordFor('20261206-211000-0002', { config: config({ limit: 600, flip: true }) }),
      recordFor('20261206-212000-0003', { config: quick({ limit: 600 }) }),
    ];
    expect(settingDifferences(runs)).toEqual([
      { key: 'epochs', values: ['8', '50', '8'] },
      { key: 'batchSize', values: ['256', '128', '256'] },
      { key: 'learningRate', values: ['0.002', '0.001', '0.002'] },
      { key: 'schedule', values: ['cosine', 'constant', 'cosine'] },
      { key: 'flip', values: ['off', 'on', 'off'] },
    ]);
    expect(settingDifferences([runs[0], runs[2]])).toEqual([]);
  });

  it('takes a setting a record lacks as its default', () => {
    const old = { ...config() } as Partial<RunConfig>;
    delete old.labelSmoothing;
    const runs = [
      recordFor('20261206-210850-0001', { config: old as RunConfig }),
      recordFor('20261206-211000-0002', { config: config({ labelSmoothing: 0.1 }) }),
    ];
    expect(settingDifferences(runs)).toEqual([{ key: 'labelSmoothing', values: ['0', '0.1'] }]);
  });
});

describe('times', () => {
  it('shows a start in local time as year-month-day hours:minutes, seconds when asked', () => {
    // Built from local parts, so the expected text holds in any time zone.
    const evening = new Date(2026, 11, 6, 21, 8, 5).toISOString();
    expect(formatRunTime(evening)).toBe('2026-12-06 21:08');
    expect(formatRunTime(evening, true)).toBe('2026-12-06 21:08:05');
    expect(formatRunTime(new Date(2027, 0, 2, 3, 4, 9).toISOString())).toBe('2027-01-02 03:04');
    expect(formatRunTime(null)).toBe('—');
    expect(formatRunTime('not a time')).toBe('—');
  });

  it('says which duration is which: from start to end, and the training within it', () => {
    const metrics = { ...recordFor('20261206-210850-0001').metrics, trainingSeconds: 106.1 };
    // 10:00:00 to 10:01:59 is 119 s = 1m59s; 106.1 s of training rounds to 106 s = 1m46s.
    const finished = recordFor('20261206-100000-0001', {
      startedAt: '2026-12-06T10:00:00.000Z',
      updatedAt: '2026-12-06T10:01:59.000Z',
      endedAt: '2026-12-06T10:01:59.000Z',
      metrics,
    });
    expect(durationText(finished)).toBe('1m59s from start to end, of which 1m46s training');
    const running = { ...finished, status: 'running' as const, endedAt: null, updatedAt: '2026-12-06T10:02:30.000Z' };
    expect(durationText(running)).toBe('2m30s so far, of which 1m46s training');
    expect(durationText({ ...running, status: 'interrupted' })).toBe(
      '2m30s from start to its last record, of which 1m46s training',
    );
  });
});

describe('the order runs are listed in', () => {
  it('is newest first, and by id among runs that started in the same second', () => {
    const older = recordFor('20261206-100000-0001', { startedAt: '2026-12-06T10:00:00.000Z' });
    const newer = recordFor('20261206-110000-0002', { startedAt: '2026-12-06T11:00:00.000Z' });
    const twin = recordFor('20261206-110000-0003', { startedAt: '2026-12-06T11:00:00.000Z' });
    expect(sortRuns([older, newer, twin]).map((run) => run.id)).toEqual([twin.id, newer.id, older.id]);
    expect(sortRuns([older, twin, newer], 'startedAt', 'ascending').map((run) => run.id)).toEqual([
      older.id,
      newer.id,
      twin.id,
    ]);
  });

  it('sorts by preset in the words of the table', () => {
    const runs = [
      recordFor('20261206-100000-0001', { config: quick() }),
      recordFor('20261206-100000-0002', { config: config({ epochs: 2 }) }),
      recordFor('20261206-100000-0003', { config: best() }),
      recordFor('20261206-100000-0004', { config: config() }),
    ];
    // "—" (U+2014) sorts after the letters.
    expect(sortRuns(runs, 'preset', 'ascending').map((run) => presetLabel(run.config))).toEqual([
      'best',
      'notebook',
      'quick',
      '—',
    ]);
  });
});
