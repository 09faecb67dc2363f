#!/usr/bin/env node
/**
 * The search behind the `best` preset: trains each candidate recipe with the built CLI on 90% of the
 * training set, scores it by accuracy on the held-out 10% (validation), and prints a Markdown table with
 * the test accuracy beside it for information only. `--seeds 1,2,3` re-runs the chosen candidates on the
 * full training set with several seeds. Usage (after npm run build):
 *   node scripts/recipe-search.mjs [--only 'NAME|NAME'] [--seeds 1,2,3]
 */

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'out', 'node', 'fmnist.js');

const common = ['--schedule', 'cosine', '--warmup', '2', '--flip'];
/** @type {Record<string, string[]>} */
export const CANDIDATES = {
  'd0.2 s1 ls0.1 60e': [...common, '--epochs', '60', '--dropout', '0.2', '--shift', '1', '--label-smoothing', '0.1'],
  'd0.2 s1 ls0.1 100e': [...common, '--epochs', '100', '--dropout', '0.2', '--shift', '1', '--label-smoothing', '0.1'],
  'd0.3 s2 ls0.1 60e': [...common, '--epochs', '60', '--dropout', '0.3', '--shift', '2', '--label-smoothing', '0.1'],
  'd0.2 s0 ls0.1 60e': [...common, '--epochs', '60', '--dropout', '0.2', '--shift', '0', '--label-smoothing', '0.1'],
  'd0.2 s1 wd0.05 60e': [...common, '--epochs', '60', '--dropout', '0.2', '--shift', '1', '--weight-decay', '0.05'],
  '1024,512 d0.3 s1 ls0.1 50e': [
    ...common,
    '--hidden',
    '1024,512',
    '--epochs',
    '50',
    '--dropout',
    '0.3',
    '--shift',
    '1',
    '--label-smoothing',
    '0.1',
  ],
  '1024,512 d0.4 s0 ls0.1 50e': [
    ...common,
    '--hidden',
    '1024,512',
    '--epochs',
    '50',
    '--dropout',
    '0.4',
    '--shift',
    '0',
    '--label-smoothing',
    '0.1',
  ],
  'd0.2 s0 ls0.1 100e': [...common, '--epochs', '100', '--dropout', '0.2', '--shift', '0', '--label-smoothing', '0.1'],
  'd0.3 s0 ls0.1 100e': [...common, '--epochs', '100', '--dropout', '0.3', '--shift', '0', '--label-smoothing', '0.1'],
  'd0.2 s1 no flip ls0.1 60e': [
    '--schedule',
    'cosine',
    '--warmup',
    '2',
    '--epochs',
    '60',
    '--dropout',
    '0.2',
    '--shift',
    '1',
    '--label-smoothing',
    '0.1',
  ],
};

/** @param {string} name */
function option(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** @param {string[]} args */
function train(args) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [cli, 'train', '--json', '--no-record', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (result.status !== 0)
    throw new Error(`fmnist train ${args.join(' ')} failed: ${result.stderr.trim().split('\n').pop()}`);
  const lines = result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  return {
    summary: lines.find((l) => l.type === 'summary'),
    epochs: lines.filter((l) => l.type === 'epoch'),
    seconds: (Date.now() - started) / 1000,
  };
}

const only = option('only')?.split('|');
const seeds = option('seeds')?.split(',').map(Number);
const names = Object.keys(CANDIDATES).filter((name) => !only || only.includes(name));
const pct = (/** @type {number | null | undefined} */ x) =>
  x === null || x === undefined ? '–' : `${(100 * x).toFixed(2)}%`;

if (!seeds) {
  console.log('| candidate | validation accuracy | (test accuracy) | whole run |');
  console.log('|---|---|---|---|');
  for (const name of names) {
    const run = train([...CANDIDATES[name], '--validation', '0.1']);
    console.log(
      `| ${name} | ${pct(run.summary.validationAccuracy)} | ${pct(run.summary.testAccuracy)} | ${run.seconds.toFixed(0)} s |`,
    );
  }
} else {
  console.log('| candidate | seed | test accuracy | whole run |');
  console.log('|---|---|---|---|');
  for (const name of names) {
    for (const seed of seeds) {
      const run = train([...CANDIDATES[name], '--seed', String(seed)]);
      console.log(`| ${name} | ${seed} | ${pct(run.summary.testAccuracy)} | ${run.seconds.toFixed(0)} s |`);
    }
  }
}
