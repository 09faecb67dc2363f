import { describe, expect, it } from 'vitest';
import {
  averageMetrics,
  classMetrics,
  confusionMatrix,
  rowPercentages,
  sortClasses,
} from '@core/shared/classification';

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

/*
 * A 3-class confusion matrix (rows: true class, columns: predicted), worked by hand:
 *
 *             pred 0  pred 1  pred 2 | support
 *   true 0       6       2       0   |    8
 *   true 1       0       3       1   |    4
 *   true 2       2       1       5   |    8
 *   predicted    8       6       6   |   20
 *
 *   class 0: precision 6/8 = 3/4, recall 6/8 = 3/4, F1 3/4
 *   class 1: precision 3/6 = 1/2, recall 3/4,       F1 = 2·(1/2)(3/4) / (1/2 + 3/4) = (3/4)/(5/4) = 3/5
 *   class 2: precision 5/6,       recall 5/8,       F1 = 2·(5/6)(5/8) / (5/6 + 5/8) = (25/24)/(35/24) = 5/7
 *
 *   macro precision    (3/4 + 1/2 + 5/6) / 3 = (9 + 6 + 10)/12 / 3       = 25/36
 *   macro recall       (3/4 + 3/4 + 5/8) / 3 = (6 + 6 + 5)/8 / 3         = 17/24
 *   macro F1           (3/4 + 3/5 + 5/7) / 3 = (105 + 84 + 100)/140 / 3  = 289/420
 *   weighted precision (8·3/4 + 4·1/2 + 8·5/6) / 20 = (6 + 2 + 20/3) / 20 = 44/60 = 11/15
 *   weighted recall    (8·3/4 + 4·3/4 + 8·5/8) / 20 = (6 + 3 + 5) / 20   = 14/20 = the accuracy, 14 of 20
 *   weighted F1        (8·3/4 + 4·3/5 + 8·5/7) / 20 = (6 + 12/5 + 40/7) / 20 = (210 + 84 + 200)/35 / 20 = 247/350
 *
 *   rows in percent:  6/8, 2/8, 0/8 = 75, 25, 0;  0/4, 3/4, 1/4 = 0, 75, 25;  2/8, 1/8, 5/8 = 25, 12.5, 62.5
 */
const HAND = [
  [6, 2, 0],
  [0, 3, 1],
  [2, 1, 5],
];

describe('averages of the per-class metrics', () => {
  it('gives the macro average, each class counting the same', () => {
    const { macro } = averageMetrics(HAND);
    expect(macro.precision).toBeCloseTo(25 / 36, 12);
    expect(macro.recall).toBeCloseTo(17 / 24, 12);
    expect(macro.f1).toBeCloseTo(289 / 420, 12);
    expect(macro.support).toBe(20);
  });

  it('gives the weighted average, each class counting by its support; weighted recall is the accuracy', () => {
    const { weighted } = averageMetrics(HAND);
    expect(weighted.precision).toBeCloseTo(11 / 15, 12);
    expect(weighted.recall).toBeCloseTo(14 / 20, 12);
    expect(weighted.f1).toBeCloseTo(247 / 350, 12);
    expect(weighted.support).toBe(20);
  });

  it('leaves out of the macro average a class neither present nor predicted, and keeps one only predicted', () => {
    // Class 2 never occurs and is never predicted; the rest is HAND's first two classes:
    //   class 0: precision 6/6 = 1, recall 6/8 = 3/4, F1 = 2·(3/4)/(7/4) = 6/7
    //   class 1: precision 3/5,     recall 3/3 = 1,   F1 = 2·(3/5)/(8/5) = 3/4
    //   macro precision (1 + 3/5)/2 = 4/5, recall (3/4 + 1)/2 = 7/8, F1 (6/7 + 3/4)/2 = 45/56
    const twoClasses = [
      [6, 2, 0],
      [0, 3, 0],
      [0, 0, 0],
    ];
    const { macro, weighted } = averageMetrics(twoClasses);
    expect(macro.precision).toBeCloseTo(4 / 5, 12);
    expect(macro.recall).toBeCloseTo(7 / 8, 12);
    expect(macro.f1).toBeCloseTo(45 / 56, 12);
    // Weighted by support 8 and 3: recall (8·3/4 + 3·1)/11 = 9/11, the accuracy.
    expect(weighted.recall).toBeCloseTo(9 / 11, 12);
    // A class predicted but never present counts in the macro average with its 0s: class 2 predicted once.
    //   class 0: precision 6/6 = 1, recall 6/8 = 3/4; class 1: precision 3/4, recall 3/3 = 1; class 2: 0 and 0
    //   macro precision (1 + 3/4 + 0)/3 = 7/12
    const predictedOnly = [
      [6, 1, 1],
      [0, 3, 0],
      [0, 0, 0],
    ];
    expect(averageMetrics(predictedOnly).macro.precision).toBeCloseTo(7 / 12, 12);
  });

  it('gives 0s, not NaN, for an empty matrix', () => {
    const empty = averageMetrics([
      [0, 0],
      [0, 0],
    ]);
    expect(empty.macro).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(empty.weighted).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
  });
});

