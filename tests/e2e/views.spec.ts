/**
 * The training charts and the numbers around them as a TensorBoard user reads them, at the two window sizes the
 * layout is judged at (1024×700 and 1280×900), light and dark: the chart tables against the run's record as the
 * CLI prints it, zoom, log scale and the time axis; a stopped run shown at its last whole epoch; why Start is
 * unavailable; what a preset changed; the skip link, the folding side panel, Escape on the image details,
 * probabilities that tell 99.97% from 100%, and a save's suggested name and confirmation.
 */

import type { Locator, Page } from '@playwright/test';
import type { EpochSummary } from '@core/shared/contract';
import { formatDuration } from '@core/shared/format';
import { loadCheckpoint } from '@core/checkpoint/checkpoint';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backgroundLuminance, cliJson, expect, ROOT, startBrowserHost, tempDataFolder, test } from './fixtures';
import type { ChildProcess } from 'node:child_process';

test.describe.configure({ mode: 'serial' });
const dataFolder = tempDataFolder();
let host: { url: string; process: ChildProcess };
test.beforeAll(async () => {
  host = await startBrowserHost(dataFolder);
});
test.afterAll(() => {
  host.process.kill('SIGINT');
});

const SIZES = [
  [1024, 700],
  [1280, 900],
] as const;
const THEMES = ['light', 'dark'] as const;

/** The newest run as the CLI reads it from the host's data folder, with its epochs. */
function newestRun(): { id: string; history: EpochSummary[] } {
  const { runs } = cliJson(dataFolder, ['runs', '--json']) as { runs: { id: string; startedAt: string }[] };
  const id = [...runs].sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0].id;
  return cliJson(dataFolder, ['runs', 'show', id, '--json']) as { id: string; history: EpochSummary[] };
}

const chart = (page: Page, title: string): Locator => page.locator(`figure[aria-label^="${title} chart"]`);

/** The rows of a chart's table view: the x cell and one cell per series, by the series' column headers. */
async function tableOf(page: Page, title: string): Promise<{ headers: string[]; rows: string[][] }> {
  const figure = chart(page, title);
  await figure.getByRole('checkbox', { name: `Show the ${title.toLowerCase()} chart as a table` }).check();
  const table = figure.getByRole('table');
  await expect(table).toBeVisible();
  const headers = await table.locator('thead th').allInnerTexts();
  const rows: string[][] = [];
  for (const row of await table.locator('tbody tr').all())
    rows.push((await row.locator('th, td').allInnerTexts()).map((t) => t.trim()));
  await figure.getByRole('checkbox', { name: `Show the ${title.toLowerCase()} chart as a table` }).uncheck();
  return { headers, rows };
}

/** The element lies wholly inside the window. */
async function inWindow(page: Page, locator: Locator): Promise<void> {
  const box = await locator.boundingBox();
  const size = page.viewportSize()!;
  expect(box, `${locator}`).not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.y).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(size.width + 0.5);
  expect(box!.y + box!.height).toBeLessThanOrEqual(size.height + 0.5);
}

