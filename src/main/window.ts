/**
 * The main window: Electron's secure defaults spelt out (context isolation, sandbox, no Node integration),
 * placed where it was last time (clamped to a screen connected now), and shown when ready so it never
 * flashes empty.
 */

import { join } from 'node:path';
import { BrowserWindow, nativeTheme, screen } from 'electron';
import type { Preferences } from './preferences';
import { MINIMUM_SIZE, placeWindow, trackWindowState } from './window-state';

/** The window, and a function that saves its placement at once if a change is pending (before quitting). */
export function createMainWindow(
  rendererUrl: string | undefined,
  preferences: Preferences,
): { window: BrowserWindow; flushState: () => void } {
  const saved = preferences.window;
  const placement = placeWindow(
    saved?.bounds ?? null,
    screen.getAllDisplays().map((display) => display.workArea),
    screen.getPrimaryDisplay().workArea,
  );
  const window = new BrowserWindow({
    ...placement,
    minWidth: MINIMUM_SIZE.width,
    minHeight: MINIMUM_SIZE.height,
    show: false,
    title: 'Fashion-MNIST Studio',
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#1e1e1e' : '#f6f6f6',
    webPreferences: {
      preload: join(__dirname, '../preload/index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
    },
  });
  const flushState = trackWindowState(window, preferences);
  // maximize() also shows the window: only once its page is ready, so it never flashes empty.
  window.once('ready-to-show', () => {
    if (saved?.maximized) window.maximize();
    window.show();
  });
  if (rendererUrl) void window.loadURL(rendererUrl);
  else void window.loadFile(join(__dirname, '../renderer/index.html'));
  return { window, flushState };
}
