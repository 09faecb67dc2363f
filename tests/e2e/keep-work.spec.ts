/**
 * No click destroys a model without asking: Start over an unfinished run, Discard, and loading a checkpoint
 * over a model held in no file each open a question (role alertdialog) whose Cancel changes nothing; every
 * run keeps its own files, shown and deletable in Runs; a damaged record is named and can be deleted; an
 * evaluation leaves the screen with the test set it was made on; a run that stopped early cannot continue.
 */

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { writeUntrainedCheckpoint } from '../helpers/checkpoints';
import { randomDataset, toKaggleCsv } from '../helpers/data';
import { autosaved, expect, REAL_DATA_DIR, startBrowserHost, tempDataFolder, test } from './fixtures';

async function loadRealData(page: Page): Promise<void> {
  const button = page.getByRole('button', { name: 'Use Fashion-MNIST found on this computer' });
  await button.click();
  await expect(button).toBeEnabled();
  await expect(page.getByTestId('train-count')).toHaveText('60,000 images');
}

async function setSettings(page: Page, values: Record<string, string>): Promise<void> {
  for (const [label, value] of Object.entries(values)) await page.getByLabel(label, { exact: true }).fill(value);
}

/** Every file under a folder with a hash of its contents: equal snapshots, byte-for-byte equal folders. */
function snapshot(folder: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[path] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(folder);
  return files;
}

/**
 * Trains a long run until it has a few epochs, kills its host as a crash would, then starts a host on the same
 * data folder and opens the page there (it offers the unfinished run).
 */
async function afterUnfinishedRun(
  page: Page,
): Promise<{ folder: string; host: Awaited<ReturnType<typeof startBrowserHost>> }> {
  const folder = tempDataFolder();
  const first = await startBrowserHost(folder);
  await page.goto(first.url);
  await loadRealData(page);
  await setSettings(page, { 'Training subset size': '3000', Epochs: '500', 'Hidden layers': '32' });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect
    .poll(
      async () => Number(/epoch (\d+)/.exec(await page.getByText(/^Run — epoch \d+ of 500$/).innerText())?.[1] ?? 0),
      { timeout: 60_000 },
    )
    .toBeGreaterThan(2);
  await autosaved(folder);
  first.process.kill('SIGKILL');
  await new Promise((resolve) => first.process.once('exit', resolve));
  const host = await startBrowserHost(folder);
  await page.goto(host.url);
  return { folder, host };
}

test('Start with an unfinished run offered asks first: Cancel changes nothing, Keep it and start new keeps it resumable from Runs', async ({
  page,
}) => {
  const { folder, host } = await afterUnfinishedRun(page);
  try {
    const offer = page.getByRole('region', { name: 'Unfinished run' });
    await expect(offer).toHaveText(
      /^The run “hidden 32 · 500 epochs · limit 3000” \(784-32-10, epoch (\d+) of 500, saved .+\) did not finish: it can be resumed\./,
    );
    const epochsDone = /epoch (\d+) of 500/.exec(await offer.innerText())![1];
    await loadRealData(page);
    await setSettings(page, { 'Training subset size': '2000', Epochs: '1', 'Hidden layers': '16' });
    const before = snapshot(join(folder, 'runs'));

    // Cancel (and Escape): nothing changes, byte for byte.
    const start = page.getByRole('button', { name: 'Start', exact: true });
    await start.click();
    const question = page.getByRole('alertdialog', { name: 'Resume the unfinished run?' });
    await expect(question).toContainText(`784-32-10, epoch ${epochsDone} of 500, saved `);
    await expect(question.getByRole('button')).toHaveText(['Cancel', 'Resume saved run', 'Keep it and start new']);
    await question.getByRole('button', { name: 'Cancel' }).click();
    await expect(question).toHaveCount(0);
    await start.click();
    await expect(question).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(question).toHaveCount(0);
    await expect(page.getByRole('status')).toHaveText('Ready to train.');
    await expect(offer).toBeVisible();
    expect(snapshot(join(folder, 'runs'))).toEqual(before);

    // Keep it and start new: the new run trains; the unfinished one stays, resumable from Runs.
    await start.click();
    await question.getByRole('button', { name: 'Keep it and start new' }).click();
    await expect(page.getByRole('status')).toHaveText('Finished 1 epoch.');
    await expect(offer).toHaveCount(0);
    for (const [file, hash] of Object.entries(before)) expect(snapshot(join(folder, 'runs'))[file], file).toBe(hash);
    await page.getByRole('tab', { name: 'Runs' }).click();
    const unfinished = page.locator('tr', { hasText: 'interrupted' });
    await expect(unfinished).toHaveCount(1);
    await unfinished.getByRole('button').first().click();
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText(/^Training: epoch \d+ of 500\.$/);
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText(/^Stopped after \d+ of 500 epochs\.$/);
  } finally {
    host.process.kill('SIGINT');
  }
});

