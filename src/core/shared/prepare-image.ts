/**
 * A user's picture (a drawing or a photo, decoded to RGBA by the renderer) turned into a 28×28 input the
 * way Fashion-MNIST's own images were made from product photos on white (the data set's README, steps
 * 1–7): composite over white, trim the background, scale the longest edge to 28, sharpen, centre on a 28×28
 * canvas, negate, 8-bit grey. Pure functions over typed arrays, no DOM and no Node, so the renderer and the
 * Node tests run the same code.
 *
 * The data set's convention is the garment light on a black background (0 = background). A photo or a
 * drawing is dark on light and must be negated; a picture already light on dark (a test image saved as the
 * gallery shows it) must not be, or the network sees a light slab with a dark hole in it (such a picture
 * was read as "Bag, 100%"). Which one a picture is, is decided by its background: the median luma of its
 * outermost ring of pixels, dark below the middle grey 127.5. The median, not the mean or one corner, so a
 * garment that touches the edge, a stray dark pixel or a JPEG's noise does not tip it. The caller may
 * override the choice.
 *
 * A picture already at the network's size (28×28, or one shown scaled up by a whole factor) is only made
 * grey, and negated or not: trimming, scaling and sharpening it again would prepare an already prepared
 * image a second time, and a test image would then no longer be the image the gallery shows.
 *
 * Where we decide differently from, or more precisely than, the README:
 * - Transparency: a pixel is composited over white first (the README converts to PNG; a drawing pad's
 *   untouched pixels and a cut-out PNG's surroundings must read as paper, not as black).
 * - Trimming: the top-left pixel is the reference colour for all four edges (ImageMagick 6's -trim
 *   compares the left/top edges with the top-left, the right edge with the top-right and the bottom edge
 *   with the bottom-left pixel; the same thing on a uniform background). A pixel is background when its RGB
 *   Euclidean distance to the reference is at most 5% of the largest possible one, 255·√3. Trimming keeps
 *   the bounding box of the other pixels; when there are none (all white, all black, anything within 5% of
 *   the corner's colour) the picture is empty and the result is 784 zeros. The corner is background by
 *   definition, so ink that touches the top-left pixel becomes the "background": then the paper is the
 *   content, nothing useful is trimmed and the padding (the ink's grey, negated) comes out bright. That is
 *   what the original rule does to such an image; a drawing pad should keep strokes off the corner pixel.
 * - Grey: after trimming, each pixel becomes its BT.601 luma 0.299R + 0.587G + 0.114B and every later step
 *   runs on one channel. Scaling, blurring, the unsharp mask before clamping, padding with a constant and
 *   negation are affine per channel with the same coefficients for every channel, and luma is a linear
 *   combination whose weights sum to 1, so they commute with it: luma(255 − R, 255 − G, 255 − B) =
 *   255 − luma(R, G, B), and likewise for weighted means. Only clamping and rounding are not linear; clamping
 *   a channel that overshoots differs from clamping the grey value, and rounding happens once, at the end.
 * - Scaling: area averaging instead of subsampling. Each output pixel is the mean of the source pixels it
 *   covers, weighted by the fraction covered, so a 1-px pen stroke becomes a fainter line instead of
 *   vanishing when its row or column is skipped. The same rule scales a small picture up: an output pixel
 *   inside one source pixel copies it (nearest neighbour for whole-number factors), one straddling two mixes
 *   them by coverage. The longest edge becomes 28, the other round(short·28/long), at least 1.
 * - Sharpening: an unsharp mask, out = clamp(in + amount·(in − blur), 0, 255), amount 1, where blur is a
 *   normalised Gaussian of σ = 1 and radius 1 (3×3 taps, the outer product of the 3-tap kernel) and edge
 *   pixels are repeated outwards. The mask is largest where the image changes, the README's "increasing
 *   effect near outlines". It runs before padding, as in the README.
 * - Centring: padding takes the corner's grey, so it is 0 on a white background negated, or on a black one
 *   used as it is. When the remainder is odd, the extra pixel goes right / below.
 * - Values stay floating point from grey to negation (the unsharp mask clamps them to 0–255) and are rounded,
 *   half up, once, at the end.
 */

import { IMAGE_SIZE, IMAGE_WIDTH } from './dataset';

