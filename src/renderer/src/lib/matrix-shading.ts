/**
 * The confusion matrix's shading in the page's theme: from the panel's colour (a share of 0) to the theme's
 * matrix colour (a share of 1), with black or white text, whichever contrasts more. The report keeps its own
 * fixed white-to-blue scale (@core/shared/heat); the page takes both ends from its CSS, so dark mode stays dark.
 */

import { relativeLuminance } from '@core/shared/heat';

export type Rgb = [number, number, number];

/** A computed CSS colour ("rgb(42, 42, 45)", "rgba(…)" or "#2a2a2d") as 0–255 channels; null if it is neither. */
export function parseRgb(css: string): Rgb | null {
  const functional = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/.exec(css.trim());
  if (functional) return [Number(functional[1]), Number(functional[2]), Number(functional[3])];
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(css.trim());
  return hex ? [parseInt(hex[1], 16), parseInt(hex[2], 16), parseInt(hex[3], 16)] : null;
}

/**
 * Where a share (0–1) sits on the scale: its square root, so that a few percent of confusion already shows
 * (1% is a tenth of the way, 25% half) while the diagonal's 80–99% stay told apart.
 */
export function shadeOf(share: number): number {
  return Math.sqrt(Math.min(1, Math.max(0, share)));
}

/** The colour `t` of the way from `low` to `high`, mixed per sRGB channel as a CSS gradient mixes them. */
export function mix(low: Rgb, high: Rgb, t: number): Rgb {
  return low.map((c, i) => Math.round(c + (high[i] - c) * t)) as Rgb;
}

/** The background and text of a cell with this share of its row. */
export function cellColours(share: number, low: Rgb, high: Rgb): { background: string; text: string } {
  const background = mix(low, high, shadeOf(share));
  const luminance = relativeLuminance(background);
  // WCAG 2 contrast against black and against white; one of them is always at least 4.58:1.
  const againstBlack = (luminance + 0.05) / 0.05;
  const againstWhite = 1.05 / (luminance + 0.05);
  return { background: `rgb(${background.join(', ')})`, text: againstBlack >= againstWhite ? '#000000' : '#ffffff' };
}

/**
 * Follows a heat scale's two ends as the theme has them: the colours of the CSS properties `low` and `high`
 * (custom properties, read where `element` is) now and whenever the system's appearance changes. Returns the
 * function that stops following.
 */
export function followThemeScale(
  element: HTMLElement,
  low: string,
  high: string,
  use: (scale: { low: Rgb; high: Rgb } | null) => void,
): () => void {
  // Resolved through an element's colour, so any colour syntax a theme uses comes back as rgb().
  const colourOf = (property: string): Rgb | null => {
    const probe = document.createElement('span');
    probe.style.display = 'none';
    probe.style.color = `var(${property})`;
    element.append(probe);
    const colour = parseRgb(getComputedStyle(probe).color);
    probe.remove();
    return colour;
  };
  const read = (): void => {
    const lowRgb = colourOf(low);
    const highRgb = colourOf(high);
    use(lowRgb && highRgb ? { low: lowRgb, high: highRgb } : null);
  };
  const appearance = matchMedia('(prefers-color-scheme: dark)');
  read();
  appearance.addEventListener('change', read);
  return () => appearance.removeEventListener('change', read);
}
