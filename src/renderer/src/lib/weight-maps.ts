/**
 * The network view's pictures of numbers, without the DOM: colour scales for weights (diverging) and
 * activations (sequential) in light and dark mode, where tiles and cells go on a canvas and which one is
 * under the pointer, and painting weights and activations into pixel buffers. Everything is painted into one
 * ImageData per picture, so 512 tiles cost one canvas and one putImageData, not 512 elements.
 */

export type Rgb = [number, number, number];

/** A colour scale: colours at increasing positions, linear in between. */
export type ColourStop = { at: number; rgb: Rgb };

export type Theme = 'light' | 'dark';

/**
 * Weights, from −1 (the largest negative) through 0 to +1: blue where ink lowers the unit, red where ink raises
 * it. In light mode zero is near white (ColorBrewer's RdBu); in dark mode zero is near black and both signs grow
 * brighter, so on either background the strong weights are the ones that stand out.
 */
export const WEIGHT_SCALES: Record<Theme, ColourStop[]> = {
  light: [
    { at: -1, rgb: [33, 102, 172] },
    { at: -0.5, rgb: [146, 197, 222] },
    { at: 0, rgb: [247, 247, 247] },
    { at: 0.5, rgb: [244, 165, 130] },
    { at: 1, rgb: [178, 24, 43] },
  ],
  dark: [
    { at: -1, rgb: [120, 190, 255] },
    { at: -0.5, rgb: [38, 98, 160] },
    { at: 0, rgb: [24, 24, 27] },
    { at: 0.5, rgb: [168, 48, 40] },
    { at: 1, rgb: [255, 128, 104] },
  ],
};

/**
 * Activations after ReLU, from 0 (inactive) to the layer's largest: light to dark orange in light mode
 * (ColorBrewer's Oranges, but for zero a light warm grey that stays visible on the white panel), dark to bright
 * in dark mode.
 */
export const ACTIVATION_SCALES: Record<Theme, ColourStop[]> = {
  light: [
    { at: 0, rgb: [236, 232, 228] },
    { at: 0.25, rgb: [253, 208, 162] },
    { at: 0.5, rgb: [253, 141, 60] },
    { at: 0.75, rgb: [217, 72, 1] },
    { at: 1, rgb: [127, 39, 4] },
  ],
  dark: [
    { at: 0, rgb: [36, 36, 40] },
    { at: 0.25, rgb: [112, 44, 12] },
    { at: 0.5, rgb: [200, 86, 20] },
    { at: 0.75, rgb: [250, 150, 60] },
    { at: 1, rgb: [255, 232, 176] },
  ],
};

/** The scale's colour at `t` (clamped to the scale's ends), each channel rounded to a byte. */
export function colourAt(stops: readonly ColourStop[], t: number): Rgb {
  const first = stops[0];
  const last = stops[stops.length - 1];
  if (!(t > first.at)) return [...first.rgb];
  if (t >= last.at) return [...last.rgb];
  let k = 1;
  while (stops[k].at < t) k++;
  const low = stops[k - 1];
  const high = stops[k];
  const f = (t - low.at) / (high.at - low.at);
  return low.rgb.map((c, i) => Math.round(c + (high.rgb[i] - c) * f)) as Rgb;
}

/** The scale as a CSS gradient from left to right, for its legend. */
export function cssGradient(stops: readonly ColourStop[]): string {
  const from = stops[0].at;
  const span = stops[stops.length - 1].at - from;
  const parts = stops.map(({ at, rgb }) => `rgb(${rgb.join(' ')}) ${Math.round(((at - from) / span) * 100)}%`);
  return `linear-gradient(to right, ${parts.join(', ')})`;
}

/**
 * The scale sampled at `steps` evenly spaced positions from its first stop to its last, as RGB bytes: painting
 * looks colours up here instead of interpolating 400 000 times.
 */
export class ColourTable {
  readonly rgb: Uint8Array;
  private readonly from: number;
  private readonly span: number;

  constructor(
    stops: readonly ColourStop[],
    readonly steps = 512,
  ) {
    this.from = stops[0].at;
    this.span = stops[stops.length - 1].at - this.from;
    this.rgb = new Uint8Array(steps * 3);
    for (let k = 0; k < steps; k++) this.rgb.set(colourAt(stops, this.from + (k / (steps - 1)) * this.span), k * 3);
  }

  /** The entry nearest to `t`, clamped to the ends; NaN takes the first. */
  index(t: number): number {
    const k = Math.round(((t - this.from) / this.span) * (this.steps - 1));
    return k > 0 ? Math.min(k, this.steps - 1) : 0;
  }
}

