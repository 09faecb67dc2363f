/**
 * The Network view through the UI, at the two window sizes the layout is judged at: the model graph's shapes and
 * parameter count (worked out by hand), the first-layer tiles with gaps, a tile enlarged by click and by keys and
 * closed with Escape, the shared scale against each tile's own, the later layers' heat maps, and an activation
 * read on hover. The weights come from the model's own checkpoint, saved from the page and read here, and the
 * activations from the float64 reference forward pass on the real test image: not from the view's own code.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Locator, Page } from '@playwright/test';
import { type ChildProcess } from 'node:child_process';
import { decodeCheckpoint } from '@core/checkpoint/checkpoint';
import { forward } from '@core/model/reference';
import type { MlpParameters } from '@core/shared/mlp';
import { expect, REAL_DATA_DIR, startBrowserHost, test } from './fixtures';

// One browser host for this file; the model the first hook trains is the one every test looks at.
test.describe.configure({ mode: 'serial' });
let host: { url: string; process: ChildProcess };
let parameters: MlpParameters;

test.beforeAll(async ({ browser }) => {
  host = await startBrowserHost();
  const page = await browser.newPage();
  await page.goto(host.url);
  await expect(page.getByTestId('test-count')).toHaveText('10,000 images', { timeout: 60_000 });
  const settings = { Epochs: '1', 'Training subset size': '3000', 'Hidden layers': '512,256', Seed: '7' };
  for (const [label, value] of Object.entries(settings)) await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Finished 1 epoch.', { timeout: 120_000 });
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Save checkpoint' }).click();
  const file = test.info().outputPath('network.safetensors');
  await (await download).saveAs(file);
  parameters = decodeCheckpoint(readFileSync(file), 'network.safetensors').parameters;
  await page.close();
});
test.afterAll(() => {
  host.process.kill('SIGINT');
});

/** A weight or an activation as the page writes it: three decimals and a true minus sign. */
const written = (value: number): string => {
  const text = value.toFixed(3);
  return Number(text) === 0 ? '0.000' : text.replace('-', '−');
};
const number = (text: string): number => Number(text.replace('−', '-'));

/** Unit `unit`'s 784 incoming weights of the first layer ([784 × 512], row-major). */
const column = (unit: number): number[] => Array.from({ length: 784 }, (_, i) => parameters.weights[0][i * 512 + unit]);

/** The RGBA bytes of pixel (x, y) of a canvas. */
async function pixel(canvas: Locator, x: number, y: number): Promise<number[]> {
  return canvas.evaluate(
    (element, [px, py]) => {
      type Canvas = {
        getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: number[] } };
      };
      return Array.from((element as unknown as Canvas).getContext('2d').getImageData(px, py, 1, 1).data);
    },
    [x, y],
  );
}

/** Opens the Network view and says how long its first draw took (from the click to the tiles painted). */
async function openNetwork(page: Page): Promise<number> {
  await page.goto(host.url);
  await expect(page.getByTestId('model-summary')).toContainText('784-512-256-10, 1 epoch');
  // The model is fetched with another view first, so what is timed is the Network view's own drawing.
  await page.getByRole('tab', { name: 'Evaluation', exact: true }).click();
  await expect(page.getByTestId('evaluation-summary')).toBeVisible();
  return page.evaluate(async () => {
    type Element = { click(): void; textContent: string | null; width?: number };
    type Document = { querySelectorAll(selector: string): Element[]; querySelector(selector: string): Element | null };
    const document = (globalThis as unknown as { document: Document }).document;
    const frame = () =>
      new Promise((resolve) =>
        (globalThis as unknown as { requestAnimationFrame(callback: () => void): number }).requestAnimationFrame(() =>
          resolve(null),
        ),
      );
    const start = performance.now();
    [...document.querySelectorAll('[role="tab"]')].find((tab) => tab.textContent?.trim() === 'Network')!.click();
    for (let i = 0; i < 600; i++) {
      await frame();
      const canvas = document.querySelector('[aria-label^="First-layer weights"] canvas');
      if (canvas?.width) break;
    }
    await frame();
    return performance.now() - start;
  });
}

