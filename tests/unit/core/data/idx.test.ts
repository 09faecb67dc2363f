import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { isUnread } from '@core/shared/dataset';
import { openIdxDataset, parseIdx, readIdxDataset, readIdxFile } from '@core/data/idx';
import { FmnistError } from '@core/shared/errors';
import { REAL_DATA_DIR, tempDir, writeTemp } from '../../../helpers/data';
import { failureOf } from '../../../helpers/failure';
import { gzipWithZeros, idxHeader, measurePeak } from '../../../helpers/gzip-bomb';
import { makeFifo, openDescriptorsOf, releaseFifo, within } from '../../../helpers/special-files';

function idxImages(count: number, rows = 28, columns = 28, fill = (i: number) => i % 256): Uint8Array {
  const bytes = new Uint8Array(16 + count * rows * columns);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x00000803);
  view.setUint32(4, count);
  view.setUint32(8, rows);
  view.setUint32(12, columns);
  for (let i = 16; i < bytes.length; i++) bytes[i] = fill(i - 16);
  return bytes;
}

function idxLabels(labels: number[]): Uint8Array {
  const bytes = new Uint8Array(8 + labels.length);
  new DataView(bytes.buffer).setUint32(0, 0x00000801);
  new DataView(bytes.buffer).setUint32(4, labels.length);
  bytes.set(labels, 8);
  return bytes;
}

function expectProblem(fn: () => unknown, pattern: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(FmnistError);
  expect((thrown as Error).message).toMatch(pattern);
  expect((thrown as Error).message).not.toContain('\n');
}

describe('parseIdx', () => {
  it('reads images and labels', () => {
    const images = parseIdx(idxImages(3), 'images', 'x');
    expect(images.count).toBe(3);
    expect(images.data.length).toBe(3 * 784);
    expect(images.data[785]).toBe(785 % 256);
    const labels = parseIdx(idxLabels([0, 9, 4]), 'labels', 'y');
    expect(Array.from(labels.data)).toEqual([0, 9, 4]);
  });

  it('rejects a bad magic number and names the other kind when it is one', () => {
    expectProblem(
      () => parseIdx(idxLabels([1]), 'images', 'f.idx'),
      /^f\.idx: bad magic number 0x00000801.*IDX labels file/,
    );
    const garbage = new Uint8Array(100).fill(7);
    expectProblem(() => parseIdx(garbage, 'labels', 'g'), /^g: bad magic number 0x07070707/);
  });

  it('rejects truncated data, trailing bytes, wrong image size and empty or tiny files', () => {
    expectProblem(
      () => parseIdx(idxImages(3).subarray(0, 16 + 784 * 2 + 5), 'images', 't'),
      /truncated.*3 images but only 2 are complete/,
    );
    const long = new Uint8Array(idxLabels([1, 2]).length + 3);
    long.set(idxLabels([1, 2]));
    expectProblem(() => parseIdx(long, 'labels', 'l'), /3 unexpected bytes after the 2 labels/);
    expectProblem(() => parseIdx(idxImages(1, 32, 32), 'images', 'c'), /32×32 images, expected 28×28/);
    expectProblem(() => parseIdx(new Uint8Array(2), 'images', 'e'), /too short/);
    expectProblem(() => parseIdx(idxImages(2).subarray(0, 10), 'images', 'h'), /truncated inside the IDX header/);
    expectProblem(() => parseIdx(idxLabels([]), 'labels', 'z'), /holds no labels/);
  });

  it('rejects labels outside 0–9 with the record number', () => {
    expectProblem(
      () => parseIdx(idxLabels([3, 10, 1]), 'labels', 'lab'),
      /^lab: record 2: label 10 is out of range 0–9/,
    );
  });
});

