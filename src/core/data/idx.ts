/**
 * IDX files (the original MNIST/Fashion-MNIST format), gzip-compressed or raw: a 4-byte magic number
 * (0x00000803 for images, 0x00000801 for labels), big-endian 32-bit dimensions, then unsigned bytes.
 * Parsing is a pure function of the bytes; reading and gunzipping is the I/O edge below it.
 */

import type { FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { asFileError, FmnistError } from '../errors';
import { openRegularFile, readAt } from '../io';
import { CLASS_COUNT, IMAGE_HEIGHT, IMAGE_SIZE, IMAGE_WIDTH, type Dataset, type LabelledDataset } from './dataset';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

export type IdxKind = 'images' | 'labels';

/** True when the bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Checks an IDX header and size and returns a view of the data bytes (no copy). */
export function parseIdx(bytes: Uint8Array, kind: IdxKind, file: string): { count: number; data: Uint8Array } {
  const expectedMagic = kind === 'images' ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC;
  const dimensions = kind === 'images' ? 3 : 1;
  const headerLength = 4 + 4 * dimensions;
  if (bytes.length < 4) throw bad(file, `is ${bytes.length} bytes long, too short to be an IDX file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    const other = magic === IDX_IMAGES_MAGIC ? 'an IDX images file' : magic === IDX_LABELS_MAGIC ? 'an IDX labels file' : null;
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
  const expectedLength = headerLength + count * itemSize;
  if (bytes.length < expectedLength) {
    const complete = Math.floor((bytes.length - headerLength) / itemSize);
    throw bad(file, `is truncated: the header announces ${count} ${kind} but only ${complete} ${complete === 1 ? "is" : "are"} complete`);
  }
  if (bytes.length > expectedLength) {
    throw bad(file, `has ${bytes.length - expectedLength} unexpected bytes after the ${count} ${kind} its header announces`);
  }
  const data = bytes.subarray(headerLength, expectedLength);
  if (kind === 'labels') {
    for (let i = 0; i < count; i++) {
      if (data[i] >= CLASS_COUNT) {
        throw new FmnistError('bad-input', `label ${data[i]} is out of range 0–9`, { file, row: i + 1, rowName: 'record' });
      }
    }
  }
  return { count, data };
}

/**
 * Reads an IDX file, gunzipping it as a stream when it is compressed: the header tells the exact size, so
 * the data goes straight into one buffer of that size (no whole compressed file, no chunk list to join).
 */
export async function readIdxFile(file: string, kind: IdxKind): Promise<{ count: number; data: Uint8Array }> {
  const { handle, size } = await openRegularFile(file);
  let closeHere = true;
  try {
    const head = await readAt(handle, 0, Math.min(2, size));
    if (head.length === 0) throw bad(file, 'is empty');
    if (!isGzip(head)) return parseIdx(await readAt(handle, 0, size), kind, file);
    closeHere = false; // the stream closes it
    return parseIdx(await gunzipIdx(handle, file, kind), kind, file);
  } catch (error) {
    throw asFileError(error, file);
  } finally {
    if (closeHere) await handle.close().catch(() => {});
  }
}

/** Streams a gzipped IDX file into a buffer sized from its header; extra or missing bytes are left for parseIdx. */
function gunzipIdx(handle: FileHandle, file: string, kind: IdxKind): Promise<Uint8Array> {
  const headerLength = kind === 'images' ? 16 : 8;
  return new Promise((resolve, reject) => {
    const source = handle.createReadStream({ highWaterMark: 1 << 20 });
    const inflate = createGunzip({ chunkSize: 1 << 20 });
    let header: Uint8Array | null = new Uint8Array(0);
    let out: Uint8Array | null = null;
    let filled = 0;
    let extra = 0;
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      source.destroy();
      inflate.destroy();
      if (error instanceof FmnistError) reject(error);
      else if ((error as NodeJS.ErrnoException).code?.startsWith('Z_')) {
        const reason = (error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' ? 'truncated' : 'corrupt';
        reject(bad(file, `is not valid gzip data (${reason})`));
      } else reject(asFileError(error, file));
    };
    inflate.on('data', (chunk: Buffer) => {
      let data: Uint8Array = chunk;
      if (!out) {
        const joined: Uint8Array = new Uint8Array(header!.length + data.length);
        joined.set(header!);
        joined.set(data, header!.length);
        if (joined.length < headerLength) {
          header = joined;
          return;
        }
        header = null;
        const view = new DataView(joined.buffer, joined.byteOffset, joined.byteLength);
        const count = view.getUint32(4, false);
        const itemSize = kind === 'images' ? view.getUint32(8, false) * view.getUint32(12, false) : 1;
        const total = headerLength + count * itemSize;
        // A bad magic number or absurd header: let parseIdx name the problem from the bytes seen so far.
        if (view.getUint32(0, false) !== (kind === 'images' ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC) || total > 2 ** 31) {
          out = joined;
          filled = joined.length;
          settled = true;
          source.destroy();
          inflate.destroy();
          resolve(joined);
          return;
        }
        out = new Uint8Array(total);
        data = joined;
      }
      const room = out.length - filled;
      if (data.length > room) extra += data.length - room;
      out.set(data.subarray(0, Math.min(room, data.length)), filled);
      filled += Math.min(room, data.length);
    });
    inflate.on('end', () => {
      if (settled) return;
      settled = true;
      if (!out) resolve(header ?? new Uint8Array(0));
      // Hand parseIdx the bytes as they are: it reports truncation or trailing bytes precisely.
      else if (extra > 0) resolve(withTrailing(out, extra));
      else resolve(out.subarray(0, filled));
    });
    inflate.on('error', fail);
    source.on('error', fail);
    source.pipe(inflate);
  });
}

/** A copy with `extra` zero bytes appended, so parseIdx can report the count of unexpected trailing bytes. */
function withTrailing(data: Uint8Array, extra: number): Uint8Array {
  const longer = new Uint8Array(data.length + extra);
  longer.set(data);
  return longer;
}

/** Reads an images file and, when given, its labels file, checking that the counts agree. */
export async function readIdxDataset(imagesFile: string, labelsFile: string): Promise<LabelledDataset>;
export async function readIdxDataset(imagesFile: string, labelsFile: string | null): Promise<Dataset>;
export async function readIdxDataset(imagesFile: string, labelsFile: string | null): Promise<Dataset> {
  const [images, labels] = await Promise.all([
    readIdxFile(imagesFile, 'images'),
    labelsFile ? readIdxFile(labelsFile, 'labels') : Promise.resolve(null),
  ]);
  if (labels && labels.count !== images.count) {
    throw bad(labelsFile!, `has ${labels.count} labels but ${imagesFile} has ${images.count} images`);
  }
  return {
    images: images.data,
    labels: labels ? labels.data : null,
    count: images.count,
    source: imagesFile,
  };
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
  try {
    const { handle, size } = await openRegularFile(file);
    try {
      head = await readAt(handle, 0, Math.min(size, 65536));
    } finally {
      await handle.close().catch(() => {});
    }
  } catch (error) {
    // A pipe or a directory is worth saying; any other unreadable file is simply not IDX.
    if (error instanceof FmnistError && error.kind === 'bad-input') throw error;
    return null;
  }
  let bytes = head;
  if (isGzip(head)) {
    bytes = await new Promise<Uint8Array>((resolve) => {
      const inflate = createGunzip();
      const out: Buffer[] = [];
      inflate.on('data', (chunk: Buffer) => {
        out.push(chunk);
        inflate.destroy();
        resolve(Buffer.concat(out));
      });
      inflate.on('error', () => resolve(Buffer.concat(out)));
      inflate.on('end', () => resolve(Buffer.concat(out)));
      inflate.end(head);
    });
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 8) return null;
  return bytes[3] === 3 ? 'images' : bytes[3] === 1 ? 'labels' : null;
}
