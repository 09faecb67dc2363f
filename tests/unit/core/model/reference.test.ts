import { describe, expect, it } from 'vitest';
import { initParameters, mlpShape, type MlpParameters } from '@core/shared/mlp';
import {
  batchCost,
  crossEntropy,
  forward,
  costAndGradients,
  type ReferenceRecipes,
  softmax,
} from '@core/model/reference';
import { Random } from '@core/shared/random';

/** Central finite differences of the mean cost, in float64, for every parameter of a small network. */
function numericGradient(
  params: MlpParameters,
  inputs: Float64Array,
  labels: number[],
  m: number,
  which: 'weights' | 'biases',
  layer: number,
  index: number,
  recipes: ReferenceRecipes = {},
): number {
  // Parameters are float32 arrays; do the perturbation in a float64 copy of the network's math instead.
  const h = 1e-3;
  const array = params[which][layer];
  const original = array[index];
  const wide = { ...params, [which]: params[which].map((a) => Float64Array.from(a)) } as unknown as MlpParameters;
  (wide[which][layer] as unknown as Float64Array)[index] = original + h;
  const plus = batchCost(wide, inputs, labels, m, recipes);
  (wide[which][layer] as unknown as Float64Array)[index] = original - h;
  const minus = batchCost(wide, inputs, labels, m, recipes);
  return (plus - minus) / (2 * h);
}

/** The logits of one input row, by the reference's forward pass. */
function forwardLogits(params: MlpParameters, input: Float64Array): Float64Array {
  const activations = forward(params, input, 1);
  return activations[activations.length - 1];
}

describe('reference model', () => {
  const shape = mlpShape([7, 5]);
  const params = initParameters(shape, 11);
  const rng = Random.fromSeed(5, 'fd');
  const m = 6;
  const inputs = Float64Array.from({ length: m * 784 }, () => (rng.nextFloat() < 0.5 ? 0 : rng.nextFloat()));
  const labels = Array.from({ length: m }, () => rng.nextInt(10));
  params.biases.forEach((b) => b.forEach((_, i) => (b[i] = (rng.nextFloat() - 0.5) * 0.2)));
  const { gradients } = costAndGradients(params, inputs, labels, m);

  for (const which of ['weights', 'biases'] as const) {
    for (let layer = 0; layer < 3; layer++) {
      it(`${which} of layer ${layer + 1} match finite differences`, () => {
        const analytic = gradients[which][layer];
        // Every bias, and a spread of weights (all of the small layers, a sample of the first).
        const indices =
          analytic.length <= 64
            ? analytic.map((_, i) => i)
            : Array.from({ length: 64 }, () => rng.nextInt(analytic.length));
        let compared = 0;
        for (const index of indices) {
          const numeric = numericGradient(params, inputs, labels, m, which, layer, Number(index));
          expect(analytic[Number(index)]).toBeCloseTo(numeric, 6);
          if (numeric !== 0) compared++;
        }
        expect(compared).toBeGreaterThan(0);
      });
    }
  }

  describe('with dropout and label smoothing', () => {
    // A fixed mask (units 0…11 across both hidden layers), as one training step draws it.
    const keep = Array.from({ length: m * 12 }, () => rng.nextFloat() >= 0.4);
    const recipes: ReferenceRecipes = {
      keeps: (row, unit) => keep[row * 12 + unit],
      dropoutScale: 1 / 0.6,
      labelSmoothing: 0.1,
    };
    const withRecipes = costAndGradients(params, inputs, labels, m, recipes);

    it('has the cost of smoothed targets, by hand for one sample', () => {
      const one = costAndGradients(params, inputs.subarray(0, 784), labels.slice(0, 1), 1, { labelSmoothing: 0.3 });
      const plain = costAndGradients(params, inputs.subarray(0, 784), labels.slice(0, 1), 1).cost; // −log p_label
      const p = softmax(forwardLogits(params, inputs.subarray(0, 784)));
      // q = 0.73 for the label, 0.03 for the others
      let want = 0;
      for (let c = 0; c < 10; c++) want -= (c === labels[0] ? 0.73 : 0.03) * Math.log(p[c]);
      expect(one.cost).toBeCloseTo(want, 10);
      expect(plain).toBeCloseTo(-Math.log(p[labels[0]]), 10);
    });

    for (const which of ['weights', 'biases'] as const) {
      for (let layer = 0; layer < 3; layer++) {
        it(`${which} of layer ${layer + 1} match finite differences`, () => {
          const analytic = withRecipes.gradients[which][layer];
          const indices =
            analytic.length <= 64
              ? analytic.map((_, i) => i)
              : Array.from({ length: 64 }, () => rng.nextInt(analytic.length));
          let compared = 0;
          for (const index of indices) {
            const numeric = numericGradient(params, inputs, labels, m, which, layer, Number(index), recipes);
            expect(analytic[Number(index)]).toBeCloseTo(numeric, 6);
            if (numeric !== 0) compared++;
          }
          expect(compared).toBeGreaterThan(0);
        });
      }
    }

    it('drops units: a dropped unit passes no gradient to its incoming weights', () => {
      const dropped = keep.findIndex((k, i) => !k && i % 12 < 7);
      const row = Math.floor(dropped / 12);
      const unit = dropped % 12;
      const single = costAndGradients(params, inputs.subarray(row * 784, (row + 1) * 784), [labels[row]], 1, {
        keeps: (_r, u) => keep[row * 12 + u],
        dropoutScale: 1 / 0.6,
      });
      expect(single.gradients.biases[0][unit]).toBe(0);
    });
  });

  it('computes softmax and cross-entropy stably for huge logits', () => {
    const logits = [1000, 999, -1000, 0, 0, 0, 0, 0, 0, 0];
    const p = softmax(logits);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p[0] / p[1]).toBeCloseTo(Math.E, 9);
    expect(crossEntropy(logits, 1)).toBeCloseTo(1 + Math.log(1 + Math.exp(-1)), 9);
    expect(Number.isFinite(crossEntropy(logits, 2))).toBe(true);
    expect(crossEntropy(logits, 2)).toBeCloseTo(2000 + Math.log(1 + Math.exp(-1)), 6);
  });

  it('initialises He-normal weights and zero biases, reproducibly from the seed', () => {
    const big = initParameters(mlpShape([512, 256]), 1);
    const w = big.weights[0];
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const variance = w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length;
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(Math.sqrt(variance)).toBeCloseTo(Math.sqrt(2 / 784), 3);
    expect(big.biases.every((b) => b.every((x) => x === 0))).toBe(true);
    expect(initParameters(mlpShape([512, 256]), 1).weights[1]).toEqual(big.weights[1]);
    expect(initParameters(mlpShape([512, 256]), 2).weights[1]).not.toEqual(big.weights[1]);
  });
});
