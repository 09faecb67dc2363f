/**
 * The Runs view at the two window sizes the layout is judged at (1024×700 and 1280×900), light and dark, on
 * the real data: a run of the quick preset and one that changed some of its settings are named after them, the
 * table keeps Best test, Time and Learning rate inside the window without scrolling sideways, two runs selected
 * show the settings that differ and an x axis as long as the longer run, the rename field starts with the
 * name, the details say which duration is which, and the delete questions read right for one run and for two.
 * Each size and theme is also saved as a screenshot in the test's output folder, to be looked at.
 */

import { type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, startBrowserHost, tempDataFolder, test } from './fixtures';

test.describe.configure({ mode: 'serial' });
let host: { url: string; process: ChildProcess };
const dataFolder = tempDataFolder();
const runsFolder = join(dataFolder, 'runs');

/**
 * The two runs' names, worked out from their settings: the quick preset (8 epochs, batch 256, cosine from 0.002)
 * on the first 3000 images; then 4 epochs and dropout 0.2 changed on top of it.
 */
const QUICK = 'quick preset · limit 3000';
const SHORTER = 'quick preset · 4 epochs · dropout 0.2 · limit 3000';

/** The records on disk, oldest first. */
function records(): { id: string; name: string; startedAt: string }[] {
  return readdirSync(runsFolder)
    .filter((name) => name.endsWith('.json') && !name.endsWith('.history.json'))
    .map((name) => JSON.parse(readFileSync(join(runsFolder, name), 'utf8')))
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

async function train(page: Page, settings: Record<string, string>, finished: string): Promise<void> {
  for (const [label, value] of Object.entries(settings)) await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText(finished, { timeout: 120_000 });
}

test.beforeAll(async ({ browser }) => {
  host = await startBrowserHost(dataFolder);
  const page = await browser.newPage();
  await page.goto(host.url);
  await expect(page.getByTestId('train-count')).toHaveText('60,000 images');
  await page.getByLabel('Preset', { exact: true }).selectOption('quick');
  await train(page, { 'Training subset size': '3000' }, 'Finished 8 epochs.');
  await train(page, { Epochs: '4', Dropout: '0.2' }, 'Finished 4 epochs.');
  await page.close();
});
test.afterAll(() => {
  host.process.kill('SIGINT');
});

const rowOf = (page: Page, id: string) => page.locator(`tr[data-run="${id}"]`);
const chart = (page: Page, title: string) => page.locator(`figure[aria-label^="${title} chart"]`);

for (const [width, height] of [
  [1024, 700],
  [1280, 900],
]) {
  test(`at ${width}×${height}: names, columns in the window, differences, x axis, rename and delete questions`, async ({
    page,
  }) => {
    await page.setViewportSize({ width, height });
    await page.goto(host.url);
    await page.getByRole('tab', { name: 'Runs', exact: true }).click();
    await expect(page.getByTestId('runs-count')).toHaveText('2 runs');
    const [quick, shorter] = records();
    expect([quick.name, shorter.name]).toEqual([QUICK, SHORTER]);

    // Named and listed newest first, the preset in its own column.
    const order = () => page.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-run')));
    expect(await order()).toEqual([shorter.id, quick.id]);
    await expect(rowOf(page, quick.id).getByRole('rowheader')).toContainText(QUICK);
    await expect(rowOf(page, shorter.id).getByRole('rowheader')).toContainText(SHORTER);
    for (const id of [quick.id, shorter.id])
      await expect(rowOf(page, id).locator('td[data-column="preset"]')).toHaveText('quick');

    // The most needed cells lie inside the window, and the table does not scroll sideways.
    for (const id of [quick.id, shorter.id]) {
      for (const column of ['bestTest', 'time', 'learningRate']) {
        const cell = rowOf(page, id).locator(`td[data-column="${column}"]`);
        await expect(cell).toBeVisible();
        const box = (await cell.boundingBox())!;
        expect(box.x, `${column} starts inside the window`).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width, `${column} ends inside the window`).toBeLessThanOrEqual(width);
        expect(box.y + box.height, `${column} is above the window's bottom`).toBeLessThanOrEqual(height);
      }
    }
    await expect(rowOf(page, quick.id).locator('td[data-column="learningRate"]')).toHaveText('0.002');
    await expect(rowOf(page, quick.id).locator('td[data-column="time"]')).toHaveText(/^\d+s$/);
    expect(await page.locator('.table-box').evaluate((box) => box.scrollWidth <= box.clientWidth)).toBe(true);

    // One run selected: no differences yet; the x axis spans its 4 epochs.
    await page.getByRole('checkbox', { name: `Show ${SHORTER} in the charts` }).check();
    const differences = page.getByRole('region', { name: 'Differences' });
    await expect(differences).toHaveCount(0);
    await expect(chart(page, 'Runs cost')).toHaveAttribute('data-x-max', '4');
    // Two: the settings that differ, one column per run in the order selected; the axis spans the longer run.
    await page.getByRole('checkbox', { name: `Show ${QUICK} in the charts` }).check();
    await expect(differences.getByRole('columnheader')).toHaveText(['Setting', SHORTER, QUICK]);
    await expect(differences.locator('tbody tr')).toHaveText([/^Epochs\s*4\s*8$/, /^Dropout\s*0\.2\s*0$/]);
    for (const title of ['Runs cost', 'Runs test accuracy'])
      await expect(chart(page, title)).toHaveAttribute('data-x-max', '8');
    await page.getByRole('checkbox', { name: `Show ${SHORTER} in the charts` }).uncheck();
    await expect(chart(page, 'Runs cost')).toHaveAttribute('data-x-max', '8');
    await expect(differences).toHaveCount(0);
    await page.getByRole('checkbox', { name: `Show ${SHORTER} in the charts` }).check();

    // The rename field starts with the name, all of it selected (typing replaces it); Escape keeps it.
    await page.getByRole('button', { name: `Rename ${QUICK}` }).click();
    const field = page.getByLabel(`Name of run ${quick.id}`);
    await expect(field).toHaveValue(QUICK);
    const selection = await field.evaluate((input) => {
      const { selectionStart, selectionEnd } = input as unknown as { selectionStart: number; selectionEnd: number };
      return [selectionStart, selectionEnd];
    });
    expect(selection).toEqual([0, QUICK.length]);
    await field.press('Escape');
    await expect(rowOf(page, quick.id).getByRole('rowheader')).toContainText(QUICK);

    // The details: the schedule in the settings, and which duration is which.
    await rowOf(page, quick.id).getByRole('button', { name: QUICK, exact: true }).click();
    const details = page.getByRole('complementary', { name: `Run ${QUICK}` });
    await expect(details.getByTestId('run-settings')).toHaveText(
      'hidden 512,256, batch 256, 8 epochs, learning rate 0.002, cosine schedule, first 3000 training images, seed 1',
    );
    await expect(details.getByTestId('run-time')).toHaveText(/^\d+s from start to end, of which \d+s training$/);
    await expect(details).toBeInViewport();

    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      await page.screenshot({ path: test.info().outputPath(`runs-${width}-${colorScheme}.png`) });
    }
    await page.emulateMedia({ colorScheme: 'light' });

    // The delete questions, for one run and for two (named in the order selected: the shorter run was selected
    // again after the quick one); Cancel deletes nothing.
    const question = page.getByRole('alertdialog');
    await details.getByRole('button', { name: 'Delete…' }).click();
    await expect(question).toContainText(
      new RegExp(`^Delete the run “${QUICK}”\\? Its record and its own checkpoint \\([\\d.]+ (kB|MB)\\) go\\.`),
    );
    await question.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Delete selected…' }).click();
    await expect(question).toContainText(
      new RegExp(
        `^Delete 2 runs \\(“${QUICK}” and “${SHORTER}”\\)\\? Their records and their own checkpoints ` +
          '\\([\\d.]+ (kB|MB)\\) go\\.',
      ),
    );
    await question.getByRole('button', { name: 'Cancel' }).click();
    await expect(question).toHaveCount(0);
    expect(records()).toHaveLength(2);
  });
}
