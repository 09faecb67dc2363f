import { describe, expect, it } from 'vitest';
import { ALL_IMAGES, confidenceOf, selectImages, type TestOutputs } from '@core/shared/insight/selection';

/** Six images; each row of probabilities puts `p` on the predicted class and spreads the rest evenly. */
function outputs(rows: { label: number; predicted: number; p: number }[]): TestOutputs {
  const probabilities = new Float32Array(rows.length * 10);
  rows.forEach((row, i) => {
    for (let c = 0; c < 10; c++) probabilities[i * 10 + c] = c === row.predicted ? row.p : (1 - row.p) / 9;
  });
  return {
    labels: Uint8Array.from(rows.map((r) => r.label)),
    predictions: Uint8Array.from(rows.map((r) => r.predicted)),
    probabilities,
  };
}

const six = outputs([
  { label: 0, predicted: 0, p: 0.9 }, // 0 right
  { label: 6, predicted: 0, p: 0.8 }, // 1 wrong: a shirt taken for a T-shirt
  { label: 6, predicted: 2, p: 0.5 }, // 2 wrong
  { label: 2, predicted: 2, p: 0.99 }, // 3 right
  { label: 6, predicted: 0, p: 0.95 }, // 4 wrong, the surest mistake
  { label: 0, predicted: 0, p: 0.8 }, // 5 right, ties with 1 on confidence
]);

describe('gallery selection', () => {
  it('gives the confidence of the predicted class', () => {
    expect(confidenceOf(six, 4)).toBeCloseTo(0.95, 6);
    expect(confidenceOf(six, 2)).toBeCloseTo(0.5, 6);
  });

  it('filters by right and wrong, true and predicted class', () => {
    expect([...selectImages(six, ALL_IMAGES)]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...selectImages(six, { ...ALL_IMAGES, show: 'correct' })]).toEqual([0, 3, 5]);
    expect([...selectImages(six, { ...ALL_IMAGES, show: 'misclassified' })]).toEqual([1, 2, 4]);
    expect([...selectImages(six, { ...ALL_IMAGES, trueClass: 6 })]).toEqual([1, 2, 4]);
    expect([...selectImages(six, { ...ALL_IMAGES, trueClass: 6, predictedClass: 0 })]).toEqual([1, 4]);
    expect([...selectImages(six, { ...ALL_IMAGES, predictedClass: 0, show: 'correct' })]).toEqual([0, 5]);
    expect([...selectImages(six, { ...ALL_IMAGES, trueClass: 9 })]).toEqual([]);
  });

  it('sorts by confidence either way, ties by index', () => {
    expect([...selectImages(six, { ...ALL_IMAGES, sort: 'confidence-desc' })]).toEqual([3, 4, 0, 1, 5, 2]);
    expect([...selectImages(six, { ...ALL_IMAGES, sort: 'confidence-asc' })]).toEqual([2, 1, 5, 0, 4, 3]);
    expect([...selectImages(six, { ...ALL_IMAGES, show: 'misclassified', sort: 'confidence-desc' })]).toEqual([
      4, 1, 2,
    ]);
  });
});
