import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

async function loadRealData(page: Page): Promise<void> {
  const button = page.getByRole('button', { name: 'Use Fashion-MNIST found on this computer' });
  await button.click();
  // The button reads "Loading Fashion-MNIST…" until the backend has both sets.
  await expect(button).toBeEnabled();
  await expect(page.getByTestId('train-count')).toHaveText('60,000 images');
  await expect(page.getByTestId('test-count')).toHaveText('10,000 images');
}

async function setSettings(page: Page, values: Record<string, string>): Promise<void> {
  for (const [label, value] of Object.entries(values)) await page.getByLabel(label, { exact: true }).fill(value);
}

const chartPoints = (page: Page, title: string): Promise<number> =>
  page.locator(`figure[aria-label^="${title} chart"]`).getAttribute('data-points').then(Number);

const epochProgress = (page: Page): Promise<string> => page.getByText(/^Epoch — batch \d+ of \d+$/).innerText();

test('trains through the UI: load data, start, pause, resume, finish with live charts', async ({ page, host }) => {
  await page.goto(host.url);
  await loadRealData(page);
  // Class balance and the sample strip of the loaded set.
  await expect(page.getByRole('img', { name: /^Sample images: T-shirt\/top, Trouser/ }).first()).toBeVisible();
  await setSettings(page, {
    'Training subset size': '20000',
    Epochs: '2',
    'Batch size': '32',
    'Validation split': '0.1',
    Threads: '1',
  });

  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText(/Training: epoch \d of 2/);
  await expect
    .poll(() => page.getByLabel('Run progress').evaluate((e) => (e as unknown as { value: number }).value))
    .toBeGreaterThan(0);
  await expect(page.getByTestId('samples-per-second')).not.toHaveText('—');
  await expect.poll(() => chartPoints(page, 'Cost')).toBeGreaterThan(0);

  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText(/^Paused after batch \d+ of epoch \d\.$/);
  // The charts draw what came before the pause within half a second.
  await page.waitForTimeout(700);
  const pausedAt = await epochProgress(page);
  const pointsWhilePaused = await chartPoints(page, 'Cost');
  await page.waitForTimeout(700);
  expect(await epochProgress(page)).toBe(pausedAt);
  expect(await chartPoints(page, 'Cost')).toBe(pointsWhilePaused);
  await expect(page.getByLabel('Epochs', { exact: true })).toBeDisabled();

  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Finished 2 epochs.', { timeout: 120_000 });
  await expect(page.getByTestId('train-accuracy')).toHaveText(/^\d\d\.\d\d%$/);
  await expect(page.getByTestId('validation-accuracy')).toHaveText(/^\d\d\.\d\d%$/);
  await expect(page.getByTestId('test-accuracy')).toHaveText(/^\d\d\.\d\d%$/);
  const testAccuracy = Number((await page.getByTestId('test-accuracy').innerText()).replace('%', ''));
  expect(testAccuracy).toBeGreaterThan(70);
  await expect.poll(() => chartPoints(page, 'Accuracy')).toBe(2 * 3); // train, validation and test for 2 epochs
  await expect.poll(() => chartPoints(page, 'Cost')).toBeGreaterThan(100);
  await page.screenshot({ path: process.env.SCREENSHOT_PATH ?? test.info().outputPath('finished.png') });

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export cost as PNG' }).click();
  expect((await download).suggestedFilename()).toBe('fashion-mnist-cost.png');
});

test('a bad file shows an inline error and leaves the loaded data intact; a good CSV loads', async ({ page, host }) => {
  await page.goto(host.url);
  await loadRealData(page);
  const dir = test.info().outputPath();
  const bad = join(dir, 'broken-train.csv');
  await writeFile(
    bad,
    `label,${Array.from({ length: 784 }, (_, i) => `pixel${i + 1}`).join(',')}\n3,${'0,'.repeat(783)}999\n`,
  );
  await page.getByLabel('Training data files').setInputFiles(bad);
  const trainCard = page.getByRole('region', { name: 'Training data' });
  await expect(trainCard.getByRole('alert')).toHaveText(
    /broken-train\.csv: line 2, column 785: pixel784 value "999" is not a whole number 0–255$/,
  );
  await expect(page.getByTestId('train-count')).toHaveText('60,000 images');

  const good = join(dir, 'small-test.csv');
  const rows = Array.from(
    { length: 300 },
    (_, i) => `${i % 10},${Array.from({ length: 784 }, (_, k) => (k * (i + 1)) % 256).join(',')}`,
  );
  await writeFile(
    good,
    `label,${Array.from({ length: 784 }, (_, i) => `pixel${i + 1}`).join(',')}\n${rows.join('\n')}\n`,
  );
  await page.getByLabel('Test data files').setInputFiles(good);
  await expect(page.getByTestId('test-count')).toHaveText('300 images');
  await expect(page.getByRole('region', { name: 'Test data' }).getByRole('alert')).toHaveText('');
});

