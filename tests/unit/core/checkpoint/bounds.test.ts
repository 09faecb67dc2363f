/**
 * Checkpoints whose weights are finite but absurd (±3.4e38) are refused on load: float32 softmax and
 * cross-entropy could not compute their activations, and Adam could not continue from their moments. Real
 * trained models load.
 */

import { describe, expect, it } from 'vitest';
import {
  activationBoundOf,
  checkpointOf,
  decodeCheckpoint,
  encodeCheckpoint,
  type Checkpoint,
} from '@core/checkpoint/checkpoint';
import { resolveRunConfig } from '@core/shared/config';
import { fingerprint } from '@core/shared/dataset';
import { FmnistError } from '@core/shared/errors';
import { initParameters, mlpShape, type MlpParameters } from '@core/shared/mlp';
import { Trainer } from '@core/training/trainer';
import { realDataset } from '../../../helpers/data';
import { thrownBy } from '../../../helpers/failure';

/** A 784-2-10 network that is all zeros but for the weights given as [layer, input, output, value]. */
function sparseModel(entries: [number, number, number, number][], bias = 0): MlpParameters {
  const shape = mlpShape([2]);
  const parameters = initParameters(shape, 1);
  parameters.weights.forEach((w) => w.fill(0));
  parameters.biases.forEach((b) => b.fill(bias));
  const outputs = [2, 10];
  for (const [layer, input, output, value] of entries)
    parameters.weights[layer][input * outputs[layer] + output] = value;
  return parameters;
}

function weightsOnly(parameters: MlpParameters): Checkpoint {
  return {
    parameters,
    config: null,
    epochsDone: 0,
    history: [],
    datasetFingerprint: null,
    appVersion: null,
    createdAt: null,
    optimizer: null,
  };
}

const load = (checkpoint: Checkpoint): Checkpoint => decodeCheckpoint(encodeCheckpoint(checkpoint), 'big.safetensors');

describe('absurd weights', () => {
  it('refuses a model whose outputs could exceed 1e30 and keeps one just below', () => {
    // Inputs are at most 1: pixel 0 → unit 0 (×1e20) → logit 3 (×1e20) can reach 1e40 by hand.
    const error = thrownBy(() =>
      load(
        weightsOnly(
          sparseModel([
            [0, 0, 0, 1e20],
            [1, 0, 3, 1e20],
          ]),
        ),
      ),
    );
    expect(error).toBeInstanceOf(FmnistError);
    expect(error.message).toBe(
      'big.safetensors: has weights too large to compute with: its activations could reach 1.0e+40 (at most 1e+30 is safe in float32)',
    );
    // 1e14 × 1e15 = 1e29: large, but float32 softmax still computes it.
    expect(
      load(
        weightsOnly(
          sparseModel([
            [0, 0, 0, 1e14],
            [1, 0, 3, 1e15],
          ]),
        ),
      ).parameters.weights[1][3],
    ).toBe(Math.fround(1e15));
    // Every pixel adds up: 784 inputs × 1e27 through unit 1, then ×2 and a bias of 5e29 on every unit.
    const wide = sparseModel(
      Array.from({ length: 784 }, (_, i): [number, number, number, number] => [0, i, 1, 1e27]).concat([[1, 1, 0, 2]]),
    );
    wide.biases[1][0] = 5e29;
    expect(thrownBy(() => load(weightsOnly(wide))).message).toMatch(/its activations could reach 2\.1e\+30 /);
  });

  it('refuses the float32 maximum (3.4e38) anywhere, as in the issue', () => {
    const parameters = sparseModel([[1, 1, 7, 3.4e38]]);
    parameters.biases[0][1] = 1; // unit 1 is on for every input
    expect(thrownBy(() => load(weightsOnly(parameters))).message).toMatch(
      /^big\.safetensors: has weights too large to compute with: its activations could reach 3\.4e\+38 /,
    );
    // A hidden unit of 3.4e38 is refused before its product with the next layer (1.2e77) is formed.
    const chain = sparseModel([
      [0, 5, 0, -3.4e38],
      [1, 0, 0, -3.4e38],
    ]);
    expect(thrownBy(() => load(weightsOnly(chain))).message).toMatch(/its activations could reach 3\.4e\+38 /);
  });

  it('refuses Adam moments too large to resume from', () => {
    const shape = mlpShape([4]);
    const parameters = initParameters(shape, 3);
    const moments = (value: number): MlpParameters => {
      const m = initParameters(shape, 4);
      m.weights.forEach((w) => w.fill(0.01));
      m.weights[1][5] = value;
      return m;
    };
    const config = resolveRunConfig({ hiddenSizes: [4], epochs: 2 });
    const state = (m: number, v: number) => ({
      epochsDone: 0,
      step: 10,
      shuffleState: [1, 2, 3, 4] as [number, number, number, number],
      parameters,
      moments: { m: moments(m), v: moments(v) },
      history: [],
    });
    const ok = load(checkpointOf(state(-1e14, 1e29), config, { datasetFingerprint: null }));
    expect(ok.optimizer!.m.weights[1][5]).toBe(Math.fround(-1e14));
    expect(thrownBy(() => load(checkpointOf(state(-1e16, 1), config, { datasetFingerprint: null }))).message).toBe(
      'big.safetensors: has Adam moments too large to resume from: a first moment of -1.0e+16 (at most 1e+15)',
    );
    expect(thrownBy(() => load(checkpointOf(state(0, 3.4e38), config, { datasetFingerprint: null }))).message).toBe(
      'big.safetensors: has Adam moments too large to resume from: a second moment of 3.4e+38 (at most 1e+30)',
    );
  });

  it('loads a model trained for an epoch on the real Fashion-MNIST', async () => {
    const train = await realDataset('train');
    const config = resolveRunConfig({ epochs: 1, seed: 5 }); // the default 512-256 network
    const trainer = await Trainer.create({ config, train });
    await trainer.run();
    const saved = encodeCheckpoint(
      checkpointOf(trainer.getState(), config, { datasetFingerprint: fingerprint(train) }),
    );
    await trainer.dispose();
    const loaded = decodeCheckpoint(saved, 'trained.safetensors');
    expect(loaded.epochsDone).toBe(1);
    expect(loaded.history[0].trainAccuracy).toBeGreaterThan(0.75);
    expect(loaded.optimizer!.step).toBe(Math.ceil(60000 / 128));
    // The bound of a real model is nowhere near the limit: 1e30 refuses only what cannot be computed.
    const bound = activationBoundOf(loaded.parameters);
    expect(bound).toBeLessThan(1e12);
  });
});
