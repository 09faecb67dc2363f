/** Entry point of `npm run web`: starts the browser host and prints the URL to open (with its token). */

import { join } from 'node:path';
import { userMessage } from '../../core/errors';
import { startWebHost } from './server';

async function main(): Promise<void> {
  const portIndex = process.argv.indexOf('--port');
  const port = portIndex >= 0 ? Number(process.argv[portIndex + 1]) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0–65535, got ${process.argv[portIndex + 1]}`);
  const host = await startWebHost({
    port,
    rendererDirectory: join(__dirname, '..', 'renderer'),
    workerPath: join(__dirname, 'worker.js'),
  });
  process.stdout.write(`Fashion-MNIST Studio is running at ${host.url}\n(only on this computer; Ctrl-C stops it)\n`);
  const stop = (): void => {
    void host.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`fmnist web: ${userMessage(error)}\n`);
  process.exitCode = 2;
});
