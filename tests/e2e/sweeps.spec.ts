/**
 * Sweeps in the app, through the page: two settings × two seeds queued and trained one after another, the heat
 * map and the table of results read through their accessible names and checked against the runs' records as the
 * CLI prints them (mean and sample standard deviation worked out here), a cell opening its runs in Runs, the CLI
 * listing the app's sweep, and a sweep stopped part-way resuming — at 1024×700 and 1280×900, light and dark.
 */

import type { ChildProcess } from 'node:child_process';
import type { Page } from '@playwright/test';
import { backgroundLuminance, cliJson, expect, startBrowserHost, tempDataFolder, test } from './fixtures';

test.describe.configure({ mode: 'serial' });
const dataFolder = tempDataFolder();
let host: { url: string; process: ChildProcess };
test.beforeAll(async () => {
  host = await startBrowserHost(dataFolder);
});
test.afterAll(() => {
  host.process.kill('SIGINT');
});

/** "88.12% ± 0.31%" as the page shows a mean and sample standard deviation of two accuracies. */
function expectedSpread(a: number, b: number): string {
  const mean = (a + b) / 2;
  // The sample standard deviation of two values is their distance over √2.
  const sd = Math.abs(a - b) / Math.SQRT2;
  return `${(mean * 100).toFixed(2)}% ± ${(sd * 100).toFixed(2)}%`;
}

async function openSweeps(page: Page): Promise<void> {
  await page.getByRole('tab', { name: 'Sweeps', exact: true }).click();
}

test('a sweep of two settings and two seeds: progress, heat map and table against the records', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(host.url);
  await expect(page.getByTestId('test-count')).toHaveText(/10,000 images/, { timeout: 60_000 });
  await page.getByLabel('Epochs', { exact: true }).fill('2');
  await page.getByLabel('Training subset size', { exact: true }).fill('2000');
  await openSweeps(page);
  await page.getByLabel('Sweep', { exact: true }).selectOption('Learning rate');
  await page.getByLabel('Values of Learning rate').fill('0.001, 0.003');
  await page.getByLabel('and (optional)').selectOption('Dropout');
  await page.getByLabel('Values of Dropout').fill('0, 0.2');
  await page.getByLabel('Seeds').fill('1, 2');
  await page.getByLabel('Name (optional)').fill('rates and dropout');
  await expect(page.getByTestId('sweep-plan')).toHaveText(
    '8 runs: Learning rate 0.001, 0.003 × Dropout 0, 0.2 × seeds 1, 2.',
  );
  // A value the setting's rule refuses is quoted, and Start waits.
  await page.getByLabel('Values of Dropout').fill('0, 2');
  await expect(page.getByTestId('sweep-plan')).toHaveText('Dropout must be at most 0.9, got 2.');
  await expect(page.getByRole('button', { name: /^Start sweep/ })).toBeDisabled();
  await page.getByLabel('Values of Dropout').fill('0, 0.2');

  await page.getByRole('button', { name: 'Start sweep (8 runs)' }).click();
  await expect(page.getByTestId('sweep-progress')).toHaveText(/^Sweep rates and dropout: run [1-8] of 8 — lr 0\.00\d/);
  await expect(page.getByRole('status')).toHaveText(
    /^Sweep rates and dropout, run [1-8] of 8: (training epoch [12] of 2|starting)\.$/,
  );
  const sweeps = page.getByRole('table', { name: 'Sweeps' });
  await expect(sweeps.getByRole('row', { name: /rates and dropout/ })).toContainText('finished', { timeout: 120_000 });
  await expect(sweeps.getByRole('row', { name: /rates and dropout/ })).toContainText('8 of 8');
  await expect(page.getByTestId('sweep-progress')).toBeHidden();

  // The CLI lists the app's sweep, and the runs' records give every accuracy.
  const listed = cliJson(dataFolder, ['sweep', '--list', '--json']) as {
    sweeps: { name: string; status: string; runs: { status: string }[] }[];
  };
  expect(
    listed.sweeps.map((s) => [s.name, s.status, s.runs.filter((run) => run.status === 'finished').length]),
  ).toEqual([['rates and dropout', 'finished', 8]]);
  const { runs } = cliJson(dataFolder, ['runs', '--json']) as {
    runs: { id: string; name: string; metrics: { finalTestAccuracy: number; bestTestAccuracy: number } }[];
  };
  const accuracy = (name: string) => runs.find((run) => run.name === `rates and dropout · ${name}`)!.metrics;

  for (const [width, height] of [
    [1024, 700],
    [1280, 900],
  ] as const)
    for (const theme of ['light', 'dark'] as const) {
      await page.setViewportSize({ width, height });
      await page.emulateMedia({ colorScheme: theme });
      const heat = page.getByRole('table', { name: 'Final test accuracy by Learning rate and Dropout' });
      await expect(heat).toBeVisible();
      for (const [r, lr] of ['0.001', '0.003'].entries())
        for (const [c, dropout] of ['0', '0.2'].entries()) {
          const [a, b] = [1, 2].map((seed) => accuracy(`lr ${lr} · dropout ${dropout} · seed ${seed}`));
          const cell = heat.locator('tbody tr').nth(r).locator('td').nth(c);
          await expect(cell).toHaveText(expectedSpread(a.finalTestAccuracy, b.finalTestAccuracy));
          // The cells follow the theme: dark in dark mode whatever their share, never a white block.
          // Shaded from the theme's two ends (the scale was read), and in dark mode never a white block.
          await expect(cell).toHaveAttribute(
            'style',
            /^background: rgb\(\d+, \d+, \d+\); color: rgb\((0, 0, 0|255, 255, 255)\);$/,
          );
          if (theme === 'dark') expect(await backgroundLuminance(cell)).toBeLessThan(0.55);
        }
      const table = page.getByRole('table', { name: 'Results of rates and dropout' });
      const row = table.locator('tbody tr').filter({ hasText: /^0\.003\s*0\.2/ });
      const [a, b] = [1, 2].map((seed) => accuracy(`lr 0.003 · dropout 0.2 · seed ${seed}`));
      await expect(row.locator('td').nth(3)).toHaveText(expectedSpread(a.bestTestAccuracy, b.bestTestAccuracy));
      await expect(row.locator('td').nth(4)).toHaveText('2 of 2');
      await row.getByRole('button', { name: 'Open' }).scrollIntoViewIfNeeded();
      const box = (await row.getByRole('button', { name: 'Open' }).boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(width);
    }

  // A cell opens its two runs in Runs, selected for the charts.
  await page.emulateMedia({ colorScheme: 'light' });
  const heat = page.getByRole('table', { name: 'Final test accuracy by Learning rate and Dropout' });
  await heat.locator('tbody tr').nth(1).locator('td').nth(0).getByRole('button').click();
  await expect(page.getByRole('tab', { name: 'Runs', exact: true })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('runs-count')).toHaveText(/, 2 selected$/);
});

