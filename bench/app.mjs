/**
 * The app against the CLI (`npm run bench:app`): what a user waits for. Each round trains the default network on
 * all the real data for the same number of epochs (20 unless --epochs says otherwise), three ways, one after the
 * other (the app in the middle; the CLI first in odd rounds, the host alone first in even ones):
 *
 * - CLI: `fmnist train --epochs E` with its own defaults. Its figure is the training time it reports
 *   (`trainingSeconds`: its batches, without start-up, test evaluation or saving).
 * - app: the browser host with its page open in headless Chromium and the app's defaults (charts live, the
 *   autosave on). Its figure is from the click on Start to the page saying "Finished".
 * - host alone: the same run through the browser host's WebSocket with no page, to tell the page's share of the
 *   app's time from the backend's.
 *
 * It prints each round, then the medians: the app against the CLI (the target is at most 1.10), and where the
 * app's time goes: its batches, its test evaluations and the rest (start-up, saving, records, messages), as
 * the run's own record has them, the CPU the page and the host used, and the app's start-up (from starting the
 * host to Start enabled with the data loaded). With --heap, the page's JS heap
 * after garbage collection every 10 epochs of a long run instead. With --electron, the desktop app's own window
 * (Electron, as a user starts it) against the CLI instead of the browser host, the same way.
 *
 * Needs the built app (`npm run build`, which the npm script runs first), the real data set and Chromium
 * (CHROMIUM_PATH, else /usr/bin/chromium).
 *
 *   npm run bench:app [-- --epochs 20 --rounds 4]      app vs CLI
 *   npm run bench:app -- --heap [--epochs 100]         the page's heap over a long run
 *   npm run bench:app -- --electron [--rounds 1]       the Electron window against the CLI instead (needs the
 *                                                      Electron runtime; the release workflow runs it)
 *   --limit N                                          train on the first N images only (a quick check)
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { _electron as electron, chromium } from '@playwright/test';
import WebSocket from 'ws';

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
    rounds: { type: 'string', default: '4' },
    heap: { type: 'boolean', default: false },
    limit: { type: 'string' },
    electron: { type: 'boolean', default: false },
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
const epochs = wholeNumber('epochs', values.epochs ?? (heapMode ? '100' : '20'), 1);
const rounds = wholeNumber('rounds', values.rounds, 1);
const limit = values.limit ? wholeNumber('limit', values.limit, 1) : null;
const out = (line = '') => process.stdout.write(`${line}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const seconds = (x) => `${x.toFixed(2)} s`;

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

/**
 * The batches' and the test evaluations' seconds, summed over the epochs, as the record of the run in `folder` has
 * them; the folder, made for that one run, is removed.
 */
function takeRecordedTimes(folder) {
  const runs = join(folder, 'runs');
  const file = existsSync(runs) ? readdirSync(runs).find((f) => f.endsWith('.history.json')) : undefined;
  const history = file ? JSON.parse(readFileSync(join(runs, file), 'utf8')).epochs : null;
  rmSync(folder, { recursive: true, force: true });
  if (!history) return { batches: NaN, evaluation: NaN };
  return {
    batches: history.reduce((sum, e) => sum + e.seconds, 0),
    evaluation: history.reduce((sum, e) => sum + e.evaluationSeconds, 0),
  };
}

function tempFolder() {
  return mkdtempSync(join(tmpdir(), 'fmnist-bench-app-'));
}

const limitArgs = limit ? ['--limit', String(limit)] : [];

/** `fmnist train` with its own defaults: the training time it reports, and its whole process's time. */
function runCli() {
  const folder = tempFolder();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'out/node/fmnist.js'), 'train', '--epochs', String(epochs), ...limitArgs, '--json'],
      { env: { ...process.env, FMNIST_DATA: DATA, FMNIST_STUDIO_DATA: folder }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (errors += chunk));
    child.on('close', (code) => {
      // Its record has the test evaluations' seconds too (not part of trainingSeconds).
      const recorded = takeRecordedTimes(folder);
      const summary = output
        .split('\n')
        .filter((line) => line.startsWith('{"type":"summary"'))
        .map((line) => JSON.parse(line))[0];
      if (code !== 0 || !summary) reject(new Error(`fmnist train failed (${code}): ${errors}`));
      else
        resolve({
          trainingSeconds: summary.trainingSeconds,
          evaluationSeconds: recorded.evaluation,
          processSeconds: (performance.now() - started) / 1000,
        });
    });
  });
}

/** Starts the browser host on a fresh data folder; resolves with its URL and process. */
function startHost(folder) {
  const child = spawn(process.execPath, [join(ROOT, 'out/node/web.js')], {
    cwd: ROOT,
    env: { ...process.env, FMNIST_DATA: DATA, FMNIST_STUDIO_DATA: folder },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const take = (chunk) => {
      output += chunk;
      const match = /(http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]+))/.exec(output);
      if (match) resolve({ url: match[1], port: match[2], token: match[3], child });
    };
    child.stdout.on('data', take);
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => reject(new Error(`the browser host exited (${code}): ${output}`)));
  });
}