test('the charts: every cost and accuracy per epoch in their tables, zoom, log scale and the time axis', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(host.url);
  await expect(page.getByTestId('test-count')).toHaveText(/10,000 images/, { timeout: 60_000 });
  // Before training the accuracy axis reads 0–100 and no series is in the legend.
  await expect(chart(page, 'Accuracy')).toHaveAttribute('data-series', '[]');
  for (const [label, value] of Object.entries({
    Epochs: '3',
    'Training subset size': '6000',
    'Validation split': '0.1',
  }))
    await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Finished 3 epochs.', { timeout: 120_000 });
  const run = newestRun();
  expect(run.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
  const at = (epoch: number): EpochSummary => run.history[epoch - 1];

  for (const [width, height] of SIZES)
    for (const theme of THEMES) {
      await page.setViewportSize({ width, height });
      await page.emulateMedia({ colorScheme: theme });
      await page.getByRole('tab', { name: 'Charts', exact: true }).click();
      const cost = chart(page, 'Cost');
      const accuracy = chart(page, 'Accuracy');
      await expect(cost).toHaveAttribute('data-last-x', '3');

      // The legend names the series drawn, the per-batch line behind its smoothed self.
      expect(JSON.parse((await cost.getAttribute('data-series'))!)).toEqual([
        'train, per batch (raw)',
        'train, per batch',
        'train',
        'validation',
        'test',
      ]);

      // The tables: every epoch's costs and accuracies as the record has them.
      const costs = await tableOf(page, 'Cost');
      expect(costs.headers).toEqual(['Epoch', 'train, per batch', 'train', 'validation', 'test']);
      for (const epoch of [1, 2, 3]) {
        const row = costs.rows.find((r) => r[0] === String(epoch))!;
        expect(row.slice(2)).toEqual([
          at(epoch).cost.toFixed(4),
          at(epoch).validationCost!.toFixed(4),
          at(epoch).testCost!.toFixed(4),
        ]);
      }
      // The per-batch points lie between the epochs: 42 batches an epoch (5 400 images in batches of 128).
      expect(costs.rows.filter((r) => r[1] !== '').length).toBeGreaterThanOrEqual(3 * 40);
      const accuracies = await tableOf(page, 'Accuracy');
      expect(accuracies.headers).toEqual(['Epoch', 'train', 'validation', 'test']);
      expect(accuracies.rows).toEqual(
        [1, 2, 3].map((epoch) => [
          String(epoch),
          `${(at(epoch).trainAccuracy * 100).toFixed(2)}%`,
          `${(at(epoch).validationAccuracy! * 100).toFixed(2)}%`,
          `${(at(epoch).testAccuracy! * 100).toFixed(2)}%`,
        ]),
      );

      // Dragging across a third of the plot zooms to it; Reset goes back to the whole run.
      const canvas = cost.locator('canvas');
      const box = (await canvas.boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.4);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.65, box.y + box.height * 0.4, { steps: 5 });
      await page.mouse.up();
      await expect.poll(async () => Number(await cost.getAttribute('data-x-min'))).toBeGreaterThan(0.3);
      expect(Number(await cost.getAttribute('data-x-max'))).toBeLessThan(2.7);
      await cost.getByRole('button', { name: 'Reset the zoom of the cost chart' }).click();
      await expect(cost).toHaveAttribute('data-x-min', '0');
      await expect(cost).toHaveAttribute('data-x-max', '3');
      await cost.getByRole('button', { name: 'Zoom in on the cost chart' }).click();
      await expect(cost).toHaveAttribute('data-x-min', '0.75');
      await expect(cost).toHaveAttribute('data-x-max', '2.25');
      await cost.getByRole('button', { name: 'Reset the zoom of the cost chart' }).click();

      // Cost on a log scale by default, linear on request.
      await expect(cost).toHaveAttribute('data-y-scale', 'log');
      await page.getByLabel('Cost on a log scale').uncheck();
      await expect(cost).toHaveAttribute('data-y-scale', 'linear');
      await page.getByLabel('Cost on a log scale').check();

      // Training time on the x axis: the last epoch ends at the sum of the epochs' seconds.
      await page.getByLabel('x axis', { exact: true }).selectOption('training time');
      const timed = await tableOf(page, 'Accuracy');
      expect(timed.headers[0]).toBe('Training time (s)');
      const ends = [1, 2, 3].map((n) =>
        run.history
          .slice(0, n)
          .reduce((sum, h) => sum + h.seconds, 0)
          .toFixed(1),
      );
      expect(timed.rows.map((r) => r[0])).toEqual(ends);
      await page.getByLabel('x axis', { exact: true }).selectOption('epochs');

      // Nothing that matters outside the window, and the two charts apart.
      for (const locator of [page.getByRole('button', { name: 'Start', exact: true }), cost, accuracy])
        await inWindow(page, locator);
      const [a, b] = [(await cost.boundingBox())!, (await accuracy.boundingBox())!];
      const apart = a.x + a.width <= b.x + 0.5 || a.y + a.height <= b.y + 0.5;
      expect(apart, `${JSON.stringify(a)} against ${JSON.stringify(b)}`).toBe(true);
      // The charts follow the theme.
      const shade = await backgroundLuminance(cost);
      if (theme === 'dark') expect(shade).toBeLessThan(0.3);
      else expect(shade).toBeGreaterThan(0.7);
    }
});