for (const [width, height] of [
  [1024, 700],
  [1280, 900],
] as const) {
  test(`at ${width}×${height}: the graph, the tiles enlarged and rescaled, the later layers and an activation`, async ({
    page,
  }) => {
    await page.setViewportSize({ width, height });
    const firstDraw = await openNetwork(page);
    console.log(`network view at ${width}×${height}: first draw ${Math.round(firstDraw)} ms`);
    // About 70 ms here for 512 tiles, 512×256 and 256×10 weights; DOM nodes per tile would take far longer.
    expect(firstDraw).toBeLessThan(500);

    // The graph: 784·512 + 512 = 401,920; 512·256 + 256 = 131,328; 256·10 + 10 = 2,570; in all 535,818.
    const graph = page.getByRole('figure', { name: 'Model: 784 → 512 → 256 → 10, 535,818 parameters' });
    await expect(graph).toBeVisible();
    const layers = await graph
      .getByRole('listitem')
      .evaluateAll((items) => items.map((item) => item.getAttribute('aria-label')));
    expect(layers).toEqual([
      'Input: 784 pixels (28×28)',
      'Hidden layer 1: 512 units, ReLU; weights 784×512, biases 512; 401,920 parameters',
      'Hidden layer 2: 256 units, ReLU; weights 512×256, biases 256; 131,328 parameters',
      'Output: 10 classes, softmax; weights 256×10, biases 10; 2,570 parameters',
    ]);

    // The tiles: 512 of 28×28 with gaps of 2 pixels between them (transparent), on their own scales.
    const picture = page.getByRole('img', { name: /^First-layer weights: 512 tiles of 28×28/ });
    await expect(picture).toHaveAccessibleName(
      'First-layer weights: 512 tiles of 28×28, ordered by unit number, each on its own scale',
    );
    const canvas = picture.locator('canvas');
    expect((await pixel(canvas, 27, 0))[3]).toBe(255);
    expect((await pixel(canvas, 28, 0))[3]).toBe(0);
    expect((await pixel(canvas, 29, 0))[3]).toBe(0);
    expect((await pixel(canvas, 30, 0))[3]).toBe(255);

    // A click on the first tile enlarges unit 1 with its smallest and largest weight; Escape closes it.
    const tiles = page.getByRole('button', { name: /^Enlarge / });
    await tiles.click({ position: { x: 14, y: 14 } });
    const dialog = page.getByRole('dialog', { name: 'Unit 1 of hidden layer 1' });
    await expect(dialog).toBeVisible();
    const first = column(0);
    await expect(dialog.getByTestId('tile-figures')).toContainText(
      `Weights from ${written(Math.min(...first))} to ${written(Math.max(...first))};`,
    );
    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog')).toHaveCount(0);
    await expect(tiles).toBeFocused();
    // The keys: the next tile, Enter; then Escape again.
    await page.keyboard.press('ArrowRight');
    await expect(tiles).toHaveAccessibleName(/^Enlarge unit 2 of hidden layer 1;/);
    await page.keyboard.press('Enter');
    const second = column(1);
    await expect(
      page.getByRole('dialog', { name: 'Unit 2 of hidden layer 1' }).getByTestId('tile-figures'),
    ).toContainText(`Weights from ${written(Math.min(...second))} to ${written(Math.max(...second))};`);
    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog')).toHaveCount(0);

    // Each tile on its own scale: unit 1's weight of the largest magnitude is the end of the scale. On the shared
    // scale (the largest magnitude of all 401,408 weights, unit 1's being smaller) the same pixel is paler.
    const strongest = first.reduce((best, w, i) => (Math.abs(w) > Math.abs(first[best]) ? i : best), 0);
    const [x, y] = [strongest % 28, Math.floor(strongest / 28)];
    const end = first[strongest] > 0 ? [178, 24, 43, 255] : [33, 102, 172, 255]; // RdBu's ends
    expect(await pixel(canvas, x, y)).toEqual(end);
    const largest = parameters.weights[0].reduce((m, w) => Math.max(m, Math.abs(w)), 0);
    expect(Math.abs(first[strongest])).toBeLessThan(largest);
    await page.getByRole('combobox', { name: /^Scale/ }).selectOption({ label: 'One for all tiles' });
    await expect(picture).toHaveAccessibleName(/, on one shared scale$/);
    await expect(page.getByRole('img', { name: /^Colour scale shared by all tiles/ })).toHaveAccessibleName(
      `Colour scale shared by all tiles: blue ${written(-largest)}, neutral 0, red ${written(largest)}`,
    );
    await expect.poll(() => pixel(canvas, x, y)).not.toEqual(end);
    // Dark mode repaints on its own scale: the strongest weight of the layer is the dark scale's end there.
    await page.emulateMedia({ colorScheme: 'dark' });
    const tileOfLargest = Array.from({ length: 512 }, (_, unit) => unit).find((unit) =>
      column(unit).some((w) => Math.abs(w) === largest),
    )!;
    const weightOfLargest = column(tileOfLargest).findIndex((w) => Math.abs(w) === largest);
    // Tiles of 28 with gaps of 2 across the canvas: its width is 30 · columns − 2.
    const columns = Math.floor(((await canvas.evaluate((c) => (c as unknown as { width: number }).width)) + 2) / 30);
    const [tx, ty] = [(tileOfLargest % columns) * 30, Math.floor(tileOfLargest / columns) * 30];
    const darkEnd = column(tileOfLargest)[weightOfLargest] > 0 ? [255, 128, 104, 255] : [120, 190, 255, 255];
    await expect
      .poll(() => pixel(canvas, tx + (weightOfLargest % 28), ty + Math.floor(weightOfLargest / 28)))
      .toEqual(darkEnd);
    await page.emulateMedia({ colorScheme: 'light' });

    // The later layers as heat maps, each with its own range.
    const range = (weights: Float32Array) => {
      const low = weights.reduce((m, w) => Math.min(m, w), Infinity);
      const high = weights.reduce((m, w) => Math.max(m, w), -Infinity);
      return `from ${written(low)} to ${written(high)}`;
    };
    await expect(page.getByRole('img', { name: /^Hidden layer 2 weights/ })).toHaveAccessibleName(
      `Hidden layer 2 weights: 256 rows by 512 columns, ${range(parameters.weights[1])}`,
    );
    await expect(page.getByRole('img', { name: /^Output layer weights/ })).toHaveAccessibleName(
      `Output layer weights: 10 rows by 256 columns, ${range(parameters.weights[2])}`,
    );

    // The activations of test image 0, against the reference forward pass of the real image.
    await page.getByLabel('Test image', { exact: true }).fill('0');
    await page.getByLabel('Test image', { exact: true }).press('Enter');
    await expect(page.getByRole('heading', { name: 'Activations of test image 0' })).toBeVisible();
    const images = gunzipSync(readFileSync(join(REAL_DATA_DIR, 't10k-images-idx3-ubyte.gz'))).subarray(16);
    const input = Float64Array.from(images.subarray(0, 784), (p) => p / 255);
    const hidden = forward(parameters, input, 1)[1];
    const top = Array.from(hidden.keys()).sort((a, b) => hidden[b] - hidden[a])[0];
    const map = page.getByRole('img', { name: /^Hidden layer 1 activations/ });
    await expect(map).toHaveAccessibleName(
      /^Hidden layer 1 activations: \d+ of 512 units active, .*; most active unit/,
    );
    const [, mostActive, itsValue] = /; most active unit (\d+) \(([\d.]+)\)/.exec(
      (await map.getAttribute('aria-label'))!,
    )!;
    expect(Number(mostActive)).toBe(top + 1);
    expect(Math.abs(Number(itsValue) - hidden[top])).toBeLessThanOrEqual(0.0006);
    expect(await map.getAttribute('aria-label')).toMatch(
      new RegExp(`^Hidden layer 1 activations: ${hidden.filter((a) => a > 0).length} of 512 units active`),
    );
    // 512 units in ⌈√1024⌉ = 32 columns of square cells with 1-pixel gaps: the cell is (width + 1) / 32 − 1.
    const mapWidth = (await map.locator('canvas').boundingBox())!.width;
    const cell = (mapWidth + 1) / 32 - 1;
    const at = (unit: number) => ({
      x: (unit % 32) * (cell + 1) + cell / 2,
      y: Math.floor(unit / 32) * (cell + 1) + cell / 2,
    });
    for (const unit of [top, 5]) {
      await map.locator('canvas').hover({ position: at(unit) });
      const tip = page.getByRole('tooltip');
      await expect(tip).toHaveAccessibleName(new RegExp(`^Hidden layer 1, unit ${unit + 1}: [\\d.]+$`));
      const shown = number((await tip.innerText()).split(': ')[1]);
      expect(Math.abs(shown - hidden[unit])).toBeLessThanOrEqual(0.0006);
    }
  });
}
