/**
 * Kaggle's Fashion-MNIST CSV: an optional header `label,pixel1,…,pixel784` (after blank lines and a UTF-8
 * byte order mark, if any), then one image per line as `label,p1,…,p784` (0–9, then 0–255). Unlabelled files
 * (784 columns) are accepted where labels are optional (prediction inputs).
 *
 * Two readers, one result. Files in the plain form Kaggle ships (digits and commas, "\n" or "\r\n", the
 * canonical header or none) are read byte by byte from a stream straight into the images: no text decoding,
 * no cells as strings. Anything else (quotes, spaces, blank lines, odd headers, a bad value) goes to the
 * general reader: papaparse, streaming, with every check and the message naming line and column. So a
 * malformed file gets exactly the general reader's message, and a plain one is read several times faster.
 */

import Papa from 'papaparse';
import { asFileError, FmnistError, quote } from '@core/shared/errors';
import { openRegularFile } from '../io';
import { CLASS_COUNT, IMAGE_SIZE, type Dataset, type LabelledDataset } from '@core/shared/dataset';

const ROWS_PER_BLOCK = 4096;

export interface CsvOptions {
  /** Require the label column (training and evaluation); otherwise 784 pixel columns are accepted too. */
  requireLabels: boolean;
}

/** Growable row storage in fixed blocks, joined once at the end (peak memory ≈ 2× the pixels). */
class RowBlocks {
  private blocks: Uint8Array[] = [];
  private labelBlocks: Uint8Array[] = [];
  count = 0;

  /** The pixel row to fill for the next image, and the label slot beside it. */
  next(): { pixels: Uint8Array; labels: Uint8Array; index: number } {
    const index = this.count % ROWS_PER_BLOCK;
    if (index === 0) {
      this.blocks.push(new Uint8Array(ROWS_PER_BLOCK * IMAGE_SIZE));
      this.labelBlocks.push(new Uint8Array(ROWS_PER_BLOCK));
    }
    this.count++;
    const block = this.blocks[this.blocks.length - 1];
    return {
      pixels: block.subarray(index * IMAGE_SIZE, (index + 1) * IMAGE_SIZE),
      labels: this.labelBlocks[this.labelBlocks.length - 1],
      index,
    };
  }

  join(): { images: Uint8Array; labels: Uint8Array } {
    const images = new Uint8Array(this.count * IMAGE_SIZE);
    const labels = new Uint8Array(this.count);
    this.blocks.forEach((block, i) => {
      const rows = Math.min(ROWS_PER_BLOCK, this.count - i * ROWS_PER_BLOCK);
      images.set(block.subarray(0, rows * IMAGE_SIZE), i * ROWS_PER_BLOCK * IMAGE_SIZE);
      labels.set(this.labelBlocks[i].subarray(0, rows), i * ROWS_PER_BLOCK);
    });
    this.blocks = [];
    this.labelBlocks = [];
    return { images, labels };
  }
}