test('validates settings inline and runs from keyboard shortcuts', async ({ page, host }) => {
  await page.goto(host.url);
  await loadRealData(page);
  await setSettings(page, { Epochs: '-3' });
  await expect(page.getByText('Epochs must be between 1 and 100000, got -3')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  await setSettings(page, { Epochs: '200', 'Training subset size': '5000', 'Hidden layers': '64' });
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled();
  await page.keyboard.press('Control+Enter');
  await expect(page.getByRole('status')).toHaveText(/Training: epoch \d+ of 200/);
  // The latest epoch's figures show while the run goes on, not only at its end.
  await expect(page.getByTestId('test-accuracy')).toHaveText(/^\d\d\.\d\d%$/);
  await expect(page.getByRole('status')).toHaveText(/Training: epoch \d+ of 200/);
  await page.keyboard.press('Control+.');
  await expect(page.getByRole('status')).toHaveText(/^Stopped after \d+ of 200 epochs\.$/);
});

test('presets fill the settings, recipes are checked together, and an early stop is reported', async ({
  page,
  host,
}) => {
  await page.goto(host.url);
  await loadRealData(page);
  const preset = page.getByLabel('Preset', { exact: true });
  // The host is shared with the tests before: start from the notebook's settings.
  await preset.selectOption('notebook');
  await expect(page.getByLabel('Epochs', { exact: true })).toHaveValue('50');
  await expect(page.getByLabel('Learning rate', { exact: true })).toHaveValue('0.001');
  await expect(preset).toHaveValue('notebook');
  await preset.selectOption('best');
  await expect(page.getByLabel('Epochs', { exact: true })).toHaveValue('100');
  // The recipes group opens by itself when a recipe is on.
  await expect(page.getByLabel('Learning-rate schedule', { exact: true })).toHaveValue('cosine');
  await expect(page.getByLabel('Dropout', { exact: true })).toHaveValue('0.2');
  await expect(page.getByLabel('Flip images', { exact: true })).toBeChecked();
  // Edited settings are nobody's preset.
  await setSettings(page, {
    Epochs: '40',
    'Training subset size': '600',
    'Hidden layers': '64',
    'Learning rate': '0.01',
  });
  await expect(preset).toHaveValue('');
  await expect(page.getByText('edited: choose a preset to start again from it')).toBeVisible();
  // Early stopping needs a validation split: said on the field to change, and Start waits for it.
  await setSettings(page, { 'Early-stopping patience': '2' });
  await expect(
    page.getByText('Patience needs a validation split (its cost decides): set the validation split above 0'),
  ).toBeVisible();
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  await setSettings(page, { 'Validation split': '0.25' });
  await page.getByLabel('Keep the best epoch', { exact: true }).check();
  await page.getByLabel('Learning-rate schedule', { exact: true }).selectOption('constant');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText(
    /^Finished (\d+) epochs?\. Stopped early after epoch \d+: the validation cost had not improved for 2 epochs since epoch \1\. Kept the model of epoch \1, the one with the lowest validation cost\.$/,
    { timeout: 60_000 },
  );
});

/** What the page notes of the charts' draws (below). */
interface ChartRecord {
  /** Each draw: the chart, when (and the animation frame's time), its points and the status shown. */
  draws: { chart: string; at: number; frame: number; points: number; status: string }[];
  /** What the charts show two animation frames after the status first says the run paused, and finished. */
  shown: Partial<Record<'paused' | 'finished', Shown | null>>;
}
interface Shown {
  costPoints: string | null;
  costLastX: string | null;
  accuracyPoints: string | null;
}

/** The parts of the page's DOM the chart test uses, typed here (the tests are compiled without the DOM's types). */
interface PageNode {
  textContent: string | null;
  getAttribute(name: string): string | null;
}
interface PageDom {
  document: { querySelector(selector: string): PageNode; timeline: { currentTime: number | null } };
  MutationObserver: new (callback: () => void) => { observe(target: PageNode, options: object): void };
  requestAnimationFrame(callback: () => void): number;
  chartRecord?: ChartRecord;
}

test('while training, the charts draw new points together at most once a second, and all of them as the run ends', async ({
  page,
  host,
}) => {
  await page.goto(host.url);
  await expect(page.getByTestId('train-count')).toHaveText('60,000 images');
  // The host is shared with the tests before: start from the notebook's settings.
  await page.getByLabel('Preset', { exact: true }).selectOption('notebook');
  await setSettings(page, {
    'Training subset size': '20000',
    Epochs: '6',
    'Batch size': '32',
    'Validation split': '0',
    Threads: '1',
  });
  // The page notes each chart's draws with the status shown at the time, and what the charts show two animation
  // frames after the status first says the run paused, and finished.
  await page.evaluate(() => {
    const dom = globalThis as unknown as PageDom;
    const status = dom.document.querySelector('[role="status"][data-status]');
    const figure = (title: string) => dom.document.querySelector(`figure[aria-label^="${title} chart"]`);
    const record: ChartRecord = { draws: [], shown: {} };
    for (const title of ['Cost', 'Accuracy']) {
      new dom.MutationObserver(() =>
        record.draws.push({
          chart: title,
          at: performance.now(),
          frame: Number(dom.document.timeline.currentTime),
          points: Number(figure(title).getAttribute('data-points')),
          status: status.textContent ?? '',
        }),
      ).observe(figure(title), { attributes: true, attributeFilter: ['data-draws'] });
    }
    new dom.MutationObserver(() => {
      const moment = /^Paused/.test(status.textContent ?? '')
        ? 'paused'
        : /^Finished/.test(status.textContent ?? '')
          ? 'finished'
          : null;
      if (moment === null || moment in record.shown) return;
      record.shown[moment] = null;
      dom.requestAnimationFrame(() =>
        dom.requestAnimationFrame(() => {
          record.shown[moment] = {
            costPoints: figure('Cost').getAttribute('data-points'),
            costLastX: figure('Cost').getAttribute('data-last-x'),
            accuracyPoints: figure('Accuracy').getAttribute('data-points'),
          };
        }),
      );
    }).observe(status, { childList: true, characterData: true, subtree: true });
    dom.chartRecord = record;
  });
  const chartRecord = () => page.evaluate(() => (globalThis as unknown as PageDom).chartRecord!);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  // Paused half-way: what came before the pause is drawn with it, and nothing after it.
  // (Looked for every 50 ms: an epoch lasts about half a second, and expect's own waits grow to a second.)
  await page.waitForFunction(
    () =>
      /^Training: epoch [345] of 6/.test(
        (globalThis as unknown as PageDom).document.querySelector('[role="status"][data-status]').textContent ?? '',
      ),
    null,
    { polling: 50, timeout: 60_000 },
  );
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText(/^Paused after batch \d+ of epoch [3-6]\.$/);
  await page.waitForTimeout(1500);
  expect((await chartRecord()).shown.paused?.costPoints).toBe(await chartPoints(page, 'Cost').then(String));
  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Finished 6 epochs.', { timeout: 120_000 });
  await expect.poll(() => chartPoints(page, 'Accuracy')).toBe(6 * 2); // train and test for 6 epochs
  const record = await chartRecord();
  // A chart's first points come at once, and the other chart draws what waits in the same frame; otherwise the
  // charts' frames while training are a second apart.
  const firstPoints = new Set(
    ['Cost', 'Accuracy'].map((chart) => record.draws.find((d) => d.chart === chart && d.points > 0)?.frame),
  );
  for (const chart of ['Cost', 'Accuracy']) {
    const training = record.draws.filter((d) => d.chart === chart && d.points > 0 && /^Training/.test(d.status));
    const gaps = training
      .slice(1)
      .filter((d) => !firstPoints.has(d.frame))
      .map((d) => Math.round(d.at - training[training.indexOf(d) - 1].at));
    // A draw stamps its time as it starts and the page notes it as it ends: a few milliseconds either way.
    for (const gap of gaps) expect(gap, `${chart} chart: ${gaps.join(', ')} ms between draws`).toBeGreaterThan(950);
    if (chart === 'Cost') expect(gaps.length, 'paced draws of the cost chart while training').toBeGreaterThanOrEqual(2);
  }
  // An epoch reaches both charts in the same frame: the cost chart draws in every frame the accuracy chart draws in.
  const costFrames = new Set(record.draws.filter((d) => d.chart === 'Cost').map((d) => d.frame));
  const accuracyFrames = record.draws.filter((d) => d.chart === 'Accuracy' && d.points > 0).map((d) => d.frame);
  expect(accuracyFrames.length).toBeGreaterThanOrEqual(3);
  expect(accuracyFrames.filter((frame) => !costFrames.has(frame))).toEqual([]);
  // The last points are drawn with the end of the run, not a second later.
  expect(record.shown.finished).toMatchObject({ costLastX: '6', accuracyPoints: '12' });
});