/** Decoded pixels as the canvas gives them: RGBA, row-major, 4 bytes a pixel. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}

/** One channel, row-major, kept as floats between steps (0 = black, 255 = white before negation). */
export interface GreyImage {
  width: number;
  height: number;
  values: Float64Array;
}

export type Background = 'light' | 'dark';

export interface PrepareOptions {
  /**
   * Negate the picture (dark ink on light paper → light on black). By default it is negated when its
   * background is light (see `backgroundOf`).
   */
  invert?: boolean;
  /**
   * The picture is already a 28×28 input, possibly scaled up (a 28×28 image shown on a 280×280 pad): it is
   * averaged down to 28 on its longest edge and centred, but neither trimmed nor sharpened.
   */
  atNetworkSize?: boolean;
}

export interface PreparedImage {
  /** 784 bytes, 28×28 row-major, 0 = background (black), 255 = full ink, like the data set. */
  pixels: Uint8Array;
  /** Nothing but background was found; `pixels` is then all zeros. */
  empty: boolean;
  /** The picture's background as found by `backgroundOf`, whatever `invert` said. */
  background: Background;
  /** Whether the picture was negated. */
  inverted: boolean;
}

/** A rectangle inside an image, in pixels. */
export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export type Rgb = readonly [red: number, green: number, blue: number];

/** The canvas side: Fashion-MNIST images are square. */
const CANVAS_SIZE = IMAGE_WIDTH;

/**
 * The largest squared RGB distance that still counts as background: (5% of 255·√3)² = 3·12.75², written so
 * that it is exact in floating point (487.6875).
 */
export const BACKGROUND_DISTANCE_SQUARED = 3 * (255 / 20) ** 2;

export const SHARPEN_SIGMA = 1;
export const SHARPEN_RADIUS = 1;
export const SHARPEN_AMOUNT = 1;

/** One 0–255 channel over white paper, by its 0–255 alpha. */
export function compositeOverWhite(channel: number, alpha: number): number {
  return 255 - ((255 - channel) * alpha) / 255;
}

/** ITU-R BT.601 luma. A grey's is that grey exactly (summed, the weights come to a hair under 1). */
export function luma(red: number, green: number, blue: number): number {
  if (red === green && green === blue) return red;
  return 0.299 * red + 0.587 * green + 0.114 * blue;
}

/** The top-left pixel, composited over white: the colour taken as background. */
export function cornerColour(image: RgbaImage): Rgb {
  const d = image.data;
  const a = d[3];
  return [compositeOverWhite(d[0], a), compositeOverWhite(d[1], a), compositeOverWhite(d[2], a)];
}

/**
 * The bounding box of every pixel farther than 5% of 255·√3 from `background` (after compositing over
 * white), or null when there is none. Scans row by row and stops each scan at the first content pixel, so a
 * big photo is read about once.
 */
