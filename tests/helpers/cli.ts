/**
 * The `fmnist` CLI under test: the built executable (out/node/fmnist.js) run as a user would, with a time
 * bound, or its main() in this process (so a test can replace a module with vi.doMock before the import).
 */

import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type { CliContext } from '../../src/cli/context';
import { builtFile } from './data';

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export function runBuiltCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; nodeOptions?: string[] } = {},
): CliRun {
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    [...(options.nodeOptions ?? []), builtFile('out/node/fmnist.js'), ...args],
    {
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 30_000,
      killSignal: 'SIGKILL',
      // The run records of `train` go to the tests' data folder (tests/setup/data-folder.ts), never the user's.
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        FMNIST_DATA_PATH: '',
        FMNIST_STUDIO_DATA: process.env.FMNIST_STUDIO_DATA,
        ...options.env,
      },
    },
  );
  return {
    status: result.status,
    signal: result.signal,
    stdout: result.stdout,
    stderr: result.stderr,
    elapsedMs: Date.now() - started,
  };
}

/** main() in this process, with its output captured; imported at the call, after any vi.doMock. */
export async function runCliInProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../src/cli/main');
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const context: CliContext = {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    env: { FMNIST_STUDIO_DATA: process.env.FMNIST_STUDIO_DATA, ...env },
    onStopSignal: () => () => {},
  };
  const code = await main(args, context);
  return { code, stdout: out, stderr: err };
}
