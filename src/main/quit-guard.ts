/**
 * Quitting never loses a run: while training, quitting (or, on Windows and Linux, closing the window) asks
 * first; either way the backend is told to shut down before the app exits, which ends a run at its last
 * whole epoch and keeps it for resuming at the next start.
 */

import { app, type BrowserWindow, dialog } from 'electron';
import type { Backend } from '@core/shared/contract';

export interface QuitBackend extends Backend {
  hasWorker(): boolean;
  runActive(): boolean;
}

/** How long the backend gets to stop a run and write it before the app quits anyway. */
export const SHUTDOWN_TIMEOUT_MS = 30_000;

export class QuitGuard {
  private state: 'open' | 'asking' | 'shutting-down' | 'done' = 'open';

  constructor(
    private readonly backend: QuitBackend,
    private readonly getWindow: () => BrowserWindow | null,
    private readonly platform: NodeJS.Platform = process.platform,
    /** Writes what must not be lost (the preferences) before the app exits. */
    private readonly flush: () => Promise<void> = async () => {},
  ) {}

  enable(): void {
    app.on('before-quit', (event) => {
      if (this.state === 'done') return;
      event.preventDefault();
      void this.leave(() => app.quit());
    });
  }

  /** Windows and Linux quit when the last window closes: ask before the window goes, not after. */
  watch(window: BrowserWindow): void {
    if (this.platform === 'darwin') return;
    window.on('close', (event) => {
      if (this.state === 'done' || !this.backend.runActive()) return;
      event.preventDefault();
      void this.leave(() => app.quit());
    });
  }

  private async leave(proceed: () => void): Promise<void> {
    if (this.state !== 'open') return;
    if (this.backend.runActive()) {
      this.state = 'asking';
      if (!(await this.confirm())) {
        this.state = 'open';
        return;
      }
    }
    this.state = 'shutting-down';
    // No worker, nothing to keep: starting one only to shut it down would just delay quitting.
    if (this.backend.hasWorker()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.backend.request({ type: 'shutdown' }).catch(() => null),
        new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
    }
    await this.flush().catch(() => {});
    this.state = 'done';
    proceed();
  }

  private async confirm(): Promise<boolean> {
    const window = this.getWindow();
    const options = {
      type: 'question' as const,
      buttons: ['Stop and Quit', 'Cancel'],
      defaultId: 1,
      cancelId: 1,
      message: 'Training is running. Quit anyway?',
      detail:
        'The run stops after the current batch and keeps its last whole epoch; the next start offers to resume it from there.',
    };
    const { response } =
      window && !window.isDestroyed()
        ? await dialog.showMessageBox(window, options)
        : await dialog.showMessageBox(options);
    return response === 0;
  }
}
