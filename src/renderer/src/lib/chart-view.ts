/**
 * What a chart shows of its series, apart from drawing: smoothing, the wall-time axis, the x range zoomed to,
 * the tooltip's words and the rows of the chart's table view. Plain functions, so they are tested without a
 * canvas.
 */

import type { Point } from './chart-series';

/**
 * TensorBoard's smoothing: an exponential moving average with weight `weight` (0 leaves the points as they
 * are), divided by 1 − weight^n so that its first points are not pulled towards zero.
 */
export function smooth(points: readonly Point[], weight: number): Point[] {
  if (weight <= 0) return points.slice();
  let average = 0;
  let n = 0;
  return points.map(({ x, y }) => {
    n++;
    average = average * weight + (1 - weight) * y;
    return { x, y: average / (1 - weight ** n) };
  });
}

/**
 * Maps an x in epochs to seconds of training since the run began, given each whole epoch's seconds (the first
 * for epoch 1): within an epoch by its share of the epoch. Beyond the last whole epoch, the last epoch's pace is
 * assumed; before any epoch has ended, there is no time to map to (null).
 */
export function wallTime(epochSeconds: readonly number[]): (x: number) => number | null {
  const ends = [0];
  for (const seconds of epochSeconds) ends.push(ends[ends.length - 1] + (seconds ?? 0));
  return (x) => {
    if (epochSeconds.length === 0 || x < 0) return null;
    const whole = Math.min(Math.floor(x), epochSeconds.length);
    const pace = epochSeconds[Math.min(whole, epochSeconds.length - 1)] ?? 0;
    return ends[whole] + (x - whole) * pace;
  };
}

export interface Range {
  min: number;
  max: number;
}

/** The range zoomed by `factor` (below 1 zooms in) about `focus`, kept inside `bounds`. */
export function zoomed(range: Range, focus: number, factor: number, bounds: Range): Range {
  const width = Math.min((range.max - range.min) * factor, bounds.max - bounds.min);
  const share = range.max > range.min ? (focus - range.min) / (range.max - range.min) : 0.5;
  return shifted({ min: focus - share * width, max: focus - share * width + width }, 0, bounds);
}

/** The range moved by `delta`, its width kept, stopped at the ends of `bounds`. */
export function shifted(range: Range, delta: number, bounds: Range): Range {
  const width = range.max - range.min;
  const min = Math.min(Math.max(range.min + delta, bounds.min), bounds.max - width);
  return { min, max: min + width };
}

/** The range between two x values picked by dragging, or null when too narrow to be meant as a zoom. */
export function picked(a: number, b: number, bounds: Range): Range | null {
  const min = Math.max(Math.min(a, b), bounds.min);
  const max = Math.min(Math.max(a, b), bounds.max);
  return max - min > (bounds.max - bounds.min) / 200 ? { min, max } : null;
}

/** A log axis's label for a tick: only 1, 2 and 5 times a power of ten are labelled ("0.2", "0.5", "1", "2"). */
export function logTick(value: number): string {
  if (!(value > 0)) return '';
  const mantissa = Math.round((value / 10 ** Math.floor(Math.log10(value))) * 1000) / 1000;
  return mantissa === 1 || mantissa === 2 || mantissa === 5 ? String(+value.toPrecision(3)) : '';
}

export type ValueFormat = 'percent' | 'cost';

export function formatValue(y: number, format: ValueFormat): string {
  return format === 'percent' ? `${y.toFixed(2)}%` : y.toFixed(4);
}

export type XAxis = 'epoch' | 'time';

/** "Epoch 29", "Epoch 3.41" (a point within an epoch), or "12.3 s" on the time axis. */
export function formatX(x: number, axis: XAxis): string {
  if (axis === 'time') {
    if (x < 120) return `${x.toFixed(1)} s`;
    const seconds = Math.round(x);
    return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  }
  return `Epoch ${Number.isInteger(x) ? x : x.toFixed(2)}`;
}

/** The tooltip's line for one series: "train 96.11%". */
export function tooltipLine(label: string, y: number, format: ValueFormat): string {
  return `${label} ${formatValue(y, format)}`;
}

export interface TableRow {
  x: number;
  /** One cell per series, '' where the series has no point at this x. */
  cells: string[];
}

/** The table view's rows: every x of any series, in order, with each series' value there. */
export function tableRows(series: readonly { data: readonly Point[] }[], format: ValueFormat): TableRow[] {
  const rows = new Map<number, string[]>();
  series.forEach(({ data }, column) => {
    for (const { x, y } of data) {
      let cells = rows.get(x);
      if (!cells) rows.set(x, (cells = series.map(() => '')));
      cells[column] = formatValue(y, format);
    }
  });
  return [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([x, cells]) => ({ x, cells }));
}
