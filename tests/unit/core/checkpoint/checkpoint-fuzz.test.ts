/**
 * Property-based tests of the checkpoint reader (safetensors container and fmnist description): random bytes
 * and mutations of a valid checkpoint (bytes, the header length, header and description fields, tensor
 * values with a matching checksum) are either loaded as a usable model or refused with one line naming the
 * file, quickly. Fixed seeds: every run tries the same cases.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activationBoundOf,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  type Checkpoint,
} from '@core/checkpoint/checkpoint';
import { crc32 } from 'node:zlib';
import { resolveRunConfig } from '@core/shared/config';
import { initParameters, layerSizes, mlpShape } from '@core/shared/mlp';
import { tempDir } from '../../../helpers/data';
import {
  applyMutations,
  describeTally,
  expectAcceptedOrRefused,
  type FuzzTally,
  mutationArb,
  newTally,
} from '../../../helpers/fuzz';
import { withHeaderText } from '../../../helpers/safetensors';

const FILE = 'fuzz.safetensors';
const IN_MEMORY_LIMIT_MS = 500;

function sampleCheckpoint(): Checkpoint {
  const shape = mlpShape([8, 6]);
  const second = initParameters(shape, 4);
  second.weights.forEach((w) => w.forEach((x, i) => (w[i] = x * x)));
  const entry = (epoch: number) => ({
    epoch,
    epochs: 3,
    cost: 0.5 / epoch,
    trainAccuracy: 0.8,
    validationCost: null,
    validationAccuracy: null,
    testCost: 0.45,
    testAccuracy: 0.84,
    seconds: 1,
    evaluationSeconds: 0.1,
    samplesPerSecond: 1000,
  });
  return {
    parameters: initParameters(shape, 2),
    config: resolveRunConfig({ hiddenSizes: [8, 6], epochs: 3, seed: 9 }),
    epochsDone: 2,
    history: [entry(1), entry(2)],
    datasetFingerprint: '0123456789abcdef',
    appVersion: '0.1.0',
    createdAt: '2025-01-01T00:00:00.000Z',
    optimizer: { step: 12, m: initParameters(shape, 3), v: second, shuffleState: [1, 2, 3, 4000000000] },
    costCurve: [
      [0.5, 1.2],
      [1, 0.8],
    ],
    dataSources: { train: ['/d/train.csv'], test: null },
    dataHistory: [{ fromEpoch: 1, fingerprint: '0123456789abcdef', sources: { train: ['/d/train.csv'], test: null } }],
  };
}

/** A valid checkpoint taken apart: its header JSON, its description and its tensor bytes. */
interface Parts {
  bytes: Uint8Array;
  headerEnd: number;
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  description: Record<string, unknown>;
  data: Uint8Array;
}

function split(bytes: Uint8Array): Parts {
  const headerEnd = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, headerEnd)).toString('utf8'));
  return {
    bytes,
    headerEnd,
    header,
    description: JSON.parse(header.__metadata__.fmnist),
    data: bytes.subarray(headerEnd),
  };
}

/** A safetensors file from a header object and data, as any tool could write it (here: unpadded). */
function assemble(header: unknown, data: Uint8Array, headerText = JSON.stringify(header)): Uint8Array {
  return withHeaderText(headerText, data);
}

const deep = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** Values a hostile or broken writer puts in a field. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 64, '', 'F32', '\n', '\u2028', [], {}, [[[]]], true),
  fc.integer({ min: 60, max: 20_000 }).map((depth) => ({ __raw: deep(depth) })),
);

/** JSON text with `{ __raw: text }` placeholders spliced in raw (for nestings JSON.stringify would refuse). */
function stringifyWithRaw(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v) => {
    if (v && typeof v === 'object' && '__raw' in v) {
      raws.push((v as { __raw: string }).__raw);
      return `\u0000RAW${raws.length - 1}\u0000`;
    }
    return v;
  });
  return text.replace(/"\\u0000RAW(\d+)\\u0000"/g, (_, i: string) => raws[Number(i)]);
}