test('Resume saved run in the question resumes the unfinished run; Discard asks before deleting its checkpoint, and keeps its record', async ({
  page,
}) => {
  const { folder, host } = await afterUnfinishedRun(page);
  try {
    const offer = page.getByRole('region', { name: 'Unfinished run' });
    await expect(offer).toBeVisible();
    const saved = Number(/epoch (\d+) of 500/.exec(await offer.innerText())![1]);
    const before = snapshot(join(folder, 'runs'));
    await offer.getByRole('button', { name: 'Discard…' }).click();
    const question = page.getByRole('alertdialog', { name: 'Discard the unfinished run?' });
    await expect(question).toContainText(
      /784-32-10, epoch \d+ of 500, [\d.]+ (kB|MB)\) is deleted, so it can no longer be resumed; its record and charts stay in Runs\./,
    );
    await question.getByRole('button', { name: 'Cancel' }).click();
    expect(snapshot(join(folder, 'runs'))).toEqual(before);
    await expect(offer).toBeVisible();

    await loadRealData(page);
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page
      .getByRole('alertdialog', { name: 'Resume the unfinished run?' })
      .getByRole('button', { name: 'Resume saved run' })
      .click();
    await expect(page.getByRole('status')).toHaveText(/^Training: epoch \d+ of 500\.$/);
    // The continuation is offered at the next start once it has an epoch of its own in its own checkpoint.
    await autosaved(folder, saved + 1);
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText(/^Stopped after \d+ of 500 epochs\.$/);

    // At the next start the continuation is the unfinished run; discarding it deletes its files only.
    host.process.kill('SIGINT');
    await new Promise((resolve) => host.process.once('exit', resolve));
    const again = await startBrowserHost(folder);
    try {
      await page.goto(again.url);
      await page.getByRole('region', { name: 'Unfinished run' }).getByRole('button', { name: 'Discard…' }).click();
      await page
        .getByRole('alertdialog', { name: 'Discard the unfinished run?' })
        .getByRole('button', { name: 'Discard' })
        .click();
      await expect(page.getByRole('region', { name: 'Unfinished run' })).toHaveCount(0);
      await page.getByRole('tab', { name: 'Runs' }).click();
      await expect(page.getByTestId('runs-count')).toHaveText('2 runs');
      const stopped = page.locator('tr', { hasText: 'stopped' });
      await expect(stopped.locator('td').last()).toHaveText('—');
    } finally {
      again.process.kill('SIGINT');
    }
  } finally {
    host.process.kill('SIGINT');
  }
});

test('loading a checkpoint over a model held in no file asks first, and Cancel keeps the model', async ({ page }) => {
  // The runs folder cannot be written: the run's model stays in no file.
  const folder = tempDataFolder();
  writeFileSync(join(folder, 'runs'), 'a file where the runs folder should be');
  const host = await startBrowserHost(folder);
  try {
    await page.goto(host.url);
    await loadRealData(page);
    await setSettings(page, { 'Training subset size': '2000', Epochs: '1', 'Hidden layers': '16' });
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('Finished 1 epoch.');
    await expect(page.getByTestId('model-summary')).toHaveText('784-16-10, 1 epoch');
    await page.getByRole('button', { name: 'Load checkpoint' }).click();
    const question = page.getByRole('alertdialog', { name: 'Load a checkpoint?' });
    await expect(question).toContainText(
      'The model held (784-16-10, 1 epoch) is not saved in any file, and loading another replaces it.',
    );
    await expect(question.getByRole('button')).toHaveText(['Cancel', 'Save checkpoint first', 'Load anyway']);
    await question.getByRole('button', { name: 'Cancel' }).click();
    await expect(page.getByTestId('model-summary')).toHaveText('784-16-10, 1 epoch');
    await page.getByRole('button', { name: 'Load checkpoint' }).click();
    const chooser = page.waitForEvent('filechooser');
    await question.getByRole('button', { name: 'Load anyway' }).click();
    const file = test.info().outputPath('other.safetensors');
    await writeUntrainedCheckpoint(file, [24]);
    await (await chooser).setFiles(file);
    await expect(page.getByTestId('model-summary')).toHaveText(
      '784-24-10, 0 epochs — from other.safetensors (weights only)',
    );
  } finally {
    host.process.kill('SIGINT');
  }
});

