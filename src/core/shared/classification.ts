/**
 * Classification metrics from predicted and true classes: the confusion matrix (rows are the true class,
 * columns the predicted one) and per-class precision, recall and F1.
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
