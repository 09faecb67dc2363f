#!/usr/bin/env node
/**
 * A soak test of the runs folder shared by several processes at once: `fmnist train` runs one run after
 * another (some stopped by SIGTERM part-way), the browser host trains runs of its own (some stopped from the
 * page), and a third process renames, annotates and lists runs at random — all on one data folder, for the
 * time given. Then every record must be consistent: a final status, the name and note last given to it, a
 * history as long as the epochs it counts, and its own checkpoint opening with the model of that history.
 * Needs the build (`npm run build`) and Fashion-MNIST where `fmnist train` finds it.
 *
 *   node scripts/soak-runs.mjs [--seconds 600] [--keep]
 *
 * Prints one JSON object (runs, edits, problems) and exits 1 when any record is inconsistent.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FMNIST = join(ROOT, 'out', 'node', 'fmnist.js');
const { values } = parseArgs({ options: { seconds: { type: 'string' }, keep: { type: 'boolean' } } });
const seconds = Number(values.seconds ?? 600);
const dataFolder = mkdtempSync(join(tmpdir(), 'fmnist-soak-'));
const env = { ...process.env, FMNIST_STUDIO_DATA: dataFolder };
const deadline = Date.now() + seconds * 1000;
const random = (/** @type {number} */ n) => Math.floor(Math.random() * n);
const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every child process started and not yet ended, so a failure never leaves one running behind. */
/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();

/**
 * Runs a command to its end; `stopAfterMs` sends it SIGTERM then.
 * @param {string[]} args
 * @param {number | null} stopAfterMs
 * @returns {Promise<{ code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }>}
 */
function run(args, stopAfterMs = null) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FMNIST, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = stopAfterMs === null ? null : setTimeout(() => child.kill('SIGTERM'), stopAfterMs);
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** @type {string[]} */
const problems = [];
const counts = {
  cliRuns: 0,
  cliStopped: 0,
  cliKilledStarting: 0,
  cliStoppedExiting: 0,
  webRuns: 0,
  webStopped: 0,
  renames: 0,
  notes: 0,
  listings: 0,
};
/**
 * What the editor last wrote to each run: the record must say exactly this at the end.
 * @type {Map<string, { name?: string, note?: string }>}
 */
const expected = new Map();

async function cliTrainer() {
  while (Date.now() < deadline) {
    const epochs = 2 + random(6);
    const stop = Math.random() < 0.3 ? 600 + random(1200) : null;
    const result = await run(
      ['train', '--epochs', String(epochs), '--limit', '12000', '--hidden', '32', '--threads', '1', '--json'],
      stop,
    );
    // Stopped while Node itself was still starting (before any code of ours runs): no run, nothing to keep.
    if (result.code === null && result.signal === 'SIGTERM' && !result.stdout) {
      counts.cliKilledStarting++;
      continue;
    }
    counts.cliRuns++;
    // SIGTERM after the run had ended and printed its summary, while the process was exiting (its handler gone):
    // the run was recorded finished, and nothing was left to keep.
    if (result.signal === 'SIGTERM' && result.stdout.includes('{"type":"summary"')) {
      counts.cliStoppedExiting++;
      continue;
    }
    if (result.code === 143) counts.cliStopped++;
    else if (result.code !== 0)
      problems.push(`fmnist train exited ${result.code ?? result.signal}: ${result.stderr.trim().split('\n').at(-1)}`);
  }
}

