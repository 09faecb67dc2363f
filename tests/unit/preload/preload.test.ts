/** The preload, against the stand-in Electron: exactly one bridge, and dropped files by their real paths only. */

import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { StudioBridge } from '@core/shared/contract';
import type * as Stub from '../../stubs/electron';

type Electron = typeof Stub;
let electron: Electron;
let bridge: StudioBridge;

beforeEach(async () => {
  vi.resetModules();
  electron = (await import('electron')) as unknown as Electron;
  await import('../../../src/preload/index');
  bridge = electron.contextBridge.exposed.get('studio') as StudioBridge;
});

describe('the preload', () => {
  it('exposes only window.studio: request, events and dropped files', () => {
    expect([...electron.contextBridge.exposed.keys()]).toEqual(['studio']);
    expect(Object.keys(bridge).sort()).toEqual(['onEvent', 'openDropped', 'request']);
  });

  it('sends requests on the request channel and passes events on until unsubscribed', async () => {
    electron.ipcRenderer.answer = async () => ({ ok: true, cancelled: true });
    expect(await bridge.request({ type: 'get-state' })).toEqual({ ok: true, cancelled: true });
    expect(electron.ipcRenderer.invoked).toEqual([{ channel: 'studio:request', payload: { type: 'get-state' } }]);
    const received: unknown[] = [];
    const unsubscribe = bridge.onEvent((event) => received.push(event));
    electron.ipcRenderer.emit('studio:event', {}, { type: 'menu', command: 'start' });
    unsubscribe();
    electron.ipcRenderer.emit('studio:event', {}, { type: 'menu', command: 'stop' });
    expect(received).toEqual([{ type: 'menu', command: 'start' }]);
  });

  it('opens dropped files by the paths Electron knows for them; files the page made up have none', async () => {
    const fromDisk = new File(['x'], 'fashion-mnist_test.csv');
    const madeUp = new File(['y'], 'evil.safetensors');
    electron.webUtils.paths.set(fromDisk, '/home/u/data/fashion-mnist_test.csv');
    await bridge.openDropped([fromDisk, madeUp, { name: 'not a file' }], 'test');
    expect(electron.ipcRenderer.invoked).toEqual([
      { channel: 'studio:open-files', payload: { paths: ['/home/u/data/fashion-mnist_test.csv'], role: 'test' } },
    ]);
    expect(await bridge.openDropped([madeUp], null)).toEqual({
      ok: false,
      error: 'only files from your computer can be opened',
    });
    expect(electron.ipcRenderer.invoked).toHaveLength(1);
  });
});
