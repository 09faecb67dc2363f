/**
 * A model's outputs on a labelled set computed with the float64 reference forward pass
 * (src/core/model/reference.ts), not the engine: the oracle for what the CLI reports.
 */

import { CLASS_COUNT, type LabelledDataset } from '@core/shared/dataset';
import type { MlpParameters } from '@core/shared/mlp';
import { crossEntropy, forward, softmax } from '@core/model/reference';
import { denseInputs } from './data';

export interface ReferenceOutputs {
  predictions: Uint8Array;
  /** The probability of the predicted class. */
  confidence: Float64Array;
  /** Probability of the predicted class minus the runner-up's: near 0, float32 rounding may pick the other. */
  margin: Float64Array;
  /** Sum of the per-image cross-entropies. */
  costSum: number;
}

export function referenceOutputs(parameters: MlpParameters, dataset: LabelledDataset, chunk = 500): ReferenceOutputs {
  const predictions = new Uint8Array(dataset.count);
  const confidence = new Float64Array(dataset.count);
  const margin = new Float64Array(dataset.count);
  let costSum = 0;
  for (let start = 0; start < dataset.count; start += chunk) {
    const indices = Array.from({ length: Math.min(chunk, dataset.count - start) }, (_, i) => start + i);
    const activations = forward(parameters, denseInputs(dataset, indices), indices.length);
    const logits = activations[activations.length - 1];
    indices.forEach((index, r) => {
      const row = logits.subarray(r * CLASS_COUNT, (r + 1) * CLASS_COUNT);
      const p = softmax(row);
      const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
      predictions[index] = order[0];
      confidence[index] = p[order[0]];
      margin[index] = p[order[0]] - p[order[1]];
      costSum += crossEntropy(row, dataset.labels[index]);
    });
  }
  return { predictions, confidence, margin, costSum };
}

/** counts[true][predicted], counted here rather than with src/core/shared/classification.ts. */
export function countConfusion(predictions: ArrayLike<number>, labels: ArrayLike<number>): number[][] {
  const counts = Array.from({ length: CLASS_COUNT }, () => new Array<number>(CLASS_COUNT).fill(0));
  for (let i = 0; i < labels.length; i++) counts[labels[i]][predictions[i]] += 1;
  return counts;
}

/**
 * The images whose two likeliest classes are within `margin` of each other: there the engine's float32 and
 * the reference's float64 may each pick a different one, and both are right.
 */
export function nearTies(reference: ReferenceOutputs, margin = 1e-5): Set<number> {
  return new Set([...reference.margin.keys()].filter((i) => reference.margin[i] < margin));
}

/** How many images two confusion matrices count in different cells (each such image moves one count). */
export function imagesCountedElsewhere(a: number[][], b: number[][]): number {
  return a.flat().reduce((sum, count, i) => sum + Math.abs(count - b.flat()[i]), 0) / 2;
}
