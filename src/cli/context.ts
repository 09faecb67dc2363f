/** What a command needs from the process: its output streams and environment (replaceable in tests). */

/** The signals that ask a command to stop: Ctrl-C, a closed terminal (and Windows' console close), kill/timeout. */
export type StopSignal = 'SIGINT' | 'SIGHUP' | 'SIGTERM';
export const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGHUP', 'SIGTERM'];
/** 128 + the signal's number, as shells report a command a signal ended. */
export const SIGNAL_EXIT_CODES: Record<StopSignal, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

export interface CliContext {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  /** Registers a handler for the stop signals; returns a function that removes it. */
  onStopSignal(handler: (signal: StopSignal) => void): () => void;
}

export function processContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onStopSignal(handler) {
      const listeners = STOP_SIGNALS.map((signal) => [signal, () => handler(signal)] as const);
      for (const [signal, listener] of listeners) process.on(signal, listener);
      return () => {
        for (const [signal, listener] of listeners) process.off(signal, listener);
      };
    },
  };
}

/** Writes a line (the streams may be pipes closed early, e.g. `| head`; EPIPE is not an error to report). */
export function writeLine(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}
