/**
 * The network view's pictures without the DOM: colour scales at hand-picked values, where tiles, cells and
 * matrix cells go and which one is under a point, and what painting puts in the pixels. Every expected value is
 * worked out by hand in the comments.
 */

import { describe, expect, it } from 'vitest';
import {
  ACTIVATION_SCALES,
  activationColumns,
  cellAt,
  cellOrigin,
  type ColourStop,
  ColourTable,
  colourAt,
  cssGradient,
  fitCells,
  fitTiles,
  formatValue,
  gridLayout,
  matrixCellAt,
  matrixLayout,
  ownLimit,
  paintCells,
  paintMatrix,
  paintTiles,
  pointIn,
  unitStatistics,
  WEIGHT_SCALES,
} from '../../../src/renderer/src/lib/weight-maps';

/** Blue, white, red: halfway between two stops is the mean of their channels. */
const BWR: ColourStop[] = [
  { at: -1, rgb: [0, 0, 255] },
  { at: 0, rgb: [255, 255, 255] },
  { at: 1, rgb: [255, 0, 0] },
];

/** A blank buffer to paint into: transparent black. */
const pixels = (width: number, height: number) => ({ width, height, data: new Uint8ClampedArray(width * height * 4) });
const at = (target: ReturnType<typeof pixels>, x: number, y: number) =>
  Array.from(target.data.subarray((y * target.width + x) * 4, (y * target.width + x) * 4 + 4));

describe('colour scales', () => {
  it('gives the stops’ colours at the stops and blends linearly between them', () => {
    const light = WEIGHT_SCALES.light;
    expect(colourAt(light, -1)).toEqual([33, 102, 172]);
    expect(colourAt(light, 0)).toEqual([247, 247, 247]);
    expect(colourAt(light, 1)).toEqual([178, 24, 43]);
    // Halfway from 0 (247, 247, 247) to 0.5 (244, 165, 130): 245.5, 206, 188.5, rounded half up.
    expect(colourAt(light, 0.25)).toEqual([246, 206, 189]);
    // Halfway from −1 (33, 102, 172) to −0.5 (146, 197, 222): 89.5, 149.5, 197.
    expect(colourAt(light, -0.75)).toEqual([90, 150, 197]);
    // In dark mode zero is near black, so the gaps and the faint weights stay dark.
    expect(colourAt(WEIGHT_SCALES.dark, 0)).toEqual([24, 24, 27]);
    // Activations: halfway from 0 (236, 232, 228) to 0.25 (253, 208, 162): 244.5, 220, 195.
    expect(colourAt(ACTIVATION_SCALES.light, 0.125)).toEqual([245, 220, 195]);
    expect(colourAt(ACTIVATION_SCALES.dark, 1)).toEqual([255, 232, 176]);
  });

  it('clamps to its ends, NaN included', () => {
    expect(colourAt(BWR, 7)).toEqual([255, 0, 0]);
    expect(colourAt(BWR, -7)).toEqual([0, 0, 255]);
    expect(colourAt(BWR, Number.NaN)).toEqual([0, 0, 255]);
  });

  it('makes the legend’s CSS gradient with the stops at their places', () => {
    expect(cssGradient(BWR)).toBe(
      'linear-gradient(to right, rgb(0 0 255) 0%, rgb(255 255 255) 50%, rgb(255 0 0) 100%)',
    );
  });

  it('samples a table and looks values up at the nearest entry', () => {
    // Five entries at −1, −0.5, 0, 0.5, 1; −0.5 is halfway blue to white: 127.5 rounds to 128.
    const table = new ColourTable(BWR, 5);
    expect(Array.from(table.rgb)).toEqual([0, 0, 255, 128, 128, 255, 255, 255, 255, 255, 128, 128, 255, 0, 0]);
    // 0.3 is (0.3 + 1) / 2 · 4 = 2.6 entries in: entry 3.
    expect(table.index(0.3)).toBe(3);
    expect(table.index(-5)).toBe(0);
    expect(table.index(9)).toBe(4);
    expect(table.index(Number.NaN)).toBe(0);
  });
});