async function stopHost(host) {
  host.child.kill('SIGINT');
  await new Promise((resolve) => host.child.once('exit', resolve));
}

/**
 * Times one run in a page that shows the app (the browser host's, or the Electron window): waits for Start to be
 * enabled, sets the epochs, then takes the click on Start to the status saying "Finished", as the page's own clock
 * has them. `cpu()` gives the CPU seconds of the processes to watch so far; with `heap`, the page's JS heap every 10
 * epochs.
 */
async function timeRun(page, { spawned, cpu, heap = false }) {
  const start = page.getByRole('button', { name: 'Start', exact: true });
  await page.waitForFunction(
    () => {
      const button = [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Start');
      return button && !button.disabled;
    },
    null,
    { polling: 10, timeout: 60_000 },
  );
  const startupSeconds = (performance.now() - spawned) / 1000;
  await page.getByLabel('Epochs', { exact: true }).fill(String(epochs));
  if (limit) await page.getByLabel('Training subset size', { exact: true }).fill(String(limit));
  // The page notes the click and the moment its status first says the run finished, in its own clock.
  await page.evaluate(() => {
    const status = document.querySelector('[role="status"][data-status]');
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Start');
    let ended;
    const marks = { clicked: null, finished: null, epochs: [], ended: new Promise((resolve) => (ended = resolve)) };
    button.addEventListener('click', () => (marks.clicked ??= performance.now()), { capture: true });
    new MutationObserver(() => {
      const text = status.textContent ?? '';
      const training = /^Training: epoch (\d+) of/.exec(text);
      if (training) while (marks.epochs.length < Number(training[1]) - 1) marks.epochs.push(performance.now());
      // The last epoch ends with the run: "Finished N epochs."
      const finished = /^Finished (\d+) epoch/.exec(text);
      if (finished) {
        while (marks.epochs.length < Number(finished[1])) marks.epochs.push(performance.now());
        if (marks.finished === null) {
          marks.finished = performance.now();
          ended();
        }
      }
    }).observe(status, { childList: true, characterData: true, subtree: true });
    window.__marks = marks;
  });
  const session = await page.context().newCDPSession(page);
  await session.send('Performance.enable');
  const pageBusy = async () =>
    (await session.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
  const busyBefore = await pageBusy();
  const cpuBefore = cpu();
  await start.click();
  const heapMb = [];
  if (heap) {
    for (let epoch = 10; epoch <= epochs; epoch += 10) {
      await page.waitForFunction((n) => window.__marks.epochs.length >= n, epoch, { polling: 200, timeout: 0 });
      await session.send('HeapProfiler.collectGarbage');
      const { usedSize } = await session.send('Runtime.getHeapUsage');
      heapMb.push({ epoch, megabytes: usedSize / 1e6 });
      out(`  after epoch ${epoch}: page JS heap ${(usedSize / 1e6).toFixed(1)} MB`);
    }
  }
  // Told by the page when it finishes, not by polling it: polls would wake the page, which a user's does not do.
  const marks = await page.evaluate(async () => {
    await window.__marks.ended;
    const { clicked, finished, epochs } = window.__marks;
    return { clicked, finished, epochs };
  });
  const cpuAfter = cpu();
  return {
    seconds: (marks.finished - marks.clicked) / 1000,
    startupSeconds,
    pageBusy: (await pageBusy()) - busyBefore,
    cpu: Object.fromEntries(Object.entries(cpuAfter).map(([k, v]) => [k, v === null ? null : v - cpuBefore[k]])),
    heap: heapMb,
  };
}

/** One run in the app: the browser host with its page open in Chromium. */
async function runApp(browser, browserPid, heap = false) {
  const folder = tempFolder();
  const spawned = performance.now();
  const host = await startHost(folder);
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  try {
    await page.goto(host.url);
    const cpu = () => ({ browser: cpuSeconds(browserPid), host: cpuSeconds(host.child.pid) });
    return { ...(await timeRun(page, { spawned, cpu, heap })), folder };
  } finally {
    await page.close();
    await stopHost(host);
  }
}

/** The Electron runtime, if installed (npm start fetches it on first use; npm install does not). */
function electronBinary() {
  const pathFile = join(ROOT, 'node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = join(ROOT, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

/** One run in the desktop app's window, started by Electron as a user starts it. */
async function runElectron(binary) {
  const folder = tempFolder();
  const spawned = performance.now();
  const app = await electron.launch({
    executablePath: binary,
    args: [join(ROOT, 'out', 'main', 'index.js'), ...(process.platform === 'linux' ? ['--no-sandbox'] : [])],
    env: { ...process.env, FMNIST_DATA: DATA, FMNIST_STUDIO_DATA: folder },
    timeout: 120_000,
  });
  try {
    const window = await app.firstWindow({ timeout: 120_000 });
    const pid = app.process().pid;
    return { ...(await timeRun(window, { spawned, cpu: () => ({ app: cpuSeconds(pid) }) })), folder };
  } finally {
    await app.close();
  }
}

/** The same run through the browser host's WebSocket, no page: from sending start to the state saying finished. */
async function runHostAlone() {
  const folder = tempFolder();
  const host = await startHost(folder);
  const socket = new WebSocket(`ws://127.0.0.1:${host.port}/backend?token=${host.token}`, {
    headers: { origin: `http://127.0.0.1:${host.port}` },
  });
  try {
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const answers = new Map();
    let finished = () => {};
    socket.on('message', (data, binary) => {
      if (binary) return;
      const message = JSON.parse(String(data));
      if (message.id !== undefined) answers.get(message.id)?.(message.response);
      if (message.event?.type === 'state' && message.event.state.run.status === 'finished') finished();
    });
    let nextId = 1;
    const ask = (request) =>
      new Promise((resolve) => {
        const id = nextId++;
        answers.set(id, resolve);
        socket.send(JSON.stringify({ id, request }));
      });
    let state = (await ask({ type: 'get-state' })).state;
    if (!state.datasets.train) state = (await ask({ type: 'load-default-data' })).state;
    const settings = { ...(state.run.settings ?? state.defaults), epochs, ...(limit ? { limit } : {}) };
    const done = new Promise((resolve) => (finished = resolve));
    const started = performance.now();
    const answer = await ask({ type: 'start', settings, autosave: true, continue: false, allowOtherData: false });
    if (!answer.ok) throw new Error(`the host refused to start: ${answer.error}`);
    await done;
    return { seconds: (performance.now() - started) / 1000, folder };
  } finally {
    socket.close();
    await stopHost(host);
  }
}

async function heapRun(browser, browserPid) {
  out(
    `The page's JS heap over ${epochs} epochs of the default network in the app (after a forced garbage collection):`,
  );
  const run = await runApp(browser, browserPid, true);
  rmSync(run.folder, { recursive: true, force: true });
  const growth =
    run.heap.length > 2
      ? (run.heap[run.heap.length - 1].megabytes - run.heap[1].megabytes) /
        (run.heap[run.heap.length - 1].epoch - run.heap[1].epoch)
      : 0;
  out(
    `Largest ${Math.max(...run.heap.map((h) => h.megabytes)).toFixed(1)} MB; ` +
      `from epoch ${run.heap[1]?.epoch} on, ${(growth * 1000).toFixed(0)} kB per epoch.`,
  );
}

/**
 * Prints the medians both modes share: the timed side against the CLI's training time (the target) and against
 * its training plus test evaluations, then each side's batches, test evaluation and the rest. `sides` lists
 * [label, the round's recorded times, the round's Start-to-Finished seconds]; the first is the timed side.
 */
function summary(rows, title, name, sides) {
  const m = (pick) => median(rows.map(pick));
  const [, , timed] = sides[0];
  out(
    `${title} / CLI, median of ${rows.length}: ${m((r) => timed(r) / r.cli.trainingSeconds).toFixed(2)} ` +
      `(${name} ${seconds(m(timed))}, CLI ${seconds(m((r) => r.cli.trainingSeconds))}; target ≤ 1.10)`,
  );
  for (const [label, , total] of sides.slice(1)) {
    out(`${label} / CLI: ${m((r) => total(r) / r.cli.trainingSeconds).toFixed(2)}`);
  }
  out(
    `${name} / (CLI training + its test evaluations, the same work as the ${name}'s): ` +
      `${m((r) => timed(r) / (r.cli.trainingSeconds + r.cli.evaluationSeconds)).toFixed(2)}`,
  );
  // A row of the table: its label, then seconds under each column (left blank where there are none).
  const row = (label, ...cells) =>
    out(`  ${label.padEnd(18)}` + cells.map((value, i) => `  ${value.toFixed(2).padStart([7, 15, 8][i])}`).join(''));
  out('where the time goes (medians):');
  out(`                      batches  test evaluation  the rest`);
  row(
    'CLI',
    m((r) => r.cli.trainingSeconds),
    m((r) => r.cli.evaluationSeconds),
  );
  for (const [label, times, total] of sides) {
    row(
      label,
      m((r) => times(r).batches),
      m((r) => times(r).evaluation),
      m((r) => total(r) - times(r).batches - times(r).evaluation),
    );
  }
}

/** The Electron window against the CLI, round by round, then the medians and where the window's time goes. */
async function electronMain() {
  const binary = electronBinary();
  if (!binary) {
    process.stderr.write(
      'bench:app: --electron needs the Electron runtime, which is not installed here (npm start downloads it)\n',
    );
    process.exitCode = 2;
    return;
  }
  if (!existsSync(join(ROOT, 'out/main/index.js'))) throw new Error('build the app first: npm run build');
  const rows = [];
  out(
    `${epochs} epochs of the default network${limit ? ` on ${limit} images` : ''} in the Electron window, ${rounds} rounds:`,
  );
  for (let round = 1; round <= rounds; round++) {
    const cli = await runCli();
    const window = await runElectron(binary);
    const times = takeRecordedTimes(window.folder);
    rows.push({ cli, window, times });
    out(
      `  round ${round}: CLI training ${seconds(cli.trainingSeconds)} (process ${seconds(cli.processSeconds)}); ` +
        `window Start to Finished ${seconds(window.seconds)} (${(window.seconds / cli.trainingSeconds).toFixed(2)}×)`,
    );
  }
  const m = (pick) => median(rows.map(pick));
  out();
  summary(rows, 'Electron window', 'window', [['window', (r) => r.times, (r) => r.window.seconds]]);
  out(
    `start-up: from launching Electron to Start enabled with the data loaded, median of ${rounds}: ${seconds(m((r) => r.window.startupSeconds))}`,
  );
  if (rows.every((r) => r.window.cpu.app !== null)) {
    out(
      `CPU during the window's run: the app's processes (main, window, worker and kernel threads) ` +
        `${m((r) => r.window.cpu.app).toFixed(1)} s (the window's main thread busy ${m((r) => r.window.pageBusy).toFixed(2)} s)`,
    );
  }
}

async function main() {
  if (values.electron) return electronMain();
  if (!existsSync(join(ROOT, 'out/node/web.js'))) throw new Error('build the app first: npm run build');
  const server = await chromium.launchServer(LAUNCH);
  const browserPid = server.process().pid;
  const browser = await chromium.connect(server.wsEndpoint());
  try {
    if (heapMode) return await heapRun(browser, browserPid);
    const rows = [];
    out(`${epochs} epochs of the default network${limit ? ` on ${limit} images` : ''}, ${rounds} rounds:`);
    for (let round = 1; round <= rounds; round++) {
      // The app runs between the other two, which swap places every other round, so that a drift in the
      // machine's speed over a round weighs on the CLI and the host alone alike.
      const runs = {
        cli: runCli,
        app: async () => {
          const app = await runApp(browser, browserPid);
          return { app, appTimes: takeRecordedTimes(app.folder) };
        },
        alone: async () => {
          const alone = await runHostAlone();
          return { alone, aloneTimes: takeRecordedTimes(alone.folder) };
        },
      };
      const order = round % 2 === 1 ? ['cli', 'app', 'alone'] : ['alone', 'app', 'cli'];
      const results = {};
      for (const side of order) results[side] = await runs[side]();
      const row = { cli: results.cli, ...results.app, ...results.alone };
      const { cli, app, alone } = row;
      rows.push(row);
      out(
        `  round ${round}, ${order[0] === 'cli' ? 'CLI' : 'host alone'} first: CLI training ${seconds(cli.trainingSeconds)} (process ${seconds(cli.processSeconds)}); ` +
          `app Start to Finished ${seconds(app.seconds)} (${(app.seconds / cli.trainingSeconds).toFixed(2)}×); ` +
          `host alone ${seconds(alone.seconds)} (${(alone.seconds / cli.trainingSeconds).toFixed(2)}×)`,
      );
    }
    const m = (pick) => median(rows.map(pick));
    out();
    summary(rows, 'app', 'app', [
      ['app', (r) => r.appTimes, (r) => r.app.seconds],
      ['host alone', (r) => r.aloneTimes, (r) => r.alone.seconds],
    ]);
    out(
      `start-up: from starting the browser host to Start enabled in the page with the data loaded, median of ` +
        `${rounds}: ${seconds(m((r) => r.app.startupSeconds))}`,
    );
    const cpu = rows.filter((r) => r.app.cpu.browser !== null);
    if (cpu.length) {
      out(
        `CPU during the app's run: Chromium ${m((r) => r.app.cpu.browser).toFixed(1)} s (page main thread busy ` +
          `${m((r) => r.app.pageBusy).toFixed(2)} s), browser host with its worker and kernel threads ` +
          `${m((r) => r.app.cpu.host).toFixed(1)} s, of ${(2 * m((r) => r.app.seconds)).toFixed(1)} s on 2 cores`,
      );
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error) => {
  process.stderr.write(`bench:app: ${String(error?.message ?? error).split('\n')[0]}\n`);
  process.exitCode = 1;
});