test('a sweep stopped part-way resumes where it stopped', async ({ page }) => {
  await page.goto(host.url);
  // The form is filled from the backend's state when it arrives: type only after that.
  await expect(page.getByTestId('test-count')).toHaveText(/10,000 images/, { timeout: 60_000 });
  await expect(page.getByLabel('Epochs', { exact: true })).toHaveValue('2');
  await page.getByLabel('Epochs', { exact: true }).fill('300');
  await page.getByLabel('Training subset size', { exact: true }).fill('2000');
  await openSweeps(page);
  await page.getByLabel('Sweep', { exact: true }).selectOption('Batch size');
  await page.getByLabel('Values of Batch size').fill('64, 128');
  await page.getByLabel('and (optional)').selectOption('');
  await page.getByLabel('Seeds').fill('1');
  await page.getByLabel('Name (optional)').fill('');
  await page.getByRole('button', { name: 'Start sweep (2 runs)' }).click();
  await expect(page.getByTestId('sweep-progress')).toHaveText(/^Sweep batch sweep: run 1 of 2 — batch 64, seed 1/);
  await expect(page.getByRole('status')).toHaveText(/training epoch [3-9]\d* of 300\.$/, { timeout: 60_000 });
  await page.getByRole('button', { name: 'Stop sweep' }).click();
  const row = page.getByRole('table', { name: 'Sweeps' }).getByRole('row', { name: /batch sweep/ });
  await expect(row).toContainText('stopped');
  await expect(row).toContainText('0 of 2');
  await row.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('sweep-progress')).toHaveText(/^Sweep batch sweep: run 1 of 2 — batch 64, seed 1/);
  await page.getByRole('button', { name: 'Stop sweep' }).click();
  await expect(row).toContainText('stopped');
  // The first run went on from its own checkpoint: one continued run, no second start from scratch.
  const { runs } = cliJson(dataFolder, ['runs', '--json']) as {
    runs: { name: string; resumedFrom: { epochsDone: number } | null; continuedBy?: string }[];
  };
  const first = runs.filter((run) => run.name === 'batch sweep · batch 64 · seed 1');
  expect(first).toHaveLength(2);
  expect(first.filter((run) => run.resumedFrom !== null)).toHaveLength(1);
  expect(first.filter((run) => run.continuedBy)).toHaveLength(1);
});