async function browserHostTrainer() {
  const host = spawn(process.execPath, [join(ROOT, 'out', 'node', 'web.js')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(host);
  host.on('exit', () => children.delete(host));
  const url = await new Promise((resolve, reject) => {
    let output = '';
    host.stdout.on('data', (chunk) => {
      output += chunk;
      const found = /running at (\S+)/.exec(output);
      if (found) resolve(found[1]);
    });
    host.on('exit', (code) => reject(new Error(`the browser host exited (${code}): ${output}`)));
  });
  const { host: address, searchParams } = new URL(url);
  const socket = new WebSocket(`ws://${address}/backend?token=${searchParams.get('token')}`, {
    origin: `http://${address}`,
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const replies = new Map();
  /** The run's status as the last state said. @type {string} */
  let status;
  socket.on('message', (data) => {
    const message = JSON.parse(String(data));
    if ('id' in message) replies.get(message.id)?.(message.response);
    else if (message.event.type === 'state') status = message.event.state.run.status;
  });
  let nextId = 1;
  /** @type {(request: object) => Promise<any>} */
  const ask = (request) =>
    new Promise((resolve) => {
      const id = nextId++;
      replies.set(id, resolve);
      socket.send(JSON.stringify({ id, request }));
    });
  const state = (await ask({ type: 'get-state' })).state;
  const loaded = await ask({ type: 'load-default-data' });
  if (!loaded.ok) throw new Error(`the browser host could not load the data: ${loaded.error}`);
  while (Date.now() < deadline) {
    const settings = { ...state.defaults, epochs: 2 + random(6), limit: 12000, hiddenSizes: [32], threads: 1 };
    const started = await ask({
      type: 'start',
      settings,
      autosave: Math.random() < 0.7,
      continue: false,
      allowOtherData: false,
    });
    if (!started.ok) {
      problems.push(`the browser host refused a run: ${started.error}`);
      break;
    }
    status = 'running';
    counts.webRuns++;
    if (Math.random() < 0.3) {
      await sleep(100 + random(600));
      if ((await ask({ type: 'stop' })).ok) counts.webStopped++;
    }
    while (!['finished', 'stopped', 'failed'].includes(status)) await sleep(100);
    if (status === 'failed') problems.push('a run of the browser host failed');
  }
  socket.close();
  const exited = new Promise((resolve) => host.once('exit', resolve));
  host.kill('SIGINT');
  await exited;
}

async function editor() {
  while (Date.now() < deadline) {
    const listed = await run(['runs', '--json']);
    counts.listings++;
    const runs = JSON.parse(listed.stdout).runs;
    if (runs.length > 0) {
      const target = runs[random(runs.length)].id;
      const kind = Math.random() < 0.5 ? 'rename' : 'note';
      const text = `${kind} ${counts.renames + counts.notes} ${Math.random().toString(36).slice(2, 8)}`;
      const result = await run(['runs', kind, target, text]);
      if (result.code !== 0) {
        problems.push(`fmnist runs ${kind} exited ${result.code}: ${result.stderr.trim()}`);
      } else {
        counts[kind === 'rename' ? 'renames' : 'notes']++;
        expected.set(target, { ...expected.get(target), [kind === 'rename' ? 'name' : 'note']: text });
      }
    }
    await sleep(random(300));
  }
}

/**
 * The metadata of a checkpoint, read straight from its safetensors header (not through our loader).
 * @param {string} file
 * @returns {{ epochsDone: number, history?: { cost: number }[] }}
 */
function checkpointMetadata(file) {
  const bytes = readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  return JSON.parse(JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')).__metadata__.fmnist);
}

/**
 * Runs `work` over the items, `width` at a time.
 * @template T
 * @param {T[]} items
 * @param {number} width
 * @param {(item: T) => Promise<void>} work
 */
async function eachLimited(items, width, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

async function check() {
  const { folder, runs, damaged } = JSON.parse((await run(['runs', '--json'])).stdout);
  for (const entry of damaged) problems.push(`run ${entry.id} is damaged: ${entry.problem}`);
  /** @type {any[]} */
  const records = runs;
  await eachLimited(records, 4, async (record) => {
    const say = (/** @type {string} */ problem) => problems.push(`run ${record.id}: ${problem}`);
    if (record.status !== 'finished' && record.status !== 'stopped') say(`status is ${record.status}`);
    const wanted = expected.get(record.id) ?? {};
    // A run never renamed keeps the name it was given at its start (its preset or the settings it changed).
    if (wanted.name === undefined ? record.name === '' : wanted.name !== record.name)
      say(
        `name is "${record.name}", ${wanted.name === undefined ? 'it was never renamed' : `the last rename said "${wanted.name}"`}`,
      );
    if ((wanted.note ?? '') !== record.note) say(`note is "${record.note}", the last note said "${wanted.note ?? ''}"`);
    /** @type {{ cost: number }[]} */
    const history = JSON.parse(readFileSync(join(folder, `${record.id}.history.json`), 'utf8')).epochs;
    const kept = typeof record.summary?.epochsDone === 'number' ? record.summary.epochsDone : record.metrics.epochs;
    if (history.length !== record.metrics.epochs)
      say(`history has ${history.length} epochs, the record counts ${record.metrics.epochs}`);
    const file = record.files?.best ?? record.files?.last;
    if (!file) {
      if (kept > 0) say('has no checkpoint of its own');
      return;
    }
    const metadata = checkpointMetadata(file);
    if (metadata.epochsDone !== kept) say(`its checkpoint holds ${metadata.epochsDone} epochs, the run kept ${kept}`);
    const costs = (metadata.history ?? []).map((epoch) => epoch.cost);
    if (JSON.stringify(costs) !== JSON.stringify(history.slice(0, kept).map((epoch) => epoch.cost)))
      say("its checkpoint's history is not the record's");
    // And it opens as the app and the CLI open a checkpoint.
    const info = await run(['info', file, '--json']);
    if (info.code !== 0) say(`its checkpoint does not open: ${info.stderr.trim()}`);
  });
  return runs.length;
}

try {
  // Each part runs to the end, whatever another does; one that fails is a problem, and the others finish.
  const parts = await Promise.allSettled([cliTrainer(), browserHostTrainer(), editor()]);
  for (const part of parts) if (part.status === 'rejected') problems.push(`a part of the soak failed: ${part.reason}`);
  const runs = await check();
  process.stdout.write(`${JSON.stringify({ seconds, dataFolder, runs, ...counts, problems })}\n`);
  process.exitCode = problems.length === 0 && runs > 0 ? 0 : 1;
} finally {
  for (const child of children) child.kill('SIGKILL');
  if (!values.keep) rmSync(dataFolder, { recursive: true, force: true, maxRetries: 5 });
}
