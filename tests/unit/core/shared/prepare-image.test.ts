/**
 * Checks the preparation of a user's picture against values worked out by hand: the trimmed box, the
 * 5% background tolerance, transparency, area averaging up and down, the unsharp mask's Gaussian weights,
 * centring and negation, what counts as empty, the time for a 3000×2000 photo, the background found from the
 * border's median and the inversion it decides, and a picture already at the network's size.
 */

import { describe, expect, it } from 'vitest';
import {
  type GreyImage,
  type RgbaImage,
  backgroundOf,
  borderBrightness,
  centreOnCanvas,
  cornerColour,
  gaussianKernel,
  prepareImage,
  scaleLongestEdge,
  sharpen,
  trimToContent,
} from '@core/shared/prepare-image';
import { Random } from '@core/shared/random';

type Rgba = [number, number, number, number];
const WHITE: Rgba = [255, 255, 255, 255];
const BLACK: Rgba = [0, 0, 0, 255];
const TRANSPARENT: Rgba = [0, 0, 0, 0];

function image(width: number, height: number, colour: Rgba = WHITE): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set(colour, i);
  return { width, height, data };
}

function fill(target: RgbaImage, left: number, top: number, width: number, height: number, colour: Rgba): RgbaImage {
  for (let y = top; y < top + height; y++) {
    for (let x = left; x < left + width; x++) target.data.set(colour, (y * target.width + x) * 4);
  }
  return target;
}

function grey(width: number, height: number, value: (x: number, y: number) => number): GreyImage {
  const values = new Float64Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) values[y * width + x] = value(x, y);
  return { width, height, values };
}

/** The 28×28 bytes `value` describes, to compare with a prepared image in one assertion. */
function canvas(value: (x: number, y: number) => number): Uint8Array {
  const bytes = new Uint8Array(784);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) bytes[y * 28 + x] = value(x, y);
  return bytes;
}

/** Rows as arrays, so a failing comparison shows a picture rather than one long list. */
function rows(values: ArrayLike<number>, width: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < values.length; i += width) out.push(Array.from(values).slice(i, i + width));
  return out;
}

// The 3-tap Gaussian of σ = 1, worked out by hand: e^(−1/2) = 0.6065306597126334, so the taps are
// 1 / (1 + 2·0.6065306597) = 0.4518627619 in the middle and 0.6065306597 / 2.2130613194 = 0.2740686191 at
// either side. The 3×3 weights are their products: 0.2041799556 (centre), 0.1238414032 (edge),
// 0.0751136080 (corner).
const CENTRE_TAP = 0.45186276187760605;
const SIDE_TAP = 0.274068619061197;

