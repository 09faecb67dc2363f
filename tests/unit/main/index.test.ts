/** Electron's entry point: starts the app with the built worker, and a failed start is one dialog line, then exit 1. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as Stub from '../../stubs/electron';

const start = vi.hoisted(() => ({ outcome: Promise.resolve() as Promise<void>, calls: [] as unknown[] }));
vi.mock('../../../src/main/app', () => ({
  startDesktopApp: (options: unknown) => {
    start.calls.push(options);
    return start.outcome;
  },
}));

afterEach(() => {
  vi.resetModules();
  start.calls = [];
});

describe('the Electron entry point', () => {
  it('starts the desktop app with the training worker', async () => {
    start.outcome = Promise.resolve();
    await import('../../../src/main/index');
    expect(start.calls).toEqual([{ workerPath: expect.stringMatching(/worker\.js$/) }]);
  });

  it('shows why it could not start and exits with 1', async () => {
    start.outcome = Promise.reject(new Error('the data folder is not writable\nat …'));
    const electron = (await import('electron')) as unknown as typeof Stub;
    await import('../../../src/main/index');
    await vi.waitFor(() => expect(electron.app.exitCode).toBe(1));
    expect(electron.dialog.errorBoxes).toEqual([
      { title: 'Fashion-MNIST Studio could not start', content: 'the data folder is not writable' },
    ]);
  });
});