/** Something to paint into: an ImageData, or a plain buffer in tests. */
export interface PixelTarget {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

function fillRect(target: PixelTarget, x: number, y: number, w: number, h: number, table: ColourTable, k: number) {
  const r = table.rgb[k * 3];
  const g = table.rgb[k * 3 + 1];
  const b = table.rgb[k * 3 + 2];
  for (let row = y; row < y + h; row++) {
    let o = (row * target.width + x) * 4;
    for (let col = 0; col < w; col++, o += 4) {
      target.data[o] = r;
      target.data[o + 1] = g;
      target.data[o + 2] = b;
      target.data[o + 3] = 255;
    }
  }
}

/** Cells of one size in rows, with gaps between them (not around them), in CSS pixels. */
export interface GridLayout {
  count: number;
  columns: number;
  rows: number;
  /** A cell's side. */
  cell: number;
  gap: number;
  width: number;
  height: number;
}

export function gridLayout(count: number, columns: number, cell: number, gap: number): GridLayout {
  const rows = Math.ceil(count / columns);
  return {
    count,
    columns,
    rows,
    cell,
    gap,
    width: columns * cell + (columns - 1) * gap,
    height: rows * cell + Math.max(0, rows - 1) * gap,
  };
}

/**
 * A pointer's place in a picture `width`×`height` drawn in `box` (its bounding rectangle). Multiplying by the
 * picture's scale, rather than dividing by the box first, keeps whole pixels whole when the box is the picture's
 * own size: (20 / 319) · 319 is not 20 in floating point, and would land in the gap before the cell it points at.
 */
export function pointIn(
  box: { left: number; top: number; width: number; height: number },
  clientX: number,
  clientY: number,
  width: number,
  height: number,
): { x: number; y: number } {
  return { x: (clientX - box.left) * (width / box.width), y: (clientY - box.top) * (height / box.height) };
}

/** The top-left corner of the cell at `position` (0 is the top-left cell, then along the rows). */
export function cellOrigin(layout: GridLayout, position: number): { x: number; y: number } {
  const pitch = layout.cell + layout.gap;
  return { x: (position % layout.columns) * pitch, y: Math.floor(position / layout.columns) * pitch };
}

/** The position of the cell under (x, y), or null over a gap, past the last cell or outside. */
export function cellAt(layout: GridLayout, x: number, y: number): number | null {
  if (x < 0 || y < 0) return null;
  const pitch = layout.cell + layout.gap;
  const column = Math.floor(x / pitch);
  const row = Math.floor(y / pitch);
  if (column >= layout.columns || x - column * pitch >= layout.cell || y - row * pitch >= layout.cell) return null;
  const position = row * layout.columns + column;
  return position < layout.count ? position : null;
}

/**
 * Tiles of `tile`×`tile` weights, each weight a square of `zoom` CSS pixels: the largest zoom up to `maxZoom`
 * at which the tiles that fit across `width` also fit within `maxHeight` (or zoom 1, which scrolls). Whole
 * pixels per weight keep the tiles crisp.
 */
export function fitTiles(
  count: number,
  width: number,
  maxHeight: number,
  { tile = 28, gap = 2, maxZoom = 4 } = {},
): GridLayout & { zoom: number } {
  for (let zoom = maxZoom; ; zoom--) {
    const cell = tile * zoom;
    const columns = Math.max(1, Math.min(count, Math.floor((width + gap) / (cell + gap))));
    const layout = gridLayout(count, columns, cell, gap);
    if (layout.height <= maxHeight || zoom === 1) return { ...layout, zoom };
  }
}

/** Columns of a layer's activation map: about twice as wide as tall, at least 8 (fewer units: one row). */
export function activationColumns(units: number): number {
  return Math.min(units, Math.max(8, Math.ceil(Math.sqrt(units * 2))));
}

/** The activation map of `units` units across `width` CSS pixels: whole-pixel cells of 2 to `maxCell`. */
export function fitCells(units: number, width: number, { gap = 1, maxCell = 16 } = {}): GridLayout {
  const columns = activationColumns(units);
  const cell = Math.max(2, Math.min(maxCell, Math.floor((width + gap) / columns) - gap));
  return gridLayout(units, columns, cell, gap);
}

/** Each unit's incoming weights summed up: smallest, largest, L2 norm. */
export interface UnitStatistics {
  min: Float64Array;
  max: Float64Array;
  norm: Float64Array;
  /** The largest magnitude of any weight of the layer: the shared scale's end. */
  largest: number;
}

/** Statistics of each of the `units` columns of a canonical [inputs × units] weight matrix. */
export function unitStatistics(weights: Float32Array, inputs: number, units: number): UnitStatistics {
  const min = new Float64Array(units).fill(Infinity);
  const max = new Float64Array(units).fill(-Infinity);
  const norm = new Float64Array(units);
  for (let i = 0; i < inputs; i++) {
    const row = i * units;
    for (let j = 0; j < units; j++) {
      const w = weights[row + j];
      if (w < min[j]) min[j] = w;
      if (w > max[j]) max[j] = w;
      norm[j] += w * w;
    }
  }
  let largest = 0;
  for (let j = 0; j < units; j++) {
    norm[j] = Math.sqrt(norm[j]);
    largest = Math.max(largest, -min[j], max[j]);
  }
  return { min, max, norm, largest };
}

/** The end of a unit's own scale: its largest weight in magnitude. */
export const ownLimit = (statistics: UnitStatistics, unit: number): number =>
  Math.max(-statistics.min[unit], statistics.max[unit]);

/**
 * Paints unit `order[k]`'s incoming weights as the k-th tile of `layout` (a 28×28 tile per unit: weight i is
 * pixel i of the image), scaled by `limit(unit)` onto [−1, 1] of a weight scale. Gaps stay transparent.
 */
export function paintTiles(
  target: PixelTarget,
  layout: GridLayout & { zoom: number },
  weights: Float32Array,
  units: number,
  order: ArrayLike<number>,
  limit: (unit: number) => number,
  table: ColourTable,
  tileWidth = 28,
): void {
  const { zoom } = layout;
  for (let k = 0; k < order.length; k++) {
    const unit = order[k];
    const scale = limit(unit);
    const origin = cellOrigin(layout, k);
    for (let i = 0; i < tileWidth * tileWidth; i++) {
      const t = scale > 0 ? weights[i * units + unit] / scale : 0;
      const x = origin.x + (i % tileWidth) * zoom;
      const y = origin.y + Math.floor(i / tileWidth) * zoom;
      fillRect(target, x, y, zoom, zoom, table, table.index(t));
    }
  }
}

/** A weight matrix drawn with one row per unit of the layer and one column per input, in whole CSS pixels. */
export interface MatrixLayout {
  inputs: number;
  outputs: number;
  columnWidth: number;
  rowHeight: number;
  width: number;
  height: number;
}

/** Columns as wide as fit `width` (1 to `maxZoom` pixels), rows at least `minRowHeight` tall. */
export function matrixLayout(
  inputs: number,
  outputs: number,
  width: number,
  { minRowHeight = 1, maxZoom = 8 } = {},
): MatrixLayout {
  const columnWidth = Math.max(1, Math.min(maxZoom, Math.floor(width / inputs)));
  const rowHeight = Math.max(columnWidth, minRowHeight);
  return { inputs, outputs, columnWidth, rowHeight, width: inputs * columnWidth, height: outputs * rowHeight };
}

/** The weight under (x, y): from input `input` to unit `output`; null outside. */
export function matrixCellAt(layout: MatrixLayout, x: number, y: number): { input: number; output: number } | null {
  const input = Math.floor(x / layout.columnWidth);
  const output = Math.floor(y / layout.rowHeight);
  if (x < 0 || y < 0 || input >= layout.inputs || output >= layout.outputs) return null;
  return { input, output };
}

/** Paints a canonical [inputs × outputs] weight matrix, row j of the picture being unit j, on ±`limit`. */
export function paintMatrix(
  target: PixelTarget,
  layout: MatrixLayout,
  weights: Float32Array,
  limit: number,
  table: ColourTable,
): void {
  const { inputs, outputs, columnWidth, rowHeight } = layout;
  for (let i = 0; i < inputs; i++) {
    for (let j = 0; j < outputs; j++) {
      const t = limit > 0 ? weights[i * outputs + j] / limit : 0;
      fillRect(target, i * columnWidth, j * rowHeight, columnWidth, rowHeight, table, table.index(t));
    }
  }
}

/** Paints activations as the cells of `layout`, from 0 to `largest` of an activation scale. */
export function paintCells(
  target: PixelTarget,
  layout: GridLayout,
  values: ArrayLike<number>,
  largest: number,
  table: ColourTable,
): void {
  for (let k = 0; k < values.length; k++) {
    const { x, y } = cellOrigin(layout, k);
    fillRect(target, x, y, layout.cell, layout.cell, table, table.index(largest > 0 ? values[k] / largest : 0));
  }
}

/** A weight or an activation for people: three decimals, a true minus sign; −0.000 reads 0.000. */
export function formatValue(value: number, digits = 3): string {
  const text = value.toFixed(digits);
  return Number(text) === 0 ? (0).toFixed(digits) : text.replace('-', '−');
}
