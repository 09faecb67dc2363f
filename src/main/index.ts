/**
 * Electron main process: assembles the app from small modules (security, window, menu, IPC) and hosts the
 * training worker. It never computes, so it stays responsive while training runs.
 */

import { app, type BrowserWindow } from 'electron';
import { IPC_EVENT } from '../core/api/channels';
import type { BackendEvent } from '../core/api/contract';
import { BackendHost } from './backend-host';
import { enableIpc } from './ipc';
import { installMenu } from './menu';
import { enableSecurity } from './security';
import { createMainWindow } from './window';
import workerPath from './worker?modulePath';

const rendererUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
let mainWindow: BrowserWindow | null = null;

const sendToWindow = (event: BackendEvent): void => {
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(IPC_EVENT, event);
};

const backend = new BackendHost(workerPath, sendToWindow, () => ({
  dataDirectory: process.env.FMNIST_STUDIO_DATA || app.getPath('userData'),
}));

enableSecurity(rendererUrl);
enableIpc(backend, () => mainWindow, rendererUrl);

/** Opens the main window (at start, and on macOS when the Dock icon is clicked with none open). */
function openWindow(): void {
  const window = createMainWindow(rendererUrl);
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  mainWindow = window;
}

// One instance: a second launch focuses the first (two would overwrite each other's autosave).
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  void app.whenReady().then(() => {
    installMenu((command) => sendToWindow({ type: 'menu', command }));
    openWindow();
    app.on('activate', () => {
      if (!mainWindow) openWindow();
    });
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('will-quit', () => {
  void backend.dispose();
});
