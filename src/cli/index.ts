/** Entry point of the `fmnist` executable. */

import { enableWasmFeatures } from '../core/engine/runtime';
import { processContext } from './context';
import { main } from './main';

// Output piped into a command that exits early (e.g. `| head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

enableWasmFeatures();
main(process.argv.slice(2), processContext()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`fmnist: internal error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