describe('prepareImage', () => {
  it('trims a black rectangle on white to itself, scales it to 28×14, centres it at rows 7–20 and negates it', () => {
    const picture = fill(image(100, 50), 30, 12, 40, 20, BLACK);
    expect(trimToContent(picture, cornerColour(picture))).toEqual({ left: 30, top: 12, width: 40, height: 20 });
    // 40×20 → 28×14, padded by 7 rows of white above and below; the crop is solid black, which blurs to
    // itself and so is not changed by the sharpening. After negation: ink 255, paper 0.
    const prepared = prepareImage(picture);
    expect(prepared.empty).toBe(false);
    expect(rows(prepared.pixels, 28)).toEqual(
      rows(
        canvas((_, y) => (y >= 7 && y <= 20 ? 255 : 0)),
        28,
      ),
    );
  });

  it('counts a pixel within 5% of 255·√3 of the corner colour as background, and one just beyond it as content', () => {
    // 5% of 255·√3 = 22.08. A grey g on white is (255 − g)·√3 away: 243 → 12·√3 = 20.78 (background),
    // 242 → 13·√3 = 22.52 (content). Off in one channel only: 255 − 233 = 22 (background), 23 (content).
    const withStray = (stray: Rgba): RgbaImage => fill(fill(image(20, 10), 8, 3, 4, 4, BLACK), 1, 1, 1, 1, stray);
    const blockOnly = { left: 8, top: 3, width: 4, height: 4 };
    const reachingStray = { left: 1, top: 1, width: 11, height: 6 };
    expect(trimToContent(withStray([243, 243, 243, 255]), [255, 255, 255])).toEqual(blockOnly);
    expect(trimToContent(withStray([242, 242, 242, 255]), [255, 255, 255])).toEqual(reachingStray);
    expect(trimToContent(withStray([255, 255, 233, 255]), [255, 255, 255])).toEqual(blockOnly);
    expect(trimToContent(withStray([255, 255, 232, 255]), [255, 255, 255])).toEqual(reachingStray);
  });

  it('keeps content that reaches the other three corners', () => {
    const picture = fill(fill(image(20, 10), 19, 9, 1, 1, BLACK), 5, 0, 1, 1, BLACK);
    expect(trimToContent(picture, cornerColour(picture))).toEqual({ left: 5, top: 0, width: 15, height: 10 });
  });

  it('reads transparent pixels as white paper', () => {
    // A cleared canvas is transparent black (all zero bytes); it must give what white paper gives.
    const onTransparent = fill(image(100, 50, TRANSPARENT), 30, 12, 40, 20, BLACK);
    const onWhite = fill(image(100, 50), 30, 12, 40, 20, BLACK);
    expect(prepareImage(onTransparent)).toEqual(prepareImage(onWhite));
    expect(prepareImage(image(100, 50, TRANSPARENT)).empty).toBe(true);
    // Black at alpha 12/255 composites to 255 − 12 = 243 (background); at 13/255 to 242 (content).
    const stray = (alpha: number): RgbaImage =>
      fill(fill(image(20, 10, TRANSPARENT), 8, 3, 4, 4, BLACK), 1, 1, 1, 1, [0, 0, 0, alpha]);
    expect(trimToContent(stray(12), [255, 255, 255])).toEqual({ left: 8, top: 3, width: 4, height: 4 });
    expect(trimToContent(stray(13), [255, 255, 255])).toEqual({ left: 1, top: 1, width: 11, height: 6 });
  });

  it('averages areas: alternating 1-px black and white columns, 56×56, become a uniform 128', () => {
    // A 2-px mid-grey frame is the background, so the trim keeps exactly the 56×56 stripes (an outer white
    // column would be trimmed away against a white corner). Each output pixel covers 2×2 source pixels,
    // two black and two white: (0 + 0 + 255 + 255) / 4 = 127.5. A uniform image blurs to itself, so the
    // sharpening leaves 127.5; negated 255 − 127.5 = 127.5, rounded half up once at the end: 128.
    // (Rounding before negating would give 255 − 128 = 127.)
    const picture = image(60, 60, [128, 128, 128, 255]);
    for (let x = 0; x < 56; x++) fill(picture, 2 + x, 2, 1, 56, x % 2 === 0 ? BLACK : WHITE);
    expect(trimToContent(picture, cornerColour(picture))).toEqual({ left: 2, top: 2, width: 56, height: 56 });
    expect(Array.from(prepareImage(picture).pixels)).toEqual(new Array(784).fill(128));
  });

  it('scales down by fractional areas: 42 alternating pixels become 28 of 85, 85, 170, 170, …', () => {
    // Each output pixel covers 1.5 source pixels: [0, 1.5) is black 1 + white 0.5 → 255·0.5/1.5 = 85,
    // [1.5, 3) white 0.5 + black 1 → 85, [3, 4.5) white 1 + black 0.5 → 170, [4.5, 6) black 0.5 + white 1 → 170.
    const scaled = scaleLongestEdge(grey(42, 1, (x) => (x % 2 === 0 ? 0 : 255)));
    expect(scaled.width).toBe(28);
    expect(scaled.height).toBe(1); // round(1·28/42) = round(0.67) = 1
    const expected = Array.from({ length: 28 }, (_, i) => [85, 85, 170, 170][i % 4]);
    Array.from(scaled.values).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 9));
  });

  it('keeps a 1-px stroke that subsampling every 10th column would skip', () => {
    // 280 → 28: output column 14 covers source columns 140–149; one of them black → 255·9/10 = 229.5.
    const scaled = scaleLongestEdge(grey(280, 280, (x) => (x === 145 ? 0 : 255)));
    expect(scaled.width).toBe(28);
    expect(scaled.height).toBe(28);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) expect(scaled.values[y * 28 + x]).toBeCloseTo(x === 14 ? 229.5 : 255, 9);
    }
  });

  it('scales a small picture up by the same area rule', () => {
    // 3 → 28: output pixel i covers [3i/28, 3(i+1)/28). Columns 0–8 lie in source pixel 0 (0), column 9
    // covers 1/28 of pixel 0 and 2/28 of pixel 1 → (0 + 2·90)/3 = 60, columns 10–17 lie in pixel 1 (90),
    // column 18 covers 2/28 of pixel 1 and 1/28 of pixel 2 → (2·90 + 180)/3 = 120, columns 19–27: 180.
    const scaled = scaleLongestEdge(grey(3, 3, (x) => [0, 90, 180][x]));
    const expected = (x: number): number => (x <= 8 ? 0 : x === 9 ? 60 : x <= 17 ? 90 : x === 18 ? 120 : 180);
    expect(scaled.width).toBe(28);
    expect(scaled.height).toBe(28);
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) expect(scaled.values[y * 28 + x]).toBeCloseTo(expected(x), 9);
  });

  it('upscales a 7×7 picture with one black pixel in the middle to a 4×4 block in the middle', () => {
    // A 1-px mid-grey frame is the background, so the trim keeps the 7×7 white square with its black centre.
    // 7 → 28 is 4 output pixels per source pixel: the centre pixel (3, 3) becomes rows and columns 12–15.
    // The result has two levels, 0 and 255. Sharpening cannot change that: the blur of a black pixel is ≥ 0,
    // so 0 + (0 − blur) ≤ 0 clamps to 0; the blur of a white pixel is ≤ 255, so 255 + (255 − blur) ≥ 255
    // clamps to 255.
    const picture = fill(fill(image(9, 9, [128, 128, 128, 255]), 1, 1, 7, 7, WHITE), 4, 4, 1, 1, BLACK);
    const inBlock = (x: number, y: number): boolean => x >= 12 && x <= 15 && y >= 12 && y <= 15;
    expect(rows(prepareImage(picture).pixels, 28)).toEqual(
      rows(
        canvas((x, y) => (inBlock(x, y) ? 255 : 0)),
        28,
      ),
    );
  });

  it('gives 784 zeros and empty for a picture of nothing but background', () => {
    for (const colour of [WHITE, BLACK, TRANSPARENT, [200, 30, 30, 255] satisfies Rgba]) {
      const prepared = prepareImage(image(64, 48, colour));
      expect(prepared.empty).toBe(true);
      expect(Array.from(prepared.pixels)).toEqual(new Array(784).fill(0));
    }
    expect(prepareImage({ width: 0, height: 0, data: new Uint8ClampedArray(0) }).empty).toBe(true);
    expect(prepareImage(image(1, 1, BLACK)).empty).toBe(true); // the corner is the whole picture
  });

  it('takes ink on the top-left pixel as the background: the paper becomes the content and the padding bright', () => {
    // The corner is background by definition. Here it is black, so the white paper is what differs from it
    // and the whole 100×50 picture is kept. 100×50 → 28×14 is a factor of 28/100, so the black 50×25
    // quarter is exactly the top-left 14×7. The padding takes the corner's grey (0), and after negation
    // rows 0–6 and 21–27 are 255, the quarter 255, the paper 0. Two levels, which sharpening leaves alone
    // (see above).
    const picture = fill(image(100, 50), 0, 0, 50, 25, BLACK);
    expect(trimToContent(picture, cornerColour(picture))).toEqual({ left: 0, top: 0, width: 100, height: 50 });
    const prepared = prepareImage(picture);
    expect(prepared.empty).toBe(false);
    const bright = (x: number, y: number): boolean => y < 7 || y > 20 || (y <= 13 && x <= 13);
    expect(rows(prepared.pixels, 28)).toEqual(
      rows(
        canvas((x, y) => (bright(x, y) ? 255 : 0)),
        28,
      ),
    );
  });

  it('fits a 1-px column or row: one black line in the middle', () => {
    // 200 black pixels of 500 are trimmed to a 1×200 line, scaled to 1×28 (the short side: round(28/200) = 0,
    // at least 1) and centred: column floor(27/2) = 13, the odd remainder's extra column on the right. A
    // picture one pixel wide is all border: 300 white of 500 make the border's median white, so it is negated.
    const column = fill(image(1, 500), 0, 100, 1, 200, BLACK);
    expect(rows(prepareImage(column).pixels, 28)).toEqual(
      rows(
        canvas((x) => (x === 13 ? 255 : 0)),
        28,
      ),
    );
    const row = fill(image(500, 1), 100, 0, 200, 1, BLACK);
    expect(rows(prepareImage(row).pixels, 28)).toEqual(
      rows(
        canvas((_, y) => (y === 13 ? 255 : 0)),
        28,
      ),
    );
  });

  it('returns 784 bytes, the same each time, for any size', () => {
    const random = Random.fromSeed(7, 'prepare');
    for (const [width, height] of [
      [1, 1],
      [1, 500],
      [500, 1],
      [37, 53],
      [29, 28],
      [300, 7],
    ]) {
      const picture = image(width, height);
      for (let i = 0; i < picture.data.length; i++) picture.data[i] = random.nextUint32() & 255;
      const first = prepareImage(picture);
      const copy = { width, height, data: picture.data.slice() };
      expect(first.pixels).toHaveLength(784);
      expect(prepareImage(copy)).toEqual(first);
    }
  });

  it('prepares a 3000×2000 picture: a thin stroke becomes one row of ink, one colour is empty (time: npm run bench:prepare)', () => {
    const drawing = prepareImage(fill(image(3000, 2000), 1400, 900, 200, 3, BLACK));
    // A stroke 200 wide and 3 high is trimmed to itself and scaled to 28 wide: one row of ink across the
    // middle, nothing else.
    const inked = [...drawing.pixels.keys()].filter((i) => drawing.pixels[i] > 0);
    expect(drawing.empty).toBe(false);
    expect(new Set(inked.map((i) => Math.floor(i / 28))).size).toBe(1);
    expect(Math.floor(inked[0] / 28)).toBeGreaterThanOrEqual(13);
    expect(Math.floor(inked[0] / 28)).toBeLessThanOrEqual(14);
    expect(inked.map((i) => i % 28)).toEqual([...Array(28).keys()]);
    // A frame filled by one colour is all corner colour: nothing to trim to, so nothing is drawn.
    expect(prepareImage(fill(image(3000, 2000), 0, 0, 3000, 2000, BLACK)).empty).toBe(true);
  });
});