describe('tile layout', () => {
  it('places cells with gaps between them and finds the cell under a point', () => {
    // 512 tiles of 28 in 21 columns with gaps of 2: 21·28 + 20·2 = 628 wide; 25 rows (21·24 = 504 < 512),
    // 25·28 + 24·2 = 748 tall.
    const layout = gridLayout(512, 21, 28, 2);
    expect(layout).toMatchObject({ columns: 21, rows: 25, width: 628, height: 748 });
    expect(cellAt(layout, 0, 0)).toBe(0);
    expect(cellAt(layout, 27, 27)).toBe(0);
    // x 28 and 29 are the gap; x 30 starts the second column.
    expect(cellAt(layout, 28, 5)).toBeNull();
    expect(cellAt(layout, 29, 5)).toBeNull();
    expect(cellAt(layout, 30, 5)).toBe(1);
    // Row 24 starts at y 24·30 = 720 with tile 24·21 = 504; its 9th column would be tile 512, past the last.
    expect(cellAt(layout, 0, 720)).toBe(504);
    expect(cellAt(layout, 7 * 30, 720)).toBe(511);
    expect(cellAt(layout, 8 * 30, 720)).toBeNull();
    expect(cellAt(layout, -1, 0)).toBeNull();
    expect(cellAt(layout, 628, 0)).toBeNull();
    expect(cellOrigin(layout, 505)).toEqual({ x: 30, y: 720 });
  });

  it('finds the pointer’s place in a picture, whole pixels kept whole', () => {
    // 20 pixels into a 319-pixel picture drawn at its own size is pixel 20 exactly: the start of the third
    // 9-pixel cell with 1-pixel gaps, not the gap before it.
    const box = { left: 509, top: 672, width: 319, height: 159 };
    expect(pointIn(box, 529, 677, 319, 159)).toEqual({ x: 20, y: 5 });
    expect(cellAt(gridLayout(512, 32, 9, 1), 20, 5)).toBe(2);
    // Drawn at twice its size: 20 pixels of the box are 10 of the picture.
    expect(pointIn({ ...box, width: 638, height: 318 }, 529, 682, 319, 159)).toEqual({ x: 10, y: 5 });
  });

  it('zooms the tiles as far as they fit the height', () => {
    // 512 tiles across 652 pixels: even at zoom 2 (56-pixel tiles, 11 columns, 47 rows) they are too tall for
    // 520, so zoom 1: (652 + 2) / 30 = 21.8, 21 columns.
    expect(fitTiles(512, 652, 520)).toMatchObject({ zoom: 1, columns: 21, cell: 28, width: 628 });
    // 64 tiles: zoom 3 is 7 columns, 10 rows, 10·86 − 2 = 858 tall; zoom 2 is 11 columns ((652 + 2) / 58 = 11.3),
    // 6 rows, 6·58 − 2 = 346 tall, which fits.
    expect(fitTiles(64, 652, 520)).toMatchObject({ zoom: 2, columns: 11, rows: 6, width: 636, height: 346 });
    // 10 tiles at zoom 4 (112 pixels): (652 + 2) / 114 = 5.7, 5 columns, 2 rows, 2·112 + 2 = 226 tall.
    expect(fitTiles(10, 652, 520)).toMatchObject({ zoom: 4, columns: 5, width: 568, height: 226 });
    // Narrower than one tile: still one column.
    expect(fitTiles(3, 10, 520)).toMatchObject({ columns: 1 });
  });

  it('lays activations out about twice as wide as tall', () => {
    // ⌈√1024⌉ = 32; ⌈√512⌉ = 23 (22.6…); 10 units: at least 8 columns; 4 units: one row of 4.
    expect(activationColumns(512)).toBe(32);
    expect(activationColumns(256)).toBe(23);
    expect(activationColumns(10)).toBe(8);
    expect(activationColumns(4)).toBe(4);
    // 512 units across 300 pixels: (300 + 1) / 32 = 9.4, cells of 9 − 1 = 8; 32·8 + 31 = 287 wide, 16 rows tall.
    expect(fitCells(512, 300)).toMatchObject({ columns: 32, cell: 8, width: 287, rows: 16, height: 143 });
    // Very wide: cells stop at 16.
    expect(fitCells(10, 2000).cell).toBe(16);
  });

  it('lays a matrix out in whole pixels and finds the weight under a point', () => {
    expect(matrixLayout(512, 256, 650)).toEqual({
      inputs: 512,
      outputs: 256,
      columnWidth: 1,
      rowHeight: 1,
      width: 512,
      height: 256,
    });
    // 650 / 256 = 2.5: columns of 2; the output rows at least 16 tall for their class names.
    const output = matrixLayout(256, 10, 650, { minRowHeight: 16 });
    expect(output).toMatchObject({ columnWidth: 2, rowHeight: 16, width: 512, height: 160 });
    // 650 / 64 = 10.2, held to 8.
    expect(matrixLayout(64, 32, 650)).toMatchObject({ columnWidth: 8, rowHeight: 8, width: 512, height: 256 });
    expect(matrixCellAt(output, 5, 17)).toEqual({ input: 2, output: 1 });
    expect(matrixCellAt(output, 512, 0)).toBeNull();
    expect(matrixCellAt(output, 0, 160)).toBeNull();
    expect(matrixCellAt(output, -1, 0)).toBeNull();
  });
});

