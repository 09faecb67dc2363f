/**
 * A line chart as an inline SVG string, for the report: axes with ticks and labels, a legend, one line and
 * one kind of marker per series. Series differ by colour, dash pattern and marker shape, so they stay apart
 * when printed in black and white. Pure: numbers in, markup out.
 */

import { escapeHtml } from './escape';

export type Marker = 'circle' | 'square' | 'diamond';

export interface ChartSeries {
  name: string;
  /** One value per entry of the chart's `x`; null where the series has none (the line breaks there). */
  values: (number | null)[];
  colour: string;
  /** An SVG stroke-dasharray ('' for a solid line). */
  dash: string;
  marker: Marker;
}

export interface LineChart {
  /** Unique in the page: the SVG's title and description are referenced by id. */
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  x: number[];
  series: ChartSeries[];
  /** Tick labels of the y axis as percentages of fractions (0.85 → 85%) rather than plain numbers. */
  yPercent?: boolean;
}

export interface Axis {
  min: number;
  max: number;
  step: number;
  ticks: number[];
}

/** The SVG's size and the plot area inside it, in SVG units (CSS pixels at 100%). */
export const CHART_SIZE = Object.freeze({ width: 640, height: 320 });
export const PLOT_AREA = Object.freeze({ left: 72, top: 44, width: 544, height: 220 });

/**
 * Round ticks (1, 2 or 5 times a power of ten apart) covering [min, max] with at most `maxTicks` ticks;
 * `integer` keeps the step a whole number. An empty range is widened around its value.
 */
export function niceAxis(min: number, max: number, maxTicks = 6, integer = false): Axis {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) throw new RangeError(`no axis for [${min}, ${max}]`);
  if (min === max) {
    const pad = integer ? 1 : Math.abs(min) * 0.05 || 1;
    min -= pad;
    max += pad;
  }
  const rough = (max - min) / Math.max(1, maxTicks - 1);
  const power = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough * (1 - 1e-9)) ?? 10 * power;
  if (integer) step = Math.max(1, Math.round(step));
  // Products of the step, rounded to its decimals, so 0.1 × 3 shows as 0.3 and not 0.30000000000000004.
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const round = (value: number): number => Number(value.toFixed(decimals));
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(round(k * step));
  return { min: ticks[0], max: ticks[ticks.length - 1], step, ticks };
}

/** A tick's label: as many decimals as the step needs. */
export function tickLabel(value: number, step: number, percent: boolean): string {
  const scaled = percent ? value * 100 : value;
  const decimals = Math.max(0, -Math.floor(Math.log10(percent ? step * 100 : step) + 1e-9));
  return `${scaled.toFixed(decimals)}${percent ? '%' : ''}`;
}

export interface ChartScales {
  xAxis: Axis;
  yAxis: Axis;
  /** Data coordinates to SVG coordinates (y grows downwards in SVG). */
  project(x: number, y: number): [number, number];
}

/** The axes for the chart's data and the mapping from data to SVG coordinates. */
export function chartScales(chart: LineChart): ChartScales {
  if (chart.x.length === 0) throw new RangeError('a chart needs at least one x value');
  const ys = chart.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  if (ys.length === 0) throw new RangeError('a chart needs at least one value');
  const xAxis = niceAxis(Math.min(...chart.x), Math.max(...chart.x), 11, true);
  const yAxis = niceAxis(Math.min(...ys), Math.max(...ys), 6);
  const { left, top, width, height } = PLOT_AREA;
  return {
    xAxis,
    yAxis,
    project: (x, y) => [
      left + ((x - xAxis.min) / (xAxis.max - xAxis.min)) * width,
      top + height - ((y - yAxis.min) / (yAxis.max - yAxis.min)) * height,
    ],
  };
}

const n = (value: number): string => String(Math.round(value * 100) / 100);

function markerSvg(marker: Marker, x: number, y: number, colour: string): string {
  if (marker === 'circle') return `<circle cx="${n(x)}" cy="${n(y)}" r="3.5" fill="${colour}"/>`;
  if (marker === 'square') return `<rect x="${n(x - 3.5)}" y="${n(y - 3.5)}" width="7" height="7" fill="${colour}"/>`;
  return `<path d="M${n(x)} ${n(y - 4.5)}L${n(x + 4.5)} ${n(y)}L${n(x)} ${n(y + 4.5)}L${n(x - 4.5)} ${n(y)}Z" fill="${colour}"/>`;
}

