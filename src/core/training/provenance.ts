/**
 * Where a model's training data came from: the fingerprint of the training set (pixels and labels) and its
 * files, and when training went on with other data (which the user has to allow), every data set in turn.
 * A saved checkpoint always describes the data its model was trained on, never whatever is loaded now.
 */

import type { DataSegment, DataSources } from '../checkpoint/checkpoint';

export interface ModelData {
  /** The training set's fingerprint (null: unknown, e.g. a bare PyTorch state dict). */
  fingerprint: string | null;
  sources: DataSources | null;
  /** Every data set, oldest first, when there was more than one; null otherwise. */
  history: DataSegment[] | null;
}

export const UNKNOWN_DATA: ModelData = Object.freeze({ fingerprint: null, sources: null, history: null });

/** The data of a run that continues a model on `data` from epoch `fromEpoch`. */
export function continuedOn(
  model: ModelData,
  data: { fingerprint: string; sources: DataSources | null },
  fromEpoch: number,
): ModelData {
  if (model.fingerprint === null || model.fingerprint === data.fingerprint) {
    return { fingerprint: data.fingerprint, sources: data.sources ?? model.sources, history: model.history };
  }
  const earlier: DataSegment[] = model.history ?? [
    { fromEpoch: 1, fingerprint: model.fingerprint, sources: model.sources },
  ];
  return {
    fingerprint: data.fingerprint,
    sources: data.sources,
    history: [...earlier, { fromEpoch, fingerprint: data.fingerprint, sources: data.sources }],
  };
}

/** A short description of a data set for messages: its training file, and its fingerprint. */
export function describeData(data: { fingerprint: string | null; sources: DataSources | null }): string {
  const file = data.sources?.train[0];
  if (file && data.fingerprint) return `${file} (fingerprint ${data.fingerprint})`;
  return file ?? (data.fingerprint ? `data with fingerprint ${data.fingerprint}` : 'unknown data');
}
