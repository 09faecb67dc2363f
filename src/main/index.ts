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

void app.whenReady().then(() => {
  installMenu((command) => sendToWindow({ type: 'menu', command }));
  mainWindow = createMainWindow(rendererUrl);
  mainWindow.on('closed', () => (mainWindow = null));
  app.on('activate', () => {
    if (!mainWindow) mainWindow = createMainWindow(rendererUrl);
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('will-quit', () => {
  void backend.dispose();
});
