/**
 * The real desktop app under Electron (run by the release workflow on Linux under Xvfb, Windows and macOS;
 * skipped, saying so, where no Electron runtime is installed, as on machines that cannot download it).
 * Native dialogs are replaced inside the main process, so the test picks the files.
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { _electron as electron, type ElectronApplication, expect, test } from '@playwright/test';
import { REAL_DATA_DIR, ROOT, tempDataFolder } from './fixtures';

/** The Electron runtime, if installed (npm start fetches it on first use; npm install does not). */
function electronBinary(): string | null {
  const pathFile = join(ROOT, 'node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = join(ROOT, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

const binary = electronBinary();

async function launch(dataFolder: string): Promise<ElectronApplication> {
  return electron.launch({
    executablePath: binary!,
    args: [join(ROOT, 'out', 'main', 'index.js'), ...(process.platform === 'linux' ? ['--no-sandbox'] : [])],
    env: { ...process.env, FMNIST_DATA: REAL_DATA_DIR, FMNIST_STUDIO_DATA: dataFolder },
    timeout: 120_000,
  });
}

/** Makes the next save and open dialogs answer with `path`. */
async function answerDialogs(app: ElectronApplication, path: string): Promise<void> {
  await app.evaluate(({ dialog }, file) => {
    dialog.showSaveDialog = (async () => ({ canceled: false, filePath: file })) as unknown as typeof dialog.showSaveDialog;
    dialog.showOpenDialog = (async () => ({ canceled: false, filePaths: [file] })) as unknown as typeof dialog.showOpenDialog;
  }, path);
}

test('the desktop app opens its window, loads data, trains, saves and loads a checkpoint through the dialogs', async () => {
  const reason = 'no Electron runtime on this machine (npm start downloads it; the release workflow runs this test)';
  // Said in the run's output, not only in the report.
  if (!binary) console.log(`electron.spec.ts: skipped: ${reason}`);
  test.skip(!binary, reason);
  const dataFolder = tempDataFolder();
  const app = await launch(dataFolder);
  try {
    const window = await app.firstWindow({ timeout: 120_000 });
    await expect(window.getByRole('heading', { name: 'Fashion-MNIST Studio' })).toBeVisible();
    // The page has no Node: the sandboxed preload exposes only the bridge.
    expect(await window.evaluate(() => typeof (globalThis as unknown as { require?: unknown }).require)).toBe('undefined');
    expect(await window.evaluate(() => Object.keys((globalThis as unknown as { studio: object }).studio).sort())).toEqual(['onEvent', 'openDropped', 'request']);
    expect(await window.evaluate(() => typeof (globalThis as unknown as { process?: unknown }).process)).toBe('undefined');

    await window.getByRole('button', { name: 'Use Fashion-MNIST found on this computer' }).click();
    await expect(window.getByTestId('train-count')).toHaveText('60,000 images');
    await window.getByLabel('Training subset size', { exact: true }).fill('5000');
    await window.getByLabel('Epochs', { exact: true }).fill('2');
    await window.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(window.getByRole('status')).toHaveText('Finished 2 epochs.', { timeout: 180_000 });
    const accuracy = await window.getByTestId('test-accuracy').innerText();
    expect(accuracy).toMatch(/^\d\d\.\d\d%$/);

    const checkpoint = join(tempDataFolder(), 'from-electron.safetensors');
    await answerDialogs(app, checkpoint);
    await window.getByRole('button', { name: 'Save checkpoint' }).click();
    await expect.poll(() => (existsSync(checkpoint) ? statSync(checkpoint).size : 0)).toBeGreaterThan(100_000);
    await window.getByRole('button', { name: 'Load checkpoint' }).click();
    await expect(window.getByTestId('model-summary')).toHaveText('784-512-256-10, 2 epochs — from from-electron.safetensors');
    await window.getByRole('button', { name: 'Evaluate' }).click();
    await expect(window.getByTestId('evaluation')).toHaveText(new RegExp(`^Test accuracy ${accuracy.replace('.', '\\.')},`));

    // File ▸ Open Recent lists it.
    const recent = await app.evaluate(({ Menu }) =>
      Menu.getApplicationMenu()
        ?.items.find((item) => item.label.replace('&', '') === 'File')
        ?.submenu?.items.find((item) => item.label === 'Open Recent')
        ?.submenu?.items.map((item) => item.label),
    );
    expect(recent?.[0]).toBe('from-electron.safetensors');
  } finally {
    await app.close();
  }
});