test('Runs shows the disk space of each run’s own files and deletes them on request, keeping the record; a damaged record is named and deletable', async ({
  page,
}) => {
  const folder = tempDataFolder();
  const host = await startBrowserHost(folder);
  try {
    await page.goto(host.url);
    await loadRealData(page);
    await setSettings(page, { 'Training subset size': '2000', Epochs: '1', 'Hidden layers': '16' });
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('Finished 1 epoch.');
    mkdirSync(join(folder, 'runs'), { recursive: true });
    writeFileSync(join(folder, 'runs', '20200101-000000-dead.json'), '{"format": "fashion-mnist-studio-run", ');
    await page.getByRole('tab', { name: 'Runs' }).click();
    await expect(page.getByTestId('runs-count')).toHaveText('1 run');
    const [id] = readdirSync(join(folder, 'runs')).filter(
      (name) => /^\d{8}-\d{6}-[0-9a-f]{4}$/.test(name) && !name.startsWith('20200101'),
    );
    const bytes = statSync(join(folder, 'runs', id, 'last.safetensors')).size;
    const shown =
      bytes >= 1e6
        ? `${(bytes / 1e6).toPrecision(3)} MB`
        : bytes >= 1e4
          ? `${Math.round(bytes / 1e3)} kB`
          : `${bytes} bytes`;
    const row = page.locator(`tr[data-run="${id}"]`);
    await expect(row.locator('td').last()).toHaveText(shown);
    await row.getByRole('button').first().click();
    const details = page.getByRole('complementary', { name: 'Run hidden 16 · 1 epoch · limit 2000' });
    await expect(details).toContainText(`${shown}: last epoch`);
    await details.getByRole('button', { name: 'Delete files…' }).click();
    const question = page.getByRole('alertdialog');
    await expect(question).toHaveText(
      new RegExp(
        `Delete the checkpoints? \\(${shown.replace('.', '\\.')}\\) of the run “hidden 16 · 1 epoch · limit 2000”\\? Its record and charts stay; it can no longer be opened or resumed\\.`,
      ),
    );
    await question.getByRole('button', { name: 'Delete files' }).click();
    await expect(page.getByTestId('runs-message')).toHaveText('The run’s files were deleted; its record stays.');
    await expect(row.locator('td').last()).toHaveText('—');
    await expect(details).toContainText('none kept');
    expect(readdirSync(join(folder, 'runs')).includes(id)).toBe(false);

    // The damaged record: named with what is wrong, and deleted on request.
    const damaged = page.locator('p[data-run="20200101-000000-dead"]');
    await expect(damaged).toContainText('Run 20200101-000000-dead is damaged: is not valid JSON');
    await damaged.getByRole('button', { name: 'Delete 20200101-000000-dead' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await expect(damaged).toHaveCount(0);
    expect(readdirSync(join(folder, 'runs')).some((name) => name.startsWith('20200101'))).toBe(false);
  } finally {
    host.process.kill('SIGINT');
  }
});

test('an evaluation leaves the screen with its test set; a run that stopped early cannot continue', async ({
  page,
}) => {
  const host = await startBrowserHost();
  try {
    await page.goto(host.url);
    await loadRealData(page);
    await setSettings(page, { 'Training subset size': '2000', Epochs: '1', 'Hidden layers': '16' });
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('Finished 1 epoch.');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await expect(page.getByTestId('evaluation')).toHaveText(
      /^Test accuracy [\d.]+%, test cost \d\.\d{4} on 10,000 images$/,
    );
    // Another test set: the old figure goes.
    const small = test.info().outputPath('small-test.csv');
    writeFileSync(small, toKaggleCsv(randomDataset(300, 5)));
    await page.getByLabel('Test data files').setInputFiles(small);
    await expect(page.getByTestId('test-count')).toHaveText('300 images');
    await expect(page.getByTestId('evaluation')).toHaveText('');

    // Early stopping: the run ends before its epochs, and Continue training stays disabled, whatever Epochs says.
    await page
      .getByLabel('Test data files')
      .setInputFiles([
        join(REAL_DATA_DIR, 't10k-images-idx3-ubyte.gz'),
        join(REAL_DATA_DIR, 't10k-labels-idx1-ubyte.gz'),
      ]);
    await setSettings(page, { Epochs: '60', 'Learning rate': '0.05', 'Validation split': '0.3' });
    await page.getByText('Recipes', { exact: true }).click();
    await setSettings(page, { 'Early-stopping patience': '1' });
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText(/^Finished \d+ epochs?\. Stopped early after epoch \d+/, {
      timeout: 60_000,
    });
    const continueButton = page.getByRole('button', { name: 'Continue training' });
    await expect(continueButton).toBeDisabled();
    await setSettings(page, { Epochs: '80' });
    await expect(continueButton).toBeDisabled();
  } finally {
    host.process.kill('SIGINT');
  }
});
