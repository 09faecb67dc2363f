/** Reads the data set a DataFiles describes, in whichever format it is. */

import { FmnistError } from '../errors';
import { readCsvDataset } from './csv';
import type { Dataset, LabelledDataset } from './dataset';
import { readIdxDataset } from './idx';
import type { DataFiles } from './locate';

export async function loadDataset(files: DataFiles, options: { requireLabels: true }): Promise<LabelledDataset>;
export async function loadDataset(files: DataFiles, options: { requireLabels: boolean }): Promise<Dataset>;
export async function loadDataset(files: DataFiles, options: { requireLabels: boolean }): Promise<Dataset> {
  const dataset =
    files.format === 'csv'
      ? await readCsvDataset(files.images, options)
      : await readIdxDataset(files.images, files.labels);
  if (options.requireLabels && !dataset.labels) {
    throw new FmnistError('bad-input', 'has no labels, which training and evaluation need', { file: files.images });
  }
  return dataset;
}
