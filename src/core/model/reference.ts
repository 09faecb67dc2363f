/**
 * The reference implementation of the network's math: dense, double precision, written to be read, not
 * to be fast. Tests check it against finite differences and check the fast engine against it.
 *
 * Forward: Z_l = A_{l-1} W_l + b_l, A_l = ReLU(Z_l) for hidden layers, P = softmax(Z_L).
 * Loss: mean over the batch of −log P[y] computed as logsumexp(Z_L) − Z_L[y] (stable for any logits).
 * Backward: dZ_L = (P − onehot(y)) / m; dW_l = A_{l-1}ᵀ dZ_l; db_l = Σ_rows dZ_l;
 *           dZ_{l-1} = (dZ_l W_lᵀ) ⊙ [Z_{l-1} > 0].
 */

import { layerSizes, type MlpParameters } from './mlp';

export interface Gradients {
  weights: Float64Array[];
  biases: Float64Array[];
}

/** Activations of every layer for a batch of m inputs (m × 784, values in [0, 1]); last entry is logits. */
export function forward(params: MlpParameters, inputs: Float64Array, m: number): Float64Array[] {
  const sizes = layerSizes(params.shape);
  const activations: Float64Array[] = [inputs];
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
        z[r * nOut + j] = l + 2 < sizes.length ? Math.max(sum, 0) : sum;
      }
    }
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

/** Mean cross-entropy of a batch. */
export function batchLoss(params: MlpParameters, inputs: Float64Array, labels: ArrayLike<number>, m: number): number {
  const activations = forward(params, inputs, m);
  const logits = activations[activations.length - 1];
  const classes = params.shape.outputSize;
  let total = 0;
  for (let r = 0; r < m; r++) total += crossEntropy(logits.subarray(r * classes, (r + 1) * classes), labels[r]);
  return total / m;
}

/** Mean loss and its gradients with respect to every weight and bias (backpropagation). */
export function lossAndGradients(
  params: MlpParameters,
  inputs: Float64Array,
  labels: ArrayLike<number>,
  m: number,
): { loss: number; gradients: Gradients } {
  const sizes = layerSizes(params.shape);
  const layers = sizes.length - 1;
  const activations = forward(params, inputs, m);
  const classes = sizes[layers];
  const logits = activations[layers];

  let loss = 0;
  let delta: Float64Array = new Float64Array(m * classes);
  for (let r = 0; r < m; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    loss += crossEntropy(row, labels[r]);
    const p = softmax(row);
    for (let c = 0; c < classes; c++) delta[r * classes + c] = (p[c] - (c === labels[r] ? 1 : 0)) / m;
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
          if (input[r * nIn + i] <= 0) continue; // ReLU′ is 0 where the unit was off (including exactly 0)
          let sum = 0;
          for (let j = 0; j < nOut; j++) sum += delta[r * nOut + j] * w[i * nOut + j];
          previous[r * nIn + i] = sum;
        }
      }
      delta = previous;
    }
  }
  return { loss: loss / m, gradients: { weights, biases } };
}
