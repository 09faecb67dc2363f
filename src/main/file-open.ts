/**
 * Files opened from outside the app's dialogs: given on the command line, double-clicked (the .safetensors
 * association), dropped on the Dock icon (macOS `open-file`), passed to a second launch, or dropped on the
 * window. Checkpoints load as the model, data files as the training or test set (see core/shared/open-files.ts).
 * Files that arrive before the page is ready wait for it, so what goes wrong is shown to the user.
 */

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, BackendEvent, DatasetRole, Response, WorkerRequest } from '@core/shared/contract';
import { planOpen } from '@core/shared/open-files';

export type OpenTarget = Backend;

/**
 * The files in a launch's arguments: after the executable (and, unpackaged, the app's path), not switches,
 * as paths (file: URLs from file managers included) resolved against the launch's working directory.
 */
export function filesFromArgv(argv: readonly string[], packaged: boolean, workingDirectory: string): string[] {
  return argv
    .slice(packaged ? 1 : 2)
    .filter((arg) => arg.length > 0 && !arg.startsWith('-'))
    .map((arg) => (/^file:\/\//i.test(arg) ? fileURLToPath(arg) : resolve(workingDirectory, arg)));
}

export class FileOpener {
  private ready = false;
  private readonly waiting: string[][] = [];

  constructor(
    private readonly backend: OpenTarget,
    private readonly notify: (event: BackendEvent) => void,
    /** Called with each checkpoint that loaded (recent documents). */
    private readonly opened: (checkpoint: string) => void,
  ) {}

  /** The page can show results now: open what arrived before. */
  pageReady(): void {
    this.ready = true;
    for (const paths of this.waiting.splice(0)) void this.openFromOutside(paths);
  }

  /** The page reloaded or closed: hold new files until it is back. */
  pageGone(): void {
    this.ready = false;
  }

  /** Files from the system (arguments, open-file, a second launch): failures are shown as notices. */
  async openFromOutside(paths: string[]): Promise<void> {
    if (paths.length === 0) return;
    if (!this.ready) {
      this.waiting.push(paths);
      return;
    }
    const response = await this.open(paths, null);
    if (!response.ok) this.notify({ type: 'notice', tone: 'error', message: response.error });
  }

  /**
   * Opens files; the answer carries the first failure, if any (each file is still tried). A checkpoint
   * replaces a model held in no file only when the page asked the user (`replaceUnsaved`): from outside
   * (the system, Open Recent) it is refused with a message saying so.
   */
  async open(paths: string[], role: DatasetRole | null, replaceUnsaved = false): Promise<Response> {
    const plan = planOpen(paths, (path) => path, role);
    const errors: string[] = [];
    let last: Response = { ok: true };
    const run = async (request: WorkerRequest): Promise<Response> => {
      const response = await this.backend.request(request);
      if (response.ok) last = response;
      else errors.push(response.error);
      return response;
    };
    for (const dataRole of ['train', 'test'] as const) {
      if (plan[dataRole].length) await run({ type: 'load-dataset', role: dataRole, paths: plan[dataRole] });
    }
    if (plan.checkpoint) {
      const response = await run({ type: 'load-checkpoint', path: plan.checkpoint, replaceUnsaved });
      if (response.ok) this.opened(plan.checkpoint);
    }
    return errors.length ? { ok: false, error: errors.join(' — ') } : last;
  }
}
