/**
 * The data sets the app has loaded (training and test), where Fashion-MNIST was found without asking, and
 * how each set is described to the window (size, class balance, sample images). A load either replaces a
 * set completely or leaves it as it was.
 */

import type { DataSources } from '../checkpoint/checkpoint';
import { CLASS_COUNT, classCounts, fingerprint, IMAGE_SIZE, type LabelledDataset } from '@core/shared/dataset';
import { loadDataset } from '../data/load';
import {
  type DataFiles,
  type DataPlace,
  defaultDataDirectories,
  findDefaultData,
  resolveSelection,
} from '../data/locate';
import type { DatasetInfo, DatasetRole } from '@core/shared/contract';

/** Sample images shown per class in the data set strip. */
const SAMPLES_PER_CLASS = 2;

export interface LoadedData {
  dataset: LabelledDataset;
  /** Includes the files it came from, recorded in checkpoints so an autosaved run can reload them. */
  info: DatasetInfo;
  fingerprint: string;
}

function pathsOf(files: DataFiles): string[] {
  return files.format === 'idx' && files.labels ? [files.images, files.labels] : [files.images];
}

/** Counts, class balance and sample images (the first of each class, then the second: one class per column). */
export function describeDataset(dataset: LabelledDataset, role: DatasetRole, files: DataFiles): DatasetInfo {
  const picked: number[] = [];
  const perClass = new Array<number>(CLASS_COUNT).fill(0);
  const rank = new Map<number, number>();
  for (let i = 0; i < dataset.count && picked.length < CLASS_COUNT * SAMPLES_PER_CLASS; i++) {
    const label = dataset.labels[i];
    if (perClass[label] < SAMPLES_PER_CLASS) {
      rank.set(i, perClass[label]++);
      picked.push(i);
    }
  }
  picked.sort((a, b) => rank.get(a)! - rank.get(b)! || dataset.labels[a] - dataset.labels[b]);
  const pixels = new Uint8Array(picked.length * IMAGE_SIZE);
  picked.forEach((index, i) =>
    pixels.set(dataset.images.subarray(index * IMAGE_SIZE, (index + 1) * IMAGE_SIZE), i * IMAGE_SIZE),
  );
  return {
    role,
    source: files.images,
    paths: pathsOf(files),
    count: dataset.count,
    classCounts: classCounts(dataset),
    samples: Buffer.from(pixels).toString('base64'),
    sampleLabels: picked.map((index) => dataset.labels[index]),
  };
}

export class DataStore {
  private sets: Record<DatasetRole, LoadedData | null> = { train: null, test: null };
  private found: string | null = null;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    /** Places searched besides the usual ones (the app's download folder). */
    private readonly extraPlaces: DataPlace[],
  ) {}

  get train(): LoadedData | null {
    return this.sets.train;
  }

  get test(): LoadedData | null {
    return this.sets.test;
  }

  /** Where Fashion-MNIST was found without asking (null: nowhere, or not searched yet). */
  get defaultDirectory(): string | null {
    return this.found;
  }

  /** The places searched, for the message shown when nothing is found. */
  searched(): string {
    return defaultDataDirectories(this.env, this.extraPlaces)
      .map((place) => place.label)
      .join(', ');
  }

  /** The files of the loaded sets, as checkpoints record them. */
  sources(): DataSources | null {
    return this.sets.train ? { train: this.sets.train.info.paths, test: this.sets.test?.info.paths ?? null } : null;
  }

  /** Searches the usual places until something is found (a download may add it later). */
  async detectDefault(): Promise<void> {
    if (this.found !== null) return;
    this.found = await findDefaultData(this.env, this.extraPlaces).then(
      (located) => located.directory,
      () => null,
    );
  }

  /** Loads the training and test sets found in the usual places; replaces nothing unless all loaded. */
  async loadDefault(): Promise<void> {
    const located = await findDefaultData(this.env, this.extraPlaces);
    this.found = located.directory;
    const [train, test] = await Promise.all([
      read(located.train, 'train'),
      located.test ? read(located.test, 'test') : Promise.resolve(null),
    ]);
    this.sets.train = train;
    if (test) this.sets.test = test;
  }

  /** Loads files picked by the user (one CSV, or IDX images and labels) as one set. */
  async loadFiles(role: DatasetRole, paths: string[]): Promise<void> {
    this.sets[role] = await read(await resolveSelection(paths, role), role);
  }

  /** Reads data sets from recorded sources without replacing the loaded ones (see use()). */
  async readSources(sources: DataSources): Promise<{ train: LoadedData; test: LoadedData | null }> {
    const [train, test] = await Promise.all([
      resolveSelection(sources.train, 'train').then((files) => read(files, 'train')),
      sources.test
        ? resolveSelection(sources.test, 'test').then((files) => read(files, 'test'))
        : Promise.resolve(null),
    ]);
    return { train, test };
  }

  use(train: LoadedData, test: LoadedData | null): void {
    this.sets.train = train;
    if (test) this.sets.test = test;
  }
}

async function read(files: DataFiles, role: DatasetRole): Promise<LoadedData> {
  const dataset = await loadDataset(files, { requireLabels: true });
  return { dataset, info: describeDataset(dataset, role, files), fingerprint: fingerprint(dataset) };
}