export function trimToContent(image: RgbaImage, background: Rgb): Box | null {
  const { width, height, data } = image;
  const [br, bg, bb] = background;
  const isContent = (pixel: number): boolean => {
    const i = pixel * 4;
    const a = data[i + 3];
    const dr = compositeOverWhite(data[i], a) - br;
    const dg = compositeOverWhite(data[i + 1], a) - bg;
    const db = compositeOverWhite(data[i + 2], a) - bb;
    return dr * dr + dg * dg + db * db > BACKGROUND_DISTANCE_SQUARED;
  };
  const rowHasContent = (y: number): boolean => {
    for (let x = 0, p = y * width; x < width; x++, p++) if (isContent(p)) return true;
    return false;
  };

  let top = 0;
  while (top < height && !rowHasContent(top)) top++;
  if (top === height) return null;
  let bottom = height - 1;
  while (!rowHasContent(bottom)) bottom--;

  // Row-major on purpose: a column scan of a 3000-pixel-wide photo jumps 12 kB per pixel.
  let left = width;
  let right = -1;
  for (let y = top; y <= bottom; y++) {
    const row = y * width;
    for (let x = 0; x < left; x++) {
      if (isContent(row + x)) {
        left = x;
        break;
      }
    }
    for (let x = width - 1; x > right; x--) {
      if (isContent(row + x)) {
        right = x;
        break;
      }
    }
  }
  return { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/** The pixels inside `box`, composited over white, as luma. */
export function toGrey(image: RgbaImage, box: Box): GreyImage {
  const { data } = image;
  const values = new Float64Array(box.width * box.height);
  let out = 0;
  for (let y = box.top; y < box.top + box.height; y++) {
    for (let x = box.left, i = (y * image.width + box.left) * 4; x < box.left + box.width; x++, i += 4) {
      const a = data[i + 3];
      values[out++] = luma(
        compositeOverWhite(data[i], a),
        compositeOverWhite(data[i + 1], a),
        compositeOverWhite(data[i + 2], a),
      );
    }
  }
  return { width: box.width, height: box.height, values };
}

/**
 * For each of `targetLength` output pixels, the source pixels it covers and their share. Output i covers
 * [i·n/m, (i+1)·n/m) of the source; in units of 1/m every boundary is an integer, so the weights are exact
 * ratios of integers (overlap / n) and add up to 1 up to one rounding each.
 */
interface AreaTaps {
  /** Output pixel i's taps are start[i] … start[i + 1] − 1. */
  start: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

function areaTaps(sourceLength: number, targetLength: number): AreaTaps {
  const n = sourceLength;
  const m = targetLength;
  const start = new Int32Array(m + 1);
  const index: number[] = [];
  const weight: number[] = [];
  for (let i = 0; i < m; i++) {
    start[i] = index.length;
    const from = i * n;
    const to = (i + 1) * n;
    for (let j = Math.floor(from / m); j * m < to; j++) {
      const overlap = Math.min(to, (j + 1) * m) - Math.max(from, j * m);
      index.push(j);
      weight.push(overlap / n);
    }
  }
  start[m] = index.length;
  return { start, index: Int32Array.from(index), weight: Float64Array.from(weight) };
}

/**
 * Scaled so the longest edge is `size` (28) and the other round(short·size/long), at least 1, by area
 * averaging, up or down. Runs rows first, then columns, so a big photo costs one read of each pixel.
 */
export function scaleLongestEdge(image: GreyImage, size: number = CANVAS_SIZE): GreyImage {
  const { width, height, values } = image;
  const long = Math.max(width, height);
  const shortSide = (short: number): number => Math.max(1, Math.round((short * size) / long));
  const outWidth = width >= height ? size : shortSide(width);
  const outHeight = height >= width ? size : shortSide(height);

  const across = areaTaps(width, outWidth);
  const rows = new Float64Array(outWidth * height);
  for (let y = 0; y < height; y++) {
    const source = y * width;
    for (let x = 0; x < outWidth; x++) {
      let sum = 0;
      for (let t = across.start[x]; t < across.start[x + 1]; t++) {
        sum += across.weight[t] * values[source + across.index[t]];
      }
      rows[y * outWidth + x] = sum;
    }
  }

  const down = areaTaps(height, outHeight);
  const out = new Float64Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    for (let t = down.start[y]; t < down.start[y + 1]; t++) {
      const w = down.weight[t];
      const source = down.index[t] * outWidth;
      for (let x = 0; x < outWidth; x++) out[y * outWidth + x] += w * rows[source + x];
    }
  }
  return { width: outWidth, height: outHeight, values: out };
}

/** Taps −radius…radius of exp(−x²/2σ²), divided by their sum. */
export function gaussianKernel(sigma: number, radius: number): Float64Array {
  const taps = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let x = -radius; x <= radius; x++) {
    taps[x + radius] = Math.exp(-(x * x) / (2 * sigma * sigma));
    sum += taps[x + radius];
  }
  for (let i = 0; i < taps.length; i++) taps[i] /= sum;
  return taps;
}

/**
 * Unsharp mask: in + amount·(in − Gaussian blur), clamped to 0–255 but not rounded. The 3×3 kernel is the
 * outer product of the 3-tap one; edge pixels repeat outwards. The blur enters as Σ w·(neighbour − in),
 * which is the same as blur − in because the weights add up to 1, but stays exactly 0 on a flat region,
 * where the weights' own rounding would otherwise nudge e.g. 127.5 across a rounding boundary.
 */
export function sharpen(image: GreyImage, amount: number = SHARPEN_AMOUNT): GreyImage {
  const { width, height, values } = image;
  const taps = gaussianKernel(SHARPEN_SIGMA, SHARPEN_RADIUS);
  const r = SHARPEN_RADIUS;
  const out = new Float64Array(values.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = values[y * width + x];
      let blurMinusIn = 0;
      for (let dy = -r; dy <= r; dy++) {
        const row = Math.min(height - 1, Math.max(0, y + dy)) * width;
        for (let dx = -r; dx <= r; dx++) {
          const column = Math.min(width - 1, Math.max(0, x + dx));
          blurMinusIn += taps[dy + r] * taps[dx + r] * (values[row + column] - v);
        }
      }
      out[y * width + x] = Math.min(255, Math.max(0, v - amount * blurMinusIn));
    }
  }
  return { width, height, values: out };
}

