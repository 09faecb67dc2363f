/** Terminal progress: a redrawn one-line bar on stderr (TTY only), and the lines printed around it. */

import { type CliContext, writeLine } from './context';

export { formatDuration, percent, plural } from '@core/shared/format';

export function bar(fraction: number, width: number): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** A single status line redrawn in place at most every `intervalMs`; silent when the stream is not a TTY. */
export class StatusLine {
  private lastDraw = 0;
  private visible = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly intervalMs = 100,
  ) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  update(text: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    const width = this.stream.columns || 100;
    this.stream.write(`\r\x1b[2K${text.slice(0, width - 1)}`);
    this.visible = true;
  }

  /** Removes the status line so ordinary output can be printed. */
  clear(): void {
    if (this.visible) this.stream.write('\r\x1b[2K');
    this.visible = false;
  }
}

/**
 * A training command's output around its status line: `info` on stderr (left out with --json), `warn` on stderr
 * always (problems while training, such as a failing autosave), `out` on stdout (left out with --json).
 */
export function trainingOutput(context: CliContext, json: boolean) {
  const status = new StatusLine(context.stderr);
  const line =
    (stream: NodeJS.WriteStream, quietWithJson: boolean) =>
    (text: string): void => {
      if (json && quietWithJson) return;
      status.clear();
      writeLine(stream, text);
    };
  return {
    status,
    info: line(context.stderr, true),
    warn: line(context.stderr, false),
    out: line(context.stdout, true),
  };
}
