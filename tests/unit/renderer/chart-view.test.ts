import { describe, expect, it } from 'vitest';
import { ChartSeries } from '../../../src/renderer/src/lib/chart-series';
import {
  formatX,
  logTick,
  picked,
  shifted,
  smooth,
  tableRows,
  tooltipLine,
  wallTime,
  zoomed,
} from '../../../src/renderer/src/lib/chart-view';

describe('smooth', () => {
  it("is TensorBoard's debiased moving average, worked by hand", () => {
    // weight 0.5: a1 = 0.5·1 = 0.5, /(1 − 0.5) = 1; a2 = 0.25 + 1.5 = 1.75, /(1 − 0.25) = 2.3333…;
    // a3 = 0.875 + 0.5·2 = 1.875, /(1 − 0.125) = 2.142857…
    const out = smooth(
      [
        { x: 0.1, y: 1 },
        { x: 0.2, y: 3 },
        { x: 0.3, y: 2 },
      ],
      0.5,
    );
    expect(out.map((p) => p.x)).toEqual([0.1, 0.2, 0.3]);
    expect(out[0].y).toBeCloseTo(1, 12);
    expect(out[1].y).toBeCloseTo(7 / 3, 12);
    expect(out[2].y).toBeCloseTo(15 / 7, 12);
  });

  it('leaves the points alone at weight 0, and keeps a constant series constant at any weight', () => {
    const points = [2, 5, 1].map((y, x) => ({ x, y }));
    expect(smooth(points, 0)).toEqual(points);
    for (const p of smooth(
      [4, 4, 4, 4].map((y, x) => ({ x, y })),
      0.9,
    ))
      expect(p.y).toBeCloseTo(4, 12);
  });
});

describe('wallTime', () => {
  it('maps epochs to seconds of training, within an epoch by its share', () => {
    const time = wallTime([10, 20]);
    expect(time(0)).toBe(0);
    expect(time(1)).toBe(10);
    expect(time(1.5)).toBe(20); // 10 + half of epoch 2's 20 s
    expect(time(2)).toBe(30);
    expect(time(2.25)).toBe(35); // beyond the last whole epoch at its pace: 30 + 0.25 × 20
  });

  it('has nothing to map to before an epoch has ended', () => {
    expect(wallTime([])(0.5)).toBeNull();
  });
});

describe('zooming', () => {
  const bounds = { min: 0, max: 50 };

  it('zooms about the point under the cursor, keeping its place on screen', () => {
    // 0–50 halved about 10 (a fifth of the way): 5–30 keeps 10 a fifth of the way.
    expect(zoomed({ min: 0, max: 50 }, 10, 0.5, bounds)).toEqual({ min: 5, max: 30 });
  });

  it('stops at the run’s ends and never zooms out beyond them', () => {
    expect(zoomed({ min: 0, max: 10 }, 0, 2, bounds)).toEqual({ min: 0, max: 20 });
    expect(zoomed({ min: 40, max: 50 }, 50, 10, bounds)).toEqual({ min: 0, max: 50 });
    expect(shifted({ min: 40, max: 48 }, 5, bounds)).toEqual({ min: 42, max: 50 });
    expect(shifted({ min: 2, max: 10 }, -5, bounds)).toEqual({ min: 0, max: 8 });
  });

  it('takes a drag in either direction, and ignores a click that barely moved', () => {
    expect(picked(30, 12, bounds)).toEqual({ min: 12, max: 30 });
    expect(picked(-4, 12, bounds)).toEqual({ min: 0, max: 12 });
    expect(picked(12, 12.1, bounds)).toBeNull();
  });
});

describe('words and tables', () => {
  it('reads a tooltip as the issue asks: "Epoch 29 · train 96.11%"', () => {
    expect(formatX(29, 'epoch')).toBe('Epoch 29');
    expect(formatX(3.4166, 'epoch')).toBe('Epoch 3.42');
    expect(formatX(12.34, 'time')).toBe('12.3 s');
    expect(formatX(125, 'time')).toBe('2 min 5 s');
    // 179.7 s is 3 min 0 s, not "2 min 60 s".
    expect(formatX(179.7, 'time')).toBe('3 min 0 s');
    expect(tooltipLine('train', 96.105, 'percent')).toBe('train 96.11%');
    expect(tooltipLine('test', 0.61083, 'cost')).toBe('test 0.6108');
  });

  it('labels a log axis at 1, 2 and 5 times powers of ten only', () => {
    expect([0.1, 0.2, 0.3, 0.5, 0.6, 0.8, 1, 2, 3, 5, 10].map(logTick)).toEqual([
      '0.1',
      '0.2',
      '',
      '0.5',
      '',
      '',
      '1',
      '2',
      '',
      '5',
      '10',
    ]);
    expect(logTick(0.30000000000000004)).toBe('');
    expect(logTick(0.20000000000000004)).toBe('0.2');
  });

  it('puts every x of any series in a row, with blanks where a series has no point', () => {
    const rows = tableRows(
      [
        {
          data: [
            { x: 0.5, y: 1.2 },
            { x: 1, y: 0.9 },
          ],
        },
        { data: [{ x: 1, y: 0.61083 }] },
      ],
      'cost',
    );
    expect(rows).toEqual([
      { x: 0.5, cells: ['1.2000', ''] },
      { x: 1, cells: ['0.9000', '0.6108'] },
    ]);
  });
});

describe('ChartSeries', () => {
  const epoch = (n: number, extra: Partial<Record<string, number | null>> = {}) => ({
    epoch: n,
    epochs: 3,
    cost: 1 / n,
    trainAccuracy: 0.5 + n / 10,
    validationCost: null,
    validationAccuracy: null,
    testCost: 2 / n,
    testAccuracy: 0.4 + n / 10,
    seconds: n,
    evaluationSeconds: 0.1,
    samplesPerSecond: 100,
    ...extra,
  });

  it('keeps the test cost and each epoch’s seconds, and has no validation series without a split', () => {
    const series = new ChartSeries();
    series.replace([epoch(1), epoch(2)], [[0.5, 2]]);
    expect(series.testCost).toEqual([
      { x: 1, y: 2 },
      { x: 2, y: 1 },
    ]);
    expect(series.validationCost).toEqual([]);
    expect(series.epochSeconds).toEqual([1, 2]);
    series.addEpoch(epoch(3, { validationCost: 0.7 }));
    expect(series.validationCost).toEqual([{ x: 3, y: 0.7 }]);
    series.truncate(2);
    expect(series.validationCost).toEqual([]);
    expect(series.epochSeconds).toEqual([1, 2]);
  });
});
