/**
 * The in-memory data set: pixels as one compact Uint8Array (N×784, 0–255) and labels as a Uint8Array.
 * Pixels are scaled to [0, 1] only when a batch is gathered, never stored as floats.
 */

export const IMAGE_WIDTH = 28;
export const IMAGE_HEIGHT = 28;
export const IMAGE_SIZE = IMAGE_WIDTH * IMAGE_HEIGHT;
export const CLASS_COUNT = 10;

export const CLASS_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

export interface Dataset {
  /** Row-major pixels, `count` × 784 bytes. */
  images: Uint8Array;
  /** One class (0–9) per image, or null for unlabelled inputs (prediction). */
  labels: Uint8Array | null;
  count: number;
  /** The file(s) it was read from, for messages. */
  source: string;
}

export interface LabelledDataset extends Dataset {
  labels: Uint8Array;
}

/**
 * A data set opened and checked — its size known, its labels read — whose images are not read yet. They are
 * read once, straight into memory the caller gives: the training engine reads them into its own, so the
 * pixels (47 MB for Fashion-MNIST's training set) never exist twice.
 */
export interface UnreadDataset {
  readonly count: number;
  readonly labels: Uint8Array | null;
  readonly source: string;
  /**
   * Reads the count × 784 pixels, only once: into `into` (exactly that long), or else into memory of their
   * own that grows with the data as it arrives. Returns them.
   */
  readImages(into?: Uint8Array): Promise<Uint8Array>;
}

/** A labelled data set, read or not. */
export type LabelledData = LabelledDataset | (UnreadDataset & { labels: Uint8Array });

export function isUnread(dataset: Dataset | UnreadDataset): dataset is UnreadDataset {
  return 'readImages' in dataset;
}

/** The data set with its images read: an unread one's into memory of their own; a read one as it is. */
export async function readAll(dataset: LabelledData): Promise<LabelledDataset>;
export async function readAll(dataset: Dataset | UnreadDataset): Promise<Dataset>;
export async function readAll(dataset: Dataset | UnreadDataset): Promise<Dataset> {
  if (!isUnread(dataset)) return dataset;
  return { images: await dataset.readImages(), labels: dataset.labels, count: dataset.count, source: dataset.source };
}

/** Whether a limit on the samples (0 for none) keeps fewer than a data set's `count`. */
export function limitCuts(limit: number, count: number): boolean {
  return limit > 0 && limit < count;
}

/** Images per class; all zeros for an unlabelled set. */
export function classCounts(dataset: Dataset): number[] {
  const counts = new Array<number>(CLASS_COUNT).fill(0);
  if (dataset.labels) for (const label of dataset.labels) counts[label]++;
  return counts;
}

/** The first `count` samples, sharing memory with the original (an unread data set is read whole first). */
export async function readFirst(dataset: LabelledData, count: number): Promise<LabelledData> {
  return limitCuts(count, dataset.count) ? takeFirst(await readAll(dataset), count) : dataset;
}

/** The first `count` samples, sharing memory with the original. */
export function takeFirst<T extends Dataset>(dataset: T, count: number): T {
  if (!limitCuts(count, dataset.count)) return dataset;
  return {
    ...dataset,
    images: dataset.images.subarray(0, count * IMAGE_SIZE),
    labels: dataset.labels ? dataset.labels.subarray(0, count) : null,
    count,
  };
}

/**
 * A 64-bit FNV-1a-style fingerprint (hex) of pixels and labels, to recognise the data a checkpoint was
 * trained on. Reads 32-bit words for speed; about 40 ms for the full training set.
 */
export function fingerprint(dataset: Dataset): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ dataset.count;
  const mix = (bytes: Uint8Array): void => {
    const words = Math.floor(bytes.byteLength / 4);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < words; i++) {
      const w = view.getUint32(i * 4, true);
      h1 = Math.imul(h1 ^ w, 0x01000193);
      h2 = Math.imul(h2 ^ ((w >>> 16) | (w << 16)), 0x5bd1e995);
    }
    for (let i = words * 4; i < bytes.byteLength; i++) {
      h1 = Math.imul(h1 ^ bytes[i], 0x01000193);
      h2 = Math.imul(h2 ^ bytes[i], 0x5bd1e995);
    }
  };
  mix(dataset.images);
  if (dataset.labels) mix(dataset.labels);
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}