/** Parses a cell as a whole number in [0, max]; returns -1 when it is not one. */
function parseSmallInteger(cell: string, max: number): number {
  const length = cell.length;
  if (length === 0 || length > 3) return -1;
  let value = 0;
  for (let i = 0; i < length; i++) {
    const digit = cell.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value <= max ? value : -1;
}

/** A cell as messages quote it: escaped and cut short (a cell can hold anything, a megabyte or a newline). */
function describeCell(cell: string): string {
  return quote(cell);
}

/** Kaggle's header starts with "label" (or "pixel1" when unlabelled). */
function isHeader(row: string[]): boolean {
  return /^\s*("?)(label|pixel1)\1\s*$/i.test(row[0] ?? '');
}

export async function readCsvDataset(file: string, options: { requireLabels: true }): Promise<LabelledDataset>;
export async function readCsvDataset(file: string, options: CsvOptions): Promise<Dataset>;
export async function readCsvDataset(file: string, options: CsvOptions): Promise<Dataset> {
  return (await readPlainCsv(file, options)) ?? readCsvGeneral(file, options);
}

const COMMA = 44;
const CR = 13;
const LF = 10;
const ZERO = 48;
const NINE = 57;
const HEADERS = [
  ['label', ...Array.from({ length: IMAGE_SIZE }, (_, i) => `pixel${i + 1}`)].join(','),
  Array.from({ length: IMAGE_SIZE }, (_, i) => `pixel${i + 1}`).join(','),
];

/**
 * The plain form, read byte by byte; null when the file is not in it (or not readable as a file: the general
 * reader then says why). Every image row is 785 (or, where labels are optional, 784) cells of 1–3 digits,
 * a label up to 9 and pixels up to 255, ending in "\n" or "\r\n"; a header, if any, is Kaggle's exactly.
 */
export async function readPlainCsv(file: string, options: CsvOptions): Promise<Dataset | null> {
  let opened: Awaited<ReturnType<typeof openRegularFile>>;
  try {
    opened = await openRegularFile(file);
  } catch {
    return null;
  }
  const { handle, size } = opened;
  const rows = new RowBlocks();
  // Bytes: every stored value is checked to be at most 255 first, so a row is copied, not converted.
  const cells = new Uint8Array(IMAGE_SIZE + 1);
  let count = 0; // cells of the current line so far
  let digits = 0; // digits of the current cell
  let value = 0;
  let columns = -1; // fixed by the first image row
  let cr = false; // the last byte was a CR, so this one must be LF
  let position = 0; // bytes of the file before the current chunk
  let header: number[] | null = null; // the first line, when it is not digits

  /** Stores a finished line of `count` cells: false when it is not a plain image row (a blank line included). */
  const storeLine = (count: number): boolean => {
    if (columns < 0) {
      if (count !== IMAGE_SIZE + 1 && (count !== IMAGE_SIZE || options.requireLabels)) return false;
      columns = count;
    } else if (count !== columns) {
      return false;
    }
    const labelled = columns === IMAGE_SIZE + 1;
    if (labelled && cells[0] >= CLASS_COUNT) return false;
    const { pixels, labels, index } = rows.next();
    if (labelled) labels[index] = cells[0];
    pixels.set(labelled ? cells.subarray(1) : cells.subarray(0, IMAGE_SIZE));
    return true;
  };

  /** The first line, when it does not start with a digit: Kaggle's header exactly, or not the plain form. */
  const scanHeader = (bytes: Uint8Array, from: number): number => {
    let i = from;
    for (; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === LF) {
        if (header!.at(-1) === CR) header!.pop();
        const text = String.fromCharCode(...header!);
        if (text !== HEADERS[0] && (text !== HEADERS[1] || options.requireLabels)) return -1;
        header = null;
        return i + 1;
      }
      if (header!.push(b) > HEADERS[0].length + 1) return -1;
    }
    return i;
  };

  /** Reads a chunk; false as soon as the file is not in the plain form. The state lives in locals meanwhile. */
  const scan = (bytes: Uint8Array): boolean => {
    let i = position === 0 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    const length = bytes.length;
    if (position === 0 && i < length && (bytes[i] < ZERO || bytes[i] > NINE)) header = [];
    if (header) {
      i = scanHeader(bytes, i);
      if (i < 0) return false;
    }
    let n = count;
    let d = digits;
    let v = value;
    let pendingCr = cr;
    for (; i < length; i++) {
      const b = bytes[i];
      if (b >= ZERO && b <= NINE) {
        if (pendingCr) return false;
        v = v * 10 + (b - ZERO);
        if (++d > 3) return false;
      } else if (b === COMMA) {
        if (pendingCr || d === 0 || v > 255 || n >= IMAGE_SIZE) return false;
        cells[n++] = v;
        d = 0;
        v = 0;
      } else if (b === LF) {
        if (d === 0 || v > 255 || n > IMAGE_SIZE) return false;
        cells[n++] = v;
        if (!storeLine(n)) return false;
        pendingCr = false;
        n = 0;
        d = 0;
        v = 0;
      } else if (b === CR && !pendingCr) {
        pendingCr = true;
      } else {
        return false;
      }
    }
    count = n;
    digits = d;
    value = v;
    cr = pendingCr;
    position += length;
    return true;
  };

  let plain = size > 0;
  try {
    const stream = handle.createReadStream({ highWaterMark: 1 << 20, start: 0, end: Math.max(0, size - 1) });
    try {
      for await (const chunk of stream as AsyncIterable<Uint8Array>) {
        if (plain && !scan(chunk)) {
          plain = false;
          break;
        }
      }
    } finally {
      stream.destroy();
    }
  } catch {
    return null;
  } finally {
    await handle.close().catch(() => {});
  }
  if (!plain || header || cr) return null;
  // A last line without its newline.
  if (count > 0 || digits > 0) {
    if (digits === 0 || value > 255 || count > IMAGE_SIZE) return null;
    cells[count++] = value;
    if (!storeLine(count)) return null;
  }
  if (rows.count === 0) return null;
  const { images, labels } = rows.join();
  return { images, labels: columns === IMAGE_SIZE + 1 ? labels : null, count: rows.count, source: file };
}

/** Any file, with every check; see the module comment. */
export async function readCsvGeneral(file: string, options: CsvOptions): Promise<Dataset> {
  const { handle, size } = await openRegularFile(file);
  if (size === 0) {
    await handle.close().catch(() => {});
    throw new FmnistError('bad-input', 'is empty', { file });
  }

  const rows = new RowBlocks();
  let line = 0;
  let columns = -1; // 785 with labels, 784 without; fixed by the first data row
  let failure: FmnistError | null = null;

  const fail = (problem: string, column?: number): void => {
    failure ??= new FmnistError('bad-input', problem, { file, row: line, column });
  };

  let seenContent = false; // a header may follow blank lines, but no data row
  const acceptRow = (row: string[]): boolean => {
    line++;
    // A UTF-8 byte order mark (Excel writes one) is not part of the first cell, header or not.
    if (line === 1 && row[0]?.charCodeAt(0) === 0xfeff) row[0] = row[0].slice(1);
    if (row.length === 1 && row[0].trim() === '') return true; // a blank line
    const firstContent = !seenContent;
    seenContent = true;
    if (firstContent && isHeader(row)) {
      if (row.length !== IMAGE_SIZE + 1 && row.length !== IMAGE_SIZE) {
        fail(`the header has ${row.length} columns, expected ${IMAGE_SIZE + 1} (label,pixel1,…,pixel784)`);
        return false;
      }
      if (options.requireLabels && row.length === IMAGE_SIZE) {
        fail('the header has no label column: expected label,pixel1,…,pixel784');
        return false;
      }
      return true;
    }
    if (columns < 0) {
      if (row.length === IMAGE_SIZE + 1 || (row.length === IMAGE_SIZE && !options.requireLabels)) {
        columns = row.length;
      } else {
        const expected = options.requireLabels
          ? `${IMAGE_SIZE + 1} (a label and 784 pixels)`
          : `${IMAGE_SIZE + 1} or ${IMAGE_SIZE}`;
        fail(`expected ${expected} columns, found ${row.length}`);
        return false;
      }
    } else if (row.length !== columns) {
      fail(`expected ${columns} columns, found ${row.length}`, row.length > columns ? columns + 1 : row.length);
      return false;
    }
    const { pixels, labels, index } = rows.next();
    let first = 0;
    if (columns === IMAGE_SIZE + 1) {
      const label = parseSmallInteger(row[0], 255);
      if (label < 0 || label >= CLASS_COUNT) {
        fail(`label ${describeCell(row[0])} is not a class number 0–9`, 1);
        return false;
      }
      labels[index] = label;
      first = 1;
    }
    for (let i = 0; i < IMAGE_SIZE; i++) {
      const cell = row[first + i];
      // Half of all pixels are a lone "0": take single digits without the general parser.
      const single = cell.length === 1 ? cell.charCodeAt(0) - 48 : -1;
      const value = single >= 0 && single <= 9 ? single : parseSmallInteger(cell, 255);
      if (value < 0) {
        const trimmed = parseSmallInteger(cell.trim(), 255);
        if (trimmed >= 0) {
          pixels[i] = trimmed;
          continue;
        }
        fail(`pixel${i + 1} value ${describeCell(cell)} is not a whole number 0–255`, first + i + 1);
        return false;
      }
      pixels[i] = value;
    }
    return true;
  };

  await new Promise<void>((resolve, reject) => {
    // Up to the size at opening: a file still being written cannot make the read endless. The stream closes the handle.
    const stream = handle.createReadStream({ encoding: 'utf8', highWaterMark: 1 << 18, start: 0, end: size - 1 });
    let settled = false;
    const settle = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      const done = (): void => (error ? reject(asFileError(error, file)) : resolve());
      // Once the stream has closed the file, not while its last read may still hold it open.
      if (stream.closed) done();
      else {
        stream.once('close', done);
        stream.destroy();
      }
    };
    stream.on('error', (error) => settle(error));
    Papa.parse<string[]>(stream as unknown as File, {
      header: false,
      dynamicTyping: false,
      skipEmptyLines: false,
      chunk: (results, parser) => {
        for (const row of results.data) {
          if (!acceptRow(row)) {
            parser.abort();
            return;
          }
        }
      },
      complete: () => settle(),
      error: (error: Error) => settle(error),
    });
  });

  if (failure) throw failure;
  if (rows.count === 0) throw new FmnistError('bad-input', 'holds no images (only a header or blank lines)', { file });
  const { images, labels } = rows.join();
  return { images, labels: columns === IMAGE_SIZE + 1 ? labels : null, count: rows.count, source: file };
}
