import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { REAL_DATA_DIR, ROOT, tempDataFolder } from './fixtures';

/** The Electron binary, if this machine has one (it is downloaded on first `npm start`, not by npm install). */
function electronBinary(): string | null {
  const pathFile = join(ROOT, 'node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = join(ROOT, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

const binary = electronBinary();

test('the desktop app opens its window, loads data and trains', async () => {
  test.skip(!binary, 'no Electron binary on this machine (run npm start once on a desktop to download it)');
  const app = await electron.launch({
    executablePath: binary!,
    args: [join(ROOT, 'out', 'main', 'index.js'), ...(process.platform === 'linux' ? ['--no-sandbox'] : [])],
    env: { ...process.env, FMNIST_DATA: REAL_DATA_DIR, FMNIST_STUDIO_DATA: tempDataFolder() },
  });
  try {
    const window = await app.firstWindow({ timeout: 60_000 });
    await expect(window.getByRole('heading', { name: 'Fashion-MNIST Studio' })).toBeVisible();
    expect(await window.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe('undefined');
    await window.getByRole('button', { name: 'Use Fashion-MNIST found on this computer' }).click();
    await expect(window.getByTestId('train-count')).toHaveText('60,000 images');
    await window.getByLabel('Training subset size', { exact: true }).fill('5000');
    await window.getByLabel('Epochs', { exact: true }).fill('2');
    await window.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(window.getByRole('status')).toHaveText('Finished 2 epochs.', { timeout: 120_000 });
    await expect(window.getByTestId('test-accuracy')).toHaveText(/^\d\d\.\d\d%$/);
  } finally {
    await app.close();
  }
});
