/**
 * The report's confusion-matrix colours: white to dark blue by a cell's share of its row, with black or white
 * text, whichever contrasts more (WCAG 2 relative luminance, which the app's own theme-aware shading also uses).
 */

/** sRGB relative luminance (WCAG 2), 0 black to 1 white. */
export function relativeLuminance([r, g, b]: [number, number, number]): number {
  const linear = (c: number): number => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

const LIGHTEST: [number, number, number] = [255, 255, 255];
const DARKEST: [number, number, number] = [8, 48, 107];

/**
 * A heat-map cell's colours for the share of its row (0–1): white to dark blue, on a square-root scale so that
 * a few percent of confusion already shows; the text black or white, whichever contrasts more.
 */
export function heatColours(share: number): { background: string; text: string } {
  const t = Math.sqrt(Math.min(1, Math.max(0, share)));
  const rgb = LIGHTEST.map((c, i) => Math.round(c + (DARKEST[i] - c) * t)) as [number, number, number];
  const luminance = relativeLuminance(rgb);
  const againstBlack = (luminance + 0.05) / 0.05;
  const againstWhite = 1.05 / (luminance + 0.05);
  const hex = rgb.map((c) => c.toString(16).padStart(2, '0')).join('');
  return { background: `#${hex}`, text: againstBlack >= againstWhite ? '#000000' : '#ffffff' };
}
