/**
 * The runs-folder soak (scripts/soak-runs.mjs), shortened: `fmnist train`, the browser host and an editor
 * process share one data folder for 25 seconds, then every record must be consistent and every run's own
 * checkpoint must open with its model. The full soak is 10 minutes (`node scripts/soak-runs.mjs`).
 */

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REAL_DATA_DIR } from '../../helpers/data';

it('keeps every record consistent while the CLI, the browser host and an editor share the runs folder', () => {
  const result = spawnSync(process.execPath, [join(__dirname, '../../../scripts/soak-runs.mjs'), '--seconds', '25'], {
    encoding: 'utf8',
    env: { ...process.env, FMNIST_DATA: REAL_DATA_DIR },
    timeout: 150_000,
  });
  expect(result.stderr).toBe('');
  const report = JSON.parse(result.stdout);
  expect(report.problems).toEqual([]);
  // Each process did its part: runs from both trainers (some stopped part-way), renames and notes.
  expect(report.cliRuns).toBeGreaterThan(3);
  expect(report.webRuns).toBeGreaterThan(3);
  expect(report.renames + report.notes).toBeGreaterThan(10);
  expect(report.runs).toBe(report.cliRuns + report.webRuns);
  expect(result.status).toBe(0);
}, 180_000);
