import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, loadCheckpoint, saveCheckpoint, type Checkpoint } from '../../../../src/core/checkpoint/checkpoint';
import { decodeSafetensors, encodeSafetensors } from '../../../../src/core/checkpoint/safetensors';
import { resolveRunConfig } from '../../../../src/core/config';
import { initParameters, mlpShape } from '../../../../src/core/model/mlp';
import { tempDir } from '../../../helpers/data';

function sampleCheckpoint(): Checkpoint {
  const shape = mlpShape([30, 20]);
  const parameters = initParameters(shape, 2);
  parameters.biases[1][3] = 0.25;
  const moments = initParameters(shape, 3);
  const second = initParameters(shape, 4);
  second.weights.forEach((w) => w.forEach((x, i) => (w[i] = x * x)));
  return {
    parameters,
    config: resolveRunConfig({ hiddenSizes: [30, 20], epochs: 7, seed: 9 }),
    epochsDone: 1,
    history: [
      { epoch: 1, epochs: 7, cost: 0.5, trainAccuracy: 0.8, validationCost: null, validationAccuracy: null, testCost: 0.45, testAccuracy: 0.84, seconds: 1, evaluationSeconds: 0.1, samplesPerSecond: 1000 },
    ],
    datasetFingerprint: '0123456789abcdef',
    appVersion: null,
    createdAt: null,
    optimizer: { step: 12, m: moments, v: second, shuffleState: [1, 2, 3, 4000000000] },
  };
}

describe('checkpoints', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
  });

  it('round-trip the model, optimizer state, settings and history exactly', async () => {
    const original = sampleCheckpoint();
    const path = join(dir, 'model.safetensors');
    await saveCheckpoint(path, original);
    const loaded = await loadCheckpoint(path);
    expect(loaded.parameters.weights).toEqual(original.parameters.weights);
    expect(loaded.parameters.biases).toEqual(original.parameters.biases);
    expect(loaded.optimizer!.m.weights).toEqual(original.optimizer!.m.weights);
    expect(loaded.optimizer!.v.biases).toEqual(original.optimizer!.v.biases);
    expect(loaded.optimizer!.step).toBe(12);
    expect(loaded.optimizer!.shuffleState).toEqual([1, 2, 3, 4000000000]);
    expect(loaded.config).toEqual(original.config);
    expect(loaded.history).toEqual(original.history);
    expect(loaded.datasetFingerprint).toBe('0123456789abcdef');
    expect(loaded.appVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('uses PyTorch nn.Sequential names and [out, in] weight shapes', () => {
    const { tensors, metadata } = decodeSafetensors(encodeCheckpoint(sampleCheckpoint()), 'x');
    expect(tensors.get('0.weight')!.shape).toEqual([30, 784]);
    expect(tensors.get('2.weight')!.shape).toEqual([20, 30]);
    expect(tensors.get('4.bias')!.shape).toEqual([10]);
    const w = new Float32Array(tensors.get('2.weight')!.bytes.buffer);
    const original = sampleCheckpoint().parameters.weights[1]; // [30 in × 20 out]
    expect(w[5 * 30 + 7]).toBe(original[7 * 20 + 5]); // PyTorch [out=5, in=7]
    expect(JSON.parse(metadata.fmnist).architecture.hiddenSizes).toEqual([30, 20]);
  });

  it('loads a bare state dict of the right layout as a model', () => {
    const bytes = encodeSafetensors(
      [
        ['0.weight', { dtype: 'F32', shape: [30, 784], data: new Float32Array(30 * 784) }],
        ['0.bias', { dtype: 'F32', shape: [30], data: new Float32Array(30) }],
        ['2.weight', { dtype: 'F32', shape: [10, 30], data: new Float32Array(300).fill(0.5) }],
        ['2.bias', { dtype: 'F32', shape: [10], data: new Float32Array(10) }],
      ],
      {},
    );
    const loaded = decodeCheckpoint(bytes, 'bare.safetensors');
    expect(loaded.parameters.shape.hiddenSizes).toEqual([30]);
    expect(loaded.config).toBeNull();
    expect(loaded.optimizer).toBeNull();
  });

  it('reports truncated, foreign and non-finite files by name', async () => {
    const bytes = encodeCheckpoint(sampleCheckpoint());
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 100), 'cut.safetensors')).toThrow(/^cut\.safetensors: is truncated/);
    expect(() => decodeCheckpoint(bytes.subarray(0, 5), 'tiny')).toThrow(/too short/);
    const foreign = encodeSafetensors([['embedding', { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) }]], {});
    expect(() => decodeCheckpoint(foreign, 'bert.safetensors')).toThrow(/not a Fashion-MNIST Studio checkpoint/);
    const nan = sampleCheckpoint();
    nan.parameters.weights[2][5] = Number.NaN;
    expect(() => decodeCheckpoint(encodeCheckpoint(nan), 'nan.safetensors')).toThrow(/tensor "4\.weight" holds a non-finite value/);
    const path = join(dir, 'garbage.safetensors');
    await writeFile(path, 'hello world, not a model');
    await expect(loadCheckpoint(path)).rejects.toThrow(/garbage\.safetensors: is not a safetensors file/);
    await expect(loadCheckpoint(join(dir, 'missing.safetensors'))).rejects.toThrow(/missing\.safetensors: no such file or directory/);
    expect((await readFile(path, 'utf8')).length).toBeGreaterThan(0);
  });
});
