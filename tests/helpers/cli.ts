/** Runs the built `fmnist` executable (out/node/fmnist.js) as a user would, with a time bound. */

import { spawnSync } from 'node:child_process';
import { builtFile } from './data';

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export function runBuiltCli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; nodeOptions?: string[] } = {}): CliRun {
  const started = Date.now();
  const result = spawnSync(process.execPath, [...(options.nodeOptions ?? []), builtFile('out/node/fmnist.js'), ...args], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
    killSignal: 'SIGKILL',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, FMNIST_DATA_PATH: '', ...options.env },
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr, elapsedMs: Date.now() - started };
}
