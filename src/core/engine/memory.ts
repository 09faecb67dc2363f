/**
 * How much memory an engine needs, planned from its network, batch size, threads and data sets before
 * anything is allocated, and the one-line refusal when that is more than the engine can address. Every
 * engine is created through Engine.create, which plans here first; so training, evaluation and prediction
 * (of a network the settings admit, or of one loaded from a file) all meet the same check.
 */

import { FmnistError } from '@core/shared/errors';
import type { MlpShape } from '@core/shared/mlp';
import { type EngineLayout, MAX_CHUNK_ROWS, planLayout } from './layout';
import { programSlotWords } from './program';

/** Bytes in a WebAssembly memory page. */
export const PAGE_BYTES = 65536;
/**
 * Most pages of a 32-bit WebAssembly memory: 4 GiB. V8 in Node 20 (11.3) takes a shared memory of exactly
 * this many pages and refuses one more; the kernel programs hold addresses as 32-bit words, so the
 * TypeScript kernels' plain ArrayBuffer is held to the same size.
 */
export const MAX_ENGINE_PAGES = 65536;
export const MAX_ENGINE_BYTES = MAX_ENGINE_PAGES * PAGE_BYTES;

export interface EnginePlan {
  /** Bytes of the engine's memory; when it is too large, at least this many (its programs not counted). */
  bytes: number;
  /** The layout, with room for every program it runs; null when it does not fit. */
  layout: EngineLayout | null;
}

/**
 * The engine's layout in two passes: the data regions first, then (if they fit) the programs, whose length
 * depends on the layers' tiles and chunks. Only numbers: nothing is allocated.
 */
export function planEngine(
  shape: MlpShape,
  batchSize: number,
  threads: number,
  datasetCounts: number[],
  maxChunkRows = MAX_CHUNK_ROWS,
): EnginePlan {
  const draft = planLayout(shape, batchSize, threads, datasetCounts, maxChunkRows);
  // Too large already: the programs (a few MB at most) are not built, a file's absurd shape costs nothing.
  if (draft.totalBytes > MAX_ENGINE_BYTES) return { bytes: draft.totalBytes, layout: null };
  const layout = planLayout(shape, batchSize, threads, datasetCounts, maxChunkRows, programSlotWords(draft));
  return { bytes: layout.totalBytes, layout: layout.totalBytes <= MAX_ENGINE_BYTES ? layout : null };
}

export function engineMemoryBytes(
  shape: MlpShape,
  batchSize: number,
  threads: number,
  datasetCounts: number[],
  maxChunkRows = MAX_CHUNK_ROWS,
): number {
  return planEngine(shape, batchSize, threads, datasetCounts, maxChunkRows).bytes;
}

/** Bytes as GiB to one decimal, rounded up (a need is never understated). */
function gibibytes(bytes: number): string {
  return `${(Math.ceil((bytes / 2 ** 30) * 10) / 10).toFixed(1).replace(/\.0$/, '')} GiB`;
}

/**
 * Why an engine of this network, batch size, threads and data sets cannot be made, in one line naming what
 * is too large and what to change; null when it fits.
 */
export function engineMemoryProblem(
  shape: MlpShape,
  batchSize: number,
  threads: number,
  datasetCounts: number[],
  maxChunkRows = MAX_CHUNK_ROWS,
): string | null {
  const need = engineMemoryBytes(shape, batchSize, threads, datasetCounts, maxChunkRows);
  if (need <= MAX_ENGINE_BYTES) return null;
  const network = shape.hiddenSizes.length
    ? `hidden layers ${shape.hiddenSizes.join(',')}`
    : 'a network without hidden layers';
  const verb = shape.hiddenSizes.length ? 'need' : 'needs';
  const beyond = (bytes: number, even = ''): string =>
    `${gibibytes(bytes)} of engine memory${even}, more than the ${gibibytes(MAX_ENGINE_BYTES)} the engine can address`;
  const tooLargeAlone = (bytes: number): string =>
    `${network} ${verb} ${beyond(bytes, ' even with batch size 1')}: use smaller or fewer hidden layers`;
  const smallest = planLayout(shape, 1, threads, [], maxChunkRows);
  if (smallest.totalBytes > MAX_ENGINE_BYTES) return tooLargeAlone(smallest.totalBytes);
  // The programs' length does not depend on the batch size or the data sets: counted once for the search.
  const slotWords = programSlotWords(smallest);
  const bytesAt = (batch: number, counts = datasetCounts): number =>
    planLayout(shape, batch, threads, counts, maxChunkRows, slotWords).totalBytes;
  if (bytesAt(1, []) > MAX_ENGINE_BYTES) return tooLargeAlone(bytesAt(1, []));
  const images = datasetCounts.reduce((sum, count) => sum + count, 0);
  if (bytesAt(1) > MAX_ENGINE_BYTES) {
    return `${network} with ${images} images ${verb} ${beyond(bytesAt(1), ' even with batch size 1')}: use fewer images, or smaller or fewer hidden layers`;
  }
  // The memory grows with the batch size: the largest batch that fits, by bisection (batch 1 fits).
  let fits = 1;
  let tooLarge = batchSize;
  while (tooLarge - fits > 1) {
    const middle = Math.floor((fits + tooLarge) / 2);
    if (bytesAt(middle) <= MAX_ENGINE_BYTES) fits = middle;
    else tooLarge = middle;
  }
  return `${network} with batch size ${batchSize} ${verb} ${beyond(need)}: use a batch size of at most ${fits}, or smaller or fewer hidden layers`;
}

/** The engine's layout, or the FmnistError (kind 'bad-option') saying why it cannot have one. */
export function planEngineLayout(
  shape: MlpShape,
  batchSize: number,
  threads: number,
  datasetCounts: number[],
  maxChunkRows = MAX_CHUNK_ROWS,
): EngineLayout {
  const { layout } = planEngine(shape, batchSize, threads, datasetCounts, maxChunkRows);
  if (layout) return layout;
  throw new FmnistError('bad-option', engineMemoryProblem(shape, batchSize, threads, datasetCounts, maxChunkRows)!);
}
