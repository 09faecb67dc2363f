/**
 * Property-based tests of the CSV reader: random bytes and mutations of valid Kaggle CSVs (with and without
 * header or labels, CRLF, a byte order mark, blank lines) are either read as a consistent data set or refused
 * with one line naming the file, quickly. Fixed seeds: every run tries the same cases.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCsvDataset, readCsvGeneral, readPlainCsv } from '@core/data/csv';
import type { Dataset } from '@core/shared/dataset';
import { randomDataset, tempDir, toKaggleCsv } from '../../../helpers/data';
import { applyMutations, describeTally, expectAcceptedOrRefused, mutationArb, newTally } from '../../../helpers/fuzz';

const LIMIT_MS = 2000;

const data = randomDataset(2, 21);
const VARIANTS: { name: string; text: string; labelled: boolean }[] = [
  { name: 'header', text: toKaggleCsv(data), labelled: true },
  { name: 'no header', text: toKaggleCsv(data, { header: false }), labelled: true },
  { name: 'unlabelled', text: toKaggleCsv(data, { labels: false }), labelled: false },
  { name: 'CRLF', text: toKaggleCsv(data).replace(/\n/g, '\r\n'), labelled: true },
  { name: 'BOM', text: `\uFEFF${toKaggleCsv(data, { header: false })}`, labelled: true },
  { name: 'blank first', text: `\n${toKaggleCsv(data)}`, labelled: true },
];

/** What breaks CSV readers: separators, quotes, line ends, signs, out-of-range and non-ASCII text. */
const TOKENS = [
  ',',
  '\n',
  '\r\n',
  '\r',
  '"',
  '""',
  '"a,b"',
  '\uFEFF',
  '-1',
  '256',
  '1.5',
  ' ',
  '\t',
  '\0',
  'label',
  'pixel1',
  '9999',
  'x',
  '\u2028',
  'é',
  '\u001b[2J',
].map((t) => Buffer.from(t, 'utf8'));

function checkConsistent(dataset: Dataset, requireLabels: boolean): void {
  expect(dataset.count).toBeGreaterThan(0);
  expect(dataset.images.length).toBe(dataset.count * 784);
  if (dataset.labels) {
    expect(dataset.labels.length).toBe(dataset.count);
    expect(dataset.labels.every((label) => label < 10)).toBe(true);
  } else {
    expect(requireLabels).toBe(false);
  }
}

describe('the CSV reader under random and mutated input', () => {
  let dir: string;
  let started = 0;
  let rssBefore = 0;
  const tally = newTally();
  beforeAll(async () => {
    dir = await tempDir('fmnist-fuzz-csv-');
    started = performance.now();
    rssBefore = process.resourceUsage().maxRSS * 1024;
  });
  afterAll(() => console.log(describeTally('CSV reader fuzz', tally, performance.now() - started)));

  async function read(bytes: Uint8Array, requireLabels: boolean, name = 'fuzz.csv'): Promise<void> {
    const file = join(dir, name);
    await writeFile(file, bytes);
    await expectAcceptedOrRefused(
      tally,
      [file],
      LIMIT_MS,
      () => readCsvDataset(file, { requireLabels }),
      (dataset) => checkConsistent(dataset, requireLabels),
    );
  }

  it('reads every unmutated variant back exactly', async () => {
    for (const variant of VARIANTS) {
      const dataset = await readCsvDataset(await writeTempCsv(dir, variant.text), { requireLabels: variant.labelled });
      expect(Buffer.compare(dataset.images, data.images), variant.name).toBe(0);
      if (variant.labelled) expect(Array.from(dataset.labels!), variant.name).toEqual(Array.from(data.labels));
    }
  });

  it('random bytes and random text', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }),
          fc.string({ unit: 'grapheme', maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')),
          fc
            .array(fc.constantFrom(...TOKENS, Buffer.from('0'), Buffer.from('7')), { maxLength: 100 })
            .map((parts) => Buffer.concat(parts)),
        ),
        fc.boolean(),
        (bytes, requireLabels) => read(bytes, requireLabels),
      ),
      { seed: 1801, numRuns: 600 },
    );
  });

  it('mutations of valid files: tokens and bytes inserted, flipped, cut and overwritten', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...VARIANTS),
        fc.array(mutationArb(TOKENS), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.boolean(),
        (variant, mutations, requireLabels, oddName) =>
          read(
            applyMutations(Buffer.from(variant.text, 'utf8'), mutations),
            requireLabels,
            oddName ? 'odd\nname\u001b.csv' : 'fuzz.csv',
          ),
      ),
      { seed: 1802, numRuns: 2000 },
    );
  });

  it('reads plain files with the fast reader exactly as the general one, and leaves the rest to it', async () => {
    let plain = 0;
    let general = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...VARIANTS),
        fc.array(mutationArb(TOKENS), { minLength: 0, maxLength: 2 }),
        fc.boolean(),
        async (variant, mutations, requireLabels) => {
          const file = join(dir, 'plain.csv');
          await writeFile(file, applyMutations(Buffer.from(variant.text, 'utf8'), mutations));
          const fast = await readPlainCsv(file, { requireLabels });
          if (!fast) {
            general++;
            return;
          }
          plain++;
          // Whatever the fast reader accepts, the general reader reads the same.
          const checked = await readCsvGeneral(file, { requireLabels });
          expect(fast.count).toBe(checked.count);
          expect(Buffer.compare(fast.images, checked.images)).toBe(0);
          expect(fast.labels === null ? null : Array.from(fast.labels)).toEqual(
            checked.labels === null ? null : Array.from(checked.labels),
          );
        },
      ),
      { seed: 1803, numRuns: 800 },
    );
    // Both kinds were tried: plain files (unmutated ones, harmless mutations) and others.
    expect(plain).toBeGreaterThan(50);
    expect(general).toBeGreaterThan(50);
  });

  it('allocated memory in proportion to the inputs', () => {
    // Inputs are at most ~8 kB: the peak resident set may not have grown by more than the reader's own blocks.
    expect(process.resourceUsage().maxRSS * 1024 - rssBefore).toBeLessThan(150e6);
  });
});

async function writeTempCsv(dir: string, text: string): Promise<string> {
  const file = join(dir, 'variant.csv');
  await writeFile(file, text);
  return file;
}
