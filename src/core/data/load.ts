/** Reads the data set a DataFiles describes, in whichever format it is. */

import { FmnistError } from '@core/shared/errors';
import { readCsvDataset } from './csv';
import {
  type Dataset,
  type LabelledData,
  type LabelledDataset,
  readAll,
  type UnreadDataset,
} from '@core/shared/dataset';
import { openIdxDataset } from './idx';
import type { DataFiles } from './locate';

export async function loadDataset(files: DataFiles, options: { requireLabels: true }): Promise<LabelledDataset>;
export async function loadDataset(files: DataFiles, options: { requireLabels: boolean }): Promise<Dataset>;
export async function loadDataset(files: DataFiles, options: { requireLabels: boolean }): Promise<Dataset> {
  return readAll(await openDataset(files, options));
}

/**
 * Opens the data set and checks it; IDX images are left unread, for the engine to read into its own memory
 * (a CSV file's size is only known once it is parsed, so it is read whole).
 */
export async function openDataset(files: DataFiles, options: { requireLabels: true }): Promise<LabelledData>;
export async function openDataset(
  files: DataFiles,
  options: { requireLabels: boolean },
): Promise<Dataset | UnreadDataset>;
export async function openDataset(
  files: DataFiles,
  options: { requireLabels: boolean },
): Promise<Dataset | UnreadDataset> {
  const dataset =
    files.format === 'csv'
      ? await readCsvDataset(files.images, options)
      : await openIdxDataset(files.images, files.labels);
  if (options.requireLabels && !dataset.labels) {
    throw new FmnistError('bad-input', 'has no labels, which training and evaluation need', { file: files.images });
  }
  return dataset;
}
