/**
 * End-to-end fixtures: the browser host started as users start it (node out/node/web.js) and the page
 * opened at the URL it prints. The `host` fixture is one per Playwright worker, so the files after the first
 * find what earlier ones loaded; a test that needs a new backend starts its own with startBrowserHost().
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base, expect as baseExpect, type Locator } from '@playwright/test';

export const ROOT = join(__dirname, '..', '..');
export const REAL_DATA_DIR = process.env.FMNIST_DATA || '/usr/share/datasets/fashion-mnist';

/** A fresh app data folder (autosaves), so tests never touch a real user's. */
export function tempDataFolder(): string {
  return mkdtempSync(join(tmpdir(), 'fmnist-studio-e2e-'));
}

/**
 * Waits until the data folder's newest run has autosaved: its own checkpoint written and its record naming at
 * least `epochs` epochs. (Autosaves go beside the training, a moment after the epoch they hold.)
 */
export async function autosaved(dataFolder: string, epochs = 1): Promise<void> {
  const runs = join(dataFolder, 'runs');
  const recordedEpochs = (): number => {
    if (!existsSync(runs)) return 0;
    const id = readdirSync(runs)
      .filter((name) => /^\d{8}-\d{6}-[0-9a-f]{4}\.json$/.test(name))
      .sort()
      .at(-1)
      ?.slice(0, -'.json'.length);
    if (!id || !existsSync(join(runs, id, 'last.safetensors'))) return 0;
    try {
      return (JSON.parse(readFileSync(join(runs, `${id}.json`), 'utf8')) as { metrics: { epochs: number } }).metrics
        .epochs;
    } catch {
      return 0; // being replaced at this moment
    }
  };
  await baseExpect.poll(recordedEpochs, { timeout: 30_000 }).toBeGreaterThanOrEqual(epochs);
}

export async function startBrowserHost(
  dataFolder = tempDataFolder(),
  env: Record<string, string | undefined> = { FMNIST_DATA: REAL_DATA_DIR },
): Promise<{ url: string; process: ChildProcess }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, FMNIST_STUDIO_DATA: dataFolder, ...env };
  for (const [key, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[key];
  const child = spawn(process.execPath, [join(ROOT, 'out', 'node', 'web.js')], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(output);
      if (match) resolve(match[1]);
    });
    child.stderr!.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => reject(new Error(`the browser host exited (${code}): ${output}`)));
  });
  return { url, process: child };
}

export const test = base.extend<object, { host: { url: string } }>({
  host: [
    // eslint-disable-next-line no-empty-pattern -- a fixture that takes no other fixture says so with {}
    async ({}, use) => {
      const host = await startBrowserHost();
      await use({ url: host.url });
      host.process.kill('SIGINT');
    },
    { scope: 'worker' },
  ],
});

export { expect } from '@playwright/test';

/** Resolves with the exit code when a browser host started above has ended. */
export function hostExited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** The built CLI's JSON answer (`--json`) on a data folder a browser host of a test uses; a failure fails the test. */
export function cliJson(dataFolder: string, args: string[]): unknown {
  const result = spawnSync(process.execPath, [join(ROOT, 'out', 'node', 'fmnist.js'), ...args], {
    env: { ...process.env, FMNIST_STUDIO_DATA: dataFolder },
    encoding: 'utf8',
  });
  baseExpect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

/** The luminance (0 black to 1 white, Rec. 709 weights of the sRGB values) of an element's computed background. */
export async function backgroundLuminance(locator: Locator): Promise<number> {
  type Styles = { getComputedStyle(element: unknown): { backgroundColor: string } };
  const colour = await locator.evaluate(
    (element) => (globalThis as unknown as Styles).getComputedStyle(element).backgroundColor,
  );
  const [r, g, b] = (colour.match(/[\d.]+/g) ?? []).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}