test('the model card, the save name and its confirmation', async ({ page }) => {
  await page.goto(host.url);
  await expect(page.getByTestId('model-summary')).toHaveText('784-512-256-10, 3 epochs');
  await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
  await expect(page.getByTestId('evaluation')).toHaveText(
    /^Test accuracy [\d.]+%, test cost \d\.\d{4} on 10,000 images$/,
  );
  // Nothing of the model card is cut, even at the smallest window: it wraps.
  for (const [width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    for (const id of ['model-summary', 'evaluation']) {
      const element = page.getByTestId(id);
      await inWindow(page, element);
      type Sizes = { scrollWidth: number; clientWidth: number };
      const { scrollWidth, clientWidth } = await element.evaluate((e) => {
        const sized = e as unknown as Sizes;
        return { scrollWidth: sized.scrollWidth, clientWidth: sized.clientWidth };
      });
      expect(scrollWidth, id).toBeLessThanOrEqual(clientWidth);
    }
  }
  const run = newestRun();
  const { id } = run;
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Save checkpoint', exact: true }).click();
  const name = (await download).suggestedFilename();
  // Custom settings: named by the shape, then the run and the epochs.
  expect(name).toBe(`fashion-mnist-784-512-256-10-${id}-epoch-3.safetensors`);
  await expect(page.getByTestId('model-notice')).toHaveText(`Checkpoint offered as a download: ${name}.`);

  // The run for PyTorch: a zip of the folder, whose train.py is the repository's and whose checkpoint is the model.
  await page.getByLabel('Export format').selectOption('pytorch');
  const zipped = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export model…' }).click();
  const offered = await zipped;
  const zipName = offered.suggestedFilename();
  expect(zipName).toBe(`fashion-mnist-784-512-256-10-${id}-epoch-3-pytorch.zip`);
  await expect(page.getByTestId('model-notice')).toHaveText(`PyTorch folder offered as a download: ${zipName}.`);
  const zip = test.info().outputPath(zipName);
  await offered.saveAs(zip);
  const out = test.info().outputPath('unzipped');
  const unzip = spawnSync(
    '/usr/bin/python3',
    ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', zip, out],
    {
      encoding: 'utf8',
    },
  );
  expect(unzip.status, unzip.stderr).toBe(0);
  const folder = join(out, zipName.slice(0, -'.zip'.length));
  expect(readFileSync(join(folder, 'train.py'), 'utf8')).toBe(
    readFileSync(join(ROOT, 'src/export/pytorch/train.py'), 'utf8'),
  );
  const exported = await loadCheckpoint(join(folder, 'checkpoint.safetensors'));
  expect(exported.epochsDone).toBe(3);
  expect(exported.history.map((h) => h.testAccuracy)).toEqual(run.history.map((h) => h.testAccuracy));
  expect(readFileSync(join(folder, 'README.txt'), 'utf8')).toMatch(/^Continue a Fashion-MNIST Studio run in PyTorch\n/);
});

test('a stopped run shows its last whole epoch, and Start says why it waits', async ({ page }) => {
  for (const [width, height] of SIZES)
    for (const theme of THEMES) {
      await page.setViewportSize({ width, height });
      await page.emulateMedia({ colorScheme: theme });
      await page.goto(host.url);
      // The class balance in words: the bars of equal classes are identical blocks.
      await expect(page.getByTestId('train-balance')).toHaveText('6,000 images in each class');
      await expect(page.getByTestId('test-balance')).toHaveText('1,000 images in each class');
      await page.getByLabel('Preset', { exact: true }).selectOption('notebook');
      await page.getByLabel('Epochs', { exact: true }).fill('200');
      await page.getByRole('button', { name: 'Start', exact: true }).click();
      // Stop it in the middle of an epoch after its first.
      await expect(page.getByTestId('model-summary')).toHaveText(
        /^784-512-256-10, \d+ epochs? of 200 — being trained$/,
        { timeout: 60_000 },
      );
      await expect(page.getByText(/^Epoch — batch \d{2,3} of 469$/)).toBeVisible();
      await page.getByRole('button', { name: 'Stop', exact: true }).click();
      await expect(page.getByRole('status')).toHaveText(/^Stopped after \d+ of 200 epochs\.$/);
      const run = newestRun();
      const kept = run.history.length;
      const last = run.history[kept - 1];
      await expect(page.getByRole('status')).toHaveText(`Stopped after ${kept} of 200 epochs.`);
      await expect(page.getByText(`Run — ${kept} of 200 epochs done`)).toBeVisible();
      await expect(page.getByText(`Epoch — epoch ${kept} complete`)).toBeVisible();
      await expect(page.getByTestId('samples-per-second')).toHaveText(
        Math.round(last.samplesPerSecond).toLocaleString('en-US'),
      );
      await expect(page.getByTestId('elapsed')).toHaveText(
        formatDuration(run.history.reduce((sum, h) => sum + h.seconds, 0) * 1000),
      );
      await expect(page.getByTestId('train-cost')).toHaveText(last.cost.toFixed(4));
      // The header keeps its height: the engine's name is one line, whole in its tooltip.
      const engine = page.locator('dd.engine');
      await expect(engine).toHaveAttribute('title', /^wasm-simd(-fma)? kernels on \d threads?$/);
      expect((await engine.boundingBox())!.height).toBeLessThan(30);

      // A field that is not valid: the field says what was typed; why Start waits is said beside it.
      await page.getByLabel('Epochs', { exact: true }).fill('ten');
      await expect(page.locator('#epochs-message')).toHaveText('Epochs must be a whole number, got "ten"');
      await expect(page.getByTestId('start-blocker')).toHaveText('Fix the setting Epochs to start.');
      await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
      await page.getByLabel('Validation split', { exact: true }).fill('2');
      await expect(page.locator('#validationFraction-message')).toHaveText(
        'Validation split must be at most 0.9, got 2',
      );
      await expect(page.getByTestId('start-blocker')).toHaveText('Fix the settings Epochs, Validation split to start.');

      // A preset says what it changed, the recipes included.
      await page.getByLabel('Preset', { exact: true }).selectOption('quick');
      await expect(page.getByTestId('preset-changes')).toHaveText(
        'Changed: Epochs ten → 8, Batch size 128 → 256, Learning rate 0.001 → 0.002, Validation split 2 → 0, ' +
          'Learning-rate schedule constant → cosine',
      );
      await inWindow(page, page.getByTestId('preset-changes'));
    }
});

test('keyboard and layout: the skip link, the folding side panel, Escape on the image details', async ({ page }) => {
  for (const [width, height] of SIZES)
    for (const theme of THEMES) {
      await page.setViewportSize({ width, height });
      await page.emulateMedia({ colorScheme: theme });
      await page.goto(host.url);
      await expect(page.getByTestId('test-count')).toHaveText(/10,000 images/, { timeout: 60_000 });
      await page.keyboard.press('Tab');
      await expect(page.getByRole('link', { name: 'Skip to the run controls' })).toBeFocused();
      await page.keyboard.press('Enter');
      await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeFocused();

      const views = page.getByRole('tabpanel');
      const before = (await views.boundingBox())!.width;
      await page.getByRole('button', { name: 'Hide data and settings' }).click();
      await expect(page.getByRole('heading', { name: 'Settings' })).toBeHidden();
      expect((await views.boundingBox())!.width).toBeGreaterThan(before + 250);
      await page.reload();
      await expect(page.getByRole('button', { name: 'Show data and settings' })).toHaveAttribute(
        'aria-expanded',
        'false',
      );
      await page.getByRole('button', { name: 'Show data and settings' }).click();
      await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();

      // The surest mistakes first: none reads "100.0%", and Escape closes the one opened.
      await page.getByRole('tab', { name: 'Gallery', exact: true }).click();
      await page.getByLabel('Show').selectOption({ label: 'Misclassified' });
      await page.getByLabel('Sort').selectOption({ label: 'Confidence, highest first' });
      const first = page.getByRole('img', { name: /^Predicted / }).first();
      await first.click();
      const details = page.getByRole('complementary', { name: /^Test image/ });
      await expect(details).toBeVisible();
      const shown = await details.getByText(/%$/).allInnerTexts();
      expect(shown.length).toBe(10);
      for (const text of shown) expect(text).toMatch(/^(>99\.99|<0\.01|\d{1,2}\.\d{1,2}|99\.9\d|0\.0\d|100|0)%$/);
      expect(shown).not.toContain('100.0%');
      await page.keyboard.press('Escape');
      await expect(details).toBeHidden();
      await page.getByRole('tab', { name: 'Charts', exact: true }).click();
    }
});

test('the gallery fits its columns to its width: none is cut at 1280, 1366 or 1920 px', async ({ page }) => {
  for (const width of [1024, 1280, 1366, 1920]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(host.url);
    await page.getByRole('tab', { name: 'Gallery', exact: true }).click();
    const grid = page.getByRole('grid');
    await expect(grid.getByRole('img', { name: /^Predicted / }).first()).toBeVisible();
    const right = await grid.evaluate(
      (element) => (element as unknown as { getBoundingClientRect(): { right: number } }).getBoundingClientRect().right,
    );
    const cells = await grid.getByRole('img', { name: /^Predicted / }).all();
    const rights: number[] = [];
    for (const cell of cells.slice(0, 12))
      rights.push((await cell.boundingBox())!.x + (await cell.boundingBox())!.width);
    for (const edge of rights) expect(edge).toBeLessThanOrEqual(Math.min(right, width) + 0.5);
  }
});
