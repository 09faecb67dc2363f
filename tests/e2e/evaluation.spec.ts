/**
 * The Evaluation view against the command line: a small model trained in the page on the real training set, with
 * a test set of unequal classes, saved from the page and evaluated by `fmnist evaluate --json`. The per-class
 * table and its macro and weighted averages, the matrix as percentages of the true class, sorting by mouse and
 * keyboard, and the matrix's shading, light and dark, at the two window sizes the layout is judged at.
 */

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { CLASS_NAMES, IMAGE_SIZE } from '@core/shared/dataset';
import { realDataset, toKaggleCsv } from '../helpers/data';
import { expect, ROOT, startBrowserHost, tempDataFolder, test } from './fixtures';

/**
 * Images per class of the test set (the first of each class in the real test set): far from equal, so the
 * weighted average (by support) differs from the macro one, and Shirt, the hardest class, weighs most.
 */
const PER_CLASS = [300, 50, 200, 100, 250, 60, 400, 80, 150, 120];
const TEST_COUNT = PER_CLASS.reduce((a, b) => a + b, 0); // 1,710

/** `fmnist evaluate --json`'s answer, the part this test reads. */
interface CliEvaluation {
  count: number;
  accuracy: number;
  confusionMatrix: number[][];
  classes: { name: string; precision: number; recall: number; f1: number; support: number }[];
}

const pct = (fraction: number): string => `${(fraction * 100).toFixed(1)}%`;

