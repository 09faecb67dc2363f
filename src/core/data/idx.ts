/**
 * IDX files (the original MNIST/Fashion-MNIST format), gzip-compressed or raw: a 4-byte magic number
 * (0x00000803 for images, 0x00000801 for labels), big-endian 32-bit dimensions, then unsigned bytes.
 * Parsing is a pure function of the bytes; reading and gunzipping is the I/O edge below it. A header only
 * announces a size: the images and labels headers are checked against each other and against the file's
 * size before any data is read, and memory grows with the data that actually arrives.
 */

import type { FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { asFileError, displayPath, FmnistError } from '@core/shared/errors';
import { formatBytes } from '@core/shared/format';
import { openRegularFile, readAt } from '../io';
import {
  CLASS_COUNT,
  type Dataset,
  IMAGE_HEIGHT,
  IMAGE_SIZE,
  IMAGE_WIDTH,
  type LabelledData,
  type LabelledDataset,
  readAll,
  type UnreadDataset,
} from '@core/shared/dataset';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

export type IdxKind = 'images' | 'labels';

/** The most data one file may hold: it must fit one typed array (2.7 million images; Fashion-MNIST has 70,000). */
const MAX_DATA_BYTES = 2 ** 31;
/** Deflate turns one compressed byte into at most 1032 (a 258-byte match in 2 bits): more cannot be in the file. */
const MAX_DEFLATE_RATIO = 1032;
/**
 * Real IDX files compress at most about 5:1 (MNIST's images 4.7:1, Fashion-MNIST's 1.8:1): a .gz whose header
 * announces more is read into memory that grows with the data, not into memory allocated for the header's count.
 */
const PLAUSIBLE_RATIO = 16;
/** Trailing data after the announced items is counted up to this much, then inflating stops. */
const TRAILING_COUNT_LIMIT = 1 << 20;
/** Compressed bytes read to find the header (gzip's own header may carry a file name before the data). */
const HEAD_BYTES = 1 << 16;

/** True when the bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

interface IdxHeader {
  kind: IdxKind;
  count: number;
  headerLength: number;
  itemSize: number;
  /** headerLength + count × itemSize: the whole file's size, inflated. */
  totalLength: number;
}

const headerLengthOf = (kind: IdxKind): number => (kind === 'images' ? 16 : 8);

