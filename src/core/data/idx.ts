/**
 * IDX files (the original MNIST/Fashion-MNIST format), gzip-compressed or raw: a 4-byte magic number
 * (0x00000803 for images, 0x00000801 for labels), big-endian 32-bit dimensions, then unsigned bytes.
 * Parsing is a pure function of the bytes; reading and gunzipping is the I/O edge below it.
 */

import { readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { asFileError, FmnistError } from '../errors';
import { CLASS_COUNT, IMAGE_HEIGHT, IMAGE_SIZE, IMAGE_WIDTH, type Dataset, type LabelledDataset } from './dataset';

const gunzipAsync = promisify(gunzip);

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
    throw bad(file, `is truncated: the header announces ${count} ${kind} but only ${complete} are complete`);
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

/** Reads an IDX file, gunzipping it when it is compressed. */
export async function readIdxFile(file: string, kind: IdxKind): Promise<{ count: number; data: Uint8Array }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw asFileError(error, file);
  }
  if (bytes.length === 0) throw bad(file, 'is empty');
  if (isGzip(bytes)) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' ? 'truncated' : 'corrupt';
      throw bad(file, `is not valid gzip data (${reason})`);
    }
  }
  return parseIdx(bytes, kind, file);
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