describe('reading IDX files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
  });

  it('reads gzipped and raw files alike', async () => {
    const raw = await writeTemp(dir, 'a-images-idx3-ubyte', idxImages(2));
    const gz = await writeTemp(dir, 'a-images-idx3-ubyte.gz', gzipSync(idxImages(2)));
    const a = await readIdxFile(raw, 'images');
    const b = await readIdxFile(gz, 'images');
    expect(Buffer.compare(a.data, b.data)).toBe(0);
  });

  it('reports truncated and corrupt gzip data', async () => {
    const whole = gzipSync(idxImages(50));
    const truncated = await writeTemp(dir, 'trunc.gz', whole.subarray(0, whole.length / 2));
    await expect(readIdxFile(truncated, 'images')).rejects.toThrow(/trunc\.gz: is not valid gzip data \(truncated\)/);
    const corrupt = Buffer.from(whole);
    corrupt.fill(0x55, 20, 60);
    const corruptPath = await writeTemp(dir, 'corrupt.gz', corrupt);
    await expect(readIdxFile(corruptPath, 'images')).rejects.toThrow(/corrupt\.gz: is not valid gzip data/);
  });

  it('reports bad magic, trailing bytes and a cut-short data section inside valid gzip', async () => {
    const labels = await writeTemp(dir, 'wrong-kind.gz', gzipSync(idxLabels([1, 2, 3])));
    await expect(readIdxFile(labels, 'images')).rejects.toThrow(
      /wrong-kind\.gz: bad magic number 0x00000801: expected 0x00000803 for IDX images, this is an IDX labels file/,
    );
    const long = new Uint8Array(idxImages(2).length + 5);
    long.set(idxImages(2));
    const trailing = await writeTemp(dir, 'trailing.gz', gzipSync(long));
    await expect(readIdxFile(trailing, 'images')).rejects.toThrow(
      /trailing\.gz: has 5 unexpected bytes after the 2 images/,
    );
    const short = await writeTemp(dir, 'short.gz', gzipSync(idxImages(3).subarray(0, 16 + 784 + 100)));
    await expect(readIdxFile(short, 'images')).rejects.toThrow(
      /short\.gz: is truncated: the header announces 3 images but only 1 is complete/,
    );
    const tiny = await writeTemp(dir, 'tiny.gz', gzipSync(new Uint8Array([0, 0, 8])));
    await expect(readIdxFile(tiny, 'labels')).rejects.toThrow(/tiny\.gz: is 3 bytes long, too short/);
  });

  it('reports an empty file and a missing file by name', async () => {
    const empty = await writeTemp(dir, 'empty', new Uint8Array(0));
    await expect(readIdxFile(empty, 'images')).rejects.toThrow(/empty: is empty/);
    await expect(readIdxFile(`${dir}/missing.gz`, 'images')).rejects.toThrow(/missing\.gz: no such file or directory/);
  });

  it('rejects images and labels whose counts differ', async () => {
    const images = await writeTemp(dir, 'b-images-idx3-ubyte', idxImages(3));
    const labels = await writeTemp(dir, 'b-labels-idx1-ubyte', idxLabels([1, 2]));
    await expect(readIdxDataset(images, labels)).rejects.toThrow(
      /b-labels-idx1-ubyte: has 2 labels but .*b-images-idx3-ubyte has 3 images/,
    );
  });

  it('checks the images and labels headers against each other before inflating a 1.6 MB .gz announcing 2.1 M images', async () => {
    // 2,100,000 × 784 = 1,646,400,000 bytes of zeros behind a valid header: what the header announces is there.
    const bombBytes = gzipWithZeros(idxHeader('images', 2_100_000), 2_100_000 * 784);
    expect(bombBytes.length).toBeLessThan(1_700_000);
    const bomb = await writeTemp(dir, 'bomb-images-idx3-ubyte.gz', bombBytes);
    const labels = await writeTemp(dir, 'bomb-labels-idx1-ubyte', idxLabels([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const run = await measurePeak(() => readIdxDataset(bomb, labels));
    console.log(
      `gzip bomb (announces 1646 MB): ${run.elapsedMs} ms, ArrayBuffers peak +${(run.arrayBuffersGrowth / 1e6).toFixed(2)} MB, ` +
        `max RSS +${(run.maxRssGrowth / 1e6).toFixed(2)} MB`,
    );
    expect('error' in run.outcome && (run.outcome.error as Error).message).toBe(
      `${labels}: has 10 labels but ${bomb} has 2100000 images`,
    );
    expect(run.elapsedMs).toBeLessThan(1500);
    expect(run.arrayBuffersGrowth).toBeLessThan(20e6);
    expect(run.maxRssGrowth).toBeLessThan(50e6);
  });

  it('grows the images buffer with the data that arrives, not with what the header announces', async () => {
    // Both headers announce 2.1 M; the images stream ends after 3 (zero padding after a gzip member is allowed and
    // makes the file big enough to hold 1.6 GB compressed, so only the data that arrives can tell).
    const images = await writeTemp(
      dir,
      'short-images-idx3-ubyte.gz',
      Buffer.concat([
        gzipSync(Buffer.concat([idxHeader('images', 2_100_000), Buffer.alloc(3 * 784, 7)])),
        Buffer.alloc(1_700_000),
      ]),
    );
    const labels = await writeTemp(
      dir,
      'short-labels-idx1-ubyte.gz',
      gzipWithZeros(idxHeader('labels', 2_100_000), 2_100_000),
    );
    const run = await measurePeak(() => readIdxDataset(images, labels));
    expect('error' in run.outcome && (run.outcome.error as Error).message).toBe(
      `${images}: is truncated: the header announces 2100000 images but only 3 are complete`,
    );
    expect(run.arrayBuffersGrowth).toBeLessThan(40e6);
  });

  it('stops inflating at the announced size and reports trailing data without storing it', async () => {
    const trailing = await writeTemp(dir, 'long-images-idx3-ubyte.gz', gzipWithZeros(idxImages(2), 256 << 20));
    const run = await measurePeak(() => readIdxFile(trailing, 'images'));
    expect('error' in run.outcome && (run.outcome.error as Error).message).toBe(
      `${trailing}: has more than 1048576 unexpected bytes after the 2 images its header announces`,
    );
    expect(run.arrayBuffersGrowth).toBeLessThan(20e6);
    expect(run.elapsedMs).toBeLessThan(1500);
  });

  it('refuses a .gz whose header announces more than its compressed size can hold, without inflating it', async () => {
    // Deflate turns one byte into at most 1032 (258 bytes per 2 bits): 1 KB cannot hold 1.6 GB.
    const small = await writeTemp(
      dir,
      'liar-images-idx3-ubyte.gz',
      gzipSync(Buffer.concat([idxHeader('images', 2_100_000), Buffer.alloc(784)])),
    );
    const error = await failureOf(readIdxDataset(small, null));
    expect(error.message).toMatch(
      /liar-images-idx3-ubyte\.gz: is truncated: its header announces 2100000 images, more than its \d+ compressed bytes can hold$/,
    );
  });

  it('refuses a pipe, a device and a directory as images or labels without waiting or reading on', async () => {
    const images = await writeTemp(dir, 'c-images-idx3-ubyte', idxImages(2));
    const labels = await writeTemp(dir, 'c-labels-idx1-ubyte', idxLabels([1, 2]));
    const fifo = makeFifo(dir, 'pipe-idx3-ubyte');
    try {
      for (const [imagesFile, labelsFile] of [
        [fifo, labels],
        [images, fifo],
      ]) {
        const error = await within(2000, failureOf(readIdxDataset(imagesFile, labelsFile)), 'reading a named pipe');
        expect(error.message).toBe(`${fifo}: is not a regular file (a pipe, device or socket)`);
      }
    } finally {
      releaseFifo(fifo);
      releaseFifo(fifo);
    }
    const zero = await within(1000, failureOf(readIdxDataset('/dev/zero', labels)), 'reading /dev/zero');
    expect(zero.message).toBe('/dev/zero: is not a regular file (a pipe, device or socket)');
    const folder = join(dir, 'folder-idx3-ubyte');
    await mkdir(folder);
    expect((await failureOf(readIdxFile(folder, 'images'))).message).toBe(`${folder}: is a directory, expected a file`);
  });

  it('leaves the images unread until they are read into memory the caller gives, checking the file again then', async () => {
    for (const gzip of [false, true]) {
      const name = `c-images-idx3-ubyte${gzip ? '.gz' : ''}`;
      const file = await writeTemp(dir, name, gzip ? gzipSync(idxImages(3)) : idxImages(3));
      const labels = await writeTemp(dir, `c-labels-idx1-ubyte${gzip ? '.gz' : ''}`, idxLabels([7, 0, 9]));
      const opened = await openIdxDataset(file, labels);
      if (!isUnread(opened)) throw new Error('expected the images unread');
      expect(opened.count).toBe(3);
      expect(Array.from(opened.labels)).toEqual([7, 0, 9]);
      // Into a larger block of memory, as the engine gives it: exactly the data, nothing around it touched.
      const memory = new Uint8Array(10 + 3 * 784 + 10).fill(0xee);
      const into = memory.subarray(10, 10 + 3 * 784);
      expect((await opened.readImages(into)).buffer).toBe(memory.buffer);
      expect(Array.from(into.subarray(0, 5))).toEqual([0, 1, 2, 3, 4]);
      expect(into[785]).toBe(785 % 256);
      expect(into[3 * 784 - 1]).toBe((3 * 784 - 1) % 256);
      expect(
        memory.subarray(0, 10).every((b) => b === 0xee) && memory.subarray(10 + 3 * 784).every((b) => b === 0xee),
      ).toBe(true);
      await expect(opened.readImages(new Uint8Array(3 * 784))).rejects.toThrow(/were read already/);
      // The file is closed by the time its images are read, and a wrong length is refused with the file opened again
      // for it closed. A stream's last read could still be under way on the file when the images were handed over:
      // before the stream was waited for, four runs of this loop found the file still open after reads 2, 7, 43, 74.
      for (let read = 0; read < 300; read++) {
        const again = (await openIdxDataset(file, null)) as { readImages: (into: Uint8Array) => Promise<Uint8Array> };
        await again.readImages(new Uint8Array(3 * 784));
        expect(openDescriptorsOf(file), `open after read ${read + 1}`).toBe(0);
      }
      await expect(
        ((await openIdxDataset(file, labels)) as { readImages: (into: Uint8Array) => Promise<Uint8Array> }).readImages(
          new Uint8Array(784),
        ),
      ).rejects.toThrow(RangeError);
      expect(openDescriptorsOf(file)).toBe(0);
    }
    // Changed between opening and reading: one line naming the file, whichever way it changed.
    const file = await writeTemp(dir, 'd-images-idx3-ubyte.gz', gzipSync(idxImages(3)));
    const fewer = await openIdxDataset(file, null);
    await writeFile(file, gzipSync(idxImages(2)));
    await expect(
      (fewer as { readImages: (into: Uint8Array) => Promise<Uint8Array> }).readImages(new Uint8Array(3 * 784)),
    ).rejects.toThrow(/d-images-idx3-ubyte\.gz: changed while it was being read \(3 images before, 2 now\)$/);
    await writeFile(file, gzipSync(idxImages(3)));
    const cut = await openIdxDataset(file, null);
    await writeFile(file, gzipSync(idxImages(3)).subarray(0, 200));
    await expect(
      (cut as { readImages: (into: Uint8Array) => Promise<Uint8Array> }).readImages(new Uint8Array(3 * 784)),
    ).rejects.toThrow(/d-images-idx3-ubyte\.gz: is not valid gzip data \(truncated\)$/);
  });

  it('reads a .gz announcing more than 16 times its size at once, into memory that grows with what arrives', async () => {
    // 400 images of zeros compress about 600:1: implausible for a real IDX file, so nothing is left unread.
    const file = await writeTemp(dir, 'e-images-idx3-ubyte.gz', gzipSync(idxImages(400, 28, 28, () => 0)));
    const opened = await openIdxDataset(file, null);
    expect(isUnread(opened)).toBe(false);
    expect(opened.count).toBe(400);
    const plausible = await openIdxDataset(
      await writeTemp(
        dir,
        'f-images-idx3-ubyte.gz',
        gzipSync(idxImages(400, 28, 28, (i) => Math.imul(Math.imul(i, 2654435761) ^ (i >>> 3), 2246822519) >>> 24)),
      ),
      null,
    );
    expect(isUnread(plausible)).toBe(true);
  });

  it('reads the real Fashion-MNIST', async () => {
    const test = await readIdxDataset(
      `${REAL_DATA_DIR}/t10k-images-idx3-ubyte.gz`,
      `${REAL_DATA_DIR}/t10k-labels-idx1-ubyte.gz`,
    );
    expect(test.count).toBe(10000);
    const counts = new Array(10).fill(0);
    for (const label of test.labels) counts[label]++;
    expect(counts).toEqual(new Array(10).fill(1000));
    let zeros = 0;
    for (const pixel of test.images) if (pixel === 0) zeros++;
    expect(zeros / test.images.length).toBeGreaterThan(0.4);
    // Read into given memory, the images are the file's bytes after its 16-byte header (zlib as the reference).
    const opened = await openIdxDataset(`${REAL_DATA_DIR}/t10k-images-idx3-ubyte.gz`, null);
    if (!isUnread(opened)) throw new Error('expected the images unread');
    const into = new Uint8Array(10000 * 784);
    await opened.readImages(into);
    expect(
      Buffer.compare(into, gunzipSync(readFileSync(`${REAL_DATA_DIR}/t10k-images-idx3-ubyte.gz`)).subarray(16)),
    ).toBe(0);
  });
});
