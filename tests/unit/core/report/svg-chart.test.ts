import { describe, expect, it } from 'vitest';
import { chartScales, type ChartSeries, lineChartSvg, niceAxis, tickLabel } from '@core/report/svg-chart';

const style = { colour: '#0072b2', dash: '', marker: 'circle' } as const;
const series = (name: string, values: (number | null)[], extra: Partial<ChartSeries> = {}): ChartSeries => ({
  name,
  values,
  ...style,
  ...extra,
});

/** The (cx, cy) of every circle marking a data point (the legend's are left out), in document order. */
function circles(svg: string): [number, number][] {
  const series = [...svg.matchAll(/<g class="series"[^>]*>(.*?)<\/g>/g)].map((m) => m[1]).join('');
  return [...series.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

describe('niceAxis', () => {
  it('covers the data with round steps of 1, 2 or 5 times a power of ten', () => {
    expect(niceAxis(0.5, 1)).toEqual({ min: 0.5, max: 1, step: 0.1, ticks: [0.5, 0.6, 0.7, 0.8, 0.9, 1] });
    // (0.7133 − 0.413) / 5 = 0.06: the next round step is 0.1 (0.05 is too small).
    expect(niceAxis(0.413, 0.7133)).toEqual({ min: 0.4, max: 0.8, step: 0.1, ticks: [0.4, 0.5, 0.6, 0.7, 0.8] });
    // (1.72 − 0.27) / 5 = 0.29: step 0.5.
    expect(niceAxis(0.27, 1.72)).toEqual({ min: 0, max: 2, step: 0.5, ticks: [0, 0.5, 1, 1.5, 2] });
    // (0.9 − 0.82) / 5 = 0.016: step 0.02, and 0.84 + 0.02 × 2 shows as 0.86, not 0.8600000000000001.
    expect(niceAxis(0.82, 0.9).ticks).toEqual([0.82, 0.84, 0.86, 0.88, 0.9]);
    expect(niceAxis(3, 1234).ticks).toEqual([0, 500, 1000, 1500]);
  });

  it('keeps whole-number steps for epochs and widens a single value', () => {
    expect(niceAxis(1, 3, 11, true).ticks).toEqual([1, 2, 3]);
    expect(niceAxis(1, 50, 11, true).ticks).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
    expect(niceAxis(1, 1, 11, true).ticks).toEqual([0, 1, 2]);
    // 0.8 ± 5%: [0.76, 0.84] in steps of 0.02.
    expect(niceAxis(0.8, 0.8).ticks).toEqual([0.76, 0.78, 0.8, 0.82, 0.84]);
    expect(niceAxis(0, 0).ticks).toEqual([-1, -0.5, 0, 0.5, 1]);
  });

  it('refuses ranges that are not ranges', () => {
    expect(() => niceAxis(2, 1)).toThrow(RangeError);
    expect(() => niceAxis(Number.NaN, 1)).toThrow(RangeError);
  });
});

describe('tickLabel', () => {
  it('shows as many decimals as the step needs, as percentages when asked', () => {
    expect(tickLabel(0.85, 0.05, true)).toBe('85%');
    expect(tickLabel(0.855, 0.005, true)).toBe('85.5%');
    expect(tickLabel(1.2, 0.2, false)).toBe('1.2');
    expect(tickLabel(1500, 500, false)).toBe('1500');
  });
});

describe('lineChartSvg', () => {
  // The plot area is x 72…616 (544 wide), y 44…264 (220 high).
  const chart = {
    id: 'c',
    title: 'Accuracy',
    xLabel: 'Epoch',
    yLabel: 'Accuracy',
    x: [1, 2, 3],
    series: [series('train', [0.5, 0.75, 1])],
    yPercent: true,
  };

  it('puts each point where the axes say, computed by hand', () => {
    // x axis 1…3, y axis 0.5…1: (2, 0.75) is half way along both: x = 72 + 544/2 = 344, y = 264 − 220/2 = 154.
    expect(chartScales(chart).project(2, 0.75)).toEqual([344, 154]);
    const svg = lineChartSvg(chart);
    expect(circles(svg)).toEqual([
      [72, 264],
      [344, 154],
      [616, 44],
    ]);
    expect(svg).toContain('<polyline points="72,264 344,154 616,44"');
    // y = 0.6 is a fifth of the way up: 264 − 44 = 220; x = 2.5 is three quarters along: 72 + 408 = 480.
    expect(chartScales(chart).project(2.5, 0.6)).toEqual([480, 220]);
  });

  it('labels the ticks, the axes and the series, and describes itself for screen readers', () => {
    const svg = lineChartSvg({
      ...chart,
      series: [series('train', [0.5, 0.75, 1]), series('test', [0.6, 0.7, 0.8], { marker: 'diamond', dash: '2 3' })],
    });
    expect([...svg.matchAll(/<text class="y-tick"[^>]*>([^<]*)</g)].map((m) => m[1])).toEqual([
      '50%',
      '60%',
      '70%',
      '80%',
      '90%',
      '100%',
    ]);
    expect([...svg.matchAll(/<text class="x-tick"[^>]*>([^<]*)</g)].map((m) => m[1])).toEqual(['1', '2', '3']);
    expect(svg).toMatch(/<text class="x-label"[^>]*>Epoch<\/text>/);
    expect(svg).toMatch(/<text class="y-label"[^>]*>Accuracy<\/text>/);
    expect([...svg.matchAll(/<g class="legend-item">.*?<text[^>]*>([^<]*)<\/text><\/g>/g)].map((m) => m[1])).toEqual([
      'train',
      'test',
    ]);
    expect(svg).toContain('stroke-dasharray="2 3"');
    expect(svg).toMatch(/^<svg [^>]*role="img" aria-labelledby="c-title c-description"/);
    expect(svg).toContain('<title id="c-title">Accuracy</title>');
    expect(svg).not.toContain('xmlns');
  });

  it('breaks the line where a series has no value', () => {
    const svg = lineChartSvg({ ...chart, x: [1, 2, 3, 4], series: [series('validation', [0.5, null, 0.75, 1])] });
    expect(circles(svg)).toHaveLength(3);
    // Only the run 3…4 has two points; the lone first point is a marker without a line.
    expect([...svg.matchAll(/<polyline points="([^"]*)"/g)].map((m) => m[1].split(' ').length)).toEqual([2]);
  });

  it('escapes names and labels', () => {
    const svg = lineChartSvg({ ...chart, id: 'a"b', yLabel: 'cost <nats>', series: [series('x & <y>', [1, 2, 3])] });
    expect(svg).toContain('x &amp; &lt;y&gt;');
    expect(svg).toContain('cost &lt;nats&gt;');
    expect(svg).toContain('id="a&quot;b"');
    expect(svg).not.toContain('<y>');
  });

  it('refuses a chart without data', () => {
    expect(() => lineChartSvg({ ...chart, series: [series('train', [null, null, null])] })).toThrow(RangeError);
    expect(() => lineChartSvg({ ...chart, x: [] })).toThrow(RangeError);
  });
});
