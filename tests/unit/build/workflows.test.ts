/**
 * The GitHub workflows, parsed: CI runs the project's CI script on Debian with Node 20; the release builds,
 * tests (unit and real Electron) and packs installers on Windows, macOS and Linux, uploads them and drafts a
 * release on version tags. (They run on GitHub; here their shape is checked.)
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FASHION_MNIST_FILES, FASHION_MNIST_URL } from '@core/data/download';
import { ROOT } from '../../helpers/sandbox';

type Step = {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  'continue-on-error'?: boolean;
  'timeout-minutes'?: number;
};
type Job = {
  'runs-on': string;
  container?: string;
  steps: Step[];
  needs?: string;
  if?: string;
  env?: Record<string, string>;
  strategy?: { matrix: { os: string[] } };
  permissions?: Record<string, string>;
};
type Workflow = { on: Record<string, unknown>; jobs: Record<string, Job>; permissions?: Record<string, string> };

const workflow = (name: string): Workflow => parse(readFileSync(join(ROOT, '.github', 'workflows', name), 'utf8'));
const runs = (job: Job): string[] => job.steps.filter((s) => s.run).map((s) => s.run!.trim());

describe('GitHub workflows', () => {
  it('CI runs .ci/run on every push and pull request, on Debian with Node 20', () => {
    const ci = workflow('ci.yml');
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
    expect(ci.permissions).toEqual({ contents: 'read' });
    const [job] = Object.values(ci.jobs);
    expect(job['runs-on']).toBe('ubuntu-latest');
    expect(job.container).toBe('node:20-bookworm');
    expect(job.steps[0].uses).toMatch(/^actions\/checkout@v\d+$/);
    expect(runs(job)).toEqual(['bash .ci/run']);
    expect(job.steps.find((s) => s.run)?.env).toEqual({ CI: 'true' });
    // .ci/run itself installs the data and the browser, then runs the README's test command.
    const script = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    expect(script).toMatch(/apt-get install .*dataset-fashion-mnist chromium/);
    expect(script).toMatch(/^npm ci /m);
    expect(script).toMatch(/^npm test$/m);
  });

  it('the release builds and tests on Windows, macOS and Linux, then packs, uploads and drafts a release', () => {
    const release = workflow('release.yml');
    expect(release.on).toEqual({ push: { tags: ['v*'] }, workflow_dispatch: null });
    const build = release.jobs.installers;
    expect(build['runs-on']).toBe('${{ matrix.os }}');
    expect(build.strategy!.matrix.os.sort()).toEqual(['macos-latest', 'ubuntu-latest', 'windows-latest']);
    const steps = runs(build);
    const order = [
      'npm ci',
      'npm run build',
      'npx vitest run',
      'node node_modules/electron/install.js',
      'npm run dist -- --publish never',
    ];
    const positions = order.map((command) => steps.indexOf(command));
    expect(
      positions.every((p) => p >= 0),
      `steps: ${steps.join(' | ')}`,
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const electronTests = build.steps.filter(
      (s) => s.run?.includes('playwright test --project electron') && !s.run.includes('FMNIST_PACKED_APP'),
    );
    expect(electronTests.map((s) => [s.if, s.run])).toEqual([
      ["runner.os == 'Linux'", 'xvfb-run -a npx playwright test --project electron'],
      ["runner.os != 'Linux'", 'npx playwright test --project electron'],
    ]);
    // The window against the CLI, after the Electron runtime is installed, on every system.
    const windowBench = build.steps.filter((s) => s.run?.includes('bench/app.mjs --electron'));
    expect(windowBench.map((s) => [s.if, s.run, s['continue-on-error'], s['timeout-minutes']])).toEqual([
      ["runner.os == 'Linux'", 'xvfb-run -a node bench/app.mjs --electron --rounds 1', true, 20],
      ["runner.os != 'Linux'", 'node bench/app.mjs --electron --rounds 1', true, 20],
    ]);
    expect(build.steps.indexOf(windowBench[0])).toBeGreaterThan(
      build.steps.findIndex((s) => s.run === 'node node_modules/electron/install.js'),
    );
    expect(build.steps.find((s) => s.uses?.startsWith('actions/setup-node'))?.with).toMatchObject({
      'node-version': 22,
    });
    const upload = build.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
    expect(String(upload.with!.path).trim().split('\n').sort()).toEqual([
      'dist/*.AppImage',
      'dist/*.deb',
      'dist/*.dmg',
      'dist/*.exe',
    ]);
    expect(upload.with!['if-no-files-found']).toBe('error');

    const draft = release.jobs.release;
    expect(draft.needs).toBe('installers');
    expect(draft.if).toBe("startsWith(github.ref, 'refs/tags/v')");
    expect(draft.permissions).toEqual({ contents: 'write' });
    expect(draft.steps.find((s) => s.uses?.startsWith('softprops/action-gh-release'))?.with).toMatchObject({
      draft: true,
      files: 'installers/*',
    });
  });

  it('uses at job level only the contexts GitHub offers there (runner, env and steps exist only in steps)', () => {
    for (const name of ['ci.yml', 'release.yml']) {
      for (const [id, job] of Object.entries(workflow(name).jobs)) {
        const jobLevel = JSON.stringify({
          runsOn: job['runs-on'],
          env: job.env,
          container: job.container,
          strategy: job.strategy,
        });
        for (const [, expression] of jobLevel.matchAll(/\$\{\{([^}]*)\}\}/g)) {
          const contexts = expression.match(/[a-z_]+(?=\.)/gi) ?? [];
          for (const context of contexts)
            expect(
              ['github', 'needs', 'strategy', 'matrix', 'vars', 'secrets', 'inputs'],
              `${name} ${id}: ${expression}`,
            ).toContain(context);
        }
      }
    }
  });

  it('the release starts the packed app of each platform', () => {
    const steps = workflow('release.yml').jobs.installers.steps.filter((s) => s.run?.includes('FMNIST_PACKED_APP='));
    expect(steps.map((s) => s.if)).toEqual(["runner.os == 'Linux'", "runner.os == 'Windows'", "runner.os == 'macOS'"]);
    for (const step of steps) expect(step.run).toMatch(/npx playwright test --project electron -g "packed app"/);
    expect(steps[0].run).toMatch(/^FMNIST_PACKED_APP="dist\/linux-unpacked\/fashion-mnist-studio" xvfb-run -a /);
  });

  it('the release fetches the four original Fashion-MNIST files for its tests', () => {
    const fetch = runs(workflow('release.yml').jobs.installers).find((r) => r.includes('curl'))!;
    expect(fetch).toContain(`"${FASHION_MNIST_URL}$name.gz"`);
    const names = /for name in ([^;]+);/.exec(fetch)![1].trim().split(/\s+/);
    expect(names.map((n) => `${n}.gz`).sort()).toEqual(FASHION_MNIST_FILES.map((f) => f.name).sort());
  });
});