/** Checks an IDX header from the file's first bytes (more may follow) and returns what it announces. */
function parseIdxHeader(bytes: Uint8Array, kind: IdxKind, file: string): IdxHeader {
  const expectedMagic = kind === 'images' ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC;
  const headerLength = headerLengthOf(kind);
  if (bytes.length < 4) throw bad(file, `is ${bytes.length} bytes long, too short to be an IDX file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    const other =
      magic === IDX_IMAGES_MAGIC ? 'an IDX images file' : magic === IDX_LABELS_MAGIC ? 'an IDX labels file' : null;
    const found = other ? `, this is ${other}` : '';
    throw bad(file, `bad magic number 0x${hex(magic)}: expected 0x${hex(expectedMagic)} for IDX ${kind}${found}`);
  }
  if (bytes.length < headerLength) throw bad(file, `is truncated inside the IDX header (${bytes.length} bytes)`);
  const count = view.getUint32(4, false);
  if (kind === 'images') {
    const rows = view.getUint32(8, false);
    const columns = view.getUint32(12, false);
    if (rows !== IMAGE_HEIGHT || columns !== IMAGE_WIDTH) {
      throw bad(file, `has ${rows}×${columns} images, expected ${IMAGE_HEIGHT}×${IMAGE_WIDTH}`);
    }
  }
  if (count === 0) throw bad(file, `holds no ${kind}`);
  const itemSize = kind === 'images' ? IMAGE_SIZE : 1;
  if (count * itemSize > MAX_DATA_BYTES) {
    throw bad(
      file,
      `announces ${count} ${kind} (${formatBytes(count * itemSize)}), more than this app can hold (at most ${formatBytes(MAX_DATA_BYTES)})`,
    );
  }
  return { kind, count, headerLength, itemSize, totalLength: headerLength + count * itemSize };
}

function truncated(file: string, header: IdxHeader, available: number): FmnistError {
  const complete = Math.max(0, Math.floor((available - header.headerLength) / header.itemSize));
  return bad(
    file,
    `is truncated: the header announces ${header.count} ${header.kind} but only ${complete} ${complete === 1 ? 'is' : 'are'} complete`,
  );
}

function trailing(file: string, header: IdxHeader, extra: number, atLeast = false): FmnistError {
  return bad(
    file,
    `has ${atLeast ? 'more than ' : ''}${extra} unexpected bytes after the ${header.count} ${header.kind} its header announces`,
  );
}

function checkLabels(data: Uint8Array, file: string): void {
  for (let i = 0; i < data.length; i++) {
    if (data[i] >= CLASS_COUNT) {
      throw new FmnistError('bad-input', `label ${data[i]} is out of range 0–9`, {
        file,
        row: i + 1,
        rowName: 'record',
      });
    }
  }
}

/** Checks an IDX header and size and returns a view of the data bytes (no copy). */
export function parseIdx(bytes: Uint8Array, kind: IdxKind, file: string): { count: number; data: Uint8Array } {
  const header = parseIdxHeader(bytes, kind, file);
  if (bytes.length < header.totalLength) throw truncated(file, header, bytes.length);
  if (bytes.length > header.totalLength) throw trailing(file, header, bytes.length - header.totalLength);
  const data = bytes.subarray(header.headerLength, header.totalLength);
  if (kind === 'labels') checkLabels(data, file);
  return { count: header.count, data };
}

/** An IDX file opened and its header checked, its data not read yet. */
interface OpenIdx {
  file: string;
  handle: FileHandle;
  /** Bytes on disk (compressed when gzip). */
  size: number;
  gzip: boolean;
  header: IdxHeader;
}

function gzipProblem(error: unknown, file: string): FmnistError {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('Z_'))
    return bad(file, `is not valid gzip data (${code === 'Z_BUF_ERROR' ? 'truncated' : 'corrupt'})`);
  return asFileError(error, file);
}

/**
 * The first `wanted` inflated bytes of gzip data whose first bytes are `head` (the whole file when `whole`):
 * only the start is decompressed, so a header can be checked without inflating what follows it.
 */
function inflateStart(head: Uint8Array, wanted: number, whole: boolean, file: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const inflate = createGunzip({ chunkSize: 16 * 1024 });
    const chunks: Buffer[] = [];
    let length = 0;
    let done = false;
    const finish = (error?: unknown): void => {
      if (done) return;
      done = true;
      inflate.destroy();
      const bytes = Buffer.concat(chunks);
      if (bytes.length >= wanted || (!error && whole)) resolve(bytes);
      else if (whole) reject(gzipProblem(error, file));
      else
        reject(
          bad(file, `is not an IDX file: its first ${formatBytes(head.length)} inflate to only ${bytes.length} bytes`),
        );
    };
    inflate.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= wanted) finish();
    });
    inflate.on('end', () => finish());
    inflate.on('error', (error) => finish(error));
    inflate.end(head);
  });
}

/**
 * Opens an IDX file and checks its header, decompressing only the start of a gzipped one, and what the
 * header announces against the file's size. Reads no data; the caller reads it with readIdxData.
 */
async function openIdx(file: string, kind: IdxKind): Promise<OpenIdx> {
  const { handle, size } = await openRegularFile(file);
  try {
    if (size === 0) throw bad(file, 'is empty');
    const head = await readAt(handle, 0, Math.min(size, HEAD_BYTES));
    const gzip = isGzip(head);
    const start = gzip ? await inflateStart(head, headerLengthOf(kind), head.length === size, file) : head;
    const header = parseIdxHeader(start, kind, file);
    if (gzip && header.totalLength > size * MAX_DEFLATE_RATIO) {
      throw bad(
        file,
        `is truncated: its header announces ${header.count} ${kind}, more than its ${size} compressed bytes can hold`,
      );
    }
    if (!gzip && size < header.totalLength) throw truncated(file, header, size);
    if (!gzip && size > header.totalLength) throw trailing(file, header, size - header.totalLength);
    return { file, handle, size, gzip, header };
  } catch (error) {
    await handle.close().catch(() => {});
    throw asFileError(error, file);
  }
}

/**
 * Reads an opened IDX file's data (and closes it): exactly the announced bytes, or a one-line problem. With
 * `into` (the data's length), the data goes there instead of memory of its own.
 */
async function readIdxData(idx: OpenIdx, into?: Uint8Array): Promise<Uint8Array> {
  const { file, handle, header } = idx;
  const dataLength = header.totalLength - header.headerLength;
  if (into && into.length !== dataLength) {
    await handle.close().catch(() => {});
    throw new RangeError(`${file}: ${into.length} bytes given for ${dataLength} bytes of data`);
  }
  try {
    const data = idx.gzip ? await inflateData(idx, into) : await readAt(handle, header.headerLength, dataLength, into);
    // The file may have shrunk since it was opened.
    if (data.length < dataLength) throw truncated(file, header, header.headerLength + data.length);
    if (header.kind === 'labels') checkLabels(data, file);
    return data;
  } catch (error) {
    throw asFileError(error, file);
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * Streams a gzipped IDX file's data into `into`, or into a buffer that grows with the data as it arrives (a
 * header can announce gigabytes that are not there), up to the announced size. The header and trailing data
 * are counted, not stored, trailing data only up to TRAILING_COUNT_LIMIT: inflating stops there.
 */
function inflateData(idx: OpenIdx, into: Uint8Array | undefined): Promise<Uint8Array> {
  const { file, handle, size, header } = idx;
  const { headerLength, totalLength } = header;
  const dataLength = totalLength - headerLength;
  return new Promise((resolve, reject) => {
    const source = handle.createReadStream({ start: 0, end: size - 1, highWaterMark: 1 << 20, autoClose: false });
    const inflate = createGunzip({ chunkSize: 1 << 20 });
    // Real IDX files compress about 2:1, so 4× the compressed size usually holds everything at once.
    let out = into ?? new Uint8Array(Math.min(dataLength, Math.max(1 << 20, size * 4)));
    /** Inflated bytes so far, header included. */
    let inflated = 0;
    let extra = 0;
    let settled = false;
    const settle = (outcome: Uint8Array | FmnistError): void => {
      if (settled) return;
      settled = true;
      inflate.destroy();
      const done = (): void => (outcome instanceof FmnistError ? reject(outcome) : resolve(outcome));
      // Once the stream has no read under way on the file: closing the file after it then closes it at once.
      if (source.closed) done();
      else {
        source.once('close', done);
        source.destroy();
      }
    };
    inflate.on('data', (chunk: Buffer) => {
      if (settled) return;
      const start = Math.min(chunk.length, Math.max(0, headerLength - inflated));
      const filled = Math.max(0, inflated - headerLength);
      const take = Math.min(dataLength - filled, chunk.length - start);
      if (take > 0) {
        if (filled + take > out.length) {
          const grown = new Uint8Array(Math.min(dataLength, Math.max(filled + take, out.length * 2)));
          grown.set(out.subarray(0, filled));
          out = grown;
        }
        out.set(chunk.subarray(start, start + take), filled);
      }
      inflated += start + take;
      extra += chunk.length - start - take;
      if (extra > TRAILING_COUNT_LIMIT) settle(trailing(file, header, TRAILING_COUNT_LIMIT, true));
    });
    inflate.on('end', () => {
      if (inflated < totalLength) settle(truncated(file, header, inflated));
      else if (extra > 0) settle(trailing(file, header, extra));
      else settle(out.subarray(0, dataLength));
    });
    inflate.on('error', (error) => settle(gzipProblem(error, file)));
    source.on('error', (error) => settle(asFileError(error, file)));
    source.pipe(inflate);
  });
}

/** Reads one IDX file (gzipped or not). */
export async function readIdxFile(file: string, kind: IdxKind): Promise<{ count: number; data: Uint8Array }> {
  const idx = await openIdx(file, kind);
  return { count: idx.header.count, data: await readIdxData(idx) };
}

/**
 * Opens an images file and, when given, its labels file, and checks both headers against each other before
 * any data is read (a small .gz announcing millions of images is refused before it is inflated); then reads
 * the labels. The images are left unread, to be read into memory the caller gives (see UnreadDataset) —
 * unless the file is a .gz whose header announces more than PLAUSIBLE_RATIO times its size: then its images
 * are read at once, into memory that grows with the data that arrives, not with what the header announces.
 */
export async function openIdxDataset(imagesFile: string, labelsFile: string): Promise<LabelledData>;
export async function openIdxDataset(imagesFile: string, labelsFile: string | null): Promise<Dataset | UnreadDataset>;
export async function openIdxDataset(imagesFile: string, labelsFile: string | null): Promise<Dataset | UnreadDataset> {
  const images = await openIdx(imagesFile, 'images');
  const { count } = images.header;
  const plausible = !images.gzip || images.header.totalLength <= images.size * PLAUSIBLE_RATIO;
  let labelData: Uint8Array | null;
  try {
    const labels = labelsFile ? await openIdx(labelsFile, 'labels') : null;
    if (labels && labels.header.count !== count) {
      await labels.handle.close().catch(() => {});
      throw bad(labels.file, `has ${labels.header.count} labels but ${displayPath(imagesFile)} has ${count} images`);
    }
    labelData = labels ? await readIdxData(labels) : null;
    if (!plausible) return { images: await readIdxData(images), labels: labelData, count, source: imagesFile };
  } finally {
    await images.handle.close().catch(() => {});
  }
  let read = false;
  return {
    count,
    labels: labelData,
    source: imagesFile,
    readImages: async (into) => {
      if (read) throw new Error(`${imagesFile}: its images were read already`);
      read = true;
      // Opened again: the file is checked once more, in case it changed since its header was read.
      const again = await openIdx(imagesFile, 'images');
      if (again.header.count !== count) {
        await again.handle.close().catch(() => {});
        throw bad(imagesFile, `changed while it was being read (${count} images before, ${again.header.count} now)`);
      }
      return readIdxData(again, into);
    },
  };
}

/** Reads an images file and, when given, its labels file (see openIdxDataset). */
export async function readIdxDataset(imagesFile: string, labelsFile: string): Promise<LabelledDataset>;
export async function readIdxDataset(imagesFile: string, labelsFile: string | null): Promise<Dataset>;
export async function readIdxDataset(imagesFile: string, labelsFile: string | null): Promise<Dataset> {
  return readAll(await openIdxDataset(imagesFile, labelsFile));
}

function bad(file: string, problem: string): FmnistError {
  return new FmnistError('bad-input', problem, { file });
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/** Whether a file (gzipped or not) is an IDX images or labels file, from its magic number; null otherwise. */
export async function idxKindOf(file: string): Promise<IdxKind | null> {
  let head: Uint8Array;
  let whole: boolean;
  try {
    const { handle, size } = await openRegularFile(file);
    try {
      head = await readAt(handle, 0, Math.min(size, HEAD_BYTES));
      whole = head.length === size;
    } finally {
      await handle.close().catch(() => {});
    }
  } catch (error) {
    // A pipe or a directory is worth saying; any other unreadable file is simply not IDX.
    if (error instanceof FmnistError && error.kind === 'bad-input') throw error;
    return null;
  }
  const bytes = isGzip(head) ? await inflateStart(head, 4, whole, file).catch(() => new Uint8Array(0)) : head;
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 8) return null;
  return bytes[3] === 3 ? 'images' : bytes[3] === 1 ? 'labels' : null;
}
