import type { Page } from '@playwright/test';
import { autosaved, expect, startBrowserHost, tempDataFolder, test } from './fixtures';

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  const button = page.getByRole('button', { name: 'Use Fashion-MNIST found on this computer' });
  await button.click();
  await expect(button).toBeEnabled();
  await expect(page.getByTestId('train-count')).toHaveText('60,000 images');
}

async function settings(page: Page, values: Record<string, string>): Promise<void> {
  for (const [label, value] of Object.entries(values)) await page.getByLabel(label, { exact: true }).fill(value);
}

test('saves a checkpoint from the UI, loads it into a fresh backend and evaluates to the same test accuracy', async ({
  page,
}) => {
  const first = await startBrowserHost();
  const second = await startBrowserHost();
  try {
    await open(page, first.url);
    await settings(page, { 'Training subset size': '4000', Epochs: '2', 'Hidden layers': '128', Seed: '5' });
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('Finished 2 epochs.');
    const runAccuracy = await page.getByTestId('test-accuracy').innerText();
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await expect(page.getByTestId('evaluation')).toHaveText(
      new RegExp(`^Test accuracy ${runAccuracy.replace('.', '\\.')}, test cost \\d\\.\\d{4} on 10,000 images$`),
    );

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Save checkpoint' }).click();
    const saved = await download;
    // The name says the run (its shape and id) and its epochs.
    expect(saved.suggestedFilename()).toMatch(
      /^fashion-mnist-784-128-10-\d{8}-\d{6}-[0-9a-f]{4}-epoch-2\.safetensors$/,
    );
    const checkpoint = test.info().outputPath('saved.safetensors');
    await saved.saveAs(checkpoint);

    // A fresh backend: nothing of the first run, until the checkpoint is loaded.
    await open(page, second.url);
    await expect(page.getByTestId('model-summary')).toHaveText('None yet: train one, or load a checkpoint.');
    await page.getByLabel('Checkpoint file').setInputFiles(checkpoint);
    await expect(page.getByTestId('model-summary')).toHaveText('784-128-10, 2 epochs — from saved.safetensors');
    await expect(page.getByLabel('Epochs', { exact: true })).toHaveValue('2');
    await expect(page.getByLabel('Training subset size', { exact: true })).toHaveValue('4000');
    await expect(page.getByLabel('Hidden layers', { exact: true })).toHaveValue('128');
    await expect
      .poll(async () => Number(await page.locator('figure[aria-label^="Accuracy chart"]').getAttribute('data-points')))
      .toBe(4);
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await expect(page.getByTestId('evaluation')).toHaveText(
      new RegExp(`^Test accuracy ${runAccuracy.replace('.', '\\.')},`),
    );

    // Continue the loaded model to 3 epochs; export it.
    await settings(page, { Epochs: '3' });
    await page.getByRole('button', { name: 'Continue training' }).click();
    await expect(page.getByRole('status')).toHaveText('Finished 3 epochs.');
    await expect(page.getByTestId('model-summary')).toHaveText('784-128-10, 3 epochs');
    const exported = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export model…' }).click();
    // Continued in a run of its own: named after that run, at its 3 epochs.
    expect((await exported).suggestedFilename()).toMatch(
      /^fashion-mnist-784-128-10-\d{8}-\d{6}-[0-9a-f]{4}-epoch-3\.onnx$/,
    );
  } finally {
    first.process.kill('SIGINT');
    second.process.kill('SIGINT');
  }
});

test('a corrupt checkpoint is refused and the model stays', async ({ page }) => {
  const host = await startBrowserHost();
  try {
    await open(page, host.url);
    await settings(page, { 'Training subset size': '2000', Epochs: '1', 'Hidden layers': '32' });
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('Finished 1 epoch.');
    const { writeFile } = await import('node:fs/promises');
    const bad = test.info().outputPath('broken.safetensors');
    await writeFile(bad, Buffer.from('this is not a checkpoint'));
    await page.getByLabel('Checkpoint file').setInputFiles(bad);
    await expect(page.getByRole('alert').filter({ hasText: 'broken.safetensors' })).toHaveText(
      /broken\.safetensors: is not a safetensors file/,
    );
    await expect(page.getByTestId('model-summary')).toHaveText('784-32-10, 1 epoch');
  } finally {
    host.process.kill('SIGINT');
  }
});

test('offers to resume an unfinished run after a restart, from its own autosaved checkpoint', async ({ page }) => {
  const folder = tempDataFolder();
  const first = await startBrowserHost(folder);
  await open(page, first.url);
  await settings(page, { 'Training subset size': '3000', Epochs: '500', 'Hidden layers': '32' });
  await expect(page.getByLabel('Autosave the run (every few seconds, and when it pauses or stops)')).toBeChecked();
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect
    .poll(async () => Number((await page.getByText(/^Run — epoch \d+ of 500$/).innerText()).match(/epoch (\d+)/)![1]), {
      timeout: 60_000,
    })
    .toBeGreaterThan(2);
  await autosaved(folder);
  // The app is closed without stopping: the backend dies with it.
  first.process.kill('SIGKILL');

  const second = await startBrowserHost(folder);
  try {
    await page.goto(second.url);
    const offer = page.getByRole('region', { name: 'Unfinished run' });
    await expect(offer).toHaveText(
      /^The run “hidden 32 · 500 epochs · limit 3000” \(784-32-10, epoch \d+ of 500, saved .+\) did not finish: it can be resumed\./,
    );
    await offer.getByRole('button', { name: 'Resume saved run' }).click();
    await expect(page.getByRole('status')).toHaveText(/^Training: epoch \d+ of 500\.$/);
    await expect(page.getByTestId('train-count')).toHaveText('60,000 images');
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText(/^Stopped after \d+ of 500 epochs\.$/);
    await expect(offer).toHaveCount(0);
  } finally {
    second.process.kill('SIGINT');
  }
});
