/**
 * The real desktop app under Electron (run by the release workflow on Linux under Xvfb, Windows and macOS;
 * skipped, saying so, where no Electron runtime is installed, as on machines that cannot download it).
 * Native dialogs are replaced inside the main process, so the test picks the files.
 */

import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { _electron as electron, type ElectronApplication, expect, type Page, test } from '@playwright/test';
import { readIdxDataset } from '@core/data/idx';
import { toKaggleCsv } from '../helpers/data';
import { REAL_DATA_DIR, ROOT, tempDataFolder } from './fixtures';

/** The Electron runtime, if installed (npm start fetches it on first use; npm install does not). */
function electronBinary(): string | null {
  const pathFile = join(ROOT, 'node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = join(ROOT, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

const binary = electronBinary();

const SANDBOX_ARGS = process.platform === 'linux' ? ['--no-sandbox'] : [];
const appEnv = (dataFolder: string): Record<string, string> => ({
  ...(process.env as Record<string, string>),
  FMNIST_DATA: REAL_DATA_DIR,
  FMNIST_STUDIO_DATA: dataFolder,
});

async function launch(dataFolder: string): Promise<ElectronApplication> {
  return electron.launch({
    executablePath: binary!,
    args: [join(ROOT, 'out', 'main', 'index.js'), ...SANDBOX_ARGS],
    env: appEnv(dataFolder),
    timeout: 120_000,
  });
}

async function train(window: Page, subset: string, epochs: number): Promise<void> {
  await window.getByLabel('Training subset size', { exact: true }).fill(subset);
  await window.getByLabel('Epochs', { exact: true }).fill(String(epochs));
  await window.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(window.getByRole('status')).toHaveText(`Finished ${epochs} epoch${epochs === 1 ? '' : 's'}.`, {
    timeout: 180_000,
  });
}

/** Makes the next save and open dialogs answer with `path`. */
async function answerDialogs(app: ElectronApplication, path: string): Promise<void> {
  await app.evaluate(({ dialog }, file) => {
    dialog.showSaveDialog = (async () => ({
      canceled: false,
      filePath: file,
    })) as unknown as typeof dialog.showSaveDialog;
    dialog.showOpenDialog = (async () => ({
      canceled: false,
      filePaths: [file],
    })) as unknown as typeof dialog.showOpenDialog;
  }, path);
}

test('the desktop app opens its window, loads data, trains, saves and loads a checkpoint through the dialogs', async () => {
  const reason = 'no Electron runtime on this machine (npm start downloads it; the release workflow runs this test)';
  // Said in the run's output, not only in the report.
  if (!binary) console.log(`electron.spec.ts: skipped: ${reason}`);
  test.skip(!binary, reason);
  const dataFolder = tempDataFolder();
  const launched = performance.now();
  const app = await launch(dataFolder);
  try {
    const window = await app.firstWindow({ timeout: 120_000 });
    await expect(window.getByRole('heading', { name: 'Fashion-MNIST Studio' })).toBeVisible();
    // Start-up, reported in the run's output (the browser host's is measured by npm run bench:app): from
    // launching Electron to Start enabled with both data sets loaded by themselves.
    await expect(window.getByRole('button', { name: 'Start', exact: true })).toBeEnabled({ timeout: 60_000 });
    const startup = (performance.now() - launched) / 1000;
    console.log(`electron.spec.ts: start-up to interactive with the data loaded: ${startup.toFixed(2)} s`);
    test.info().annotations.push({ type: 'start-up', description: `${startup.toFixed(2)} s` });
    // The page has no Node: the sandboxed preload exposes only the bridge.
    expect(await window.evaluate(() => typeof (globalThis as unknown as { require?: unknown }).require)).toBe(
      'undefined',
    );
    expect(
      await window.evaluate(() => Object.keys((globalThis as unknown as { studio: object }).studio).sort()),
    ).toEqual(['onEvent', 'openDropped', 'request']);
    expect(await window.evaluate(() => typeof (globalThis as unknown as { process?: unknown }).process)).toBe(
      'undefined',
    );

    // The first start loads the data found on this computer without a click.
    await expect(window.getByTestId('train-count')).toHaveText('60,000 images');
    await expect(window.getByTestId('test-count')).toHaveText('10,000 images');
    await train(window, '5000', 2);
    const accuracy = await window.getByTestId('test-accuracy').innerText();
    expect(accuracy).toMatch(/^\d\d\.\d\d%$/);

    // The gallery opens: images and outputs arrive over Electron's IPC as typed arrays.
    await window.getByRole('tab', { name: 'Gallery', exact: true }).click();
    await expect(window.getByTestId('gallery-count')).toHaveText('10,000 images');
    await expect(window.getByRole('img', { name: /^Predicted .+, true .+, [\d.]+%$/ }).first()).toBeVisible();
    await window.getByLabel('Show').selectOption({ label: 'Misclassified' });
    const mistakes = Number((await window.getByTestId('gallery-count').innerText()).replace(/\D/g, ''));
    await window.getByRole('tab', { name: 'Evaluation', exact: true }).click();
    await expect(window.getByTestId('evaluation-summary')).toContainText(`Test accuracy ${accuracy}`);
    const cells = (
      await window.getByRole('table', { name: 'Confusion matrix' }).locator('tbody td').allInnerTexts()
    ).map(Number);
    expect(cells).toHaveLength(100);
    expect(cells.reduce((sum, n, i) => (i % 11 === 0 ? sum : sum + n), 0)).toBe(mistakes);
    // The confusion matrix saved through the save dialog.
    const matrixFile = join(tempDataFolder(), 'matrix.csv');
    await answerDialogs(app, matrixFile);
    await window.getByRole('button', { name: 'Export matrix as CSV…' }).click();
    await expect
      .poll(() => (existsSync(matrixFile) ? readFileSync(matrixFile, 'utf8').trim().split(/\r?\n/).length : 0))
      .toBe(11);
    // Draw to predict works in the window too.
    await window.getByRole('tab', { name: 'Draw', exact: true }).click();
    const pad = (await window.getByLabel('Drawing pad').boundingBox())!;
    await window.mouse.move(pad.x + 140, pad.y + 40);
    await window.mouse.down();
    await window.mouse.move(pad.x + 140, pad.y + 240, { steps: 10 });
    await window.mouse.up();
    await expect(window.getByRole('region', { name: 'Prediction' })).toContainText(/Most likely \S/);
    await window.getByRole('tab', { name: 'Charts', exact: true }).click();

    const checkpoint = join(tempDataFolder(), 'from-electron.safetensors');
    await answerDialogs(app, checkpoint);
    await window.getByRole('button', { name: 'Save checkpoint' }).click();
    await expect.poll(() => (existsSync(checkpoint) ? statSync(checkpoint).size : 0)).toBeGreaterThan(100_000);
    await window.getByRole('button', { name: 'Load checkpoint' }).click();
    await expect(window.getByTestId('model-summary')).toHaveText(
      '784-512-256-10, 2 epochs — from from-electron.safetensors',
    );
    await window.getByRole('button', { name: 'Evaluate' }).click();
    await expect(window.getByTestId('evaluation')).toHaveText(
      new RegExp(`^Test accuracy ${accuracy.replace('.', '\\.')},`),
    );

    // File ▸ Open Recent lists it.
    const recent = await app.evaluate(({ Menu }) =>
      Menu.getApplicationMenu()
        ?.items.find((item) => item.label.replace('&', '') === 'File')
        ?.submenu?.items.find((item) => item.label === 'Open Recent')
        ?.submenu?.items.map((item) => item.label),
    );
    expect(recent?.[0]).toBe('from-electron.safetensors');

    // A second launch with a checkpoint hands it to this window and exits.
    const other = join(tempDataFolder(), 'second-launch.safetensors');
    copyFileSync(checkpoint, other);
    const second = spawn(binary!, [join(ROOT, 'out', 'main', 'index.js'), ...SANDBOX_ARGS, other], {
      env: appEnv(dataFolder),
      stdio: 'ignore',
    });
    expect(await new Promise((resolve) => second.on('exit', resolve))).toBe(0);
    await expect(window.getByTestId('model-summary')).toHaveText(
      '784-512-256-10, 2 epochs — from second-launch.safetensors',
    );
  } finally {
    await app.close();
  }
});

const packedApp = process.env.FMNIST_PACKED_APP;

test('the packed app starts, reads a CSV and trains an epoch (the worker and papaparse inside app.asar)', async () => {
  const reason = 'FMNIST_PACKED_APP is not set (the release workflow sets it to the app npm run dist unpacked)';
  if (!packedApp) console.log(`electron.spec.ts: skipped: ${reason}`);
  test.skip(!packedApp, reason);
  const dataFolder = tempDataFolder();
  const app = await electron.launch({
    executablePath: packedApp!,
    args: SANDBOX_ARGS,
    env: appEnv(dataFolder),
    timeout: 120_000,
  });
  try {
    const window = await app.firstWindow({ timeout: 120_000 });
    await expect(window.getByRole('heading', { name: 'Fashion-MNIST Studio' })).toBeVisible();
    const test500 = await readIdxDataset(
      join(REAL_DATA_DIR, 't10k-images-idx3-ubyte.gz'),
      join(REAL_DATA_DIR, 't10k-labels-idx1-ubyte.gz'),
    );
    const csv = join(dataFolder, 'test-500.csv');
    writeFileSync(
      csv,
      toKaggleCsv({
        ...test500,
        count: 500,
        images: test500.images.subarray(0, 500 * 784),
        labels: test500.labels.subarray(0, 500),
      }),
    );
    await expect(window.getByTestId('train-count')).toHaveText('60,000 images');
    await answerDialogs(app, csv);
    await window.getByRole('button', { name: 'Open test data…' }).click();
    await expect(window.getByTestId('test-count')).toHaveText('500 images');
    await train(window, '2000', 1);
    await expect(window.getByTestId('test-accuracy')).toHaveText(/^\d\d\.\d\d%$/);
  } finally {
    await app.close();
  }
});
