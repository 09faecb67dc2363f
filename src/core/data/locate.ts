/**
 * Finding the data: a path may be a CSV file, an IDX images file (its labels file is found beside it by the
 * standard name), or a directory holding the four standard IDX files or Kaggle's two CSVs. With no path the
 * usual places are searched, and the error says where.
 */

import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { asFileError, displayPath, FmnistError } from '@core/shared/errors';
import { openRegularFile, readAt } from '../io';
import { idxKindOf, isGzip } from './idx';

export type DataRole = 'train' | 'test';

/** The file(s) of one data set. `labels` is null for an unlabelled IDX images file. */
export type DataFiles = { format: 'csv'; images: string } | { format: 'idx'; images: string; labels: string | null };

const IDX_NAMES: Record<DataRole, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};
const CSV_NAMES: Record<DataRole, string> = {
  train: 'fashion-mnist_train.csv',
  test: 'fashion-mnist_test.csv',
};

export interface DataPlace {
  path: string | null;
  label: string;
}

/**
 * The places searched when no data path is given, in order, with a note for each; `extra` places (the app's
 * own download folder) come right after $FMNIST_DATA: what the user fetched with the app is what it uses.
 */
export function defaultDataDirectories(env: NodeJS.ProcessEnv = process.env, extra: DataPlace[] = []): DataPlace[] {
  return [
    {
      path: env.FMNIST_DATA || null,
      label: env.FMNIST_DATA ? `$FMNIST_DATA (${env.FMNIST_DATA})` : '$FMNIST_DATA (not set)',
    },
    ...extra,
    ...sharedPlaces(env),
  ];
}

/**
 * Where Fashion-MNIST is usually installed (Debian's package, Keras' cache), or instead the folders listed in
 * $FMNIST_DATA_PATH (separated like PATH; empty for none: a lab's shared copy, or a test of the empty case).
 */
function sharedPlaces(env: NodeJS.ProcessEnv): DataPlace[] {
  if (env.FMNIST_DATA_PATH !== undefined) {
    return env.FMNIST_DATA_PATH.split(delimiter)
      .filter((path) => path !== '')
      .map((path) => ({ path, label: path }));
  }
  return [
    { path: '/usr/share/datasets/fashion-mnist', label: '/usr/share/datasets/fashion-mnist' },
    { path: join(homedir(), '.keras', 'datasets', 'fashion-mnist'), label: '~/.keras/datasets/fashion-mnist' },
  ];
}

async function kindOf(path: string): Promise<'file' | 'directory' | null> {
  try {
    const info = await stat(path);
    return info.isDirectory() ? 'directory' : 'file';
  } catch {
    return null;
  }
}

async function firstExisting(candidates: string[]): Promise<string | null> {
  for (const candidate of candidates) if ((await kindOf(candidate)) === 'file') return candidate;
  return null;
}

/** The data set of one role in a directory, or null when the directory has none. */
export async function findInDirectory(directory: string, role: DataRole): Promise<DataFiles | null> {
  const names = IDX_NAMES[role];
  const images = await firstExisting(idxVariants(directory, names.images));
  if (images) {
    const labels = await firstExisting(idxVariants(directory, names.labels));
    if (!labels) {
      throw new FmnistError('not-found', `found ${basename(images)} but not its labels file ${names.labels}[.gz]`, {
        file: directory,
      });
    }
    return { format: 'idx', images, labels };
  }
  const csv = join(directory, CSV_NAMES[role]);
  if ((await kindOf(csv)) === 'file') return { format: 'csv', images: csv };
  return null;
}

function idxVariants(directory: string, name: string): string[] {
  const dotted = name.replace(/-(idx\d)-/, '.$1-');
  return [name, `${name}.gz`, dotted, `${dotted}.gz`].map((n) => join(directory, n));
}

/** The labels file that belongs beside an IDX images file, by the standard naming. */
export function labelsFileFor(imagesFile: string): string[] {
  const name = basename(imagesFile);
  const swapped = name.replace('images', 'labels').replace('idx3', 'idx1');
  if (swapped === name) return [];
  const plain = swapped.replace(/\.gz$/, '');
  return [
    join(dirname(imagesFile), swapped),
    join(dirname(imagesFile), plain),
    join(dirname(imagesFile), `${plain}.gz`),
  ];
}

/** Sniffs a file's format from its first bytes: IDX (possibly gzipped) or CSV. */
async function sniff(file: string): Promise<'idx-images' | 'idx-labels' | 'idx-gzip' | 'csv'> {
  const { handle } = await openRegularFile(file);
  let head: Uint8Array;
  try {
    head = await readAt(handle, 0, 4);
  } catch (error) {
    throw asFileError(error, file);
  } finally {
    await handle.close().catch(() => {});
  }
  if (isGzip(head)) return 'idx-gzip';
  if (head.length === 4 && head[0] === 0 && head[1] === 0 && head[2] === 8) {
    if (head[3] === 3) return 'idx-images';
    if (head[3] === 1) return 'idx-labels';
  }
  return 'csv';
}

