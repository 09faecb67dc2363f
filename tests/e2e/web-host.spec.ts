/**
 * The browser host across a normal restart: a run on uploaded data, stopped with Ctrl-C (SIGINT) mid-run,
 * is offered at the next start on the same data folder and resumes to its end, its data reloaded from the
 * files the host kept.
 */

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomDataset, toKaggleCsv } from '../helpers/data';
import { expect, hostExited, startBrowserHost, tempDataFolder, test } from './fixtures';

// No Fashion-MNIST to find: the run's data can only come from the uploads.
const NO_DEFAULT_DATA = { FMNIST_DATA: undefined, FMNIST_DATA_PATH: '' };

test('a run on uploaded data, stopped with Ctrl-C, resumes after a restart and reaches its end', async ({ page }) => {
  const folder = tempDataFolder();
  const first = await startBrowserHost(folder, NO_DEFAULT_DATA);
  let second: Awaited<ReturnType<typeof startBrowserHost>> | null = null;
  try {
    await page.goto(first.url);
    await page.getByLabel('Training data files').setInputFiles({ name: 'my-train.csv', mimeType: 'text/csv', buffer: Buffer.from(toKaggleCsv(randomDataset(3000, 11))) });
    await expect(page.getByTestId('train-count')).toHaveText('3,000 images');
    await page.getByLabel('Test data files').setInputFiles({ name: 'my-test.csv', mimeType: 'text/csv', buffer: Buffer.from(toKaggleCsv(randomDataset(500, 12))) });
    await expect(page.getByTestId('test-count')).toHaveText('500 images');
    for (const [label, value] of Object.entries({ Epochs: '60', 'Hidden layers': '128', 'Training subset size': '3000', Seed: '3' })) {
      await page.getByLabel(label, { exact: true }).fill(value);
    }
    await expect(page.getByLabel('Save a checkpoint after every epoch')).toBeChecked();
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    // Watched closely, so a fast machine does not reach the end first.
    await expect.poll(async () => Number((await page.getByText(/^Run — epoch \d+ of 60$/).innerText()).match(/epoch (\d+)/)![1]), { intervals: [100] }).toBeGreaterThan(2);

    // Ctrl-C: the host ends the run at its last whole epoch, saves it, and exits normally.
    first.process.kill('SIGINT');
    expect(await hostExited(first.process)).toBe(0);
    expect(readdirSync(join(folder, 'browser-host', 'uploads'))).toHaveLength(2);

    second = await startBrowserHost(folder, NO_DEFAULT_DATA);
    await page.goto(second.url);
    const offer = page.getByRole('region', { name: 'Unfinished run' });
    await expect(offer).toHaveText(/An unfinished run \(784-128-10, epoch ([1-9]|[1-5]\d) of 60/);
    await offer.getByRole('button', { name: 'Resume saved run' }).click();
    await expect(page.getByTestId('train-count')).toHaveText('3,000 images');
    await expect(page.getByTestId('test-count')).toHaveText('500 images');
    await expect(page.getByRole('status')).toHaveText('Finished 60 epochs.', { timeout: 120_000 });
    await expect(offer).toHaveCount(0);
    await expect(page.getByTestId('model-summary')).toHaveText('784-128-10, 60 epochs');
  } finally {
    first.process.kill('SIGKILL');
    second?.process.kill('SIGINT');
  }
});
