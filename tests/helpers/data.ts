/**
 * Test data: the real Fashion-MNIST from Debian's dataset-fashion-mnist package (required by the tests
 * that need real data), and small generated data sets and files.
 */

import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMAGE_SIZE, type LabelledDataset } from '@core/shared/dataset';
import { readIdxDataset } from '@core/data/idx';
import { Random } from '@core/shared/random';

export const REAL_DATA_DIR = process.env.FMNIST_DATA || '/usr/share/datasets/fashion-mnist';

/** Why a test that needs the real data set is skipped without it. */
export const NO_REAL_DATA = `the real Fashion-MNIST is missing in ${REAL_DATA_DIR} (apt-get install dataset-fashion-mnist)`;

export function realDataAvailable(): boolean {
  return existsSync(join(REAL_DATA_DIR, 'train-images-idx3-ubyte.gz'));
}

const cache = new Map<string, Promise<LabelledDataset>>();

/** The real training or test set (cached per test file). */
export function realDataset(role: 'train' | 'test'): Promise<LabelledDataset> {
  if (!realDataAvailable()) {
    throw new Error(`the real Fashion-MNIST is missing in ${REAL_DATA_DIR}: apt-get install dataset-fashion-mnist`);
  }
  const prefix = role === 'train' ? 'train' : 't10k';
  if (!cache.has(role)) {
    cache.set(
      role,
      readIdxDataset(
        join(REAL_DATA_DIR, `${prefix}-images-idx3-ubyte.gz`),
        join(REAL_DATA_DIR, `${prefix}-labels-idx1-ubyte.gz`),
      ),
    );
  }
  return cache.get(role)!;
}

/** A random labelled data set with roughly half of the pixels zero, like Fashion-MNIST. */
export function randomDataset(count: number, seed = 7): LabelledDataset {
  const rng = Random.fromSeed(seed, 'test-data');
  const images = new Uint8Array(count * IMAGE_SIZE);
  for (let i = 0; i < images.length; i++) images[i] = rng.nextFloat() < 0.5 ? 0 : 1 + rng.nextInt(255);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.nextInt(10);
  return { images, labels, count, source: 'random' };
}

/** The IDX files of a data set (images, labels), written by hand: big-endian magic number and sizes, then bytes. */
export function toIdx(dataset: LabelledDataset): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(16 + dataset.images.length);
  images.set([
    0,
    0,
    8,
    3,
    dataset.count >>> 24,
    (dataset.count >>> 16) & 255,
    (dataset.count >>> 8) & 255,
    dataset.count & 255,
    0,
    0,
    0,
    28,
    0,
    0,
    0,
    28,
  ]);
  images.set(dataset.images, 16);
  const labels = new Uint8Array(8 + dataset.count);
  labels.set([
    0,
    0,
    8,
    1,
    dataset.count >>> 24,
    (dataset.count >>> 16) & 255,
    (dataset.count >>> 8) & 255,
    dataset.count & 255,
  ]);
  labels.set(dataset.labels, 8);
  return { images, labels };
}

/** Kaggle-format CSV text for a data set (header included unless `header` is false). */
export function toKaggleCsv(dataset: LabelledDataset, options: { header?: boolean; labels?: boolean } = {}): string {
  const withLabels = options.labels !== false;
  const lines: string[] = [];
  if (options.header !== false) {
    const pixels = Array.from({ length: IMAGE_SIZE }, (_, i) => `pixel${i + 1}`);
    lines.push((withLabels ? ['label', ...pixels] : pixels).join(','));
  }
  for (let i = 0; i < dataset.count; i++) {
    const pixels = Array.from(dataset.images.subarray(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE));
    lines.push((withLabels ? [dataset.labels[i], ...pixels] : pixels).join(','));
  }
  return lines.join('\n') + '\n';
}

export async function tempDir(prefix = 'fmnist-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function writeTemp(dir: string, name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** Inputs in [0, 1] of the given samples as a dense Float64Array, for the reference model. */
export function denseInputs(dataset: LabelledDataset, indices: ArrayLike<number>): Float64Array {
  const out = new Float64Array(indices.length * IMAGE_SIZE);
  for (let r = 0; r < indices.length; r++) {
    for (let k = 0; k < IMAGE_SIZE; k++) out[r * IMAGE_SIZE + k] = dataset.images[indices[r] * IMAGE_SIZE + k] / 255;
  }
  return out;
}

/** A file of the build (npm test builds first); a clear message when it is missing. */
export function builtFile(relative: string): string {
  const path = join(__dirname, '..', '..', relative);
  if (!existsSync(path)) throw new Error(`${relative} is missing: run npm run build before these tests`);
  return path;
}