function setPath(target: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let node: Record<string | number, unknown> = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) return;
    node = next as Record<string | number, unknown>;
  }
  const last = path[path.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
}

/** A model loaded from a mutated file must still be usable: shapes agree, values finite and computable. */
function checkUsable(checkpoint: Checkpoint): void {
  const sizes = layerSizes(checkpoint.parameters.shape);
  checkpoint.parameters.weights.forEach((w, l) => expect(w.length).toBe(sizes[l] * sizes[l + 1]));
  checkpoint.parameters.biases.forEach((b, l) => expect(b.length).toBe(sizes[l + 1]));
  for (const values of checkpoint.parameters.weights.concat(checkpoint.parameters.biases))
    expect(values.every(Number.isFinite)).toBe(true);
  expect(activationBoundOf(checkpoint.parameters)).toBeLessThanOrEqual(1e30);
  if (checkpoint.config) expect(checkpoint.config.hiddenSizes).toEqual(checkpoint.parameters.shape.hiddenSizes);
  expect(checkpoint.history).toHaveLength(checkpoint.epochsDone);
}

describe('the checkpoint reader under random and mutated input', () => {
  const valid = split(encodeCheckpoint(sampleCheckpoint()));
  const tallies: Record<string, FuzzTally> = {};
  let started = 0;
  let rssBefore = 0;
  beforeAll(() => {
    started = performance.now();
    rssBefore = process.resourceUsage().maxRSS * 1024;
  });
  afterAll(() => {
    const total = Object.values(tallies).reduce((sum, t) => sum + t.cases, 0);
    console.log(`checkpoint reader fuzz: ${total} cases in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    for (const [name, tally] of Object.entries(tallies))
      console.log(`  ${describeTally(name, tally, 0).replace(/ in 0\.0 s/, '')}`);
  });
  const decode = (name: string, bytes: Uint8Array): Promise<void> => {
    const tally = (tallies[name] ??= newTally());
    return expectAcceptedOrRefused(tally, [FILE], IN_MEMORY_LIMIT_MS, () => decodeCheckpoint(bytes, FILE), checkUsable);
  };

  it('loads the unmutated sample (the baseline the mutations start from)', () => {
    checkUsable(decodeCheckpoint(valid.bytes, FILE));
  });

  it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 256 }),
          // Random bytes behind a plausible header length, so the JSON parser sees them.
          fc
            .uint8Array({ minLength: 1, maxLength: 256 })
            .map((body) => assemble(null, new Uint8Array(0), Buffer.from(body).toString('latin1'))),
        ),
        (bytes) => decode('random bytes', bytes),
      ),
      { seed: 1301, numRuns: 500 },
    );
  });

  it('byte flips, truncations, insertions, deletions and overwrites, in the header or anywhere', async () => {
    const interesting = [
      Buffer.from('"'),
      Buffer.from('['),
      Buffer.from('{}'),
      Buffer.from('\\'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('null'),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutationArb(interesting), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (mutations, inHeader) =>
          decode(
            'byte mutations',
            applyMutations(valid.bytes, mutations, inHeader ? valid.headerEnd : valid.bytes.length),
          ),
      ),
      { seed: 1302, numRuns: 1500 },
    );
  });

  it('header length fields from zero to 2^64 - 1', async () => {
    const length = BigInt(valid.bytes.length);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom(
            0n,
            1n,
            7n,
            BigInt(valid.headerEnd - 9),
            length - 8n,
            length - 7n,
            length,
            2n ** 53n,
            2n ** 63n,
            2n ** 64n - 1n,
          ),
          fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        ),
        (headerLength) => {
          const bytes = Uint8Array.from(valid.bytes);
          new DataView(bytes.buffer).setBigUint64(0, headerLength, true);
          return decode('header length', bytes);
        },
      ),
      { seed: 1303, numRuns: 200 },
    );
  });

  it('header fields (dtype, shape, data_offsets, whole entries, metadata) set to odd values', async () => {
    const names = Object.keys(valid.header);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...names),
        fc.constantFrom('dtype', 'shape', 'data_offsets', null),
        oddValue,
        (name, field, value) => {
          const header = structuredClone(valid.header) as Record<string, unknown>;
          setPath(header, field === null ? [name] : [name, field], value);
          return decode('header fields', assemble(null, valid.data, stringifyWithRaw(header)));
        },
      ),
      { seed: 1304, numRuns: 800 },
    );
  });

  it('description fields (version, architecture, settings, history, optimizer, records) set to odd values or removed', async () => {
    const paths: (string | number)[][] = [
      ['format'],
      ['formatVersion'],
      ['architecture'],
      ['architecture', 'hiddenSizes'],
      ['architecture', 'inputSize'],
      ['config'],
      ['config', 'epochs'],
      ['config', 'learningRate'],
      ['config', 'hiddenSizes'],
      ['config', 'seed'],
      ['epochsDone'],
      ['history'],
      ['history', 0],
      ['history', 1, 'cost'],
      ['history', 0, 'trainAccuracy'],
      ['optimizer'],
      ['optimizer', 'step'],
      ['optimizer', 'shuffleState'],
      ['costCurve'],
      ['costCurve', 0],
      ['dataSources'],
      ['dataSources', 'train'],
      ['dataHistory'],
      ['dataHistory', 0, 'fromEpoch'],
      ['datasetFingerprint'],
      ['dataCrc32'],
      ['appVersion'],
      ['createdAt'],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.option(oddValue, { nil: undefined, freq: 8 }), (path, value) => {
        const description = structuredClone(valid.description);
        setPath(description, path, value);
        const header = { ...valid.header, __metadata__: { format: 'pt', fmnist: stringifyWithRaw(description) } };
        return decode('description fields', assemble(header, valid.data));
      }),
      { seed: 1305, numRuns: 1000 },
    );
  });

  it('absurd tensor values behind a matching checksum', async () => {
    const names = Object.keys(valid.header).filter((n) => n !== '__metadata__');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...names),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        fc.constantFrom(3.4e38, -3.4e38, 1e20, -1e16, 1e31, 1e15, Number.NaN, Infinity, -Infinity, -0, 1e-45, -1),
        (name, at, value) => {
          const data = Uint8Array.from(valid.data);
          const [begin, end] = valid.header[name].data_offsets;
          const index = Math.floor(at * ((end - begin) / 4));
          new DataView(data.buffer).setFloat32(begin + index * 4, value, true);
          const description = { ...valid.description, dataCrc32: crc32(data).toString(16).padStart(8, '0') };
          const header = { ...valid.header, __metadata__: { format: 'pt', fmnist: JSON.stringify(description) } };
          return decode('tensor values', assemble(header, data));
        },
      ),
      { seed: 1306, numRuns: 500 },
    );
  });

  it('mutated files read from disk, under a name holding a newline', async () => {
    const dir = await tempDir('fmnist-fuzz-checkpoint-');
    const file = join(dir, 'odd\nname.safetensors');
    const tally = (tallies['from disk'] ??= newTally());
    await fc.assert(
      fc.asyncProperty(fc.array(mutationArb(), { minLength: 1, maxLength: 2 }), async (mutations) => {
        await writeFile(file, applyMutations(valid.bytes, mutations));
        await expectAcceptedOrRefused(tally, [file], 2000, () => loadCheckpoint(file), checkUsable);
      }),
      { seed: 1307, numRuns: 150 },
    );
  });

  it('allocated memory in proportion to the inputs, not to what they announce', () => {
    // The largest input above is ~60 kB; gigabytes announced by a header must not have been allocated and touched.
    expect(process.resourceUsage().maxRSS * 1024 - rssBefore).toBeLessThan(150e6);
  });
});
