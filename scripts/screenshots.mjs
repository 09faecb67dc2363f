#!/usr/bin/env node
/**
 * Takes the README's screenshots: the built browser host (out/node/web.js) trains the default network in
 * Chromium, then each view is captured. `npm run screenshots` builds first; the data is found as the app
 * finds it ($FMNIST_DATA, /usr/share/datasets/fashion-mnist, …), Chromium is $CHROMIUM_PATH or Debian's.
 *
 *   node scripts/screenshots.mjs [--out DIR] [--epochs N] [--limit N]
 *
 * Writes each view (charts, gallery, evaluation, draw, network, runs: the first run beside a second one with the
 * `quick` preset; sweeps: a sweep of two learning rates × two dropout rates) at the two window sizes the layout
 * is judged at, 1280×900 and 1024×700, light and dark, as VIEW-WIDTH-THEME.png (network as .jpg) into DIR
 * (default build/screenshots). The documentation shows the 1280×900 light ones and the charts at 1024×700 in
 * dark mode; the others are there to be looked at. Defaults: 15 epochs on all 60 000 images.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { out: { type: 'string' }, epochs: { type: 'string' }, limit: { type: 'string' } },
});
const out = resolve(values.out ?? join(ROOT, 'build', 'screenshots'));
const epochs = values.epochs ?? '15';
const limit = values.limit ?? '0';
const chromiumPath = process.env.CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

/**
 * Starts the browser host with a data folder of its own; resolves with its URL and the process.
 * @returns {Promise<{ url: string, child: import('node:child_process').ChildProcess }>}
 */
function startHost() {
  const child = spawn(process.execPath, [join(ROOT, 'out', 'node', 'web.js')], {
    cwd: ROOT,
    env: { ...process.env, FMNIST_STUDIO_DATA: mkdtempSync(join(tmpdir(), 'fmnist-screenshots-')) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((done, fail) => {
    let output = '';
    /** @param {Buffer} chunk */
    const take = (chunk) => {
      output += chunk;
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(output);
      if (match) done({ url: match[1], child });
    };
    child.stdout.on('data', take);
    child.stderr.on('data', (/** @type {Buffer} */ chunk) => (output += chunk));
    child.on('exit', (code) => fail(new Error(`the browser host exited (${code}): ${output.trim()}`)));
  });
}

async function main() {
  mkdirSync(out, { recursive: true });
  const { url, child } = await startHost();
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    await page.goto(url);
    await page.getByTestId('test-count').filter({ hasText: '10,000 images' }).waitFor({ timeout: 60_000 });
    await page.getByLabel('Epochs', { exact: true }).fill(epochs);
    await page.getByLabel('Training subset size', { exact: true }).fill(limit);
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Finished \d+ epochs?\.$/ })
      .waitFor({ timeout: 60 * 60_000 });
    // The charts draw at most every 500 ms: let them catch up.
    await page.waitForTimeout(800);
    /** Every size and theme of the view on screen; `ready` waits for what it draws after a resize. */
    const shot = async (/** @type {string} */ view, ready = async () => {}) => {
      for (const [width, height] of [
        [1024, 700],
        [1280, 900],
      ]) {
        await page.setViewportSize({ width, height });
        for (const theme of /** @type {const} */ (['light', 'dark'])) {
          await page.emulateMedia({ colorScheme: theme });
          await page.waitForTimeout(700);
          await ready();
          const jpeg = view === 'network';
          await page.screenshot({
            path: join(out, `${view}-${width}-${theme}.${jpeg ? 'jpg' : 'png'}`),
            ...(jpeg ? { type: 'jpeg', quality: 85 } : {}),
          });
        }
      }
      await page.emulateMedia({ colorScheme: 'light' });
    };

    await shot('charts');

    await page.getByRole('tab', { name: 'Gallery', exact: true }).click();
    await page.getByLabel('Show').selectOption({ label: 'Misclassified' });
    await page.getByLabel('Sort').selectOption({ label: 'Confidence, highest first' });
    await page
      .getByRole('img', { name: /^Predicted / })
      .first()
      .click();
    await page.getByRole('complementary', { name: /^Test image/ }).waitFor();
    await shot('gallery');

    await page.getByRole('tab', { name: 'Evaluation', exact: true }).click();
    await page.getByRole('table', { name: 'Confusion matrix' }).waitFor();
    await shot('evaluation');

    await page.getByRole('tab', { name: 'Network', exact: true }).click();
    await page.getByRole('img', { name: /^Hidden layer 1 activations/ }).waitFor();
    // 512 noisy weight tiles compress badly as PNG: a JPEG is a sixth of the size.
    await shot('network');

    // A pair of trousers drawn on the pad.
    await page.getByRole('tab', { name: 'Draw', exact: true }).click();
    const pad = await page.getByLabel('Drawing pad').boundingBox();
    if (!pad) throw new Error('the drawing pad is not on screen');
    for (const [x0, x1] of [
      [120, 95],
      [160, 185],
    ]) {
      await page.mouse.move(pad.x + 140, pad.y + 40);
      await page.mouse.down();
      await page.mouse.move(pad.x + x0, pad.y + 60, { steps: 4 });
      await page.mouse.move(pad.x + x1, pad.y + 245, { steps: 12 });
      await page.mouse.up();
    }
    await page
      .getByRole('region', { name: 'Prediction' })
      .getByText(/^Most likely/)
      .waitFor();
    await shot('draw');

    // A second run, with the quick preset, compared with the first in the Runs tab.
    await page.getByLabel('Preset', { exact: true }).selectOption('quick');
    await page.getByLabel('Training subset size', { exact: true }).fill(limit);
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Finished 8 epochs\.$/ })
      .waitFor({ timeout: 60 * 60_000 });
    await page.getByRole('tab', { name: 'Runs', exact: true }).click();
    await page
      .getByTestId('runs-count')
      .filter({ hasText: /^2 runs/ })
      .waitFor();
    for (const box of await page.getByRole('checkbox', { name: /^Show .* in the charts$/ }).all()) await box.check();
    await page
      .getByTestId('runs-count')
      .filter({ hasText: /, 2 selected$/ })
      .waitFor();
    await page.waitForTimeout(800);
    await shot('runs');

    // A sweep of two learning rates × two dropout rates, 2 epochs each, read as a heat map.
    await page.getByLabel('Preset', { exact: true }).selectOption('notebook');
    await page.getByLabel('Epochs', { exact: true }).fill('2');
    await page.getByLabel('Training subset size', { exact: true }).fill(limit);
    await page.getByRole('tab', { name: 'Sweeps', exact: true }).click();
    await page.getByLabel('Values of Learning rate').fill('0.001, 0.002');
    await page.getByLabel('and (optional)').selectOption('Dropout');
    await page.getByLabel('Values of Dropout').fill('0, 0.2');
    await page.getByRole('button', { name: 'Start sweep (4 runs)' }).click();
    await page
      .getByRole('table', { name: 'Sweeps' })
      .getByRole('row', { name: /lr × dropout sweep/ })
      .filter({ hasText: 'finished' })
      .waitFor({ timeout: 60 * 60_000 });
    await shot('sweeps', () => page.getByRole('heading', { name: /^Results of/ }).scrollIntoViewIfNeeded());
    process.stdout.write(`Screenshots in ${out}\n`);
  } finally {
    await browser.close();
    child.kill('SIGINT');
  }
}

main().catch((error) => {
  process.stderr.write(`screenshots: ${error.message}\n`);
  process.exitCode = 1;
});
