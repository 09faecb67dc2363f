/**
 * Getting files into the app through the browser host: dropping data files and checkpoints on the window,
 * and, with no Fashion-MNIST on the machine, the explanation and Download Fashion-MNIST (from a local mirror
 * serving the real files), cancelled once and resumed.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { FASHION_MNIST_FILES } from '@core/data/download';
import { writeUntrainedCheckpoint } from '../helpers/checkpoints';
import { randomDataset, toKaggleCsv } from '../helpers/data';
import { startMirror } from '../helpers/mirror';
import { expect, REAL_DATA_DIR, startBrowserHost, tempDataFolder, test } from './fixtures';

/** Drags files (name and bytes) over `selector`; the returned function drops them there. */
async function drag(
  page: Page,
  selector: string,
  files: { name: string; bytes: Buffer }[],
): Promise<() => Promise<void>> {
  const dataTransfer = await page.evaluateHandle(
    (items) => {
      // In the page (the test project has no DOM types).
      const transfer = new (
        globalThis as unknown as { DataTransfer: new () => { items: { add(file: File): void } } }
      ).DataTransfer();
      for (const { name, base64 } of items)
        transfer.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], name));
      return transfer;
    },
    files.map((f) => ({ name: f.name, base64: f.bytes.toString('base64') })),
  );
  await page.dispatchEvent(selector, 'dragenter', { dataTransfer });
  await page.dispatchEvent(selector, 'dragover', { dataTransfer });
  return () => page.dispatchEvent(selector, 'drop', { dataTransfer });
}

async function drop(page: Page, selector: string, files: { name: string; bytes: Buffer }[]): Promise<void> {
  await (
    await drag(page, selector, files)
  )();
}

test('files dropped on a data card load as that set; a checkpoint dropped anywhere loads as the model', async ({
  page,
  host,
}) => {
  await page.goto(host.url);
  // The data found on this computer loads at the first start; the drops replace it.
  await expect(page.getByTestId('test-count')).toHaveText('10,000 images');
  const release = await drag(page, '[data-drop-role="test"]', [
    { name: 'mine.csv', bytes: Buffer.from(toKaggleCsv(randomDataset(123))) },
  ]);
  await expect(page.getByText('Drop to open as the test data')).toBeVisible();
  await release();
  await expect(page.getByTestId('test-count')).toHaveText('123 images');
  await expect(page.getByText('Drop to open as the test data')).toBeHidden();

  // Named like Fashion-MNIST's training file, dropped outside the cards: it is training data.
  await drop(page, 'main', [
    { name: 'fashion-mnist_train.csv', bytes: Buffer.from(toKaggleCsv(randomDataset(77, 3))) },
  ]);
  await expect(page.getByTestId('train-count')).toHaveText('77 images');

  const checkpoint = test.info().outputPath('dropped.safetensors');
  await writeUntrainedCheckpoint(checkpoint, [24], { seed: 2, settings: { epochs: 4 } });
  await drop(page, 'main', [{ name: 'dropped.safetensors', bytes: readFileSync(checkpoint) }]);
  await expect(page.getByTestId('model-summary')).toHaveText(
    '784-24-10, 0 epochs — from dropped.safetensors (weights only)',
  );

  // A broken file dropped on a card is reported under that card; what was loaded stays.
  await drop(page, '[data-drop-role="test"]', [{ name: 'broken.csv', bytes: Buffer.from('label,pixel1\n3,4\n') }]);
  await expect(page.getByRole('region', { name: 'Test data' }).getByRole('alert')).toHaveText(/broken\.csv: /);
  await expect(page.getByTestId('test-count')).toHaveText('123 images');
});

test('with no Fashion-MNIST on the computer, explains where to get it and downloads it: cancelled, then resumed', async ({
  page,
}) => {
  const files = Object.fromEntries(
    FASHION_MNIST_FILES.map((f) => [`/${f.name}`, { body: readFileSync(join(REAL_DATA_DIR, f.name)) }]),
  );
  const first = `/${FASHION_MNIST_FILES[0].name}`;
  // The first file stalls after 5 MB, so there is time to cancel.
  const mirror = await startMirror({ ...files, [first]: { ...files[first], stallAfter: 5_000_000 } });
  const host = await startBrowserHost(tempDataFolder(), {
    FMNIST_DATA: undefined,
    FMNIST_DATA_PATH: '',
    FMNIST_DOWNLOAD_URL: mirror.url,
  });
  try {
    await page.goto(host.url);
    const help = page.getByRole('region', { name: 'Get Fashion-MNIST' });
    await expect(help).toContainText('No Fashion-MNIST was found on this computer');
    await expect(help.getByRole('link', { name: 'the Fashion-MNIST repository' })).toHaveAttribute(
      'href',
      'https://github.com/zalandoresearch/fashion-mnist#get-the-data',
    );
    await expect(help.getByRole('link', { name: 'Kaggle' })).toBeVisible();
    await expect(help).toContainText('sudo apt install dataset-fashion-mnist');
    await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();

    await help.getByRole('button', { name: 'Download Fashion-MNIST' }).click();
    await expect(help.getByText(/^Downloading train-images-idx3-ubyte\.gz: 4\.8 of 2\d\.\d MB$/)).toBeVisible();
    await expect
      .poll(() => page.getByLabel('Download progress').evaluate((e) => (e as unknown as { value: number }).value))
      .toBe(5_000_000);
    await help.getByRole('button', { name: 'Cancel' }).click();
    await expect(help.getByText('Download cancelled. Download again to continue where it stopped.')).toBeVisible();

    mirror.files.set(first, files[first]);
    await help.getByRole('button', { name: 'Download Fashion-MNIST' }).click();
    await expect(page.getByTestId('train-count')).toHaveText('60,000 images', { timeout: 60_000 });
    await expect(page.getByTestId('test-count')).toHaveText('10,000 images');
    await expect(page.getByRole('button', { name: 'Use Fashion-MNIST found on this computer' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled();
    // The second request for the first file asked for the rest only.
    expect(mirror.requests.filter((r) => r.path === first).map((r) => r.range)).toEqual([null, 'bytes=5000000-']);
  } finally {
    host.process.kill('SIGINT');
    await mirror.close();
  }
});
