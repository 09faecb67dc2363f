/**
 * A PNG reader for the tests, written from the PNG specification and independent of src/core/image/png.ts:
 * chunks and their CRCs (checked with Node's zlib.crc32), IHDR's fields, the IDAT stream inflated by zlib,
 * each row's filter byte. Only what a greyscale, non-interlaced, unfiltered image needs; anything else throws.
 */

import { crc32, inflateSync } from 'node:zlib';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export interface DecodedPng {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  compression: number;
  filter: number;
  interlace: number;
  chunkTypes: string[];
  /** The filter byte in front of each row. */
  filterBytes: number[];
  /** Row-major grey values. */
  pixels: Uint8Array;
}

export function decodePng(bytes: Uint8Array): DecodedPng {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!SIGNATURE.every((b, i) => buffer[i] === b)) throw new Error('not a PNG: wrong signature');
  const chunkTypes: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | null = null;
  let offset = 8;
  while (offset < buffer.length) {
    if (offset + 12 > buffer.length) throw new Error(`a chunk header is cut at byte ${offset}`);
    const length = buffer.readUInt32BE(offset);
    const type = buffer.toString('latin1', offset + 4, offset + 8);
    if (offset + 12 + length > buffer.length) throw new Error(`chunk ${type} is cut`);
    const data = buffer.subarray(offset + 8, offset + 8 + length);
    if (buffer.readUInt32BE(offset + 8 + length) !== crc32(buffer.subarray(offset + 4, offset + 8 + length)))
      throw new Error(`chunk ${type} has a wrong CRC`);
    chunkTypes.push(type);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  if (!ihdr || ihdr.length !== 13) throw new Error('no IHDR of 13 bytes');
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const [bitDepth, colourType, compression, filter, interlace] = ihdr.subarray(8);
  if (bitDepth !== 8 || colourType !== 0 || interlace !== 0)
    throw new Error('only 8-bit greyscale, non-interlaced images are read here');
  const raw = inflateSync(Buffer.concat(idat));
  if (raw.length !== height * (width + 1))
    throw new Error(`IDAT holds ${raw.length} bytes, expected ${height * (width + 1)}`);
  const filterBytes: number[] = [];
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    filterBytes.push(raw[y * (width + 1)]);
    pixels.set(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
  }
  return { width, height, bitDepth, colourType, compression, filter, interlace, chunkTypes, filterBytes, pixels };
}
