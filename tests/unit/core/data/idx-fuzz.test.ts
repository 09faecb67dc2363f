/**
 * Property-based tests of the IDX reader, gzipped and not: random bytes, mutations of a valid images and
 * labels pair (before or after gzip) and changed header fields are either read as a consistent data set or
 * refused with one line naming the file, quickly and without allocating what a header merely announces.
 * Fixed seeds: every run tries the same cases.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '@core/shared/dataset';
import { readIdxDataset } from '@core/data/idx';
import { tempDir } from '../../../helpers/data';
import {
  applyMutations,
  describeTally,
  expectAcceptedOrRefused,
  mutationArb,
  newTally,
  type Mutation,
} from '../../../helpers/fuzz';
import { measurePeak } from '../../../helpers/gzip-bomb';

const LIMIT_MS = 2000;
const MEMORY_LIMIT = 64e6;

function images(count: number): Uint8Array {
  const bytes = Buffer.alloc(16 + count * 784);
  bytes.writeUInt32BE(0x803, 0);
  bytes.writeUInt32BE(count, 4);
  bytes.writeUInt32BE(28, 8);
  bytes.writeUInt32BE(28, 12);
  for (let i = 16; i < bytes.length; i++) bytes[i] = (i * 37) % 256;
  return bytes;
}

function labels(values: number[]): Uint8Array {
  const bytes = Buffer.alloc(8 + values.length);
  bytes.writeUInt32BE(0x801, 0);
  bytes.writeUInt32BE(values.length, 4);
  bytes.set(values, 8);
  return bytes;
}

interface HeaderChange {
  offset: number;
  value: number;
}

interface FileCase {
  gzip: boolean;
  /** Mutate the IDX bytes (the gzip stays valid) or the gzip bytes. */
  afterGzip: boolean;
  mutations: Mutation[];
  header: HeaderChange | null;
}

const u32 = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 4, 10, 255, 2_100_000, 2_739_200, 2_739_201, 2 ** 31, 2 ** 32 - 1, 0x803, 0x801),
  fc.nat(),
);

function fileCase(headerOffsets: number[]): fc.Arbitrary<FileCase> {
  return fc.record({
    gzip: fc.boolean(),
    afterGzip: fc.boolean(),
    mutations: fc.array(mutationArb([Buffer.from([0, 0, 8, 3]), Buffer.from([0x1f, 0x8b]), Buffer.alloc(8)]), {
      maxLength: 2,
    }),
    header: fc.option(fc.record({ offset: fc.constantFrom(...headerOffsets), value: u32 }), { nil: null }),
  });
}

function build(original: Uint8Array, c: FileCase, headerLength: number): Uint8Array {
  let bytes: Uint8Array = Uint8Array.from(original);
  if (c.header) new DataView(bytes.buffer).setUint32(c.header.offset, c.header.value, false);
  // Aim half the mutations at the header, where a reader decides what it will read.
  const focus = c.mutations.length % 2 === 1 ? headerLength : bytes.length;
  if (!c.afterGzip) bytes = applyMutations(bytes, c.mutations, focus);
  if (c.gzip) bytes = gzipSync(bytes);
  if (c.afterGzip) bytes = applyMutations(bytes, c.mutations);
  return bytes;
}

function checkConsistent(dataset: Dataset, withLabels: boolean): void {
  expect(dataset.count).toBeGreaterThan(0);
  expect(dataset.images.length).toBe(dataset.count * 784);
  if (withLabels) {
    expect(dataset.labels!.length).toBe(dataset.count);
    expect(dataset.labels!.every((label) => label < 10)).toBe(true);
  } else expect(dataset.labels).toBeNull();
}

describe('the IDX reader under random and mutated input', () => {
  let dir: string;
  let started = 0;
  let peakGrowth = 0;
  const tally = newTally();
  beforeAll(async () => {
    dir = await tempDir('fmnist-fuzz-idx-');
    started = performance.now();
  });
  afterAll(() => {
    console.log(
      `${describeTally('IDX reader fuzz', tally, performance.now() - started)}, largest ArrayBuffer growth ${(peakGrowth / 1e6).toFixed(1)} MB`,
    );
  });

  /** One case: the pair written to disk and read, under a time and memory bound. */
  async function readPair(imageBytes: Uint8Array, labelBytes: Uint8Array | null): Promise<void> {
    const imagesFile = join(dir, 'fuzz-images-idx3-ubyte');
    const labelsFile = join(dir, 'fuzz-labels-idx1-ubyte');
    await writeFile(imagesFile, imageBytes);
    if (labelBytes) await writeFile(labelsFile, labelBytes);
    const run = await measurePeak(() =>
      expectAcceptedOrRefused(
        tally,
        [imagesFile, labelsFile],
        LIMIT_MS,
        () => readIdxDataset(imagesFile, labelBytes ? labelsFile : null),
        (dataset) => checkConsistent(dataset, labelBytes !== null),
      ),
    );
    if ('error' in run.outcome) throw run.outcome.error;
    peakGrowth = Math.max(peakGrowth, run.arrayBuffersGrowth);
    expect(run.arrayBuffersGrowth).toBeLessThan(MEMORY_LIMIT);
  }

  it('random bytes, raw and gzipped, with and without a labels file', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        fc.boolean(),
        async (bytes, gzip, withLabels) => {
          await readPair(gzip ? gzipSync(bytes) : bytes, withLabels ? labels([1, 2, 3]) : null);
        },
      ),
      { seed: 1701, numRuns: 500 },
    );
  });

  it('mutated and re-headed images and labels files, before or after gzip', async () => {
    const validImages = images(3);
    const validLabels = labels([3, 0, 9]);
    await fc.assert(
      fc.asyncProperty(
        fileCase([0, 4, 8, 12]),
        fileCase([0, 4]),
        fc.boolean(),
        async (imageCase, labelCase, withLabels) => {
          await readPair(build(validImages, imageCase, 16), withLabels ? build(validLabels, labelCase, 8) : null);
        },
      ),
      { seed: 1702, numRuns: 3000 },
    );
  });
});
