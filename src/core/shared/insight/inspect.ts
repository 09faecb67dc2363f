/**
 * One image through the network, keeping what every layer did: the hidden layers' activations (after
 * ReLU) and the class probabilities. Small enough to run in the window as the user draws (about 0.4 M
 * multiply-adds for 784-512-256-10): input-major loops over the canonical [in × out] weights, skipping
 * inputs that are zero, as half of a Fashion-MNIST image and most of a drawing are.
 */

import { IMAGE_SIZE } from '../dataset';
import { layerSizes, type MlpParameters } from '../mlp';

export interface ImageActivations {
  /** Each hidden layer's activations after ReLU. */
  hidden: Float32Array[];
  /** Softmax of the output layer. */
  probabilities: Float64Array;
}

/** Runs `pixels` (784 bytes, 0–255) through the network. */
export function inspectImage(parameters: MlpParameters, pixels: Uint8Array): ImageActivations {
  if (pixels.length !== IMAGE_SIZE) throw new RangeError(`an image has ${IMAGE_SIZE} pixels, got ${pixels.length}`);
  const sizes = layerSizes(parameters.shape);
  let input: Float64Array = Float64Array.from(pixels, (p) => p / 255);
  const hidden: Float32Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const outputs = sizes[l + 1];
    const w = parameters.weights[l];
    const z = Float64Array.from(parameters.biases[l]);
    for (let i = 0; i < sizes[l]; i++) {
      const a = input[i];
      if (a === 0) continue;
      const row = i * outputs;
      for (let j = 0; j < outputs; j++) z[j] += a * w[row + j];
    }
    if (l + 2 < sizes.length) {
      for (let j = 0; j < outputs; j++) if (z[j] < 0) z[j] = 0;
      hidden.push(Float32Array.from(z));
    }
    input = z;
  }
  let max = -Infinity;
  for (const logit of input) max = Math.max(max, logit);
  let sum = 0;
  const probabilities = input.map((logit) => {
    const e = Math.exp(logit - max);
    sum += e;
    return e;
  });
  for (let c = 0; c < probabilities.length; c++) probabilities[c] /= sum;
  return { hidden, probabilities };
}
