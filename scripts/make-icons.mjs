#!/usr/bin/env node
/**
 * Makes every platform's app icon from the one source image, build/icon-source.png (1024×1024 RGBA):
 * build/icon.png (1024, what electron-builder starts from), build/icons/<N>x<N>.png (the Linux set),
 * build/icon.ico (Windows: PNG entries 16–256) and build/icon.icns (macOS: PNG entries 16–1024, standard and Retina).
 * Pure Node (zlib), so it runs anywhere `npm install` does. `--check` only compares with the committed files.
 *
 * Why not let electron-builder convert build/icon.png? Version 26 makes .ico and .icns from a PNG with an "icons"
 * toolset it downloads from GitHub while packaging (electron-builder-binaries, icons@1.2.3), and for Linux it
 * installs the one 1024 px PNG as it is, with no small sizes for menus and panels. Committed icons keep
 * packaging offline and reproducible, and give Linux desktops the sizes they look for.
 *
 *   node scripts/make-icons.mjs          # write the icons
 *   node scripts/make-icons.mjs --check  # exit 1 if any committed icon differs from what the source gives
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync, inflateSync } from 'node:zlib';

const BUILD = join(dirname(fileURLToPath(import.meta.url)), '..', 'build');
export const SOURCE = join(BUILD, 'icon-source.png');
export const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512];
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];
/** ICNS entry types with PNG data and their pixel size (Apple's "icp4"… "ic14", Retina entries included). */
export const ICNS_ENTRIES = /** @type {const} */ ([
  ['icp4', 16],
  ['icp5', 32],
  ['icp6', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
  ['ic11', 32],
  ['ic12', 64],
  ['ic13', 256],
  ['ic14', 512],
]);

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** @typedef {{ width: number; height: number; rgba: Uint8Array }} Image */

/** @param {number} a @param {number} b @param {number} c */
function paeth(a, b, c) {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decodes an 8-bit RGBA or RGB, non-interlaced PNG (what the source image is).
 * @param {Uint8Array} file
 * @returns {Image}
 */
export function decodePng(file) {
  const data = Buffer.from(file);
  if (!data.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG file');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat = [];
  while (offset < data.length) {
    const length = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    const body = data.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, colour, , , interlace] = body.subarray(8, 13);
      if (depth !== 8 || (colour !== 6 && colour !== 2) || interlace !== 0) {
        throw new Error('only 8-bit RGB or RGBA, non-interlaced PNGs are supported');
      }
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? pixels[y * stride + x - channels] : 0;
      const up = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const upLeft = y > 0 && x >= channels ? pixels[(y - 1) * stride + x - channels] : 0;
      const predictor = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter];
      if (predictor === undefined) throw new Error(`unknown PNG filter ${filter}`);
      pixels[y * stride + x] = (line[x] + predictor) & 0xff;
    }
  }
  if (channels === 4) return { width, height, rgba: pixels };
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(pixels.subarray(i * 3, i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

/**
 * @param {string} type
 * @param {Uint8Array} body
 */
function chunk(type, body) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

/**
 * Encodes RGBA pixels as a PNG (Paeth filter on every line, maximum compression: small and deterministic).
 * @param {Image} image
 */
export function encodePng({ width, height, rgba }) {
  const stride = width * 4;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 4;
    for (let x = 0; x < stride; x++) {
      const left = x >= 4 ? rgba[y * stride + x - 4] : 0;
      const up = y > 0 ? rgba[(y - 1) * stride + x] : 0;
      const upLeft = y > 0 && x >= 4 ? rgba[(y - 1) * stride + x - 4] : 0;
      raw[y * (stride + 1) + 1 + x] = (rgba[y * stride + x] - paeth(left, up, upLeft)) & 0xff;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Shrinks a square image by an integer factor, averaging each block with alpha weighting (no dark fringes
 * where transparent pixels meet coloured ones).
 * @param {Image} image
 * @param {number} size
 * @returns {Image}
 */
export function shrink(image, size) {
  const factor = image.width / size;
  if (image.width !== image.height || !Number.isInteger(factor))
    throw new Error(`cannot shrink ${image.width}×${image.height} to ${size}`);
  const rgba = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let dy = 0; dy < factor; dy++) {
        for (let dx = 0; dx < factor; dx++) {
          const i = ((y * factor + dy) * image.width + x * factor + dx) * 4;
          const alpha = image.rgba[i + 3];
          r += image.rgba[i] * alpha;
          g += image.rgba[i + 1] * alpha;
          b += image.rgba[i + 2] * alpha;
          a += alpha;
        }
      }
      const o = (y * size + x) * 4;
      if (a > 0) {
        rgba[o] = Math.round(r / a);
        rgba[o + 1] = Math.round(g / a);
        rgba[o + 2] = Math.round(b / a);
      }
      rgba[o + 3] = Math.round(a / (factor * factor));
    }
  }
  return { width: size, height: size, rgba };
}

/**
 * ICO with PNG entries (Windows Vista and later read them at every size).
 * @param {{ size: number; png: Uint8Array }[]} entries
 */
export function encodeIco(entries) {
  const header = Buffer.alloc(6 + entries.length * 16);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(entries.length, 4);
  let offset = header.length;
  entries.forEach(({ size, png }, i) => {
    const o = 6 + i * 16;
    header[o] = size >= 256 ? 0 : size;
    header[o + 1] = size >= 256 ? 0 : size;
    header.writeUInt16LE(1, o + 4); // colour planes
    header.writeUInt16LE(32, o + 6); // bits per pixel
    header.writeUInt32LE(png.length, o + 8);
    header.writeUInt32LE(offset, o + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...entries.map((e) => e.png)]);
}

/**
 * ICNS with PNG entries.
 * @param {{ type: string; png: Uint8Array }[]} entries
 */
export function encodeIcns(entries) {
  const parts = entries.map(({ type, png }) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(8 + parts.reduce((sum, p) => sum + p.length, 0), 4);
  return Buffer.concat([head, ...parts]);
}

/**
 * Every icon file, by path relative to build/.
 * @param {Uint8Array} sourcePng
 * @returns {Map<string, Buffer>}
 */
export function makeIcons(sourcePng) {
  const source = decodePng(sourcePng);
  if (source.width !== 1024 || source.height !== 1024)
    throw new Error(`the source image must be 1024×1024, it is ${source.width}×${source.height}`);
  /** @type {Map<number, Buffer>} */
  const pngs = new Map();
  const png = (/** @type {number} */ size) => {
    if (!pngs.has(size)) pngs.set(size, encodePng(size === 1024 ? source : scaled(source, size)));
    return /** @type {Buffer} */ (pngs.get(size));
  };
  const files = new Map();
  files.set('icon.png', png(1024));
  for (const size of LINUX_SIZES) files.set(`icons/${size}x${size}.png`, png(size));
  files.set('icon.ico', encodeIco(ICO_SIZES.map((size) => ({ size, png: png(size) }))));
  files.set('icon.icns', encodeIcns(ICNS_ENTRIES.map(([type, size]) => ({ type, png: png(size) }))));
  return files;
}

/**
 * Any size from the 1024 source: a divisor of 1024 by block averaging; 24 and 48 (3k) by averaging to 4k,
 * repeating each pixel 3×3 and averaging 4×4 blocks, which is an area-weighted resample of the 4k image.
 * @param {Image} source
 * @param {number} size
 */
function scaled(source, size) {
  if (source.width % size === 0) return shrink(source, size);
  const k = size / 3;
  if (!Number.isInteger(k) || source.width % (4 * k) !== 0)
    throw new Error(`no icon size ${size} from a ${source.width} px source`);
  return shrink(repeat(shrink(source, 4 * k), 3), size);
}

/**
 * @param {Image} image
 * @param {number} factor
 * @returns {Image}
 */
function repeat(image, factor) {
  const width = image.width * factor;
  const rgba = new Uint8Array(width * width * 4);
  for (let y = 0; y < width; y++) {
    for (let x = 0; x < width; x++) {
      const from = (Math.floor(y / factor) * image.width + Math.floor(x / factor)) * 4;
      rgba.set(image.rgba.subarray(from, from + 4), (y * width + x) * 4);
    }
  }
  return { width, height: width, rgba };
}

async function main() {
  const check = process.argv.includes('--check');
  const files = makeIcons(await readFile(SOURCE));
  const stale = [];
  for (const [name, bytes] of files) {
    const path = join(BUILD, name);
    if (check) {
      const committed = await readFile(path).catch(() => null);
      if (!committed || !committed.equals(bytes)) stale.push(name);
      continue;
    }
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
  }
  if (check && stale.length) {
    process.stderr.write(
      `make-icons: out of date with build/icon-source.png: ${stale.join(', ')} (run node scripts/make-icons.mjs)\n`,
    );
    return 1;
  }
  process.stdout.write(
    check
      ? `make-icons: all ${files.size} icon files are up to date\n`
      : `make-icons: wrote ${files.size} icon files in build/\n`,
  );
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => (process.exitCode = code),
    (error) => {
      process.stderr.write(`make-icons: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}