/** `image` in the middle of a `size`×`size` canvas of `fill`; an odd remainder's extra pixel right / below. */
export function centreOnCanvas(image: GreyImage, fill: number, size: number = CANVAS_SIZE): GreyImage {
  const { width, height, values } = image;
  if (width > size || height > size) {
    throw new RangeError(`A ${width}×${height} image does not fit a ${size}×${size} canvas`);
  }
  const out = new Float64Array(size * size).fill(fill);
  const left = Math.floor((size - width) / 2);
  const top = Math.floor((size - height) / 2);
  for (let y = 0; y < height; y++) out.set(values.subarray(y * width, (y + 1) * width), (top + y) * size + left);
  return { width: size, height: size, values: out };
}

/**
 * The median luma of the picture's outermost ring of pixels (composited over white): its background's
 * brightness. A picture one pixel wide or high is all ring. NaN for an empty picture.
 */
export function borderBrightness(image: RgbaImage): number {
  const { width, height, data } = image;
  if (width === 0 || height === 0) return Number.NaN;
  const ring: number[] = [];
  const add = (x: number, y: number): void => {
    const i = (y * width + x) * 4;
    const a = data[i + 3];
    ring.push(
      luma(compositeOverWhite(data[i], a), compositeOverWhite(data[i + 1], a), compositeOverWhite(data[i + 2], a)),
    );
  };
  for (let x = 0; x < width; x++) {
    add(x, 0);
    if (height > 1) add(x, height - 1);
  }
  for (let y = 1; y < height - 1; y++) {
    add(0, y);
    if (width > 1) add(width - 1, y);
  }
  const sorted = Float64Array.from(ring).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Dark when the border's median luma is below the middle grey, 127.5; light otherwise (also when empty). */
export function backgroundOf(image: RgbaImage): Background {
  return borderBrightness(image) < 127.5 ? 'dark' : 'light';
}

/** 255 − v: white paper becomes the data set's black background, dark ink becomes bright. */
export function negate(image: GreyImage): GreyImage {
  return { ...image, values: image.values.map((v) => 255 - v) };
}

/** Rounded half up and clamped to 0–255 (not Uint8ClampedArray, which rounds half to even). */
export function toBytes(image: GreyImage): Uint8Array {
  const bytes = new Uint8Array(image.values.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.min(255, Math.max(0, Math.round(image.values[i])));
  return bytes;
}

/**
 * A user's RGBA picture as a 28×28 Fashion-MNIST-style input; `empty` when it holds only background.
 * Negated when its background is light, unless `options.invert` says otherwise.
 */
export function prepareImage(image: RgbaImage, options: PrepareOptions = {}): PreparedImage {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`Image size ${width}×${height} is not a pair of whole numbers`);
  }
  if (data.length !== width * height * 4) {
    throw new RangeError(`A ${width}×${height} RGBA image needs ${width * height * 4} bytes, not ${data.length}`);
  }
  const background = backgroundOf(image);
  const inverted = options.invert ?? background === 'light';
  const nothing: PreparedImage = { pixels: new Uint8Array(IMAGE_SIZE), empty: true, background, inverted };
  if (width === 0 || height === 0) return nothing;

  const paper = cornerColour(image);
  const box = trimToContent(image, paper);
  if (box === null) return nothing;
  const centred = options.atNetworkSize
    ? centreOnCanvas(scaleLongestEdge(toGrey(image, { left: 0, top: 0, width, height })), luma(...paper))
    : centreOnCanvas(sharpen(scaleLongestEdge(toGrey(image, box))), luma(...paper));
  return { pixels: toBytes(inverted ? negate(centred) : centred), empty: false, background, inverted };
}
