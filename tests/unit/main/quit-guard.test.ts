/**
 * Quitting while training asks first and always lets the backend keep the run; on macOS closing the window does not
 * quit.
 */

import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Response, WorkerRequest } from '@core/shared/contract';
import type * as Stub from '../../stubs/electron';

type Electron = typeof Stub;
let electron: Electron;
let QuitGuard: typeof import('../../../src/main/quit-guard').QuitGuard;

beforeEach(async () => {
  vi.resetModules();
  electron = (await import('electron')) as unknown as Electron;
  ({ QuitGuard } = await import('../../../src/main/quit-guard'));
});

function backend(active: boolean, shutdown: () => Promise<Response> = async () => ({ ok: true }), worker = true) {
  const requests: WorkerRequest[] = [];
  return {
    requests,
    active,
    hasWorker: () => worker,
    runActive() {
      return this.active;
    },
    request(request: WorkerRequest): Promise<Response> {
      requests.push(request);
      return shutdown();
    },
  };
}

const quitted = (): Promise<void> => new Promise((resolve) => electron.app.once('will-quit', () => resolve()));

describe('quitting', () => {
  it('tells an idle backend to shut down, then quits without asking', async () => {
    const idle = backend(false);
    new QuitGuard(idle, () => null, 'linux').enable();
    const done = quitted();
    electron.app.quit();
    await done;
    expect(idle.requests).toEqual([{ type: 'shutdown' }]);
    expect(electron.dialog.shown).toEqual([]);
  });

  it('with no training worker (none started, or it crashed), quits without starting one; the preferences are written first', async () => {
    const none = backend(false, async () => ({ ok: true }), false);
    let flushed = 0;
    new QuitGuard(
      none,
      () => null,
      'linux',
      async () => void flushed++,
    ).enable();
    const done = quitted();
    electron.app.quit();
    await done;
    expect(none.requests).toEqual([]);
    expect(flushed).toBe(1);
  });

  it('asks while training, without a window when there is none, and does nothing on Cancel', async () => {
    const busy = backend(true);
    new QuitGuard(busy, () => null, 'darwin').enable();
    electron.app.quit();
    electron.app.quit(); // a second Cmd+Q while the question is open asks nothing more
    await vi.waitFor(() => expect(electron.dialog.shown).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(busy.requests).toEqual([]);
    expect(electron.app.quitCalls).toBe(2);

    electron.dialog.answers.message.push({ response: 0 });
    const done = quitted();
    electron.app.quit();
    await done;
    expect(busy.requests).toEqual([{ type: 'shutdown' }]);
  });

  it('on macOS, closing the window during a run is not quitting: no question', () => {
    const guard = new QuitGuard(backend(true), () => null, 'darwin');
    const window = new electron.BrowserWindow({});
    guard.watch(window as never);
    window.close();
    expect(window.isDestroyed()).toBe(true);
    expect(electron.dialog.shown).toEqual([]);
  });

  it('on Windows and Linux, closing the window during a run asks, attached to that window', async () => {
    const window = new electron.BrowserWindow({});
    const guard = new QuitGuard(backend(true), () => window as never, 'win32');
    guard.enable();
    guard.watch(window as never);
    electron.dialog.answers.message.push({ response: 0 });
    const done = quitted();
    window.close();
    expect(window.isDestroyed()).toBe(false);
    await done;
    expect(electron.dialog.shown[0].options.buttons).toEqual(['Stop and Quit', 'Cancel']);
  });

  it('quits even if the backend fails to shut down or the preferences cannot be written', async () => {
    new QuitGuard(
      backend(false, () => Promise.reject(new Error('worker gone'))),
      () => null,
      'linux',
      () => Promise.reject(new Error('disk full')),
    ).enable();
    const done = quitted();
    electron.app.quit();
    await done;
  });

  it('quits after a while even if the backend never answers', async () => {
    vi.useFakeTimers();
    try {
      const stuck = backend(false, () => new Promise(() => {}));
      new QuitGuard(stuck, () => null, 'linux').enable();
      const done = quitted();
      electron.app.quit();
      await vi.advanceTimersByTimeAsync(30_000);
      await done;
    } finally {
      vi.useRealTimers();
    }
  });
});