/**
 * Resolves a user-given path to data files. `labelsRequired` is false for prediction inputs, where an
 * IDX images file without a labels file beside it is fine.
 */
export async function resolveDataPath(path: string, role: DataRole, labelsRequired = true): Promise<DataFiles> {
  const kind = await kindOf(path);
  if (kind === null) throw new FmnistError('not-found', 'no such file or directory', { file: path });
  if (kind === 'directory') {
    const found = await findInDirectory(path, role);
    if (found) return found;
    const idx = IDX_NAMES[role];
    throw new FmnistError(
      'not-found',
      `holds no ${role} data: expected ${idx.images}[.gz] and ${idx.labels}[.gz], or ${CSV_NAMES[role]}`,
      { file: path },
    );
  }
  const format = path.toLowerCase().endsWith('.csv') ? 'csv' : await sniff(path);
  if (format === 'csv') return { format: 'csv', images: path };
  if (format === 'idx-labels' || /labels/.test(basename(path))) {
    throw new FmnistError('bad-input', 'is an IDX labels file: pass the images file, its labels are found beside it', {
      file: path,
    });
  }
  const candidates = labelsFileFor(path);
  const labels = await firstExisting(candidates);
  if (!labels && labelsRequired) {
    const expected = candidates.length ? displayPath(basename(candidates[0])) : 'a *-labels-idx1-ubyte file';
    throw new FmnistError('not-found', `found no labels file beside it (expected ${expected})`, { file: path });
  }
  return { format: 'idx', images: path, labels };
}

export interface LocatedData {
  train: DataFiles;
  test: DataFiles | null;
  /** The directory the data came from when it was found by searching. */
  directory: string | null;
}

/** Searches the default places for a directory with training data (and test data beside it). */
export async function findDefaultData(
  env: NodeJS.ProcessEnv = process.env,
  extra: DataPlace[] = [],
): Promise<LocatedData> {
  const places = defaultDataDirectories(env, extra);
  // A place with an incomplete data set is passed over for the next one; it is reported only if none has data.
  let problem: FmnistError | null = null;
  for (const place of places) {
    if (!place.path || (await kindOf(place.path)) !== 'directory') continue;
    try {
      const train = await findInDirectory(place.path, 'train');
      if (train) return { train, test: await findInDirectory(place.path, 'test'), directory: place.path };
    } catch (error) {
      if (!(error instanceof FmnistError)) throw error;
      problem ??= error;
    }
  }
  if (problem) throw problem;
  throw new FmnistError(
    'not-found',
    `no Fashion-MNIST data found; looked in ${places.map((p) => p.label).join(', ')}. ` +
      'Pass --train PATH (a CSV, an IDX images file or a directory), set FMNIST_DATA, ' +
      "or install Debian's dataset-fashion-mnist package",
  );
}

/**
 * Resolves the training and test data from optional user paths: a missing train path means the default
 * search; a missing test path means the test set beside the training data, if there is one.
 */
export async function locateData(trainPath?: string, testPath?: string, env = process.env): Promise<LocatedData> {
  let located: LocatedData;
  if (trainPath) {
    const train = await resolveDataPath(trainPath, 'train');
    const directory = (await kindOf(trainPath)) === 'directory' ? trainPath : null;
    located = { train, test: directory ? await findInDirectory(directory, 'test') : null, directory };
  } else {
    located = await findDefaultData(env);
  }
  if (testPath) located.test = await resolveDataPath(testPath, 'test');
  return located;
}

/** The test data for evaluation: the given path, or the test set in the first default place that has one. */
export async function locateTestData(testPath?: string, env = process.env): Promise<DataFiles> {
  if (testPath) return resolveDataPath(testPath, 'test');
  const places = defaultDataDirectories(env);
  for (const place of places) {
    if (!place.path || (await kindOf(place.path)) !== 'directory') continue;
    const found = await findInDirectory(place.path, 'test');
    if (found) return found;
  }
  throw new FmnistError(
    'not-found',
    `no Fashion-MNIST test data found; looked in ${places.map((p) => p.label).join(', ')}. Pass --test PATH`,
  );
}

/**
 * Resolves files a user picked in a dialog or uploaded: one CSV, one IDX images file (labels beside it),
 * or an IDX images file and its labels file in either order and under any names.
 */
export async function resolveSelection(paths: string[], role: DataRole, labelsRequired = true): Promise<DataFiles> {
  if (paths.length === 1) return resolveDataPath(paths[0], role, labelsRequired);
  if (paths.length === 2) {
    const kinds = await Promise.all(paths.map(idxKindOf));
    const images = paths[kinds.indexOf('images')];
    const labels = paths[kinds.indexOf('labels')];
    if (images && labels) return { format: 'idx', images, labels };
    const odd = paths.find((_, i) => kinds[i] === null) ?? paths[1];
    throw new FmnistError('bad-input', 'is not the IDX images or labels file its partner needs', { file: odd });
  }
  throw new FmnistError('bad-option', 'select one CSV file, or an IDX images file and its labels file');
}
