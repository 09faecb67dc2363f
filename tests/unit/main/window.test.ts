/** The main window: its options, and its size, position and maximised state kept across launches. */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Preferences } from '../../../src/main/preferences';
import { DEFAULT_SIZE, MINIMUM_SIZE, placeWindow } from '../../../src/main/window-state';
import type * as Stub from '../../stubs/electron';
import { tempDir } from '../../helpers/data';

type Electron = typeof Stub;

const laptop = { x: 0, y: 0, width: 1440, height: 875 };
const monitorRight = { x: 1440, y: -200, width: 2560, height: 1400 };

describe('where the window opens', () => {
  it('uses the default size, centred (no position), the first time', () => {
    expect(placeWindow(null, [laptop], laptop)).toEqual(DEFAULT_SIZE);
  });

  it('puts the window back where it was when that is on a screen', () => {
    const saved = { x: 1600, y: 0, width: 1200, height: 900 };
    expect(placeWindow(saved, [laptop, monitorRight], laptop)).toEqual(saved);
  });

  it('centres it on the primary screen when its screen is gone, keeping the size that fits', () => {
    const onUnpluggedMonitor = { x: 2000, y: 100, width: 1200, height: 800 };
    expect(placeWindow(onUnpluggedMonitor, [laptop], laptop)).toEqual({ width: 1200, height: 800 });
  });

  it('pulls a window hanging off the edge fully onto the screen that shows most of it', () => {
    expect(placeWindow({ x: 1100, y: 600, width: 1000, height: 700 }, [laptop], laptop)).toEqual({
      x: 440,
      y: 175,
      width: 1000,
      height: 700,
    });
    // Mostly on the right monitor: it goes there.
    expect(placeWindow({ x: 1300, y: 100, width: 1200, height: 800 }, [laptop, monitorRight], laptop)).toEqual({
      x: 1440,
      y: 100,
      width: 1200,
      height: 800,
    });
  });

  it('shrinks a window larger than the screen now (a lower resolution), never below the minimum that fits', () => {
    const small = { x: 0, y: 0, width: 1024, height: 700 };
    expect(placeWindow({ x: 0, y: 0, width: 1900, height: 1200 }, [small], small)).toEqual({
      x: 0,
      y: 0,
      width: 1024,
      height: 700,
    });
    expect(placeWindow(null, [small], small)).toEqual({ width: 1024, height: 700 });
    expect(MINIMUM_SIZE.width).toBeLessThanOrEqual(1024);
  });

  it('needs a sizeable part of the window on a screen, not just a corner', () => {
    const corner = { x: laptop.width - 50, y: laptop.height - 30, width: 1000, height: 700 };
    expect(placeWindow(corner, [laptop], laptop)).toEqual({ width: 1000, height: 700 });
  });
});

describe('the main window', () => {
  let electron: Electron;
  let createMainWindow: typeof import('../../../src/main/window').createMainWindow;
  beforeEach(async () => {
    vi.resetModules();
    electron = (await import('electron')) as unknown as Electron;
    ({ createMainWindow } = await import('../../../src/main/window'));
  });

  it('is sandboxed and isolated, without Node, shown when ready, on the theme background', async () => {
    electron.nativeTheme.shouldUseDarkColors = true;
    const window = createMainWindow(undefined, await Preferences.load(null)).window as unknown as Stub.BrowserWindow;
    expect(window.options).toMatchObject({
      ...DEFAULT_SIZE,
      minWidth: MINIMUM_SIZE.width,
      minHeight: MINIMUM_SIZE.height,
      show: false,
      backgroundColor: '#1e1e1e',
      webPreferences: {
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        webviewTag: false,
        webSecurity: true,
      },
    });
    expect(window.loaded.file).toMatch(/renderer[\\/]index\.html$/);
    window.emit('ready-to-show');
    expect(window.visible).toBe(true);
  });

  it('loads the dev server in development', async () => {
    const window = createMainWindow('http://localhost:5173', await Preferences.load(null))
      .window as unknown as Stub.BrowserWindow;
    expect(window.loaded.url).toBe('http://localhost:5173');
    expect(window.options.backgroundColor).toBe('#f6f6f6');
  });

  it('remembers its placement on close and after moves, and comes back maximised', async () => {
    const file = join(await tempDir('fmnist-window-'), 'preferences.json');
    const first = createMainWindow(undefined, await Preferences.load(file)).window as unknown as Stub.BrowserWindow;
    first.setBounds({ x: 50, y: 60, width: 1100, height: 700 });
    first.maximize();
    first.close();
    await vi.waitFor(async () =>
      expect(JSON.parse(await readFile(file, 'utf8')).window).toEqual({
        bounds: { x: 50, y: 60, width: 1100, height: 700 },
        maximized: true,
      }),
    );

    const second = createMainWindow(undefined, await Preferences.load(file)).window as unknown as Stub.BrowserWindow;
    expect(second.options).toMatchObject({ x: 50, y: 60, width: 1100, height: 700 });
    // Maximised (which also shows it) only once its page is ready.
    expect(second.isMaximized()).toBe(false);
    second.emit('ready-to-show');
    expect(second.isMaximized()).toBe(true);
    second.unmaximize();
    second.setBounds({ x: 70 });
    await vi.waitFor(
      async () =>
        expect(JSON.parse(await readFile(file, 'utf8')).window).toEqual({
          bounds: { x: 70, y: 60, width: 1100, height: 700 },
          maximized: false,
        }),
      {
        timeout: 3000,
      },
    );
  });

  it('saves a pending move at once when asked (before quitting)', async () => {
    const file = join(await tempDir('fmnist-window-'), 'preferences.json');
    const preferences = await Preferences.load(file);
    const { window, flushState } = createMainWindow(undefined, preferences);
    (window as unknown as Stub.BrowserWindow).setBounds({ x: 11, y: 12, width: 1000, height: 700 });
    flushState();
    await preferences.flush();
    expect(JSON.parse(await readFile(file, 'utf8')).window.bounds).toEqual({ x: 11, y: 12, width: 1000, height: 700 });
    flushState(); // nothing pending: nothing written
  });

  it('does not remember a minimised or full-screen window', async () => {
    const file = join(await tempDir('fmnist-window-'), 'preferences.json');
    const window = createMainWindow(undefined, await Preferences.load(file)).window as unknown as Stub.BrowserWindow;
    window.minimize();
    window.close();
    const other = createMainWindow(undefined, await Preferences.load(file)).window as unknown as Stub.BrowserWindow;
    other.fullScreen = true;
    other.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(readFile(file, 'utf8')).rejects.toThrow(/ENOENT/);
  });
});
