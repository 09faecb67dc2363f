/**
 * Adam with bias correction (Kingma & Ba, Algorithm 1), the reference form of the update the engine
 * fuses into its weight-gradient kernels:
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,
 *   θ ← θ·(1 − lr·λ) − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)
 * where λ is AdamW's decoupled weight decay (Loshchilov & Hutter), 0 for plain Adam and for biases.
 * It is computed in the paper's equivalent "efficient" order, with both corrections folded into two
 * scalars per step (two multiplications fewer per parameter):
 *   θ ← θ·(1 − lr·λ) − αₜ·m / (√v + ε̂),  αₜ = lr·√(1−β2ᵗ)/(1−β1ᵗ),  ε̂ = ε·√(1−β2ᵗ).
 */

export interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** The per-step scalars of the update at step t (1-based), as the engine's kernels consume them. */
export interface AdamStepScalars {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** αₜ = lr·√(1 − β2ᵗ) / (1 − β1ᵗ) */
  stepSize: number;
  /** ε̂ = ε·√(1 − β2ᵗ) */
  epsilonHat: number;
}

export function adamScalars(settings: AdamSettings, step: number): AdamStepScalars {
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`Adam step must be a whole number ≥ 1, got ${step}`);
  const root = Math.sqrt(1 - Math.pow(settings.beta2, step));
  return {
    ...settings,
    stepSize: (settings.learningRate * root) / (1 - Math.pow(settings.beta1, step)),
    epsilonHat: settings.epsilon * root,
  };
}

/** AdamW's shrink factor 1 − lr·λ as a float32 (exactly 1 without decay). */
export function adamDecay(learningRate: number, weightDecay: number): number {
  return Math.fround(1 - learningRate * weightDecay);
}

/** One Adam update of `param` in place, given its gradient and moment buffers, in float32 arithmetic. */
export function adamUpdate(
  param: Float32Array,
  gradient: ArrayLike<number>,
  m: Float32Array,
  v: Float32Array,
  scalars: AdamStepScalars,
  weightDecay = 0,
): void {
  const f = Math.fround;
  const b1 = f(scalars.beta1);
  const b2 = f(scalars.beta2);
  const oneMinusB1 = f(1 - scalars.beta1);
  const oneMinusB2 = f(1 - scalars.beta2);
  const stepSize = f(scalars.stepSize);
  const epsilonHat = f(scalars.epsilonHat);
  const decay = adamDecay(scalars.learningRate, weightDecay);
  for (let i = 0; i < param.length; i++) {
    const g = f(gradient[i]);
    m[i] = f(f(b1 * m[i]) + f(oneMinusB1 * g));
    v[i] = f(f(b2 * v[i]) + f(f(oneMinusB2 * g) * g));
    param[i] = f(f(param[i] * decay) - f(f(stepSize * m[i]) / f(f(Math.sqrt(v[i])) + epsilonHat)));
  }
}
