/**
 * Classification metrics from predicted and true classes: the confusion matrix (rows are the true class,
 * columns the predicted one), per-class precision, recall and F1 with their macro and weighted averages, the
 * matrix's rows as percentages, and the classes sorted by a metric.
 */

import { CLASS_COUNT } from './dataset';

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Samples whose true class this is. */
  support: number;
}

/** counts[true][predicted]. */
export function confusionMatrix(
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
  classes = CLASS_COUNT,
): number[][] {
  if (predicted.length !== actual.length) throw new RangeError('predictions and labels differ in length');
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < predicted.length; i++) counts[actual[i]][predicted[i]]++;
  return counts;
}

/** Precision, recall and F1 per class; a class never predicted (or never present) gets 0, not NaN. */
export function classMetrics(confusion: number[][]): ClassMetrics[] {
  return confusion.map((row, c) => {
    const truePositives = row[c];
    const support = row.reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((sum, r) => sum + r[c], 0);
    const precision = predictedAs ? truePositives / predictedAs : 0;
    const recall = support ? truePositives / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support };
  });
}

/** Averages of the per-class metrics over the classes; `support` is every sample's. */
export interface AveragedMetrics {
  /** Each class counts the same: the plain mean of precision, recall and F1 (F1 is the mean of the F1s). */
  macro: ClassMetrics;
  /** Each class counts by its support, so weighted recall is the accuracy. */
  weighted: ClassMetrics;
}

/**
 * Macro and weighted averages, as scikit-learn's classification report has them. The macro average leaves out
 * a class that is neither in the data nor ever predicted: its 0s say nothing about the model.
 */
export function averageMetrics(confusion: number[][]): AveragedMetrics {
  const perClass = classMetrics(confusion);
  const seen = perClass.filter((m, c) => m.support > 0 || confusion.some((row) => row[c] > 0));
  const total = perClass.reduce((sum, m) => sum + m.support, 0);
  const mean = (key: 'precision' | 'recall' | 'f1'): number =>
    seen.length ? seen.reduce((sum, m) => sum + m[key], 0) / seen.length : 0;
  const weightedMean = (key: 'precision' | 'recall' | 'f1'): number =>
    total ? perClass.reduce((sum, m) => sum + m[key] * m.support, 0) / total : 0;
  return {
    macro: { precision: mean('precision'), recall: mean('recall'), f1: mean('f1'), support: total },
    weighted: {
      precision: weightedMean('precision'),
      recall: weightedMean('recall'),
      f1: weightedMean('f1'),
      support: total,
    },
  };
}

/**
 * Each cell as a percentage of its row (the true class), rounded to `digits` decimals so that every row with
 * samples adds up to exactly 100: the rounding units lost are given back to the cells that lost the most
 * (the largest-remainder method; ties to the first). A row without samples is all 0.
 */
export function rowPercentages(confusion: number[][], digits = 1): number[][] {
  const unitsPerPercent = 10 ** digits;
  return confusion.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    if (!total) return row.map(() => 0);
    // Whole rounding units, computed from integers so that an exact share (3 of 8 = 37.5) has no remainder.
    const exact = row.map((count) => (count * 100 * unitsPerPercent) / total);
    const units = exact.map(Math.floor);
    let missing = 100 * unitsPerPercent - units.reduce((a, b) => a + b, 0);
    const byRemainder = exact
      .map((value, c) => ({ c, remainder: value - units[c] }))
      .sort((a, b) => b.remainder - a.remainder || a.c - b.c);
    for (const { c } of byRemainder) {
      if (missing <= 0) break;
      units[c]++;
      missing--;
    }
    return units.map((u) => u / unitsPerPercent);
  });
}

/** A column of the per-class table. */
export type ClassMetricsColumn = 'class' | 'precision' | 'recall' | 'f1' | 'support';

/**
 * The classes in the order of one column: 'class' is the label's order (0 T-shirt/top … 9 Ankle boot). Equal
 * values keep the label's order whichever the direction, so a sort never shuffles ties.
 */
export function sortClasses(
  perClass: readonly ClassMetrics[],
  column: ClassMetricsColumn,
  direction: 'ascending' | 'descending',
): number[] {
  const sign = direction === 'ascending' ? 1 : -1;
  const value = (c: number): number => (column === 'class' ? c : perClass[c][column]);
  return perClass.map((_, c) => c).sort((a, b) => sign * (value(a) - value(b)) || a - b);
}
