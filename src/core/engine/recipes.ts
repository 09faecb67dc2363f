/**
 * The random choices of the training recipes, as counter-based hashes: whether dropout keeps unit u of
 * batch row r, and how augmentation shifts and flips the image of row r, are functions of (seed, step, r,
 * u) only. No generator state is carried from step to step, so the choices do not depend on the thread
 * count, and a resumed run makes the same ones. The kernels compute the dropout hash themselves (TypeScript
 * and WebAssembly alike, bit for bit); augmentation is drawn here, per batch row.
 */

/** A 32-bit integer mixer with low bias (Chris Wellons' "lowbias32"): every input bit affects every output bit. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Odd constants that spread rows and units over the 32-bit range before mixing (golden ratio and a prime). */
export const ROW_SPREAD = 0x9e3779b1;
export const UNIT_SPREAD = 0x85ebca77;

const STREAMS = { dropout: 0x64726f70, augment: 0x61756720 } as const;

/** The key of one recipe's choices at one step of a run with this seed. */
export function stepKey(seed: number, stream: keyof typeof STREAMS, step: number): number {
  return mix32(mix32((seed ^ STREAMS[stream]) >>> 0) + step);
}

/** The key of one batch row's choices within a step. */
export function rowKey(key: number, row: number): number {
  return mix32((key ^ Math.imul(row, ROW_SPREAD)) >>> 0);
}

/** The hash dropout compares with its threshold for unit `unit` (across all hidden layers) of a row. */
export function dropoutHash(rowHash: number, unit: number): number {
  return mix32((rowHash + Math.imul(unit, UNIT_SPREAD)) >>> 0);
}

/** The threshold for dropping with probability p: a unit is kept when its hash is at least this (unsigned). */
export function dropoutThreshold(probability: number): number {
  return Math.min(0xffffffff, Math.round(probability * 2 ** 32)) >>> 0;
}

/** Whether dropout keeps `unit` of batch row `row` at the step whose key is `key`. */
export function dropoutKeeps(key: number, row: number, unit: number, threshold: number): boolean {
  return dropoutHash(rowKey(key, row), unit) >= threshold;
}

export interface Augmentation {
  /** Pixels moved right (negative: left) and down (negative: up). */
  dx: number;
  dy: number;
  /** Mirrored left to right before the shift. */
  flip: boolean;
}

/** How batch row `row` is augmented at the step whose key is `key`: shifts in −shift…shift, a flip half the time. */
export function augmentationOf(key: number, row: number, shift: number, flip: boolean): Augmentation {
  const h = rowKey(key, row);
  const span = 2 * shift + 1;
  return { dx: (h % span) - shift, dy: (mix32(h) % span) - shift, flip: flip && (mix32(h ^ 0x5bd1e995) & 1) === 1 };
}
