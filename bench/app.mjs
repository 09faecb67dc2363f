/**
 * The app against the CLI (`npm run bench:app`): trains the default network on the real data for the same
 * settings through `fmnist train --autosave` and through the browser host with its page open in headless
 * Chromium (charts live, its default autosave on), in alternating rounds, and prints for both the wall time
 * of each epoch, measured from one epoch's end to the next (training, test evaluation and autosave), their
 * medians and the ratio. Also the start-up: from `node out/node/web.js` to the page interactive with the
 * data loaded (Start enabled). With --heap, the page's JS heap after garbage collection every 10 epochs of
 * a long run instead.
 *
 * Needs the built app (`npm run build`, which the npm script runs first), the real data set and Chromium
 * (tests/helpers/browser.ts says where it is looked for).
 *
 *   npm run bench:app [-- --epochs 5 --rounds 2]      app vs CLI
 *   npm run bench:app -- --heap [--epochs 100]        the page's heap over a long run
 *   --limit N                                         train on the first N images only
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';

const ROOT = join(import.meta.dirname, '..');
const DATA = process.env.FMNIST_DATA || '/usr/share/datasets/fashion-mnist';
const CHROMIUM = process.env.CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
const LAUNCH = {
  executablePath: CHROMIUM,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

const { values } = parseArgs({
  options: {
    epochs: { type: 'string' },
    rounds: { type: 'string', default: '2' },
    heap: { type: 'boolean', default: false },
    limit: { type: 'string' },
  },
});
/** A whole number ≥ `least` from an option, or a one-line error naming the option. */
function wholeNumber(name, text, least) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < least) {
    process.stderr.write(`bench:app: --${name} must be a whole number of at least ${least}, got "${text}"\n`);
    process.exit(2);
  }
  return value;
}
const heapMode = values.heap;
const epochs = wholeNumber('epochs', values.epochs ?? (heapMode ? '100' : '5'), 2);
const rounds = wholeNumber('rounds', values.rounds, 1);
/** Train on the first N images only (for a quick check of the benchmark itself). */
const limit = values.limit ? wholeNumber('limit', values.limit, 1) : null;
const out = (line = '') => process.stdout.write(`${line}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** Wall seconds between consecutive epoch ends (the first epoch, with compilation, has no predecessor). */
const intervals = (ends) => ends.slice(1).map((t, i) => (t - ends[i]) / 1000);

/** CPU seconds (user + system) used so far by a process and all its descendants (Linux /proc; null elsewhere). */
function cpuSeconds(pid) {
  try {
    const stats = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map((d) => {
        try {
          const text = readFileSync(`/proc/${d}/stat`, 'utf8');
          const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
          return { pid: Number(d), parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
        } catch {
          return null;
        }
      })
      .filter(Boolean);
    const inTree = new Set([pid]);
    for (let grew = true; grew;) {
      grew = false;
      for (const s of stats) {
        if (!inTree.has(s.pid) && inTree.has(s.parent)) {
          inTree.add(s.pid);
          grew = true;
        }
      }
    }
    return stats.filter((s) => inTree.has(s.pid)).reduce((sum, s) => sum + s.ticks, 0) / 100;
  } catch {
    return null;
  }
}

/** Each epoch's training seconds and evaluation seconds as the run's record in a data folder has them. */
function recordedEpochs(folder) {
  const runs = join(folder, 'runs');
  const file = existsSync(runs) ? readdirSync(runs).find((f) => f.endsWith('.history.json')) : undefined;
  if (!file) return [];
  return JSON.parse(readFileSync(join(runs, file), 'utf8')).epochs.map((e) => ({
    seconds: e.seconds,
    evaluationSeconds: e.evaluationSeconds,
  }));
}

function tempFolder() {
  return mkdtempSync(join(tmpdir(), 'fmnist-bench-app-'));
}

/** `fmnist train` with the app's defaults and an autosave folder; the times its epoch lines arrive. */
function runCli() {
  const folder = tempFolder();
  return new Promise((resolve, reject) => {
    const env = { ...process.env, FMNIST_DATA: DATA, FMNIST_STUDIO_DATA: folder };
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'out/node/fmnist.js'),
        'train',
        '--epochs',
        String(epochs),
        ...(limit ? ['--limit', String(limit)] : []),
        '--json',
        '--autosave',
        folder,
      ],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const ends = [];
    let buffered = '';
    let errors = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith('{"type":"epoch"')) ends.push(performance.now());
      }
    });
    child.stderr.on('data', (chunk) => (errors += chunk));
    child.on('close', (code) => {
      const recorded = recordedEpochs(folder);
      rmSync(folder, { recursive: true, force: true });
      if (code !== 0) reject(new Error(`fmnist train failed (${code}): ${errors}`));
      else resolve({ ends, recorded });
    });
  });
}

/** Starts the browser host; resolves with its URL, the process and when it was spawned. */
function startHost(folder) {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'out/node/web.js')], {
    cwd: ROOT,
    env: { ...process.env, FMNIST_DATA: DATA, FMNIST_STUDIO_DATA: folder },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const take = (chunk) => {
      output += chunk;
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(output);
      if (match) resolve({ url: match[1], child, spawnedAt });
    };
    child.stdout.on('data', take);
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => reject(new Error(`the browser host exited (${code}): ${output}`)));
  });
}

/** One run in the app: start-up time, then the times the page shows each epoch's end. */
async function runApp(browser, options = {}) {
  const folder = tempFolder();
  const recorded = [];
  const host = await startHost(folder);
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  try {
    await page.goto(host.url);
    const start = page.getByRole('button', { name: 'Start', exact: true });
    await start.waitFor();
    await page.waitForFunction(
      () => {
        const button = [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Start');
        return button && !button.disabled;
      },
      null,
      { polling: 10, timeout: 60_000 },
    );
    const startupSeconds = (performance.now() - host.spawnedAt) / 1000;
    await page.getByLabel('Epochs', { exact: true }).fill(String(epochs));
    if (limit) await page.getByLabel('Training subset size', { exact: true }).fill(String(limit));
    // The page notes, in its own clock, when the status moves past an epoch; read back at the end.
    await page.evaluate((total) => {
      const status = document.querySelector('[role="status"][data-status]');
      const marks = [];
      let last = 0;
      new MutationObserver(() => {
        const text = status.textContent ?? '';
        const training = /^Training: epoch (\d+) of/.exec(text);
        const done = training ? Number(training[1]) - 1 : /^Finished/.test(text) ? total : 0;
        // Epochs shorter than the progress interval end together: each is marked when the page learns of it.
        const now = performance.now();
        for (; last < done; last++) marks.push(now);
      }).observe(status, { childList: true, characterData: true, subtree: true });
      window.__epochEnds = marks;
    }, epochs);
    const heap = [];
    const session = await page.context().newCDPSession(page);
    await session.send('Performance.enable');
    const pageMetrics = async () =>
      Object.fromEntries((await session.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const metricsBefore = await pageMetrics();
    const clickedAt = await page.evaluate(() => performance.now());
    const cpuBefore = { browser: cpuSeconds(options.browserPid), host: cpuSeconds(host.child.pid) };
    await start.click();
    if (options.heap) {
      for (let epoch = 10; epoch <= epochs; epoch += 10) {
        await page.waitForFunction((n) => window.__epochEnds.length >= n, epoch, { polling: 200, timeout: 0 });
        await session.send('HeapProfiler.collectGarbage');
        const { usedSize } = await session.send('Runtime.getHeapUsage');
        heap.push({ epoch, megabytes: usedSize / 1e6 });
        out(`  after epoch ${epoch}: page JS heap ${(usedSize / 1e6).toFixed(1)} MB`);
      }
    }
    await page
      .getByRole('status')
      .filter({ hasText: /^Finished/ })
      .waitFor({ timeout: 0 });
    const ends = await page.evaluate(() => window.__epochEnds);
    const metricsAfter = await pageMetrics();
    const pageTimes = Object.fromEntries(
      ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration'].map((k) => [
        k,
        metricsAfter[k] - metricsBefore[k],
      ]),
    );
    const cpu = {
      browser: cpuSeconds(options.browserPid) - cpuBefore.browser,
      host: cpuSeconds(host.child.pid) - cpuBefore.host,
    };
    return {
      startupSeconds,
      ends,
      totalSeconds: (ends[ends.length - 1] - clickedAt) / 1000,
      heap,
      cpu,
      page: pageTimes,
      recorded,
    };
  } finally {
    await page.close();
    host.child.kill('SIGINT');
    await new Promise((resolve) => host.child.once('exit', resolve));
    recorded.push(...recordedEpochs(folder));
    rmSync(folder, { recursive: true, force: true });
  }
}

async function main() {
  if (!existsSync(join(ROOT, 'out/node/web.js'))) throw new Error('build the app first: npm run build');
  const server = await chromium.launchServer(LAUNCH);
  const browserPid = server.process().pid;
  const browser = await chromium.connect(server.wsEndpoint());
  try {
    if (heapMode) {
      out(
        `The page's JS heap over ${epochs} epochs of the default network in the app (after a forced garbage collection):`,
      );
      const run = await runApp(browser, { heap: true, browserPid });
      const growth =
        run.heap.length > 2
          ? (run.heap[run.heap.length - 1].megabytes - run.heap[1].megabytes) /
            (run.heap[run.heap.length - 1].epoch - run.heap[1].epoch)
          : 0;
      out(
        `Largest ${Math.max(...run.heap.map((h) => h.megabytes)).toFixed(1)} MB; from epoch ${run.heap[1]?.epoch} on, ${(growth * 1000).toFixed(0)} kB per epoch.`,
      );
      return;
    }
    const cli = [];
    const app = [];
    const startups = [];
    const cliTraining = [];
    const appTraining = [];
    for (let round = 1; round <= rounds; round++) {
      out(
        `Round ${round} of ${rounds}: ${epochs} epochs of the default network, autosave on, in the CLI and then the app`,
      );
      const { ends: cliEnds, recorded } = await runCli();
      cli.push(...intervals(cliEnds));
      cliTraining.push(...recorded.slice(1));
      out(
        `  CLI  epoch wall times ${intervals(cliEnds)
          .map((s) => s.toFixed(3))
          .join(' ')} s`,
      );
      const run = await runApp(browser, { browserPid });
      app.push(...intervals(run.ends));
      appTraining.push(...run.recorded.slice(1));
      startups.push(run.startupSeconds);
      out(
        `  app  epoch wall times ${intervals(run.ends)
          .map((s) => s.toFixed(3))
          .join(' ')} s; Start to finish ${run.totalSeconds.toFixed(2)} s`,
      );
      if (run.cpu.browser !== null) {
        out(
          `  CPU seconds during the app's run: Chromium ${run.cpu.browser.toFixed(1)}, browser host ${run.cpu.host.toFixed(1)} (of ${(2 * run.totalSeconds).toFixed(1)} on 2 cores)`,
        );
        out(
          `  page main thread: busy ${run.page.TaskDuration.toFixed(2)} s (script ${run.page.ScriptDuration.toFixed(2)}, layout ${run.page.LayoutDuration.toFixed(2)}, style ${run.page.RecalcStyleDuration.toFixed(2)})`,
        );
      }
      out(
        `  start-up (node out/node/web.js to Start enabled with both data sets loaded) ${run.startupSeconds.toFixed(2)} s`,
      );
    }
    out();
    out(
      `epoch wall time, median of ${cli.length}: CLI ${median(cli).toFixed(3)} s, app ${median(app).toFixed(3)} s, app/CLI ${(median(app) / median(cli)).toFixed(2)}`,
    );
    const part = (epochs, key) => median(epochs.map((e) => e[key])).toFixed(3);
    out(
      `of which, as the trainers measured them: training CLI ${part(cliTraining, 'seconds')} s, app ${part(appTraining, 'seconds')} s; ` +
        `test evaluation CLI ${part(cliTraining, 'evaluationSeconds')} s, app ${part(appTraining, 'evaluationSeconds')} s`,
    );
    out(`start-up to interactive with the data loaded, median of ${startups.length}: ${median(startups).toFixed(2)} s`);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error) => {
  process.stderr.write(`bench:app: ${error?.message ?? error}\n`);
  process.exitCode = 1;
});
