import { mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  defaultDataDirectories,
  findDefaultData,
  locateData,
  locateTestData,
  resolveDataPath,
  resolveSelection,
} from '@core/data/locate';
import { tempDir } from '../../../helpers/data';
import { failureOf } from '../../../helpers/failure';
import { makeFifo, releaseFifo, within } from '../../../helpers/special-files';

describe('finding the data', () => {
  let root: string;
  let idxDir: string;
  let csvDir: string;
  beforeAll(async () => {
    root = await tempDir();
    idxDir = join(root, 'idx');
    csvDir = join(root, 'csv');
    await mkdir(idxDir);
    await mkdir(csvDir);
    for (const name of [
      'train-images-idx3-ubyte.gz',
      'train-labels-idx1-ubyte.gz',
      't10k-images-idx3-ubyte',
      't10k-labels-idx1-ubyte',
    ]) {
      await writeFile(join(idxDir, name), new Uint8Array([0x1f, 0x8b, 0, 0]));
    }
    await writeFile(join(csvDir, 'fashion-mnist_train.csv'), 'label,pixel1\n');
    await writeFile(join(csvDir, 'fashion-mnist_test.csv'), 'label,pixel1\n');
    await writeFile(join(root, 'lonely-images-idx3-ubyte'), new Uint8Array([0, 0, 8, 3]));
    await writeFile(join(root, 'data.bin'), new Uint8Array([0, 0, 8, 1]));
  });

  it('finds the four IDX files (gzipped or not) in a directory', async () => {
    const located = await locateData(idxDir);
    expect(located.train).toEqual({
      format: 'idx',
      images: join(idxDir, 'train-images-idx3-ubyte.gz'),
      labels: join(idxDir, 'train-labels-idx1-ubyte.gz'),
    });
    expect(located.test).toEqual({
      format: 'idx',
      images: join(idxDir, 't10k-images-idx3-ubyte'),
      labels: join(idxDir, 't10k-labels-idx1-ubyte'),
    });
  });

  it("finds Kaggle's two CSVs in a directory", async () => {
    const located = await locateData(csvDir);
    expect(located.train).toEqual({ format: 'csv', images: join(csvDir, 'fashion-mnist_train.csv') });
    expect(located.test).toEqual({ format: 'csv', images: join(csvDir, 'fashion-mnist_test.csv') });
  });

  it('finds the labels file beside an IDX images file, and says which one is missing', async () => {
    await expect(resolveDataPath(join(idxDir, 'train-images-idx3-ubyte.gz'), 'train')).resolves.toMatchObject({
      labels: join(idxDir, 'train-labels-idx1-ubyte.gz'),
    });
    await expect(resolveDataPath(join(root, 'lonely-images-idx3-ubyte'), 'train')).rejects.toThrow(
      /lonely-images-idx3-ubyte: found no labels file beside it \(expected lonely-labels-idx1-ubyte\)/,
    );
    await expect(resolveDataPath(join(root, 'lonely-images-idx3-ubyte'), 'test', false)).resolves.toMatchObject({
      labels: null,
    });
  });

  it('refuses a labels file given as the images, a missing path and an empty directory', async () => {
    await expect(resolveDataPath(join(idxDir, 'train-labels-idx1-ubyte.gz'), 'train')).rejects.toThrow(
      /is an IDX labels file/,
    );
    await expect(resolveDataPath(join(root, 'data.bin'), 'train')).rejects.toThrow(/data\.bin: is an IDX labels file/);
    await expect(resolveDataPath(join(root, 'nothing-here'), 'train')).rejects.toThrow(
      /nothing-here: no such file or directory/,
    );
    const empty = join(root, 'empty');
    await mkdir(empty);
    await expect(resolveDataPath(empty, 'train')).rejects.toThrow(
      /empty: holds no train data: expected train-images-idx3-ubyte\[\.gz\]/,
    );
  });

  it('searches $FMNIST_DATA first and lists every place it looked when nothing is found', async () => {
    await expect(findDefaultData({ FMNIST_DATA: csvDir })).resolves.toMatchObject({ directory: csvDir });
    const empty = join(root, 'empty');
    expect(defaultDataDirectories({}).map((place) => place.label)).toEqual([
      '$FMNIST_DATA (not set)',
      '/usr/share/datasets/fashion-mnist',
      '~/.keras/datasets/fashion-mnist',
    ]);
    // $FMNIST_DATA_PATH replaces the usual places; empty, it searches none of them.
    await expect(findDefaultData({ FMNIST_DATA: empty, FMNIST_DATA_PATH: '' })).rejects.toThrow(
      /looked in \$FMNIST_DATA \(.*empty\)\. /,
    );
    await expect(findDefaultData({ FMNIST_DATA_PATH: [empty, idxDir].join(delimiter) })).resolves.toMatchObject({
      directory: idxDir,
    });
    // An extra place (the app's download folder) comes right after $FMNIST_DATA.
    const extra = [{ path: csvDir, label: 'downloads' }];
    await expect(findDefaultData({ FMNIST_DATA_PATH: idxDir }, extra)).resolves.toMatchObject({ directory: csvDir });
    await expect(findDefaultData({ FMNIST_DATA: idxDir }, extra)).resolves.toMatchObject({ directory: idxDir });
    // A place holding part of a data set is passed over; reported only when no place has data.
    const partial = join(root, 'partial');
    await mkdir(partial);
    await writeFile(join(partial, 'train-images-idx3-ubyte'), 'x');
    await expect(findDefaultData({ FMNIST_DATA: partial, FMNIST_DATA_PATH: idxDir })).resolves.toMatchObject({
      directory: idxDir,
    });
    await expect(findDefaultData({ FMNIST_DATA: partial, FMNIST_DATA_PATH: '' })).rejects.toThrow(
      `${partial}: found train-images-idx3-ubyte but not its labels file train-labels-idx1-ubyte[.gz]`,
    );
  });

  it('refuses a pipe or a device while sniffing its format, without waiting for a writer', async () => {
    const fifo = makeFifo(root, 'pipe-images-idx3-ubyte');
    try {
      const error = await within(2000, failureOf(resolveDataPath(fifo, 'test', false)), 'sniffing a named pipe');
      expect(error.message).toBe(`${fifo}: is not a regular file (a pipe, device or socket)`);
      const selected = await within(
        2000,
        failureOf(resolveSelection([fifo, join(idxDir, 'train-labels-idx1-ubyte.gz')], 'train')),
        'sniffing a selection',
      );
      expect(selected.message).toBe(`${fifo}: is not a regular file (a pipe, device or socket)`);
    } finally {
      releaseFifo(fifo);
      releaseFifo(fifo);
    }
    const zero = await within(1000, failureOf(resolveDataPath('/dev/zero', 'test', false)), 'sniffing /dev/zero');
    expect(zero.message).toBe('/dev/zero: is not a regular file (a pipe, device or socket)');
  });

  it('names an expected labels file with its control characters escaped', async () => {
    const odd = join(root, 'odd\nimages-idx3-ubyte');
    await writeFile(odd, new Uint8Array([0, 0, 8, 3]));
    expect((await failureOf(resolveDataPath(odd, 'train'))).message).toBe(
      `${root}/odd\\nimages-idx3-ubyte: found no labels file beside it (expected odd\\nlabels-idx1-ubyte)`,
    );
  });

  it('locates test data alone, given or searched', async () => {
    await expect(locateTestData(csvDir)).resolves.toEqual({
      format: 'csv',
      images: join(csvDir, 'fashion-mnist_test.csv'),
    });
    await expect(locateTestData(undefined, { FMNIST_DATA: idxDir })).resolves.toMatchObject({ format: 'idx' });
  });
});
