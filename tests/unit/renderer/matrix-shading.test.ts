import { describe, expect, it } from 'vitest';
import { cellColours, mix, parseRgb, shadeOf, type Rgb } from '../../../src/renderer/src/lib/matrix-shading';

// The two themes' ends of the scale, as Evaluation.svelte sets them: the panel's colour to the matrix colour.
const LIGHT: [Rgb, Rgb] = [
  [255, 255, 255],
  [0x16, 0x42, 0x8f],
];
const DARK: [Rgb, Rgb] = [
  [0x2a, 0x2a, 0x2d],
  [0x37, 0x67, 0xc4],
];

/** WCAG 2's contrast ratio, written out here from the standard's definition. */
function contrast(a: Rgb, b: Rgb): number {
  const luminance = (rgb: Rgb): number => {
    const [r, g, b] = rgb.map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high + 0.05) / (low + 0.05);
}

describe('parseRgb', () => {
  it('reads computed colours in the forms a browser gives', () => {
    expect(parseRgb('rgb(42, 42, 45)')).toEqual([42, 42, 45]);
    expect(parseRgb(' rgba(1, 2, 3, 0.5) ')).toEqual([1, 2, 3]);
    expect(parseRgb('rgb(42 42 45)')).toEqual([42, 42, 45]);
    expect(parseRgb('#2A2a2d')).toEqual([42, 42, 45]);
  });

  it('says null for what it cannot read', () => {
    expect(parseRgb('color(srgb 1 0 0)')).toBeNull();
    expect(parseRgb('')).toBeNull();
    expect(parseRgb('#fff')).toBeNull();
  });
});

describe('the scale', () => {
  it('puts a share at its square root, within 0 and 1', () => {
    expect(shadeOf(0)).toBe(0);
    expect(shadeOf(0.01)).toBeCloseTo(0.1, 12);
    expect(shadeOf(0.25)).toBe(0.5);
    expect(shadeOf(1)).toBe(1);
    expect(shadeOf(-0.5)).toBe(0);
    expect(shadeOf(3)).toBe(1);
  });

  it('mixes the ends per channel, rounded', () => {
    // Half way from white to (22, 66, 143): 255 − 233/2 = 138.5 → 139, 255 − 189/2 = 160.5 → 161, 255 − 112/2 = 199.
    expect(mix(...LIGHT, 0.5)).toEqual([139, 161, 199]);
    expect(mix(...LIGHT, 0)).toEqual([255, 255, 255]);
    expect(mix(...LIGHT, 1)).toEqual([22, 66, 143]);
  });
});

describe('cellColours', () => {
  it('starts at the panel and ends at the matrix colour, text black or white by contrast', () => {
    expect(cellColours(0, ...LIGHT)).toEqual({ background: 'rgb(255, 255, 255)', text: '#000000' });
    // (22, 66, 143): luminance 0.2126·0.0080 + 0.7152·0.0545 + 0.0722·0.2747 ≈ 0.061; white 9.5:1, black 2.2:1.
    expect(cellColours(1, ...LIGHT)).toEqual({ background: 'rgb(22, 66, 143)', text: '#ffffff' });
    // A quarter of the row is half way: (139, 161, 199), luminance ≈ 0.351; black 8.0:1, white 2.6:1.
    expect(cellColours(0.25, ...LIGHT)).toEqual({ background: 'rgb(139, 161, 199)', text: '#000000' });
    // Dark theme: the panel (42, 42, 45) and the whole row (55, 103, 196) both take white text.
    expect(cellColours(0, ...DARK)).toEqual({ background: 'rgb(42, 42, 45)', text: '#ffffff' });
    expect(cellColours(1, ...DARK)).toEqual({ background: 'rgb(55, 103, 196)', text: '#ffffff' });
  });

  it('keeps every cell readable (4.5:1) on both themes, and the dark theme’s cells dark', () => {
    for (const [low, high] of [LIGHT, DARK]) {
      for (let i = 0; i <= 1000; i++) {
        const { background, text } = cellColours(i / 1000, low, high);
        const bg = parseRgb(background)!;
        expect(contrast(bg, parseRgb(text)!)).toBeGreaterThanOrEqual(4.5);
      }
    }
    // On the dark theme no cell is lighter than the whole row's blue, far from the white of the light theme.
    for (let i = 0; i <= 100; i++) {
      const bg = parseRgb(cellColours(i / 100, ...DARK).background)!;
      expect(contrast(bg, [0, 0, 0])).toBeLessThan(4.5);
    }
  });
});
