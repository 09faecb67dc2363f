/**
 * End-to-end fixtures: the browser host started as users start it (node out/node/web.js), one per test
 * file, and the page opened at the URL it prints.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base } from '@playwright/test';

export const ROOT = join(__dirname, '..', '..');
export const REAL_DATA_DIR = process.env.FMNIST_DATA || '/usr/share/datasets/fashion-mnist';

/** A fresh app data folder (autosaves), so tests never touch a real user's. */
export function tempDataFolder(): string {
  return mkdtempSync(join(tmpdir(), 'fmnist-studio-e2e-'));
}

export async function startBrowserHost(dataFolder = tempDataFolder()): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, [join(ROOT, 'out', 'node', 'web.js')], {
    cwd: ROOT,
    env: { ...process.env, FMNIST_DATA: REAL_DATA_DIR, FMNIST_STUDIO_DATA: dataFolder },
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
    async ({}, use) => {
      const host = await startBrowserHost();
      await use({ url: host.url });
      host.process.kill('SIGINT');
    },
    { scope: 'worker' },
  ],
});

export { expect } from '@playwright/test';
