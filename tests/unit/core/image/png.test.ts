/**
 * The greyscale PNG encoder, read back by a decoder written here from the PNG specification (chunks, CRCs
 * checked with Node's own zlib.crc32, IDAT inflated with zlib) and by Chromium.
 */

import { crc32 as zlibCrc32, inflateSync } from 'node:zlib';
import { type Browser, chromium } from '@playwright/test';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeGreyPng } from '../../../../src/core/image/png';
import { CHROMIUM_LAUNCH } from '../../../helpers/browser';

interface DecodedPng {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  compression: number;
  filter: number;
  interlace: number;
  chunkTypes: string[];
  filterBytes: number[];
  pixels: Uint8Array;
}

/** Decodes a greyscale, non-interlaced PNG whose rows use filter 0; throws on anything it does not expect. */
function decodePng(bytes: Uint8Array): DecodedPng {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect([...buffer.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const chunkTypes: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | null = null;
  let offset = 8;
  while (offset < buffer.length) {
    const length = buffer.readUInt32BE(offset);
    const type = buffer.toString('latin1', offset + 4, offset + 8);
    const data = buffer.subarray(offset + 8, offset + 8 + length);
    const crc = buffer.readUInt32BE(offset + 8 + length);
    expect(crc, `CRC of ${type}`).toBe(zlibCrc32(buffer.subarray(offset + 4, offset + 8 + length)));
    chunkTypes.push(type);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  expect(offset).toBe(buffer.length);
  if (!ihdr) throw new Error('no IHDR');
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const raw = inflateSync(Buffer.concat(idat));
  expect(raw.length).toBe(height * (width + 1));
  const filterBytes: number[] = [];
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    filterBytes.push(raw[y * (width + 1)]);
    pixels.set(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
  }
  return { width, height, bitDepth: ihdr[8], colourType: ihdr[9], compression: ihdr[10], filter: ihdr[11], interlace: ihdr[12], chunkTypes, filterBytes, pixels };
}

/** A 28×28 image with a different value in every row and column pattern (not symmetric, so a transpose shows). */
function pattern(width: number, height: number): Uint8Array {
  return Uint8Array.from({ length: width * height }, (_, i) => (Math.floor(i / width) * 37 + (i % width) * 5 + (i % 7 === 0 ? 128 : 0)) % 256);
}

describe('encodeGreyPng', () => {
  it('writes the signature, IHDR (8-bit greyscale), IDAT and IEND with correct CRCs, rows unfiltered', () => {
    const pixels = pattern(28, 28);
    const decoded = decodePng(encodeGreyPng(pixels, 28, 28));
    expect(decoded.chunkTypes).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect({ ...decoded, pixels: undefined, chunkTypes: undefined, filterBytes: undefined }).toEqual({
      width: 28,
      height: 28,
      bitDepth: 8,
      colourType: 0,
      compression: 0,
      filter: 0,
      interlace: 0,
      pixels: undefined,
      chunkTypes: undefined,
      filterBytes: undefined,
    });
    expect(decoded.filterBytes).toEqual(new Array(28).fill(0));
    expect(Buffer.from(decoded.pixels).equals(Buffer.from(pixels))).toBe(true);
  });

  it('keeps width and height apart and the pixels byte for byte in a non-square image', () => {
    const pixels = pattern(5, 3);
    const png = encodeGreyPng(pixels, 5, 3);
    const decoded = decodePng(png);
    expect([decoded.width, decoded.height]).toEqual([5, 3]);
    expect([...decoded.pixels]).toEqual([...pixels]);
    // The IHDR chunk as the specification lays it out, byte for byte: length 13, "IHDR", 5, 3, 8, 0, 0, 0, 0.
    expect([...png.subarray(8, 8 + 8 + 13)]).toEqual([0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 5, 0, 0, 0, 3, 8, 0, 0, 0, 0]);
    // IEND's CRC is a constant of the format.
    expect([...png.subarray(-12)]).toEqual([0, 0, 0, 0, 73, 69, 78, 68, 0xae, 0x42, 0x60, 0x82]);
  });

  it('refuses pixel counts that do not match the size', () => {
    expect(() => encodeGreyPng(new Uint8Array(10), 28, 28)).toThrow('28×28 pixels expected, got 10');
    expect(() => encodeGreyPng(new Uint8Array(0), 0, 0)).toThrow(RangeError);
  });

  describe('decoded by Chromium', () => {
    const noBrowser = !CHROMIUM_LAUNCH.executablePath && !process.env.CI;
    let browser: Browser;
    beforeAll(async () => {
      if (!noBrowser) browser = await chromium.launch(CHROMIUM_LAUNCH);
    });
    beforeEach((ctx) => ctx.skip(noBrowser, 'no Chromium here (apt-get install chromium)'));
    afterAll(() => browser?.close());

    it('opens as a 28×28 image with the same grey values', async () => {
      const pixels = pattern(28, 28);
      const base64 = Buffer.from(encodeGreyPng(pixels, 28, 28)).toString('base64');
      const page = await browser.newPage();
      try {
        const decoded = await page.evaluate(async (source) => {
          // Browser APIs (this runs in the page; the test project has no DOM types).
          const scope = globalThis as unknown as {
            createImageBitmap(blob: Blob): Promise<{ width: number; height: number }>;
            OffscreenCanvas: new (width: number, height: number) => { getContext(kind: '2d'): any };
          };
          const bitmap = await scope.createImageBitmap(await (await fetch(`data:image/png;base64,${source}`)).blob());
          const canvas = new scope.OffscreenCanvas(bitmap.width, bitmap.height);
          const context = canvas.getContext('2d');
          context.drawImage(bitmap, 0, 0);
          const rgba: Uint8ClampedArray = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
          return { width: bitmap.width, height: bitmap.height, rgba: Array.from(rgba) };
        }, base64);
        expect([decoded.width, decoded.height]).toEqual([28, 28]);
        const grey = decoded.rgba.filter((_, i) => i % 4 === 0);
        expect(decoded.rgba.filter((_, i) => i % 4 === 3).every((alpha) => alpha === 255)).toBe(true);
        // No gAMA, sRGB or iCCP chunk: Chromium takes the values as they are.
        expect(grey).toEqual([...pixels]);
      } finally {
        await page.close();
      }
    });
  });
});
