/**
 * What the gallery, the evaluation and the network view are built from, as the backend sends it: a model's
 * weights and its outputs on the test set (ModelInsight), and the test set's images (TestImages). The page
 * then selects (selection.ts) and inspects (inspect.ts) from it. The held model's outputs are computed once
 * per model and test set and kept; a run's come free with each epoch's test evaluation.
 */

import type { LabelledDataset } from '../dataset';
import type { MlpParameters } from '../mlp';
import type { ModelInsight, TestImages, TestOutputsInfo } from '../contract';

/** A model's outputs on a test set, as an evaluation gives them. */
export interface TestOutputs {
  count: number;
  correct: number;
  costSum: number;
  predictions: Uint8Array;
  probabilities: Float32Array;
}

/** The test outputs of a model on one test set (by fingerprint). */
export interface KeptOutputs<Model> {
  model: Model;
  fingerprint: string;
  evaluation: TestOutputs;
}

/** A loaded test set: its images and labels, and its fingerprint. */
export interface LoadedTestSet {
  dataset: LabelledDataset;
  fingerprint: string;
}

export function testOutputsInfo(fingerprint: string, evaluation: TestOutputs): TestOutputsInfo {
  return {
    fingerprint,
    count: evaluation.count,
    predictions: compact(evaluation.predictions),
    probabilities: compact(evaluation.probabilities),
    accuracy: evaluation.correct / evaluation.count,
    cost: evaluation.costSum / evaluation.count,
  };
}

export function insightOf(
  key: string,
  source: ModelInsight['source'],
  epochsDone: number | null,
  parameters: MlpParameters,
  test: TestOutputsInfo | null,
): ModelInsight {
  return {
    key,
    source,
    epochsDone,
    hiddenSizes: [...parameters.shape.hiddenSizes],
    weights: parameters.weights.map(compact),
    biases: parameters.biases.map(compact),
    test,
  };
}

/** A typed array that owns its buffer: a view into a larger one would be copied whole when sent. */
function compact<T extends Uint8Array | Float32Array>(view: T): T {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? view : (view.slice() as T);
}

/** Made once per loaded set (the compact copy of 7.8 MB of images is not made again for each page). */
const testImagesCache = new WeakMap<LoadedTestSet, TestImages>();

export function testImagesOf(loaded: LoadedTestSet): TestImages {
  let images = testImagesCache.get(loaded);
  if (!images) {
    const { dataset } = loaded;
    images = {
      fingerprint: loaded.fingerprint,
      count: dataset.count,
      images: compact(dataset.images),
      labels: compact(dataset.labels),
    };
    testImagesCache.set(loaded, images);
  }
  return images;
}
