/**
 * What the window shows when things go wrong or need a decision: Stop leaves the charts at the kept model's
 * last whole epoch; continuing a model on other data asks first; a failing autosave is shown at once and
 * stays shown.
 */

import { writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { Page } from '@playwright/test';
import { randomDataset, toKaggleCsv } from '../helpers/data';
import { expect, REAL_DATA_DIR, startBrowserHost, tempDataFolder, test } from './fixtures';

async function loadRealData(page: Page): Promise<void> {
  const button = page.getByRole('button', { name: 'Use Fashion-MNIST found on this computer' });
  await button.click();
  await expect(page.getByTestId('train-count')).toHaveText('60,000 images');
}

async function settings(page: Page, values: Record<string, string>): Promise<void> {
  for (const [label, value] of Object.entries(values)) await page.getByLabel(label, { exact: true }).fill(value);
}

const lastX = (page: Page, title: string): Promise<number> =>
  page.locator(`figure[aria-label^="${title} chart"]`).getAttribute('data-last-x').then(Number);

test('after Stop, both charts end at the last whole epoch the model kept', async ({ page, host }) => {
  await page.goto(host.url);
  await loadRealData(page);
  await settings(page, { 'Training subset size': '20000', Epochs: '200', 'Hidden layers': '64' });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText(/Training: epoch [3-9]\d* of 200/, { timeout: 60_000 });
  // Stop in the middle of an epoch: its points are on the chart until then.
  await expect.poll(() => lastX(page, 'Cost').then((x) => x % 1)).toBeGreaterThan(0.2);
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText(/^Stopped after \d+ of 200 epochs\.$/);
  const kept = Number(/after (\d+) of/.exec(await page.getByRole('status').innerText())![1]);
  await expect.poll(() => lastX(page, 'Cost')).toBe(kept);
  await expect.poll(() => lastX(page, 'Accuracy')).toBe(kept);
  await expect(page.getByTestId('model-summary')).toHaveText(`784-64-10, ${kept} epochs`);
});

test('continuing a model on other training data asks first, and Cancel changes nothing', async ({ page, host }) => {
  await page.goto(host.url);
  await loadRealData(page);
  await settings(page, { 'Training subset size': '2000', Epochs: '1', 'Hidden layers': '32' });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Finished 1 epoch.');
  const csv = test.info().outputPath('other-training.csv');
  writeFileSync(csv, toKaggleCsv(randomDataset(300, 5)));
  await page.getByLabel('Training data files').setInputFiles(csv);
  await expect(page.getByTestId('train-count')).toHaveText('300 images');
  await settings(page, { Epochs: '2', 'Training subset size': '2000' });

  await page.getByRole('button', { name: 'Continue training' }).click();
  const dialog = page.getByRole('alertdialog', { name: 'Train on other data?' });
  await expect(dialog).toContainText(
    /This model was trained on .*train-images-idx3-ubyte\.gz \(fingerprint \w{16}\), but the training data loaded now is .*other-training\.csv/,
  );
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('model-summary')).toHaveText('784-32-10, 1 epoch');
  await expect(page.getByRole('status')).toHaveText('Finished 1 epoch.');

  await page.getByRole('button', { name: 'Continue training' }).click();
  await dialog.getByRole('button', { name: 'Train on this data' }).click();
  await expect(page.getByRole('status')).toHaveText('Finished 2 epochs.');
  await expect(page.getByTestId('model-summary')).toHaveText('784-32-10, 2 epochs');
});

test('a failing autosave is shown while the run goes on, and stays shown after it', async ({ page }) => {
  // A file where the runs folder should be: no run's checkpoint can be written.
  const folder = tempDataFolder();
  const blocker = join(folder, 'runs');
  writeFileSync(blocker, 'x');
  const host = await startBrowserHost(folder, { FMNIST_DATA: REAL_DATA_DIR });
  try {
    await page.goto(host.url);
    await loadRealData(page);
    await settings(page, { 'Training subset size': '2000', Epochs: '3', 'Hidden layers': '32' });
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const banner = page.getByTestId('autosave-failure');
    await expect(banner).toHaveText(
      new RegExp(
        `^Autosave failed after epoch \\d: ${(blocker + sep).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\d{8}-\\d{6}-[0-9a-f]{4}[/\\\\]last\\.safetensors: .+\\. Training goes on; the next autosave tries again\\.$`,
      ),
    );
    await expect(page.getByRole('status')).toHaveText('Finished 3 epochs.');
    await expect(banner).toHaveText(/^Autosave failed after epoch 3: /);
  } finally {
    host.process.kill('SIGINT');
  }
});