describe('weights and their pictures', () => {
  it('sums each unit’s incoming weights up', () => {
    // Three inputs, two units: unit 0 gets 1, −3, 2; unit 1 gets −2, 0.5, 0.
    const stats = unitStatistics(Float32Array.of(1, -2, -3, 0.5, 2, 0), 3, 2);
    expect(Array.from(stats.min)).toEqual([-3, -2]);
    expect(Array.from(stats.max)).toEqual([2, 0.5]);
    expect(stats.norm[0]).toBeCloseTo(Math.sqrt(14), 12); // 1 + 9 + 4
    expect(stats.norm[1]).toBeCloseTo(Math.sqrt(4.25), 12); // 4 + 0.25
    expect(stats.largest).toBe(3);
    expect(ownLimit(stats, 0)).toBe(3);
    expect(ownLimit(stats, 1)).toBe(2);
  });

  it('paints tiles in the order given, each on its scale, and leaves the gaps transparent', () => {
    // Tiles of 2×2 (four inputs), two units; canonical [4 × 2]: unit 0 gets 1, 0, −1, 0.5; unit 1 gets 0.25, 0, 0, 0.
    const weights = Float32Array.of(1, 0.25, 0, 0, -1, 0, 0.5, 0);
    const layout = { ...gridLayout(2, 2, 2, 1), zoom: 1 };
    expect(layout).toMatchObject({ width: 5, height: 2 });
    const target = pixels(5, 2);
    const table = new ColourTable(BWR, 5);
    const stats = unitStatistics(weights, 4, 2);
    // Unit 1 first, on its own scale (0.25, so its 0.25 is full red); unit 0 second on its own (1).
    paintTiles(target, layout, weights, 2, [1, 0], (unit) => ownLimit(stats, unit), table, 2);
    expect(at(target, 0, 0)).toEqual([255, 0, 0, 255]);
    expect(at(target, 1, 0)).toEqual([255, 255, 255, 255]);
    expect(at(target, 2, 0)).toEqual([0, 0, 0, 0]); // the gap
    expect(at(target, 2, 1)).toEqual([0, 0, 0, 0]);
    expect(at(target, 3, 0)).toEqual([255, 0, 0, 255]); // unit 0's 1
    expect(at(target, 4, 0)).toEqual([255, 255, 255, 255]); // its 0
    expect(at(target, 3, 1)).toEqual([0, 0, 255, 255]); // its −1
    expect(at(target, 4, 1)).toEqual([255, 128, 128, 255]); // its 0.5: halfway white to red

    // One shared scale of 1: unit 1's 0.25 is a quarter of the way to red, the nearest entry 0.5 (index 2.5 → 3).
    const shared = pixels(5, 2);
    paintTiles(shared, layout, weights, 2, [1, 0], () => 1, table, 2);
    expect(at(shared, 0, 0)).toEqual([255, 128, 128, 255]);
  });

  it('paints a tile at a zoom as squares of pixels', () => {
    // One 2×2 tile at zoom 2: 4×4 pixels, each weight a 2×2 square.
    const layout = { ...gridLayout(1, 1, 4, 0), zoom: 2 };
    const target = pixels(4, 4);
    paintTiles(target, layout, Float32Array.of(-1, 1, 0, 1), 1, [0], () => 1, new ColourTable(BWR, 5), 2);
    expect([at(target, 0, 0), at(target, 1, 1)]).toEqual([
      [0, 0, 255, 255],
      [0, 0, 255, 255],
    ]);
    expect(at(target, 3, 0)).toEqual([255, 0, 0, 255]);
    expect(at(target, 1, 3)).toEqual([255, 255, 255, 255]);
    expect(at(target, 2, 2)).toEqual([255, 0, 0, 255]);
  });

  it('paints a matrix with a row per unit of the layer', () => {
    // Canonical [2 inputs × 2 units]: input 0 → (0.5, −1), input 1 → (0, 1). Row 0 is unit 0: 0.5, 0.
    const target = pixels(2, 2);
    paintMatrix(target, matrixLayout(2, 2, 2), Float32Array.of(0.5, -1, 0, 1), 1, new ColourTable(BWR, 5));
    expect(at(target, 0, 0)).toEqual([255, 128, 128, 255]);
    expect(at(target, 1, 0)).toEqual([255, 255, 255, 255]);
    expect(at(target, 0, 1)).toEqual([0, 0, 255, 255]);
    expect(at(target, 1, 1)).toEqual([255, 0, 0, 255]);
  });

  it('paints activations from 0 to the largest', () => {
    const table = new ColourTable(
      [
        { at: 0, rgb: [0, 0, 0] },
        { at: 1, rgb: [200, 100, 50] },
      ],
      3,
    );
    // Three units in 2 columns of 1-pixel cells with 1-pixel gaps: at (0, 0), (2, 0) and (0, 2).
    const target = pixels(3, 3);
    paintCells(target, gridLayout(3, 2, 1, 1), Float32Array.of(0, 2, 1), 2, table);
    expect(at(target, 0, 0)).toEqual([0, 0, 0, 255]);
    expect(at(target, 2, 0)).toEqual([200, 100, 50, 255]);
    expect(at(target, 0, 2)).toEqual([100, 50, 25, 255]); // 1 of 2: halfway
    expect(at(target, 1, 0)).toEqual([0, 0, 0, 0]);
  });

  it('writes values with a true minus sign and no negative zero', () => {
    expect(formatValue(-0.2134)).toBe('−0.213');
    expect(formatValue(0.5)).toBe('0.500');
    expect(formatValue(-0.0004)).toBe('0.000');
    expect(formatValue(1.5, 2)).toBe('1.50');
  });
});
