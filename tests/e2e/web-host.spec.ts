/**
 * The browser host across a normal restart: a run on uploaded data, stopped with Ctrl-C (SIGINT) mid-run,
 * is offered at the next start on the same data folder and resumes to its end, its data reloaded from the
 * files the host kept.
 */

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomDataset, toKaggleCsv } from '../helpers/data';
import { expect, hostExited, REAL_DATA_DIR, ROOT, startBrowserHost, tempDataFolder, test } from './fixtures';

// No Fashion-MNIST to find: the run's data can only come from the uploads.
const NO_DEFAULT_DATA = { FMNIST_DATA: undefined, FMNIST_DATA_PATH: '' };

test('a run on uploaded data, stopped with Ctrl-C, resumes after a restart and reaches its end', async ({ page }) => {
  const folder = tempDataFolder();
  const first = await startBrowserHost(folder, NO_DEFAULT_DATA);
  let second: Awaited<ReturnType<typeof startBrowserHost>> | null = null;
  try {
    await page.goto(first.url);
    await page.getByLabel('Training data files').setInputFiles({
      name: 'my-train.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(toKaggleCsv(randomDataset(3000, 11))),
    });
    await expect(page.getByTestId('train-count')).toHaveText('3,000 images');
    await page.getByLabel('Test data files').setInputFiles({
      name: 'my-test.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(toKaggleCsv(randomDataset(500, 12))),
    });
    await expect(page.getByTestId('test-count')).toHaveText('500 images');
    for (const [label, value] of Object.entries({
      Epochs: '60',
      'Hidden layers': '128',
      'Training subset size': '3000',
      Seed: '3',
    })) {
      await page.getByLabel(label, { exact: true }).fill(value);
    }
    await expect(page.getByLabel('Autosave the run (every few seconds, and when it pauses or stops)')).toBeChecked();
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    // Watched closely, so a fast machine does not reach the end first.
    await expect
      .poll(
        async () => Number((await page.getByText(/^Run — epoch \d+ of 60$/).innerText()).match(/epoch (\d+)/)![1]),
        { intervals: [100] },
      )
      .toBeGreaterThan(2);

    // Ctrl-C: the host ends the run at its last whole epoch, saves it, and exits normally.
    first.process.kill('SIGINT');
    expect(await hostExited(first.process)).toBe(0);
    expect(readdirSync(join(folder, 'browser-host', 'uploads'))).toHaveLength(2);

    second = await startBrowserHost(folder, NO_DEFAULT_DATA);
    await page.goto(second.url);
    const offer = page.getByRole('region', { name: 'Unfinished run' });
    await expect(offer).toHaveText(
      /^The run “hidden 128 · 60 epochs · limit 3000 · seed 3” \(784-128-10, epoch ([1-9]|[1-5]\d) of 60, saved /,
    );
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

test('npm run bench:app measures the app against the CLI, the start-up and the page heap', async () => {
  const { spawnSync } = await import('node:child_process');
  const run = (args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'bench', 'app.mjs'), ...args], {
      encoding: 'utf8',
      timeout: 150_000,
      env: { ...process.env, FMNIST_DATA: REAL_DATA_DIR },
    });
  const compared = run(['--epochs', '3', '--rounds', '2', '--limit', '20000']);
  expect(compared.status, compared.stderr).toBe(0);
  const out = compared.stdout;
  // Each round: the CLI's training time, the app's Start to Finished and the host alone, with their ratios. The app
  // runs between the other two, which swap places from one round to the next.
  const rounds = [
    ...out.matchAll(
      /^ {2}round (\d), (CLI|host alone) first: CLI training ([\d.]+) s \(process ([\d.]+) s\); app Start to Finished ([\d.]+) s \(([\d.]+)×\); host alone ([\d.]+) s \(([\d.]+)×\)$/gm,
    ),
  ];
  expect(
    rounds.map((r) => `${r[1]} ${r[2]}`),
    out,
  ).toEqual(['1 CLI', '2 host alone']);
  const ratios = [];
  for (const r of rounds) {
    const [cli, processSeconds, app, appRatio, alone, aloneRatio] = r.slice(3).map(Number);
    expect(processSeconds).toBeGreaterThan(cli);
    expect(appRatio).toBeCloseTo(app / cli, 1);
    expect(aloneRatio).toBeCloseTo(alone / cli, 1);
    ratios.push(app / cli);
  }
  // The median of two rounds is their mean.
  expect(out).toMatch(/^app \/ CLI, median of 2: (\d+\.\d\d) \(/m);
  expect(Number(/^app \/ CLI, median of 2: (\d+\.\d\d)/m.exec(out)![1])).toBeCloseTo((ratios[0] + ratios[1]) / 2, 1);
  // Where the app's time went, from its run record: three epochs of batches and of test evaluation within it.
  const split = /^ {2}app +([\d.]+) +([\d.]+) +(-?[\d.]+)$/m.exec(out);
  expect(split, out).not.toBeNull();
  const [batches, evaluation] = split!.slice(1).map(Number);
  expect(batches).toBeGreaterThan(0);
  expect(evaluation).toBeGreaterThan(0);
  const appSeconds = rounds.map((r) => Number(r[5]));
  expect(batches + evaluation).toBeLessThanOrEqual(Math.max(...appSeconds) + 0.01);
  expect(out).toMatch(/^start-up: from starting the browser host to Start enabled .+, median of 2: \d+\.\d\d s$/m);

  const heap = run(['--heap', '--epochs', '20', '--limit', '1000']);
  expect(heap.status, heap.stderr).toBe(0);
  const sizes = [...heap.stdout.matchAll(/after epoch (\d+): page JS heap ([\d.]+) MB/g)].map((m) => [
    Number(m[1]),
    Number(m[2]),
  ]);
  expect(sizes.map(([epoch]) => epoch)).toEqual([10, 20]);
  for (const [, megabytes] of sizes) expect(megabytes).toBeGreaterThan(0.5);

  // The Electron window's figures come from the release workflow; without the runtime the bench says so in one line.
  if (existsSync(join(ROOT, 'node_modules', 'electron', 'path.txt'))) {
    console.log('web-host.spec.ts: bench:app --electron not tried: the Electron runtime is installed here');
  } else {
    const window = run(['--electron', '--epochs', '1']);
    expect(window.status).toBe(2);
    expect(window.stderr).toBe(
      'bench:app: --electron needs the Electron runtime, which is not installed here (npm start downloads it)\n',
    );
  }
});
