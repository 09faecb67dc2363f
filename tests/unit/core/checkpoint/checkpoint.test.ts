import { mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  encodeWeights,
  loadCheckpoint,
  saveCheckpoint,
  type Checkpoint,
} from '@core/checkpoint/checkpoint';
import { decodeSafetensors, encodeSafetensors } from '@core/checkpoint/safetensors';
import { resolveRunConfig } from '@core/shared/config';
import { initParameters, mlpShape } from '@core/shared/mlp';
import { FmnistError } from '@core/shared/errors';
import { atomicWriteHooks } from '@core/io';
import { tempDir } from '../../../helpers/data';
import { failureOf } from '../../../helpers/failure';
import { bareStateDict, withHeaderText } from '../../../helpers/safetensors';
import { makeFifo, releaseFifo, within } from '../../../helpers/special-files';

function loadError(bytes: Uint8Array, file = 'model.safetensors'): Error | null {
  try {
    decodeCheckpoint(bytes, file);
    return null;
  } catch (error) {
    return error as Error;
  }
}

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
      {
        epoch: 1,
        epochs: 7,
        cost: 0.5,
        trainAccuracy: 0.8,
        validationCost: null,
        validationAccuracy: null,
        testCost: 0.45,
        testAccuracy: 0.84,
        seconds: 1,
        evaluationSeconds: 0.1,
        samplesPerSecond: 1000,
      },
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
    // Written part by part, the file is byte for byte the encoded checkpoint.
    const dated = { ...original, createdAt: '2026-11-25T12:00:00.000Z' };
    await saveCheckpoint(path, dated);
    expect(Buffer.compare(await readFile(path), encodeCheckpoint(dated))).toBe(0);
  });

  it('records the data sets a model was trained on, and refuses a malformed record', () => {
    const sources = { train: ['/d/a.csv'], test: null };
    const dataHistory = [
      { fromEpoch: 1, fingerprint: 'aaaaaaaaaaaaaaaa', sources },
      { fromEpoch: 2, fingerprint: '0123456789abcdef', sources: { train: ['/d/b.csv'], test: ['/d/t.csv'] } },
    ];
    const original = { ...sampleCheckpoint(), epochsDone: 1, dataHistory, dataSources: dataHistory[1].sources };
    const loaded = decodeCheckpoint(encodeCheckpoint(original), 'm.safetensors');
    expect(loaded.dataHistory).toEqual(dataHistory);
    expect(loaded.dataSources).toEqual(dataHistory[1].sources);
    expect(
      decodeCheckpoint(encodeCheckpoint({ ...original, dataHistory: null }), 'm.safetensors').dataHistory,
    ).toBeNull();
    for (const bad of [
      [
        { fromEpoch: 2, fingerprint: 'x', sources: null },
        { fromEpoch: 1, fingerprint: 'y', sources: null },
      ],
      [{ fromEpoch: 0, fingerprint: 'x', sources: null }],
      [{ fromEpoch: 1, fingerprint: 7, sources: null }],
      [{ fromEpoch: 1, fingerprint: 'x', sources: { train: [1], test: null } }],
      [{ fromEpoch: 9, fingerprint: 'x', sources: null }],
      'everything',
    ]) {
      const bytes = encodeCheckpoint({ ...original, dataHistory: bad as never });
      expect(loadError(bytes)?.message, JSON.stringify(bad)).toBe(
        'model.safetensors: has a malformed record of the data sets it was trained on',
      );
    }
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

  it('keeps the settings of a bare state dict unknown when it is saved again', () => {
    const bare = decodeCheckpoint(
      bareStateDict(16, (_layer, kind, i) => (kind === 'bias' ? 0 : ((i % 7) - 3) / 100)),
      'bare.safetensors',
    );
    expect(bare.config).toBeNull();
    for (const saved of [encodeCheckpoint(bare), encodeWeights(bare)]) {
      // Written as JSON null, not the defaults (50 epochs, learning rate 0.001, seed 1) as if they were real.
      expect(JSON.parse(decodeSafetensors(saved, 'x').metadata.fmnist).config).toBeNull();
      const again = decodeCheckpoint(saved, 'again.safetensors');
      expect(again.config).toBeNull();
      expect(again.parameters.weights).toEqual(bare.parameters.weights);
    }
  });

  it('reads a file from disk whose header is not padded to a multiple of 8 (as other tools write them)', async () => {
    const value = (layer: number, kind: 'weight' | 'bias', i: number): number =>
      kind === 'bias' ? layer + i / 8 : ((i % 11) - 5) / 64;
    const dataStart = (b: Uint8Array): number => 8 + Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
    let bytes = bareStateDict(12, value);
    for (let spaces = 1; dataStart(bytes) % 4 === 0; spaces++)
      bytes = bareStateDict(12, value, { headerSuffix: ' '.repeat(spaces) });
    expect(dataStart(bytes) % 4).not.toBe(0);
    const path = join(dir, 'unpadded.safetensors');
    await writeFile(path, bytes);
    const loaded = await loadCheckpoint(path);
    // PyTorch's 0.weight is [out=12, in=784]: element (o, i) sits at o·784 + i; ours is [in, out].
    expect(loaded.parameters.weights[0][5 * 12 + 3]).toBe(value(0, 'weight', 3 * 784 + 5));
    expect(loaded.parameters.weights[1][7 * 10 + 9]).toBe(value(1, 'weight', 9 * 12 + 7));
    expect(Array.from(loaded.parameters.biases[1])).toEqual([1, 1.125, 1.25, 1.375, 1.5, 1.625, 1.75, 1.875, 2, 2.125]);
  });

  it('describes hostile header values briefly, in one line, without overflowing the stack', () => {
    const header = (text: string, data = new Uint8Array(4)): Uint8Array => withHeaderText(text, data);
    const deep = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const cases: [Uint8Array, string][] = [
      [
        header(`{"0.weight":{"dtype":${deep(200_000)},"shape":[1],"data_offsets":[0,4]}}`),
        'has a header nested deeper than 64 levels',
      ],
      [
        header(`{"0.weight":{"dtype":${deep(10)},"shape":[1],"data_offsets":[0,4]}}`),
        'tensor "0.weight" has a malformed dtype (a list of 1 item)',
      ],
      [
        header(`{"0.weight":{"dtype":{"F32":1},"shape":[1],"data_offsets":[0,4]}}`),
        'tensor "0.weight" has a malformed dtype (an object)',
      ],
      [header(`{"0.weight":{"shape":[1],"data_offsets":[0,4]}}`), 'tensor "0.weight" has no dtype'],
      [
        header(`{"a\\nb${'x'.repeat(500)}":{"dtype":"Q8","shape":[1],"data_offsets":[0,4]}}`),
        `tensor "a\\nb${'x'.repeat(37)}…" has unknown dtype "Q8"`,
      ],
      [
        header(`{"__metadata__":{"k\\u001b[2J":5},"0.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`),
        'metadata "k\\x1b[2J" is not a string (5)',
      ],
      [
        header(
          `{"0.weight":{"dtype":"F32","shape":[${new Array(300).fill(1).join(',')}],"data_offsets":[0,8]}}`,
          new Uint8Array(8),
        ),
        'tensor "0.weight" has 8 bytes, but shape [1,1,1,1,1,1,1,1,… (300 dimensions)] of F32 needs 4',
      ],
    ];
    for (const [bytes, expected] of cases) {
      const error = loadError(bytes);
      expect(error, expected).toBeInstanceOf(FmnistError);
      expect(error!.message).toBe(`model.safetensors: ${expected}`);
    }

    const valid = encodeCheckpoint(sampleCheckpoint());
    const { tensors, metadata } = decodeSafetensors(valid, 'x');
    const description = JSON.parse(metadata.fmnist);
    const reencode = (changed: Record<string, unknown>, text?: string): Uint8Array =>
      encodeSafetensors(
        [...tensors.entries()].map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, data: t.bytes }]),
        { fmnist: text ?? JSON.stringify({ ...description, ...changed }) },
      );
    const withoutVersion = { ...description };
    delete withoutVersion.formatVersion;
    const described: [Uint8Array, string][] = [
      [reencode({}, JSON.stringify(withoutVersion)), 'has no checkpoint format version'],
      [reencode({ formatVersion: { v: 1 } }), 'has a malformed checkpoint format version (an object)'],
      [reencode({ formatVersion: '1' }), 'has a malformed checkpoint format version ("1")'],
      [
        reencode({ config: { ...description.config, epochs: { n: 3 } } }),
        'has invalid settings: epochs must be a whole number, got an object',
      ],
      [
        reencode({ config: { ...description.config, learningRate: [[0.1]] } }),
        'has invalid settings: learning rate must be a number, got a list of 1 item',
      ],
      [
        reencode({ config: { ...description.config, 'odd\nkey': 1 } }),
        'has invalid settings: "odd\\nkey" is not a known setting',
      ],
      [reencode({ config: 'fast' }), 'has invalid settings ("fast" instead of an object)'],
      [
        reencode({}, `{"format":"fashion-mnist-studio","formatVersion":1,"x":${deep(100_000)}}`),
        'has a description nested deeper than 64 levels',
      ],
    ];
    for (const [bytes, expected] of described) {
      const error = loadError(bytes);
      expect(error, expected).toBeInstanceOf(FmnistError);
      expect(error!.message).toBe(`model.safetensors: ${expected}`);
    }
  });

  it('reports truncated, foreign and non-finite files by name', async () => {
    const bytes = encodeCheckpoint(sampleCheckpoint());
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 100), 'cut.safetensors')).toThrow(
      /^cut\.safetensors: is truncated/,
    );
    expect(() => decodeCheckpoint(bytes.subarray(0, 5), 'tiny')).toThrow(/too short/);
    const foreign = encodeSafetensors([['embedding', { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) }]], {});
    expect(() => decodeCheckpoint(foreign, 'bert.safetensors')).toThrow(/not a Fashion-MNIST Studio checkpoint/);
    const nan = sampleCheckpoint();
    nan.parameters.weights[2][5] = Number.NaN;
    expect(() => decodeCheckpoint(encodeCheckpoint(nan), 'nan.safetensors')).toThrow(
      /tensor "4\.weight" holds a non-finite value/,
    );
    const path = join(dir, 'garbage.safetensors');
    await writeFile(path, 'hello world, not a model');
    await expect(loadCheckpoint(path)).rejects.toThrow(/garbage\.safetensors: is not a safetensors file/);
    await expect(loadCheckpoint(join(dir, 'missing.safetensors'))).rejects.toThrow(
      /missing\.safetensors: no such file or directory/,
    );
    expect((await readFile(path, 'utf8')).length).toBeGreaterThan(0);
  });

  it('refuses a file truncated at any point, with one line naming it', () => {
    const bytes = encodeCheckpoint(sampleCheckpoint());
    const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const cuts = [
      0,
      3,
      8,
      20,
      headerEnd - 1,
      headerEnd,
      headerEnd + 1,
      headerEnd + 1000,
      bytes.length >> 1,
      bytes.length - 4,
      bytes.length - 1,
    ];
    for (const cut of cuts) {
      const error = loadError(bytes.subarray(0, cut), 'cut.safetensors');
      expect(error, `cut at ${cut}`).toBeInstanceOf(FmnistError);
      expect(error!.message).toMatch(/^cut\.safetensors: /);
      expect(error!.message).not.toContain('\n');
    }
  });

  it('detects flipped bytes: in the header by validation, in the data by the checksum', () => {
    const original = sampleCheckpoint();
    const bytes = encodeCheckpoint(original);
    const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
    let refused = 0;
    let tried = 0;
    for (let position = 0; position < headerEnd; position += 13) {
      const damaged = bytes.slice();
      damaged[position] ^= 0x24;
      tried++;
      const error = loadError(damaged);
      if (error) {
        expect(error).toBeInstanceOf(FmnistError);
        refused++;
      } else {
        // A flip inside a free-text value (a date, a digit of a history number) can still parse: the model is
        // untouched.
        expect(decodeCheckpoint(damaged, 'x').parameters.weights).toEqual(original.parameters.weights);
      }
    }
    expect(refused / tried).toBeGreaterThan(0.5);
    for (const position of [headerEnd, headerEnd + 4000, bytes.length - 1]) {
      const damaged = bytes.slice();
      damaged[position] ^= 0x01;
      expect(loadError(damaged)?.message).toBe('model.safetensors: is corrupt: its tensor data fails the checksum');
    }
  });

  it('refuses wrong shapes, a newer format version and unknown architectures', () => {
    const wrongShape = encodeSafetensors(
      [
        ['0.weight', { dtype: 'F32', shape: [30, 783], data: new Float32Array(30 * 783) }],
        ['0.bias', { dtype: 'F32', shape: [30], data: new Float32Array(30) }],
        ['2.weight', { dtype: 'F32', shape: [10, 30], data: new Float32Array(300) }],
        ['2.bias', { dtype: 'F32', shape: [10], data: new Float32Array(10) }],
      ],
      {},
    );
    expect(loadError(wrongShape)?.message).toBe(
      'model.safetensors: holds a 783-30-10 network; this app needs 784 inputs and 10 outputs',
    );
    const bytes = encodeCheckpoint(sampleCheckpoint());
    const { tensors, metadata } = decodeSafetensors(bytes, 'x');
    const description = JSON.parse(metadata.fmnist);
    const reencode = (changed: object): Uint8Array =>
      encodeSafetensors(
        [...tensors.entries()].map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, data: t.bytes }]),
        { fmnist: JSON.stringify({ ...description, ...changed }) },
      );
    expect(loadError(reencode({ formatVersion: 2 }))?.message).toBe(
      'model.safetensors: uses checkpoint format version 2; this app reads version 1',
    );
    expect(loadError(reencode({ architecture: { ...description.architecture, hiddenSizes: [31, 20] } }))?.message).toBe(
      'model.safetensors: has settings that disagree with its architecture',
    );
    const grown = {
      architecture: { ...description.architecture, hiddenSizes: [31, 20] },
      config: { ...description.config, hiddenSizes: [31, 20] },
    };
    expect(loadError(reencode(grown))?.message).toMatch(/tensor "0\.weight" has shape \[30,784\], expected \[31,784\]/);
    expect(loadError(reencode({ epochsDone: 3 }))?.message).toBe(
      'model.safetensors: has a training history that does not match its epochs',
    );
    expect(loadError(reencode({ history: [{}] }))?.message).toBe(
      'model.safetensors: has a malformed training history entry for epoch 1',
    );
    expect(loadError(reencode({ history: [{ ...description.history[0], trainAccuracy: 3 }] }))?.message).toBe(
      'model.safetensors: has a malformed training history entry for epoch 1',
    );
  });

  it('saves atomically: a failure before the rename leaves the previous file and no temporary file', async () => {
    const path = join(dir, 'atomic.safetensors');
    await saveCheckpoint(path, sampleCheckpoint());
    const before = await readFile(path);
    const changed = sampleCheckpoint();
    changed.epochsDone = 2;
    changed.history.push({ ...changed.history[0], epoch: 2 });
    for (const code of ['ENOSPC', 'EIO']) {
      atomicWriteHooks.beforeRename = () => {
        throw Object.assign(new Error(`simulated ${code}`), { code });
      };
      try {
        const error = await saveCheckpoint(path, changed).then(
          () => null,
          (e: Error) => e,
        );
        expect(error).toBeInstanceOf(FmnistError);
        expect(error!.message).toBe(
          code === 'ENOSPC'
            ? `${path}: no space left on the device`
            : `${path}: an input/output error occurred (the disk or network drive may be failing)`,
        );
      } finally {
        atomicWriteHooks.beforeRename = undefined;
      }
      expect(Buffer.compare(await readFile(path), before)).toBe(0);
      expect((await readdir(dir)).filter((name) => name.includes('atomic.safetensors.'))).toEqual([]);
    }
    await saveCheckpoint(path, changed);
    expect((await loadCheckpoint(path)).epochsDone).toBe(2);
  });

  it('refuses a pipe, a device and a directory before reading them, and a file larger than any checkpoint', async () => {
    const fifo = makeFifo(dir, 'pipe.safetensors');
    try {
      const error = await within(3000, failureOf(loadCheckpoint(fifo)), 'loading a named pipe');
      expect(error.message).toBe(`${fifo}: is not a regular file (a pipe, device or socket)`);
    } finally {
      releaseFifo(fifo);
    }
    const zero = await within(1000, failureOf(loadCheckpoint('/dev/zero')), 'loading /dev/zero');
    expect(zero.message).toBe('/dev/zero: is not a regular file (a pipe, device or socket)');
    const folder = join(dir, 'folder.safetensors');
    await mkdir(folder);
    expect((await failureOf(loadCheckpoint(folder))).message).toBe(`${folder}: is a directory, expected a file`);
    // The largest checkpoint, 8 hidden layers of 4096 units with Adam's two moments, is 120,725,514 × 3 float32s
    // and a header of at most 100 MB: 1,548,706,176 bytes.
    const huge = join(dir, 'huge.safetensors');
    await writeFile(huge, '');
    await truncate(huge, 3_000_000_000); // sparse: takes no space
    const tooLarge = await within(3000, failureOf(loadCheckpoint(huge)), 'loading a huge file');
    expect(tooLarge.message).toBe(`${huge}: is 3.00 GB, larger than any checkpoint can be (at most 1.55 GB)`);
  });

  it('reports unwritable targets by name', async () => {
    await expect(saveCheckpoint(join(dir, 'no-such-folder', 'x.safetensors'), sampleCheckpoint())).rejects.toThrow(
      /no-such-folder\/x\.safetensors: no such file or directory/,
    );
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    await expect(saveCheckpoint(join(file, 'x.safetensors'), sampleCheckpoint())).rejects.toThrow(
      /a-file\/x\.safetensors: a part of this path is not a directory/,
    );
  });
});
