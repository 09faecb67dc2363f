/**
 * The reference implementation of the network's math: dense, double precision, written to be read, not
 * to be fast. Tests check it against finite differences and check the fast engine against it.
 *
 * Forward: Z_l = A_{l-1} W_l + b_l, A_l = ReLU(Z_l) for hidden layers, P = softmax(Z_L).
 * Cost: mean over the batch of −log P[y] computed as logsumexp(Z_L) − Z_L[y] (stable for any logits).
 * Backward: dZ_L = (P − onehot(y)) / m; dW_l = A_{l-1}ᵀ dZ_l; db_l = Σ_rows dZ_l;
 *           dZ_{l-1} = (dZ_l W_lᵀ) ⊙ [Z_{l-1} > 0].
 * With the training recipes (ReferenceRecipes): inverted dropout A_l = ReLU(Z_l)·keep·s on hidden layers
 * (s = 1/(1−p), so dZ_{l-1} gains the factor keep·s), and label smoothing, where the target q puts
 * 1 − ε + ε/K on the label and ε/K on every other class: cost −Σ q log P, dZ_L = (P − q)/m.
 */

import { layerSizes, type MlpParameters } from '@core/shared/mlp';

/** A training step's recipes, as the reference applies them. */
export interface ReferenceRecipes {
  /** Whether hidden unit `unit` (numbered across the hidden layers, from 0) of row `row` is kept. */
  keeps?: (row: number, unit: number) => boolean;
  /** The kept units' factor, 1/(1 − p). */
  dropoutScale?: number;
  labelSmoothing?: number;
}

export interface Gradients {
  weights: Float64Array[];
  biases: Float64Array[];
}

/** Activations of every layer for a batch of m inputs (m × 784, values in [0, 1]); last entry is logits. */
export function forward(
  params: MlpParameters,
  inputs: Float64Array,
  m: number,
  recipes: ReferenceRecipes = {},
): Float64Array[] {
  const sizes = layerSizes(params.shape);
  const activations: Float64Array[] = [inputs];
  let firstUnit = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const input = activations[l];
    const nIn = sizes[l];
    const nOut = sizes[l + 1];
    const w = params.weights[l];
    const b = params.biases[l];
    const z = new Float64Array(m * nOut);
    for (let r = 0; r < m; r++) {
      for (let j = 0; j < nOut; j++) {
        let sum = b[j];
        for (let i = 0; i < nIn; i++) sum += input[r * nIn + i] * w[i * nOut + j];
        const hidden = l + 2 < sizes.length;
        const kept = !hidden || !recipes.keeps || recipes.keeps(r, firstUnit + j);
        z[r * nOut + j] = !hidden ? sum : kept ? Math.max(sum, 0) * (recipes.dropoutScale ?? 1) : 0;
      }
    }
    firstUnit += nOut;
    activations.push(z);
  }
  return activations;
}

/** Softmax probabilities of one row of logits, computed with the maximum subtracted. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < logits.length; i++) out[i] /= sum;
  return out;
}

/** −log softmax(logits)[label] = logsumexp(logits) − logits[label]. */
export function crossEntropy(logits: ArrayLike<number>, label: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return max + Math.log(sum) - logits[label];
}

/** The training target of class c for a sample of class `label`, with label smoothing ε. */
export function smoothedTarget(c: number, label: number, classes: number, smoothing: number): number {
  return (c === label ? 1 - smoothing : 0) + smoothing / classes;
}

/** −Σ q_c log softmax(logits)_c with the smoothed targets q (plain cross-entropy for ε = 0). */
export function smoothedCrossEntropy(logits: ArrayLike<number>, label: number, smoothing: number): number {
  if (smoothing === 0) return crossEntropy(logits, label);
  let total = 0;
  for (let c = 0; c < logits.length; c++)
    total += smoothedTarget(c, label, logits.length, smoothing) * crossEntropy(logits, c);
  return total;
}

/** Mean cross-entropy of a batch. */
export function batchCost(
  params: MlpParameters,
  inputs: Float64Array,
  labels: ArrayLike<number>,
  m: number,
  recipes: ReferenceRecipes = {},
): number {
  const activations = forward(params, inputs, m, recipes);
  const logits = activations[activations.length - 1];
  const classes = params.shape.outputSize;
  let total = 0;
  for (let r = 0; r < m; r++) {
    total += smoothedCrossEntropy(
      logits.subarray(r * classes, (r + 1) * classes),
      labels[r],
      recipes.labelSmoothing ?? 0,
    );
  }
  return total / m;
}

/** Mean cost and its gradients with respect to every weight and bias (backpropagation). */
export function costAndGradients(
  params: MlpParameters,
  inputs: Float64Array,
  labels: ArrayLike<number>,
  m: number,
  recipes: ReferenceRecipes = {},
): { cost: number; gradients: Gradients } {
  const sizes = layerSizes(params.shape);
  const layers = sizes.length - 1;
  const activations = forward(params, inputs, m, recipes);
  const smoothing = recipes.labelSmoothing ?? 0;
  const classes = sizes[layers];
  const logits = activations[layers];

  let cost = 0;
  let delta: Float64Array = new Float64Array(m * classes);
  for (let r = 0; r < m; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    cost += smoothedCrossEntropy(row, labels[r], smoothing);
    const p = softmax(row);
    for (let c = 0; c < classes; c++)
      delta[r * classes + c] = (p[c] - smoothedTarget(c, labels[r], classes, smoothing)) / m;
  }

  const weights: Float64Array[] = new Array(layers);
  const biases: Float64Array[] = new Array(layers);
  for (let l = layers - 1; l >= 0; l--) {
    const nIn = sizes[l];
    const nOut = sizes[l + 1];
    const input = activations[l];
    const dW = new Float64Array(nIn * nOut);
    const db = new Float64Array(nOut);
    for (let r = 0; r < m; r++) {
      for (let j = 0; j < nOut; j++) {
        const d = delta[r * nOut + j];
        if (d === 0) continue;
        db[j] += d;
        for (let i = 0; i < nIn; i++) dW[i * nOut + j] += input[r * nIn + i] * d;
      }
    }
    weights[l] = dW;
    biases[l] = db;
    if (l > 0) {
      const w = params.weights[l];
      const previous = new Float64Array(m * nIn);
      for (let r = 0; r < m; r++) {
        for (let i = 0; i < nIn; i++) {
          // ReLU′ is 0 where the unit was off (including exactly 0), and so is a dropped unit's.
          if (input[r * nIn + i] <= 0) continue;
          let sum = 0;
          for (let j = 0; j < nOut; j++) sum += delta[r * nOut + j] * w[i * nOut + j];
          previous[r * nIn + i] = sum * (recipes.dropoutScale ?? 1);
        }
      }
      delta = previous;
    }
  }
  return { cost: cost / m, gradients: { weights, biases } };
}
