/**
 * Entry point of `npm run web`: starts the browser host and prints the URL to open (with its token); when a
 * host already serves this data folder, prints that one's address instead and exits 0.
 */

import { join } from 'node:path';
import { userMessage } from '@core/shared/errors';
import { HostRunningError } from './host-lock';
import { startWebHost } from './server';

async function main(): Promise<void> {
  const portIndex = process.argv.indexOf('--port');
  const port = portIndex >= 0 ? Number(process.argv[portIndex + 1]) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0–65535, got ${process.argv[portIndex + 1]}`);
  const host = await startWebHost({
    port,
    rendererDirectory: join(__dirname, '..', 'renderer'),
    workerPath: join(__dirname, 'worker.js'),
  });
  process.stdout.write(`Fashion-MNIST Studio is running at ${host.url}\n(only on this computer; Ctrl-C stops it)\n`);
  let stopping = false;
  const stop = (): void => {
    // Closing waits for the worker to keep a run in progress; a second Ctrl-C does not wait.
    if (stopping) {
      process.exit(1);
    } else {
      stopping = true;
      process.stdout.write('Stopping (a run in progress is kept for the next start; Ctrl-C again quits at once)…\n');
      void host.close().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`fmnist web: ${userMessage(error)}\n`);
          process.exit(1);
        },
      );
    }
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** Settles once the host is listening (or has failed and said why): for tests. */
export const started = main().catch((error: unknown) => {
  // Like the desktop app's single instance: the one already running is the one to use.
  if (error instanceof HostRunningError) {
    process.stdout.write(
      error.otherHost
        ? `Fashion-MNIST Studio serves this data folder from ${error.otherHost} (process ${error.pid})${error.url ? ` at ${error.url}` : ''}.\n` +
            `If no browser host runs there any more, delete ${error.lockFile} and start again.\n`
        : error.url
          ? `Fashion-MNIST Studio is already running at ${error.url}\n(process ${error.pid} serves this data folder; open that address)\n`
          : `Fashion-MNIST Studio is already starting in process ${error.pid} for this data folder: its address follows there.\n`,
    );
    process.exitCode = 0;
    return;
  }
  process.stderr.write(`fmnist web: ${userMessage(error)}\n`);
  process.exitCode = 2;
});
