/**
 * A sweep's results per combination of swept values: the final and the best test accuracy of each seed's run,
 * their mean and their spread. The spread is the sample standard deviation (divided by n − 1), the usual estimate
 * of how much a fresh seed would move the result; with one run it is undefined (null, shown as "—"). Runs that
 * diverged or have not finished count in neither. Free of Node imports.
 */

import type { SweepRecord } from './record';
import type { SweepSettings } from './plan';

export interface Spread {
  /** The runs that gave a value. */
  n: number;
  /** Null without any value. */
  mean: number | null;
  /** The sample standard deviation; null for fewer than two values. */
  sd: number | null;
}

/** The mean and the sample standard deviation (n − 1), in two passes so that near-equal values keep their digits. */
export function meanAndSpread(values: readonly number[]): Spread {
  const n = values.length;
  if (n === 0) return { n, mean: null, sd: null };
  const mean = values.reduce((sum, x) => sum + x, 0) / n;
  if (n === 1) return { n, mean, sd: null };
  const squares = values.reduce((sum, x) => sum + (x - mean) ** 2, 0);
  return { n, mean, sd: Math.sqrt(squares / (n - 1)) };
}

export interface CombinationResult {
  /** Its number in the plan, from 0. */
  combination: number;
  /** Its position on each axis: a heat map's row, then column. */
  cell: number[];
  settings: SweepSettings;
  /** Runs planned (one per seed), and those done: finished, or diverged. */
  planned: number;
  finished: number;
  diverged: number;
  /** The run records holding each seed's run (null: not begun), in the order of the seeds. */
  runIds: (string | null)[];
  finalTestAccuracy: Spread;
  bestTestAccuracy: Spread;
}

/** One result per combination, in the plan's order. */
export function aggregateSweep(record: Pick<SweepRecord, 'runs'>): CombinationResult[] {
  const results: CombinationResult[] = [];
  for (const run of record.runs) {
    let result = results[run.combination];
    if (!result) {
      result = {
        combination: run.combination,
        cell: [...run.cell],
        settings: structuredClone(run.settings),
        planned: 0,
        finished: 0,
        diverged: 0,
        runIds: [],
        finalTestAccuracy: { n: 0, mean: null, sd: null },
        bestTestAccuracy: { n: 0, mean: null, sd: null },
      };
      results[run.combination] = result;
    }
    result.planned++;
    result.runIds.push(run.runId);
    if (run.status === 'diverged') result.diverged++;
    if (run.status === 'finished') result.finished++;
  }
  for (const result of results) {
    const finished = record.runs.filter(
      (run) => run.combination === result.combination && run.status === 'finished' && run.result,
    );
    const values = (key: 'finalTestAccuracy' | 'bestTestAccuracy'): number[] =>
      finished.map((run) => run.result![key]).filter((x): x is number => x !== null);
    result.finalTestAccuracy = meanAndSpread(values('finalTestAccuracy'));
    result.bestTestAccuracy = meanAndSpread(values('bestTestAccuracy'));
  }
  return results;
}

/**
 * "84.12% ± 0.35%": a combination's mean accuracy and its sample standard deviation over the seeds, in points;
 * "84.12% ± —" for one seed, "—" for none. The CLI's table and the app's show the same text.
 */
export function spreadText(spread: Pick<Spread, 'mean' | 'sd'>): string {
  if (spread.mean === null) return '—';
  const points = (fraction: number): string => `${(fraction * 100).toFixed(2)}%`;
  return `${points(spread.mean)} ± ${spread.sd === null ? '—' : points(spread.sd)}`;
}
