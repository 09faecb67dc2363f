/**
 * The app icons: committed files match what scripts/make-icons.mjs makes from build/icon-source.png, the ICO
 * and ICNS containers are well formed, and every embedded PNG decodes in Chromium (an independent decoder) to
 * its declared size and to what Chromium's own downscaling of the source looks like.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ICNS_ENTRIES, ICO_SIZES, LINUX_SIZES, makeIcons, SOURCE } from '../../../scripts/make-icons.mjs';
import { useChromium } from '../../helpers/chromium-suite';
import { ROOT } from '../../helpers/sandbox';

const build = (name: string): Buffer => readFileSync(join(ROOT, 'build', name));
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function icoEntries(ico: Buffer): { size: number; png: Buffer }[] {
  expect(ico.readUInt16LE(0)).toBe(0);
  expect(ico.readUInt16LE(2)).toBe(1); // an icon, not a cursor
  const count = ico.readUInt16LE(4);
  return Array.from({ length: count }, (_, i) => {
    const o = 6 + i * 16;
    const size = ico[o] === 0 ? 256 : ico[o];
    expect(ico[o + 1] === 0 ? 256 : ico[o + 1]).toBe(size);
    const length = ico.readUInt32LE(o + 8);
    const offset = ico.readUInt32LE(o + 12);
    return { size, png: ico.subarray(offset, offset + length) };
  });
}

function icnsEntries(icns: Buffer): { type: string; png: Buffer }[] {
  expect(icns.toString('latin1', 0, 4)).toBe('icns');
  expect(icns.readUInt32BE(4)).toBe(icns.length);
  const entries: { type: string; png: Buffer }[] = [];
  for (let offset = 8; offset < icns.length;) {
    const length = icns.readUInt32BE(offset + 4);
    entries.push({
      type: icns.toString('latin1', offset, offset + 4),
      png: icns.subarray(offset + 8, offset + length),
    });
    offset += length;
  }
  return entries;
}

describe('app icons', () => {
  it('are what the script makes from the source image (run node scripts/make-icons.mjs after changing it)', () => {
    const made = makeIcons(readFileSync(SOURCE));
    expect([...made.keys()].sort()).toEqual(
      ['icon.png', 'icon.ico', 'icon.icns', ...LINUX_SIZES.map((s) => `icons/${s}x${s}.png`)].sort(),
    );
    for (const [name, bytes] of made) expect(build(name).equals(bytes), `build/${name} is out of date`).toBe(true);
  });

  it('pack PNG entries for every size Windows and macOS ask for', () => {
    const ico = icoEntries(build('icon.ico'));
    expect(ico.map((e) => e.size)).toEqual(ICO_SIZES);
    expect(Math.max(...ico.map((e) => e.size))).toBe(256); // electron-builder needs a 256 px entry
    for (const entry of ico) expect(entry.png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const icns = icnsEntries(build('icon.icns'));
    expect(icns.map((e) => e.type)).toEqual([
      'icp4',
      'icp5',
      'icp6',
      'ic07',
      'ic08',
      'ic09',
      'ic10',
      'ic11',
      'ic12',
      'ic13',
      'ic14',
    ]);
    for (const entry of icns) expect(entry.png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  });

  describe('decoded by Chromium', () => {
    const browser = useChromium();

    /** Decodes PNGs in the page and returns size and pixels; the source is also shrunk by Chromium. */
    async function decode(
      pngs: { png: Buffer; size: number }[],
    ): Promise<{ width: number; height: number; mismatch: number; centre: number[]; corner: number }[]> {
      const page = await browser().newPage();
      try {
        return await page.evaluate(
          async ({ source, images }) => {
            // Browser APIs (this runs in the page; the test project has no DOM types).
            type Bitmap = { width: number; height: number };
            const page = globalThis as unknown as {
              createImageBitmap(blob: Blob): Promise<Bitmap>;
              OffscreenCanvas: new (width: number, height: number) => { getContext(kind: '2d'): any };
            };
            const load = async (base64: string): Promise<Bitmap> =>
              page.createImageBitmap(await (await fetch(`data:image/png;base64,${base64}`)).blob());
            const original = await load(source);
            const results = [];
            for (const { png, size } of images) {
              const bitmap = await load(png);
              const read = (image: Bitmap, smoothing: boolean): Uint8ClampedArray => {
                const canvas = new page.OffscreenCanvas(size, size);
                const context = canvas.getContext('2d');
                context.imageSmoothingEnabled = smoothing;
                context.imageSmoothingQuality = 'high';
                context.drawImage(image, 0, 0, size, size);
                return context.getImageData(0, 0, size, size).data;
              };
              const ours = read(bitmap, false);
              const theirs = read(original, true);
              // Mean absolute difference of premultiplied colour, 0–255.
              let difference = 0;
              for (let i = 0; i < ours.length; i += 4) {
                for (let c = 0; c < 3; c++)
                  difference += Math.abs((ours[i + c] * ours[i + 3] - theirs[i + c] * theirs[i + 3]) / 255);
                difference += Math.abs(ours[i + 3] - theirs[i + 3]);
              }
              const centre = ((size >> 1) * size + (size >> 1)) * 4;
              results.push({
                width: bitmap.width,
                height: bitmap.height,
                mismatch: difference / (size * size * 4),
                centre: Array.from(ours.subarray(centre, centre + 4)),
                corner: ours[3],
              });
            }
            return results;
          },
          {
            source: readFileSync(SOURCE).toString('base64'),
            images: pngs.map((p) => ({ png: p.png.toString('base64'), size: p.size })),
          },
        );
      } finally {
        await page.close();
      }
    }

    it('every PNG has its declared size, an opaque white shirt in the middle, transparent corners, and looks like the source', async () => {
      const icnsSizes = new Map<string, number>(ICNS_ENTRIES.map(([type, size]) => [type, size]));
      const all = [
        ...LINUX_SIZES.map((size) => ({ size, png: build(`icons/${size}x${size}.png`) })),
        { size: 1024, png: build('icon.png') },
        ...icoEntries(build('icon.ico')),
        ...icnsEntries(build('icon.icns')).map((e) => ({ size: icnsSizes.get(e.type)!, png: e.png })),
      ];
      const decoded = await decode(all);
      decoded.forEach((result, i) => {
        const { size } = all[i];
        expect({ size, width: result.width, height: result.height }).toEqual({ size, width: size, height: size });
        expect(result.corner, `${size} px corner`).toBeLessThan(8);
        expect(result.centre[3], `${size} px centre alpha`).toBe(255);
        expect(Math.min(...result.centre.slice(0, 3)), `${size} px centre colour`).toBeGreaterThan(200);
        // Both are averages of the same pixels; 24 and 48 px go through a 3× step and differ a little more.
        expect(result.mismatch, `${size} px against Chromium's downscaling`).toBeLessThan(size % 3 === 0 ? 4 : 1.5);
      });
    });
  });
});