describe('rows as percentages of the true class', () => {
  it('divides each cell by its row total', () => {
    expect(rowPercentages(HAND)).toEqual([
      [75, 25, 0],
      [0, 75, 25],
      [25, 12.5, 62.5],
    ]);
  });

  it('rounds so that each row adds up to exactly 100, giving the lost tenths to the largest remainders', () => {
    // 1/3 each = 33.333…: rounded down 33.3 three times is 99.9; the one tenth missing goes to the first.
    // 1/6 each = 16.666…: rounded down 16.6 six times is 99.6; the four tenths go to the first four.
    // 1, 2, 4 of 7 = 14.2857…, 28.5714…, 57.1428…: 14.2 + 28.5 + 57.1 = 99.8; remainders .0857, .0714, .0428:
    // the two tenths go to the first two.
    expect(rowPercentages([[1, 1, 1]])).toEqual([[33.4, 33.3, 33.3]]);
    expect(rowPercentages([[1, 1, 1, 1, 1, 1]])).toEqual([[16.7, 16.7, 16.7, 16.7, 16.6, 16.6]]);
    expect(rowPercentages([[1, 2, 4]])).toEqual([[14.3, 28.6, 57.1]]);
    // Whole percentages: 1/3 = 33.33… → 33, 33, 33 and one point to the first.
    expect(rowPercentages([[1, 1, 1]], 0)).toEqual([[34, 33, 33]]);
  });

  it('gives 0s for a row without samples', () => {
    expect(rowPercentages([[0, 0, 0]])).toEqual([[0, 0, 0]]);
  });
});

describe('sorting the classes by a column', () => {
  // HAND's per-class metrics: precision 3/4, 1/2, 5/6; recall 3/4, 3/4, 5/8; F1 3/4, 3/5, 5/7; support 8, 4, 8.
  const perClass = classMetrics(HAND);

  it('sorts by any metric, either way', () => {
    expect(sortClasses(perClass, 'f1', 'descending')).toEqual([0, 2, 1]);
    expect(sortClasses(perClass, 'f1', 'ascending')).toEqual([1, 2, 0]);
    expect(sortClasses(perClass, 'precision', 'descending')).toEqual([2, 0, 1]);
    expect(sortClasses(perClass, 'class', 'ascending')).toEqual([0, 1, 2]);
    expect(sortClasses(perClass, 'class', 'descending')).toEqual([2, 1, 0]);
  });

  it('keeps the label order among equal values, whichever the direction', () => {
    // Recall: classes 0 and 1 both 3/4; support: classes 0 and 2 both 8.
    expect(sortClasses(perClass, 'recall', 'descending')).toEqual([0, 1, 2]);
    expect(sortClasses(perClass, 'recall', 'ascending')).toEqual([2, 0, 1]);
    expect(sortClasses(perClass, 'support', 'descending')).toEqual([0, 2, 1]);
    expect(sortClasses(perClass, 'support', 'ascending')).toEqual([1, 0, 2]);
  });
});