function seriesSvg(series: ChartSeries, chart: LineChart, scales: ChartScales): string {
  const runs: [number, number][][] = [[]];
  const markers: string[] = [];
  series.values.forEach((value, i) => {
    if (value === null || !Number.isFinite(value)) {
      if (runs[runs.length - 1].length) runs.push([]);
      return;
    }
    const point = scales.project(chart.x[i], value);
    runs[runs.length - 1].push(point);
    markers.push(markerSvg(series.marker, point[0], point[1], series.colour));
  });
  const dash = series.dash ? ` stroke-dasharray="${series.dash}"` : '';
  const lines = runs
    .filter((run) => run.length > 1)
    .map(
      (run) =>
        `<polyline points="${run.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}" fill="none" stroke="${series.colour}" stroke-width="2"${dash}/>`,
    );
  return `<g class="series" data-series="${escapeHtml(series.name)}">${lines.join('')}${markers.join('')}</g>`;
}

function legendSvg(series: ChartSeries[]): string {
  let x = PLOT_AREA.left;
  const y = 18;
  return series
    .map((s) => {
      const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
      const item =
        `<g class="legend-item"><line x1="${x}" y1="${y}" x2="${x + 28}" y2="${y}" stroke="${s.colour}" stroke-width="2"${dash}/>` +
        markerSvg(s.marker, x + 14, y, s.colour) +
        `<text x="${x + 34}" y="${y + 4}">${escapeHtml(s.name)}</text></g>`;
      x += 44 + 7 * s.name.length;
      return item;
    })
    .join('');
}

/** The chart as an `<svg>` element (no xmlns: inline SVG in HTML5 does not need one). */
export function lineChartSvg(chart: LineChart): string {
  const scales = chartScales(chart);
  const { xAxis, yAxis, project } = scales;
  const { left, top, width, height } = PLOT_AREA;
  const bottom = top + height;
  const parts: string[] = [];
  for (const tick of yAxis.ticks) {
    const y = n(project(xAxis.min, tick)[1]);
    parts.push(
      `<line class="grid" x1="${left}" y1="${y}" x2="${left + width}" y2="${y}" stroke="#d0d0d0" stroke-width="1"/>`,
    );
    parts.push(`<line x1="${left - 5}" y1="${y}" x2="${left}" y2="${y}" stroke="#000"/>`);
    parts.push(
      `<text class="y-tick" x="${left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${tickLabel(tick, yAxis.step, !!chart.yPercent)}</text>`,
    );
  }
  for (const tick of xAxis.ticks) {
    const x = n(project(tick, yAxis.min)[0]);
    parts.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="#000"/>`);
    parts.push(
      `<text class="x-tick" x="${x}" y="${bottom + 18}" text-anchor="middle">${tickLabel(tick, xAxis.step, false)}</text>`,
    );
  }
  parts.push(
    `<line class="axis" x1="${left}" y1="${bottom}" x2="${left + width}" y2="${bottom}" stroke="#000" stroke-width="1.5"/>`,
  );
  parts.push(
    `<line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#000" stroke-width="1.5"/>`,
  );
  parts.push(
    `<text class="x-label" x="${left + width / 2}" y="${bottom + 40}" text-anchor="middle">${escapeHtml(chart.xLabel)}</text>`,
  );
  parts.push(
    `<text class="y-label" transform="translate(18 ${top + height / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(chart.yLabel)}</text>`,
  );
  for (const series of chart.series) parts.push(seriesSvg(series, chart, scales));
  parts.push(legendSvg(chart.series));
  const id = escapeHtml(chart.id);
  const description = `${chart.yLabel} per ${chart.xLabel.toLowerCase()}: ${chart.series.map((s) => s.name).join(', ')}`;
  return (
    `<svg class="chart" id="${id}" viewBox="0 0 ${CHART_SIZE.width} ${CHART_SIZE.height}" width="${CHART_SIZE.width}" height="${CHART_SIZE.height}" ` +
    `role="img" aria-labelledby="${id}-title ${id}-description" font-size="12">` +
    `<title id="${id}-title">${escapeHtml(chart.title)}</title><desc id="${id}-description">${escapeHtml(description)}</desc>` +
    `${parts.join('')}</svg>`
  );
}
