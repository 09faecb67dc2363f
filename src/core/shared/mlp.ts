/**
 * The network's shape and parameters in their canonical layout: for each layer a weight matrix stored
 * row-major as [inputs × outputs] and a bias vector. Checkpoints, exports and the engine all exchange
 * parameters in this layout; the engine converts to its own tiled layout internally.
 */

import { CLASS_COUNT, IMAGE_SIZE } from './dataset';
import { Random } from './random';

export interface MlpShape {
  inputSize: number;
  hiddenSizes: number[];
  outputSize: number;
}

export function mlpShape(hiddenSizes: number[]): MlpShape {
  return { inputSize: IMAGE_SIZE, hiddenSizes: [...hiddenSizes], outputSize: CLASS_COUNT };
}

/** Units per layer from input to output, e.g. [784, 512, 256, 10]. */
export function layerSizes(shape: MlpShape): number[] {
  return [shape.inputSize, ...shape.hiddenSizes, shape.outputSize];
}

export interface MlpParameters {
  shape: MlpShape;
  /** weights[l] is [sizes[l] × sizes[l+1]], row-major: weights[l][i * out + j] connects input i to output j. */
  weights: Float32Array[];
  biases: Float32Array[];
}

export function parameterCount(shape: MlpShape): number {
  const sizes = layerSizes(shape);
  let count = 0;
  for (let l = 0; l + 1 < sizes.length; l++) count += sizes[l] * sizes[l + 1] + sizes[l + 1];
  return count;
}

/** He-normal weights (standard deviation √(2 / fan-in)) from the seed's "init" stream, zero biases. */
export function initParameters(shape: MlpShape, seed: number): MlpParameters {
  const rng = Random.fromSeed(seed, 'init');
  const sizes = layerSizes(shape);
  const weights: Float32Array[] = [];
  const biases: Float32Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fanIn = sizes[l];
    const std = Math.sqrt(2 / fanIn);
    const w = new Float32Array(fanIn * sizes[l + 1]);
    for (let i = 0; i < w.length; i++) w[i] = rng.nextNormal() * std;
    weights.push(w);
    biases.push(new Float32Array(sizes[l + 1]));
  }
  return { shape, weights, biases };
}

export function sameShape(a: MlpShape, b: MlpShape): boolean {
  const sa = layerSizes(a);
  const sb = layerSizes(b);
  return sa.length === sb.length && sa.every((size, i) => size === sb[i]);
}

export function describeShape(shape: MlpShape): string {
  return layerSizes(shape).join('-');
}
