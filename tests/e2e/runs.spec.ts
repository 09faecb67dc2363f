/**
 * The Runs view through the UI on the real data: two short runs with different learning rates are recorded
 * (each named after the settings it changed), listed (the second appears while it trains and is shown finished
 * when it ends), sorted, renamed inline, annotated, selected to overlay their curves (one dataset per run, named
 * in the legend), used to fill the form, opened as a checkpoint (each run's own), and deleted. The records are
 * read from the runs folder on disk (each summary with its journal of edits laid over it) to check what the page
 * shows.
 */

import { type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, startBrowserHost, tempDataFolder, test } from './fixtures';

test.describe.configure({ mode: 'serial' });
let host: { url: string; process: ChildProcess };
const dataFolder = tempDataFolder();
const runsFolder = join(dataFolder, 'runs');
test.beforeAll(async () => {
  host = await startBrowserHost(dataFolder);
});
test.afterAll(() => {
  host.process.kill('SIGINT');
});

/**
 * The records on disk, oldest first (by start time: two runs can start within the second their ids name): each
 * summary with the names and notes of its journal (one JSON object a line, the last one winning) laid over it.
 */
function records(): {
  id: string;
  name: string;
  note: string;
  status: string;
  startedAt: string;
  config: { learningRate: number };
}[] {
  return readdirSync(runsFolder)
    .filter((name) => name.endsWith('.json') && !name.endsWith('.history.json'))
    .map((name) => {
      const record = JSON.parse(readFileSync(join(runsFolder, name), 'utf8'));
      const journal = join(runsFolder, `${record.id}.edits.jsonl`);
      const lines = existsSync(journal)
        ? readFileSync(journal, 'utf8')
            .split('\n')
            .filter((line) => line.trim())
        : [];
      for (const edit of lines.map((line) => JSON.parse(line)))
        Object.assign(record, 'name' in edit ? { name: edit.name } : {}, 'note' in edit ? { note: edit.note } : {});
      return record;
    })
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

const tab = (page: Page, name: string) => page.getByRole('tab', { name, exact: true });
const chart = (page: Page, title: string) => page.locator(`figure[aria-label^="${title} chart"]`);
const rowOf = (page: Page, id: string) => page.locator(`tr[data-run="${id}"]`);
const cellOf = (page: Page, id: string, column: string) => rowOf(page, id).locator(`td[data-column="${column}"]`);

/**
 * The names the two runs get: the settings each changed from the defaults (512,256 hidden, lr 0.001, 50 epochs,
 * all images), in the order names list them.
 */
const SLOW_NAME = 'hidden 32 · 2 epochs · limit 3000';
const FAST_NAME = 'hidden 32 · lr 0.01 · 10 epochs · limit 3000';
/** FAST_NAME in a chart legend: its first 29 characters and an ellipsis. */
const FAST_LEGEND = 'hidden 32 · lr 0.01 · 10 epoc…';

async function train(page: Page, learningRate: string): Promise<void> {
  await page.getByLabel('Learning rate', { exact: true }).fill(learningRate);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
}

test('records both runs, overlays their curves, and renames, annotates, reuses, opens and deletes them', async ({
  page,
}) => {
  await page.goto(host.url);
  await expect(page.getByTestId('train-count')).toHaveText('60,000 images');
  for (const [label, value] of Object.entries({ Epochs: '2', 'Training subset size': '3000', 'Hidden layers': '32' })) {
    await page.getByLabel(label, { exact: true }).fill(value);
  }
  await train(page, '0.001');
  await expect(page.getByRole('status')).toHaveText('Finished 2 epochs.', { timeout: 120_000 });

  // The second run (10 epochs) is in the table while it trains (paused here, so it surely is), and shown
  // finished once it ends.
  await page.getByLabel('Epochs', { exact: true }).fill('10');
  await train(page, '0.01');
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText(/^Paused after batch \d+ of epoch \d+\.$/);
  await expect.poll(() => records().length).toBe(2);
  await tab(page, 'Runs').click();
  await expect(page.getByTestId('runs-count')).toHaveText('2 runs');
  const [slow, fast] = records();
  expect(slow.config.learningRate).toBe(0.001);
  expect(fast.config.learningRate).toBe(0.01);
  expect([slow.name, fast.name]).toEqual([SLOW_NAME, FAST_NAME]);
  await expect(cellOf(page, slow.id, 'status')).toHaveText('finished');
  await expect(cellOf(page, fast.id, 'status')).toHaveText('running');
  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await expect(cellOf(page, fast.id, 'status')).toHaveText('finished', { timeout: 120_000 });
  await expect(cellOf(page, fast.id, 'epochs')).toHaveText('10');
  await expect(cellOf(page, slow.id, 'epochs')).toHaveText('2');

  // Sorting: newest first by default; by learning rate ascending, then descending.
  const order = () => page.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-run')));
  expect(await order()).toEqual([fast.id, slow.id]);
  const lrHeader = page.getByRole('columnheader', { name: /Learning rate/ });
  await lrHeader.getByRole('button').click();
  await expect(lrHeader).toHaveAttribute('aria-sort', 'descending');
  expect(await order()).toEqual([fast.id, slow.id]);
  await lrHeader.getByRole('button').click();
  await expect(lrHeader).toHaveAttribute('aria-sort', 'ascending');
  expect(await order()).toEqual([slow.id, fast.id]);
  await expect(page.getByRole('columnheader', { name: /Started/ })).not.toHaveAttribute('aria-sort');

  // Inline rename: the field starts with the name; the record on disk has the new one.
  await page.getByRole('button', { name: `Rename ${SLOW_NAME}` }).click();
  const field = page.getByLabel(`Name of run ${slow.id}`);
  await expect(field).toHaveValue(SLOW_NAME);
  await field.fill('slow learner');
  await field.press('Enter');
  await expect(rowOf(page, slow.id).getByRole('rowheader')).toContainText('slow learner');
  await expect.poll(() => records()[0].name).toBe('slow learner');

  // Both selected: one curve per run on each chart, named as in the table, 2 + 10 epochs of points.
  await page.getByRole('checkbox', { name: 'Show slow learner in the charts' }).check();
  await page.getByRole('checkbox', { name: `Show ${FAST_NAME} in the charts` }).check();
  await expect(page.getByTestId('runs-count')).toHaveText('2 runs, 2 selected');
  for (const title of ['Runs cost', 'Runs test accuracy']) {
    await expect(chart(page, title)).toHaveAttribute('data-series', JSON.stringify(['slow learner', FAST_LEGEND]));
    await expect(chart(page, title)).toHaveAttribute('data-points', '12');
    await expect(chart(page, title)).toHaveAttribute('data-last-x', '10');
  }
  await page.screenshot({ path: test.info().outputPath('runs.png') });
  // The curves are the histories on disk: the cost chart's last point is the fast run's last epoch.
  const fastHistory = JSON.parse(readFileSync(join(runsFolder, `${fast.id}.history.json`), 'utf8')).epochs;
  expect(fastHistory).toHaveLength(10);
  await page.getByRole('checkbox', { name: 'Show slow learner in the charts' }).uncheck();
  await expect(chart(page, 'Runs cost')).toHaveAttribute('data-series', JSON.stringify([FAST_LEGEND]));
  await expect(chart(page, 'Runs cost')).toHaveAttribute('data-points', '10');

  // Details of the slow run: a note, and its settings back in the form.
  await rowOf(page, slow.id).getByRole('button', { name: 'slow learner', exact: true }).click();
  const details = page.getByRole('complementary', { name: 'Run slow learner' });
  await details.getByLabel('Note').fill('too slow for 2 epochs');
  await details.getByRole('button', { name: 'Save note' }).click();
  await expect.poll(() => records()[0].note).toBe('too slow for 2 epochs');
  await expect(page.getByLabel('Learning rate', { exact: true })).toHaveValue('0.01');
  await details.getByRole('button', { name: 'New run from these settings' }).click();
  await expect(page.getByLabel('Learning rate', { exact: true })).toHaveValue('0.001');
  await expect(page.getByLabel('Epochs', { exact: true })).toHaveValue('2');
  await expect(page.getByLabel('Hidden layers', { exact: true })).toHaveValue('32');
  await expect(page.getByLabel('Training subset size', { exact: true })).toHaveValue('3000');

  // Each run keeps its own model: the slow run's opens after the fast one trained, and so does the fast one's.
  await details.getByRole('button', { name: 'Open checkpoint' }).click();
  await expect(page.getByTestId('runs-message')).toHaveText(
    `Loaded ${join(runsFolder, slow.id, 'last.safetensors')}: the model bar and the other views show it now.`,
  );
  await expect(page.getByTestId('model-summary')).toHaveText('784-32-10, 2 epochs — from last.safetensors');
  await rowOf(page, fast.id).getByRole('button', { name: FAST_NAME, exact: true }).click();
  await page
    .getByRole('complementary', { name: `Run ${FAST_NAME}` })
    .getByRole('button', { name: 'Open checkpoint' })
    .click();
  await expect(page.getByTestId('runs-message')).toHaveText(
    `Loaded ${join(runsFolder, fast.id, 'last.safetensors')}: the model bar and the other views show it now.`,
  );
  await expect(page.getByLabel('Learning rate', { exact: true })).toHaveValue('0.01');

  // Deleting asks first; the record goes from the table and from the disk.
  await rowOf(page, slow.id).getByRole('button', { name: 'slow learner', exact: true }).click();
  await page.getByRole('complementary', { name: 'Run slow learner' }).getByRole('button', { name: 'Delete…' }).click();
  const question = page.getByRole('alertdialog');
  await expect(question).toContainText(
    /Delete the run “slow learner”\? Its record and its own checkpoint \([\d.]+ (kB|MB)\) go\./,
  );
  await question.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByTestId('runs-count')).toHaveText('1 run, 1 selected');
  await expect(rowOf(page, slow.id)).toHaveCount(0);
  expect(records().map((record) => record.id)).toEqual([fast.id]);
});
