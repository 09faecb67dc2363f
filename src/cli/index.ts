/** Entry point of the `fmnist` executable. */

import { enableWasmFeatures } from '@core/engine/runtime';
import { processContext, SIGNAL_EXIT_CODES } from './context';
import { main } from './main';

/**
 * Output that can no longer be written is no error worth a stack trace. The reader went away (EPIPE,
 * `| head`): a training run stops as on a hang-up (its last whole epoch is saved), and with nothing to stop the
 * command ends. The terminal closed (EIO): its hang-up signal stops the run already. Whatever is written
 * afterwards goes nowhere.
 */
let outputLost = false;
let terminalLost = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (outputLost) return;
    if (error.code !== 'EPIPE' && error.code !== 'EIO') throw error;
    outputLost = true;
    terminalLost = error.code === 'EIO';
    if (terminalLost) return;
    if (process.listenerCount('SIGHUP') > 0) process.emit('SIGHUP', 'SIGHUP');
    else process.exit(0);
  });
}

enableWasmFeatures();
main(process.argv.slice(2), processContext()).then(
  (code) => {
    // A command hung up in a terminal ends as a hung-up one does: by the hang-up signal, its handler gone now
    // (Node's own exit would try to reset the dead terminal, and abort).
    if (terminalLost || (code === SIGNAL_EXIT_CODES.SIGHUP && (process.stdout.isTTY || process.stderr.isTTY)))
      process.kill(process.pid, 'SIGHUP');
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`fmnist: internal error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