/** WCAG 2's relative luminance of a computed colour "rgb(r, g, b)", written out from the standard. */
function luminance(css: string): number {
  const [r, g, b] = /rgba?\((\d+), (\d+), (\d+)/
    .exec(css)!
    .slice(1)
    .map((c) => {
      const s = Number(c) / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
const contrast = (a: string, b: string): number => {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high + 0.05) / (low + 0.05);
};

/** The row of a table whose row header is `name`. */
const rowOf = (table: Locator, name: string): Locator =>
  table.getByRole('row').filter({ has: table.page().getByRole('rowheader', { name, exact: true }) });

/** The confusion matrix's cells as shown (counts or percentages), read row by row by the class names. */
async function readMatrix(page: Page): Promise<number[][]> {
  const table = page.getByRole('table', { name: 'Confusion matrix' });
  const matrix: number[][] = [];
  for (const name of CLASS_NAMES)
    matrix.push((await rowOf(table, name).getByRole('cell').allInnerTexts()).map((text) => Number(text.trim())));
  return matrix;
}

/** Each matrix cell's computed colours and frame, row by row. */
async function cellColours(page: Page): Promise<{ background: string; text: string; outline: string }[][]> {
  const cells = await page
    .getByRole('table', { name: 'Confusion matrix' })
    .getByRole('cell')
    .evaluateAll((elements) => {
      // (The tests' TypeScript project has Node's types, not the DOM's: hence the cast.)
      const style = (
        globalThis as unknown as {
          getComputedStyle(e: unknown): { backgroundColor: string; color: string; outlineStyle: string };
        }
      ).getComputedStyle;
      return elements.map((element) => {
        const computed = style(element);
        return { background: computed.backgroundColor, text: computed.color, outline: computed.outlineStyle };
      });
    });
  expect(cells).toHaveLength(100);
  return Array.from({ length: 10 }, (_, r) => cells.slice(r * 10, r * 10 + 10));
}

test('the per-class table and its averages match fmnist evaluate; percentages, sorting and the dark matrix', async ({
  page,
}) => {
  // The test set: the first PER_CLASS[c] images of each class c, as a Kaggle CSV.
  const real = await realDataset('test');
  const picked: number[] = [];
  const taken = new Array<number>(10).fill(0);
  for (let i = 0; i < real.count; i++) {
    const label = real.labels[i];
    if (taken[label] < PER_CLASS[label]) {
      picked.push(i);
      taken[label]++;
    }
  }
  expect(taken).toEqual(PER_CLASS);
  const images = new Uint8Array(picked.length * IMAGE_SIZE);
  picked.forEach((i, k) => images.set(real.images.subarray(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE), k * IMAGE_SIZE));
  const testCsv = test.info().outputPath('unequal-test.csv');
  writeFileSync(
    testCsv,
    toKaggleCsv({
      images,
      labels: Uint8Array.from(picked, (i) => real.labels[i]),
      count: picked.length,
      source: 'unequal',
    }),
  );

  const host = await startBrowserHost();
  try {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(host.url);
    // The real data loads by itself at the first start; then the test set is replaced by the file above.
    await expect(page.getByTestId('train-count')).toHaveText('60,000 images');
    await expect(page.getByTestId('test-count')).toHaveText('10,000 images');
    await page.getByLabel('Test data files').setInputFiles(testCsv);
    await expect(page.getByTestId('test-count')).toHaveText(`${TEST_COUNT.toLocaleString('en-US')} images`);
    for (const [label, value] of Object.entries({
      Epochs: '1',
      'Training subset size': '6000',
      'Hidden layers': '64',
      Seed: '11',
    }))
      await page.getByLabel(label, { exact: true }).fill(value);
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    // (Filtered by its text: the Charts tab's smoothing read-out is an <output>, also a status.)
    await expect(page.getByRole('status').filter({ hasText: /^Finished 1 epoch\.$/ })).toBeVisible({
      timeout: 120_000,
    });

    // The same model, saved from the page and evaluated by the command line on the same test file.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Save checkpoint' }).click();
    const checkpoint = test.info().outputPath('model.safetensors');
    await (await download).saveAs(checkpoint);
    const evaluated = spawnSync(
      process.execPath,
      [join(ROOT, 'out', 'node', 'fmnist.js'), 'evaluate', '--model', checkpoint, '--test', testCsv, '--json'],
      {
        encoding: 'utf8',
        timeout: 60_000,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, FMNIST_STUDIO_DATA: tempDataFolder() },
      },
    );
    expect(evaluated.stderr).toBe('');
    expect(evaluated.status).toBe(0);
    const cli = JSON.parse(evaluated.stdout) as CliEvaluation;
    expect(cli.count).toBe(TEST_COUNT);

    await page.getByRole('tab', { name: 'Evaluation', exact: true }).click();
    const evaluation = page.getByRole('region', { name: 'Evaluation' });
    await expect(evaluation.getByTestId('evaluation-summary')).toContainText(
      `Test accuracy ${(cli.accuracy * 100).toFixed(2)}%`,
    );
    const counts = await readMatrix(page);
    expect(counts).toEqual(cli.confusionMatrix);
    expect(counts.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(PER_CLASS);

    // The per-class table, read through its headers' and rows' names, against the command line's numbers.
    const metrics = page.getByRole('table', { name: 'Per-class metrics' });
    const headers = metrics.getByRole('columnheader');
    const COLUMNS = ['Class', 'Precision', 'Recall', 'F1', 'Support'];
    await expect(headers).toHaveCount(COLUMNS.length);
    for (const [i, name] of COLUMNS.entries()) await expect(headers.nth(i)).toHaveAccessibleName(name);
    const shown = async (name: string): Promise<string[]> =>
      (await rowOf(metrics, name).getByRole('cell').allInnerTexts()).map((text) => text.trim());
    for (const m of cli.classes)
      expect(await shown(m.name)).toEqual([
        pct(m.precision),
        pct(m.recall),
        pct(m.f1),
        m.support.toLocaleString('en-US'),
      ]);

    // The averages, worked out here from the command line's per-class numbers: the plain mean over the ten
    // classes (all present), and the mean weighted by support. With Shirt (400 images) the hardest class, the two
    // differ; weighted recall is the accuracy.
    const mean = (key: 'precision' | 'recall' | 'f1'): number => cli.classes.reduce((s, m) => s + m[key], 0) / 10;
    const weighted = (key: 'precision' | 'recall' | 'f1'): number =>
      cli.classes.reduce((s, m) => s + m[key] * m.support, 0) / TEST_COUNT;
    const total = TEST_COUNT.toLocaleString('en-US');
    expect(await shown('Macro average')).toEqual([pct(mean('precision')), pct(mean('recall')), pct(mean('f1')), total]);
    expect(await shown('Weighted average')).toEqual([
      pct(weighted('precision')),
      pct(weighted('recall')),
      pct(weighted('f1')),
      total,
    ]);
    expect(Math.abs(weighted('recall') - cli.accuracy)).toBeLessThan(1e-12);
    expect(pct(mean('f1'))).not.toBe(pct(weighted('f1')));

    // Percent of the true class: each row adds up to 100%, each cell its count over the row's.
    await evaluation.getByRole('radio', { name: 'Percent of the true class' }).check();
    const percentages = await readMatrix(page);
    for (const [r, row] of percentages.entries()) {
      expect(Math.abs(row.reduce((a, b) => a + b, 0) - 100)).toBeLessThanOrEqual(0.1);
      for (const [c, value] of row.entries())
        expect(Math.abs(value - (counts[r][c] / PER_CLASS[r]) * 100)).toBeLessThan(0.1);
    }
    // Back to counts.
    await evaluation.getByRole('radio', { name: 'Counts' }).check();
    expect(await readMatrix(page)).toEqual(counts);

    // Sorting: by F1 with the mouse (largest first), the order the command line's F1s give; then the other way
    // round from the keyboard. The averages stay under the classes.
    const f1 = metrics.getByRole('columnheader', { name: 'F1', exact: true });
    await f1.getByRole('button').click();
    await expect(f1).toHaveAttribute('aria-sort', 'descending');
    await expect(metrics.getByRole('columnheader', { name: 'Class', exact: true })).not.toHaveAttribute(
      'aria-sort',
      /./,
    );
    // (A stable sort of the classes in label order, so equal F1s would keep that order, as the page keeps them.)
    const byF1 = (sign: number): string[] => [...cli.classes].sort((a, b) => sign * (a.f1 - b.f1)).map((m) => m.name);
    const AVERAGES = ['Macro average', 'Weighted average'];
    await expect(metrics.getByRole('rowheader')).toHaveText([...byF1(-1), ...AVERAGES]);
    await f1.getByRole('button').focus();
    await page.keyboard.press('Enter');
    await expect(f1).toHaveAttribute('aria-sort', 'ascending');
    await expect(metrics.getByRole('rowheader')).toHaveText([...byF1(1), ...AVERAGES]);
    // By support, from the keyboard (Tab from F1's button to Support's): the sizes chosen above, largest first.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await expect(metrics.getByRole('columnheader', { name: 'Support', exact: true })).toHaveAttribute(
      'aria-sort',
      'descending',
    );
    // PER_CLASS sorted by hand: 400 Shirt, 300 T-shirt/top, 250 Coat, 200 Pullover, 150 Bag, 120 Ankle boot,
    // 100 Dress, 80 Sneaker, 60 Sandal, 50 Trouser.
    const bySupport = ['Shirt', 'T-shirt/top', 'Coat', 'Pullover', 'Bag', 'Ankle boot', 'Dress', 'Sneaker'];
    await expect(metrics.getByRole('rowheader')).toHaveText([...bySupport, 'Sandal', 'Trouser', ...AVERAGES]);

    // Each size and theme: nothing wider than the panel, both tables reachable by scrolling it, every cell's text
    // readable on its shade, the right answers framed; in dark mode no cell is light.
    for (const [width, height] of [
      [1024, 700],
      [1280, 900],
    ]) {
      await page.setViewportSize({ width, height });
      for (const theme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: theme });
        const fits = await evaluation.evaluate((element) => ({
          overflow: element.scrollWidth - element.clientWidth,
          right: element.getBoundingClientRect().right,
          page: (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
            .documentElement.scrollWidth,
        }));
        expect(fits.overflow, `${width}×${height} ${theme}`).toBeLessThanOrEqual(0);
        expect(fits.right).toBeLessThanOrEqual(width);
        expect(fits.page).toBeLessThanOrEqual(width);
        for (const last of [
          rowOf(page.getByRole('table', { name: 'Confusion matrix' }), 'Ankle boot'),
          rowOf(metrics, 'Weighted average'),
        ]) {
          await last.scrollIntoViewIfNeeded();
          await expect(last).toBeInViewport({ ratio: 1 });
        }
        await expect(evaluation.getByRole('img', { name: /^Colour scale: share of the true class/ })).toBeVisible();
        const cells = await cellColours(page);
        for (const [r, row] of cells.entries()) {
          for (const [c, cell] of row.entries()) {
            expect(contrast(cell.background, cell.text), `${theme} cell ${r},${c}`).toBeGreaterThanOrEqual(4.5);
            expect(cell.outline).toBe(r === c ? 'solid' : 'none');
          }
        }
        // An empty cell has the panel's colour, white or near black; the diagonal cell of the class recalled best
        // stands well apart from it.
        const emptyCell = cells.flat().find((_, i) => counts[Math.floor(i / 10)][i % 10] === 0);
        expect(emptyCell).toBeDefined();
        if (theme === 'light') expect(luminance(emptyCell!.background)).toBeGreaterThan(0.95);
        else expect(luminance(emptyCell!.background)).toBeLessThan(0.05);
        const best = PER_CLASS.map((n, r) => counts[r][r] / n).reduce((b, v, r, all) => (v > all[b] ? r : b), 0);
        expect(contrast(cells[best][best].background, emptyCell!.background)).toBeGreaterThan(2);
        // In dark mode, not a light block: every cell darker than a mid grey (luminance 0.2; white is 1).
        if (theme === 'dark')
          expect(Math.max(...cells.flat().map((cell) => luminance(cell.background)))).toBeLessThan(0.2);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });

    // A cell still opens the gallery on exactly its images: the most common mistake.
    let worst = [0, 1];
    for (const [r, row] of counts.entries())
      for (const [c, n] of row.entries()) if (r !== c && n > counts[worst[0]][worst[1]]) worst = [r, c];
    const [r, c] = worst;
    await rowOf(page.getByRole('table', { name: 'Confusion matrix' }), CLASS_NAMES[r])
      .getByRole('cell')
      .nth(c)
      .getByRole('button')
      .click();
    await expect(page.getByRole('tab', { name: 'Gallery', exact: true })).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByTestId('gallery-count')).toHaveText(`${counts[r][c]} image${counts[r][c] === 1 ? '' : 's'}`);
    for (const name of await page
      .getByRole('img', { name: /^Predicted / })
      .evaluateAll((elements) => elements.map((e) => e.getAttribute('aria-label')!)))
      expect(name).toMatch(new RegExp(`^Predicted ${CLASS_NAMES[c]}, true ${CLASS_NAMES[r]}, [\\d.]+%$`));
  } finally {
    host.process.kill('SIGINT');
  }
});