describe('sharpen', () => {
  it('uses the normalised 3-tap Gaussian of σ = 1', () => {
    const taps = Array.from(gaussianKernel(1, 1));
    [SIDE_TAP, CENTRE_TAP, SIDE_TAP].forEach((tap, i) => expect(taps[i]).toBeCloseTo(tap, 12));
  });

  it('lifts a bright pixel on a flat background and darkens its neighbours by the Gaussian weights', () => {
    // 100 everywhere, 150 at (2, 2). Blur at the centre: 100 + 50·0.2041799556 = 110.2089978; sharpened:
    // 150 + (150 − 110.2089978) = 189.7910022. A side neighbour's blur: 100 + 50·0.1238414032 = 106.1920702,
    // sharpened 100 − 6.1920702 = 93.8079298. A corner neighbour: 100 − 50·0.0751136080 = 96.2443196.
    // Two pixels away: out of reach, 100.
    const sharpened = sharpen(grey(5, 5, (x, y) => (x === 2 && y === 2 ? 150 : 100)));
    const expected = (x: number, y: number): number => {
      const dx = Math.abs(x - 2);
      const dy = Math.abs(y - 2);
      if (dx > 1 || dy > 1) return 100;
      return dx + dy === 0 ? 189.7910022214171 : dx + dy === 1 ? 93.8079298423513 : 96.24431960229442;
    };
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 5; x++) expect(sharpened.values[y * 5 + x]).toBeCloseTo(expected(x, y), 9);
    }
  });

  it('leaves the inside of a ramp alone and steepens its ends, repeating edge pixels', () => {
    // 100, 110, 120, 130, 140 in one row: the symmetric blur of a straight line is the line itself. At the
    // left end the missing neighbour repeats 100: blur 100 + 10·0.2740686191 = 102.7406862, sharpened
    // 97.2593138; at the right end 142.7406862. The row repeats up and down, so columns do not matter.
    const sharpened = sharpen(grey(5, 1, (x) => 100 + 10 * x));
    [97.259313809388, 110, 120, 130, 142.740686190612].forEach((v, x) => expect(sharpened.values[x]).toBeCloseTo(v, 9));
  });

  it('clamps to 0–255 without rounding', () => {
    // 250 on 100: 250 + 150·(1 − 0.2041799556) = 369.4 → 255; its side neighbour 100 − 150·0.1238414032 =
    // 81.42378953, not rounded.
    const sharpened = sharpen(grey(3, 3, (x, y) => (x === 1 && y === 1 ? 250 : 100)));
    expect(sharpened.values[4]).toBe(255);
    expect(sharpened.values[1]).toBeCloseTo(81.42378952705391, 9);
  });
});

