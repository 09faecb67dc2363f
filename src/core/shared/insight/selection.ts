/**
 * Which test images to show, and in what order: the gallery's filters (all, correct or misclassified; by
 * true and by predicted class) and sorts (by confidence either way, or by index), over a model's outputs on
 * a labelled set. Pure functions over typed arrays, shared by the app's gallery and `fmnist report`.
 */

import { CLASS_COUNT } from '../dataset';

/** A model's outputs on a labelled set: `labels.length` images, ten probabilities each. */
export interface TestOutputs {
  labels: Uint8Array;
  predictions: Uint8Array;
  /** Row-major, 10 per image (softmax outputs). */
  probabilities: Float32Array;
}

export const SHOW_OPTIONS = ['all', 'correct', 'misclassified'] as const;
export type Show = (typeof SHOW_OPTIONS)[number];

export const SORT_OPTIONS = ['confidence-desc', 'confidence-asc', 'index'] as const;
export type GallerySort = (typeof SORT_OPTIONS)[number];

export interface GalleryFilter {
  show: Show;
  /** Only images of this true class (0–9), or null for any. */
  trueClass: number | null;
  /** Only images predicted as this class (0–9), or null for any. */
  predictedClass: number | null;
  sort: GallerySort;
}

export const ALL_IMAGES: GalleryFilter = Object.freeze({
  show: 'all',
  trueClass: null,
  predictedClass: null,
  sort: 'index',
});

/** The probability the model gave its own prediction for image `index`. */
export function confidenceOf(outputs: TestOutputs, index: number): number {
  return outputs.probabilities[index * CLASS_COUNT + outputs.predictions[index]];
}

/** The indices of the images the filter lets through, in its order (ties by index). */
export function selectImages(outputs: TestOutputs, filter: GalleryFilter): Int32Array {
  const { labels, predictions } = outputs;
  const picked = new Int32Array(labels.length);
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    const right = labels[i] === predictions[i];
    if (filter.show === 'correct' && !right) continue;
    if (filter.show === 'misclassified' && right) continue;
    if (filter.trueClass !== null && labels[i] !== filter.trueClass) continue;
    if (filter.predictedClass !== null && predictions[i] !== filter.predictedClass) continue;
    picked[count++] = i;
  }
  const selection = picked.slice(0, count);
  if (filter.sort === 'index') return selection;
  const confidence = new Float32Array(labels.length);
  for (const i of selection) confidence[i] = confidenceOf(outputs, i);
  const sign = filter.sort === 'confidence-desc' ? -1 : 1;
  return selection.sort((a, b) => sign * (confidence[a] - confidence[b]) || a - b);
}
