import { describe, expect, it } from 'vitest';
import { classMetrics, confusionMatrix } from '@core/shared/classification';

describe('metrics', () => {
  const actual = [0, 0, 1, 1, 1, 2];
  const predicted = [0, 1, 1, 1, 0, 1];

  it('computes the confusion matrix (rows true, columns predicted)', () => {
    expect(confusionMatrix(predicted, actual, 3)).toEqual([
      [1, 1, 0],
      [1, 2, 0],
      [0, 1, 0],
    ]);
  });

  it('computes precision, recall and F1 per class, 0 for a class never predicted', () => {
    const perClass = classMetrics(confusionMatrix(predicted, actual, 3));
    expect(perClass[0]).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(perClass[1].precision).toBeCloseTo(2 / 4);
    expect(perClass[1].recall).toBeCloseTo(2 / 3);
    expect(perClass[1].f1).toBeCloseTo((2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3));
    expect(perClass[2]).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
  });
});