describe('centreOnCanvas', () => {
  it('pads with the given grey and puts the extra pixel of an odd remainder right and below', () => {
    // 3×2 in 28×28: 25 columns left over → 12 left, 13 right; 26 rows → 13 above, 13 below.
    const centred = centreOnCanvas(
      grey(3, 2, () => 0),
      255,
    );
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        expect(centred.values[y * 28 + x]).toBe(x >= 12 && x <= 14 && y >= 13 && y <= 14 ? 0 : 255);
      }
    }
  });
});

/** A grey picture from rows of grey values (opaque). */
function greyPicture(values: number[][]): RgbaImage {
  const picture = image(values[0].length, values.length);
  values.forEach((row, y) => row.forEach((v, x) => fill(picture, x, y, 1, 1, [v, v, v, 255])));
  return picture;
}

describe('backgroundOf', () => {
  it('takes the median of the outermost ring only', () => {
    // A 4×3 picture has a ring of 2·4 + 2·3 − 4 = 10 pixels; the two inside pixels (0 and 255 here) do not
    // count. The ring sorted: 10 20 30 40 50 200 210 220 230 250; the median is the mean of the 5th and 6th,
    // (50 + 200) / 2 = 125: below 127.5, dark. With 60 instead of 50 it is (60 + 200) / 2 = 130: light.
    const ring = (left: number): number[][] => [
      [10, 20, 30, 40],
      [left, 0, 255, 250],
      [200, 210, 220, 230],
    ];
    expect(borderBrightness(greyPicture(ring(50)))).toBe(125);
    expect(backgroundOf(greyPicture(ring(50)))).toBe('dark');
    expect(borderBrightness(greyPicture(ring(60)))).toBe(130);
    expect(backgroundOf(greyPicture(ring(60)))).toBe('light');
  });

  it('puts the middle grey 127.5 on the light side', () => {
    // 2×2: every pixel is on the ring. 127, 127, 128, 128 → (127 + 128) / 2 = 127.5: light.
    // 127, 127, 127, 128 → (127 + 127) / 2 = 127: dark.
    expect(
      backgroundOf(
        greyPicture([
          [127, 127],
          [128, 128],
        ]),
      ),
    ).toBe('light');
    expect(
      backgroundOf(
        greyPicture([
          [127, 127],
          [127, 128],
        ]),
      ),
    ).toBe('dark');
  });

  it('is not tipped by a garment that runs along part of the edge, nor decided by the corner', () => {
    // 10×10 white, ring of 36. Black along the bottom row (10) and the left column above it (rows 1–8, 8
    // more): 18 black, 18 white, median (0 + 255) / 2 = 127.5, light, although the top-left corner is white
    // and the bottom-left black. One more black pixel on the ring (top-right) makes 19 of 36: the 18th and
    // 19th values are both 0, dark.
    const picture = fill(fill(image(10, 10), 0, 9, 10, 1, BLACK), 0, 1, 1, 8, BLACK);
    expect(backgroundOf(picture)).toBe('light');
    expect(backgroundOf(fill(picture, 9, 0, 1, 1, BLACK))).toBe('dark');
    // The corner alone is not the judge: a black top-left pixel on a white ring leaves it light.
    expect(backgroundOf(fill(image(10, 10), 0, 0, 1, 1, BLACK))).toBe('light');
  });

  it('reads colour by its luma and transparency as white paper', () => {
    // Pure red: 0.299·255 = 76.245, dark. Pure green: 0.587·255 = 149.685, light. Transparent: white.
    expect(borderBrightness(image(3, 3, [255, 0, 0, 255]))).toBeCloseTo(76.245, 9);
    expect(backgroundOf(image(3, 3, [255, 0, 0, 255]))).toBe('dark');
    expect(backgroundOf(image(3, 3, [0, 255, 0, 255]))).toBe('light');
    expect(borderBrightness(image(3, 3, TRANSPARENT))).toBe(255);
  });

  it('counts every pixel of a picture one pixel wide or high, and nothing of an empty one', () => {
    // 1×5 of 0, 0, 0, 255, 255: median 0. 5×1 of 0, 0, 255, 255, 255: median 255.
    expect(borderBrightness(greyPicture([[0], [0], [0], [255], [255]]))).toBe(0);
    expect(borderBrightness(greyPicture([[0, 0, 255, 255, 255]]))).toBe(255);
    expect(borderBrightness({ width: 0, height: 0, data: new Uint8ClampedArray(0) })).toBeNaN();
  });
});

