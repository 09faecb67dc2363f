/**
 * The greyscale PNG encoder, read back by the tests' own decoder (tests/helpers/png.ts: written from the PNG
 * specification, CRCs checked with Node's zlib.crc32, IDAT inflated with zlib) and by Chromium.
 */

import { describe, expect, it } from 'vitest';
import { encodeGreyPng } from '@core/image/png';
import { useChromium } from '../../../helpers/chromium-suite';
import { decodePng } from '../../../helpers/png';

/** A 28×28 image with a different value in every row and column pattern (not symmetric, so a transpose shows). */
function pattern(width: number, height: number): Uint8Array {
  return Uint8Array.from(
    { length: width * height },
    (_, i) => (Math.floor(i / width) * 37 + (i % width) * 5 + (i % 7 === 0 ? 128 : 0)) % 256,
  );
}

describe('encodeGreyPng', () => {
  it('writes the signature, IHDR (8-bit greyscale), IDAT and IEND with correct CRCs, rows unfiltered', () => {
    const pixels = pattern(28, 28);
    const decoded = decodePng(encodeGreyPng(pixels, 28, 28));
    expect(decoded.chunkTypes).toEqual(['IHDR', 'IDAT', 'IEND']);
    const { width, height, bitDepth, colourType, compression, filter, interlace } = decoded;
    expect({ width, height, bitDepth, colourType, compression, filter, interlace }).toEqual({
      width: 28,
      height: 28,
      bitDepth: 8,
      colourType: 0,
      compression: 0,
      filter: 0,
      interlace: 0,
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
    expect([...png.subarray(8, 8 + 8 + 13)]).toEqual([
      0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 5, 0, 0, 0, 3, 8, 0, 0, 0, 0,
    ]);
    // IEND's CRC is a constant of the format.
    expect([...png.subarray(-12)]).toEqual([0, 0, 0, 0, 73, 69, 78, 68, 0xae, 0x42, 0x60, 0x82]);
  });

  it('refuses pixel counts that do not match the size', () => {
    expect(() => encodeGreyPng(new Uint8Array(10), 28, 28)).toThrow('28×28 pixels expected, got 10');
    expect(() => encodeGreyPng(new Uint8Array(0), 0, 0)).toThrow(RangeError);
  });

  describe('decoded by Chromium', () => {
    const browser = useChromium();

    it('opens as a 28×28 image with the same grey values', async () => {
      const pixels = pattern(28, 28);
      const base64 = Buffer.from(encodeGreyPng(pixels, 28, 28)).toString('base64');
      const page = await browser().newPage();
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