describe('prepareImage: light on dark and dark on light', () => {
  // The first test's picture (a 40×20 block in a 100×50 frame) both ways round. Dark on white: trimmed to the
  // block, 28×14, rows 7–20, negated, ink 255 on 0. Light on black: the same box, the same rows, the block
  // already 255 on a padding of the corner's grey 0, so used as it is it gives the very same bytes. Negated
  // (the old rule for every picture) it would be a black block on white, the data set's picture of nothing.
  const darkOnWhite = fill(image(100, 50), 30, 12, 40, 20, BLACK);
  const lightOnBlack = fill(image(100, 50, BLACK), 30, 12, 40, 20, WHITE);
  const block = canvas((_, y) => (y >= 7 && y <= 20 ? 255 : 0));

  it('negates a light background and uses a dark one as it is, to the same input', () => {
    const fromLight = prepareImage(darkOnWhite);
    const fromDark = prepareImage(lightOnBlack);
    expect([fromLight.background, fromLight.inverted]).toEqual(['light', true]);
    expect([fromDark.background, fromDark.inverted]).toEqual(['dark', false]);
    expect(rows(fromLight.pixels, 28)).toEqual(rows(block, 28));
    expect(rows(fromDark.pixels, 28)).toEqual(rows(block, 28));
  });

  it('follows the caller’s choice over the background', () => {
    // Forced the other way, each becomes the negative: 255 − the block.
    const negative = rows(
      canvas((_, y) => (y >= 7 && y <= 20 ? 0 : 255)),
      28,
    );
    const forced = prepareImage(lightOnBlack, { invert: true });
    expect([forced.background, forced.inverted]).toEqual(['dark', true]);
    expect(rows(forced.pixels, 28)).toEqual(negative);
    expect(rows(prepareImage(darkOnWhite, { invert: false }).pixels, 28)).toEqual(negative);
  });

  it('keeps grey levels: 100 on black stays 100, 155 on white becomes 100', () => {
    // A flat 20×20 square of grey 100 on black: trimmed to itself, scaled to 28×28 (flat), sharpening leaves a
    // flat image alone, not negated: 100 everywhere. Grey 155 on white, negated: 255 − 155 = 100.
    expect(Array.from(prepareImage(fill(image(30, 30, BLACK), 5, 5, 20, 20, [100, 100, 100, 255])).pixels)).toEqual(
      new Array(784).fill(100),
    );
    expect(Array.from(prepareImage(fill(image(30, 30), 5, 5, 20, 20, [155, 155, 155, 255])).pixels)).toEqual(
      new Array(784).fill(100),
    );
  });

  it('reports an empty picture’s background too', () => {
    expect(prepareImage(image(8, 8, BLACK))).toMatchObject({ empty: true, background: 'dark', inverted: false });
    expect(prepareImage(image(8, 8))).toMatchObject({ empty: true, background: 'light', inverted: true });
  });
});

describe('prepareImage: a picture at the network’s size', () => {
  // A 28×28 input with a 2×3 patch in its top-left part, off centre and far from filling the frame:
  // 50 60 70 / 80 90 100 at columns 3–5, rows 2–3, the rest 0. Prepared normally it would be trimmed to the
  // patch and blown up to fill the frame.
  const input = canvas((x, y) =>
    y >= 2 && y <= 3 && x >= 3 && x <= 5 ? [50, 60, 70, 80, 90, 100][(y - 2) * 3 + x - 3] : 0,
  );
  const asPicture = (scale: number, negative: boolean): RgbaImage => {
    const picture = image(28 * scale, 28 * scale);
    for (let i = 0; i < 784; i++) {
      const v = negative ? 255 - input[i] : input[i];
      fill(picture, (i % 28) * scale, Math.floor(i / 28) * scale, scale, scale, [v, v, v, 255]);
    }
    return picture;
  };

  it('takes a 28×28 picture light on black byte for byte, and its negative back to the same bytes', () => {
    expect(rows(prepareImage(asPicture(1, false), { atNetworkSize: true }).pixels, 28)).toEqual(rows(input, 28));
    const negative = prepareImage(asPicture(1, true), { atNetworkSize: true });
    expect([negative.background, negative.inverted]).toEqual(['light', true]);
    expect(rows(negative.pixels, 28)).toEqual(rows(input, 28));
  });

  it('averages a picture shown at 10× back down, block by block', () => {
    // Each output pixel is the mean of its own 10×10 block, all of one value: the input again. One block
    // half 0 and half 200 (columns 20–24 of block (2, 10)) averages to 100.
    expect(rows(prepareImage(asPicture(10, false), { atNetworkSize: true }).pixels, 28)).toEqual(rows(input, 28));
    const halved = fill(asPicture(10, false), 20, 100, 5, 10, [200, 200, 200, 255]);
    const expected = input.slice();
    expected[10 * 28 + 2] = 100;
    expect(rows(prepareImage(halved, { atNetworkSize: true }).pixels, 28)).toEqual(rows(expected, 28));
  });

  it('is empty when nothing differs from the corner', () => {
    expect(prepareImage(image(280, 280, BLACK), { atNetworkSize: true }).empty).toBe(true);
  });
});
