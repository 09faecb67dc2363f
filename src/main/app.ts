/**
 * The desktop app, assembled from small modules: security, one instance, the window (where it was last
 * time), the menu with recent checkpoints, IPC, files opened from outside, the Fashion-MNIST download and
 * the quit guard, around the training worker's host. Electron's main process never computes, so it stays
 * responsive while training runs.
 */

import { join } from 'node:path';
import { app, type BrowserWindow, shell } from 'electron';
import { IPC_EVENT } from '@core/shared/channels';
import type { BackendEvent } from '@core/shared/contract';
import { DOWNLOAD_FOLDER, runsFolder } from '@core/app-folders';
import { BackendHost } from '../worker/backend-host';
import { DataDownloads } from '@core/data/download';
import { FileOpener, filesFromArgv } from './file-open';
import { enableIpc } from './ipc';
import { installMenu } from './menu';
import { Preferences, PREFERENCES_FILE } from './preferences';
import { QuitGuard } from './quit-guard';
import { enableSecurity } from './security';
import { createMainWindow } from './window';

export const APP_NAME = 'Fashion-MNIST Studio';

export interface DesktopAppOptions {
  /** The training worker's script (electron-vite's ?modulePath of ./worker). */
  workerPath: string;
  env?: NodeJS.ProcessEnv;
  argv?: readonly string[];
}

/** What a second launch passes to the first through the single-instance lock. */
interface LaunchData {
  files: string[];
}

function filesOf(data: unknown): string[] | null {
  const files = (data as Partial<LaunchData> | null)?.files;
  return Array.isArray(files) && files.every((f) => typeof f === 'string') ? files : null;
}

/** Starts the app; resolves once its first window exists (or at once when another instance runs). */
export async function startDesktopApp(options: DesktopAppOptions): Promise<void> {
  const env = options.env ?? process.env;
  const argv = options.argv ?? process.argv;
  const rendererUrl = !app.isPackaged ? env.ELECTRON_RENDERER_URL : undefined;
  app.setName(APP_NAME);
  // A development run keeps its own data folder (and so its own lock): it never meets the installed app's.
  if (!app.isPackaged) app.setPath('userData', `${app.getPath('userData')} (development)`);
  const launchFiles = filesFromArgv(argv, app.isPackaged, process.cwd());
  // One instance: a second launch hands its files to the first (two would overwrite each other's autosave).
  if (!app.requestSingleInstanceLock({ files: launchFiles } satisfies LaunchData)) {
    process.stdout.write(
      `${APP_NAME} is already running: its window was brought to the front${launchFiles.length ? ' with the files given' : ''}.\n`,
    );
    app.quit();
    return;
  }
  const dataFolder = env.FMNIST_STUDIO_DATA || app.getPath('userData');
  const downloadFolder = join(dataFolder, DOWNLOAD_FOLDER);
  let mainWindow: BrowserWindow | null = null;
  /** Set once the app is ready: opens the window (again, on macOS, where the app outlives its window). */
  let openWindow: (() => void) | null = null;
  let flushWindowState: (() => void) | null = null;
  const sendToWindow = (event: BackendEvent): void => {
    if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(IPC_EVENT, event);
  };
  const backend = new BackendHost(options.workerPath, sendToWindow, () => ({
    dataDirectory: dataFolder,
    downloadDirectory: downloadFolder,
    runsDirectory: runsFolder(dataFolder),
    env,
  }));
  const downloads = new DataDownloads(
    downloadFolder,
    sendToWindow,
    () => backend.request({ type: 'load-default-data' }),
    env,
  );
  let preferences: Preferences | null = null;
  const checkpointUsed = (path: string): void => {
    void preferences?.addRecent(path);
    app.addRecentDocument(path);
  };
  const files = new FileOpener(backend, sendToWindow, checkpointUsed);
  const quitGuard = new QuitGuard(
    backend,
    () => mainWindow,
    process.platform,
    async () => {
      flushWindowState?.();
      await preferences?.flush();
    },
  );
  /** Files from the system: shown in the window, which is opened for them if there is none. */
  const openFromOutside = (paths: string[]): void => {
    if (paths.length === 0) return;
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.show();
      mainWindow.focus();
    } else {
      openWindow?.();
    }
    void files.openFromOutside(paths);
  };

  // Files can arrive before the app is ready (macOS open-file at launch): they wait for the page.
  app.on('open-file', (event, path) => {
    event.preventDefault();
    openFromOutside([path]);
  });
  app.on('second-instance', (_event, secondArgv, workingDirectory, additionalData) => {
    const given = filesOf(additionalData) ?? filesFromArgv(secondArgv, app.isPackaged, workingDirectory);
    if (given.length === 0 && mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.show();
      mainWindow.focus();
    } else if (given.length === 0) {
      openWindow?.();
    }
    openFromOutside(given);
  });

  enableSecurity(rendererUrl);
  quitGuard.enable();
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => {
    downloads.cancel();
    void backend.dispose();
  });

  await app.whenReady();
  const loaded = await Preferences.load(join(dataFolder, PREFERENCES_FILE));
  preferences = loaded;
  enableIpc({
    backend,
    getWindow: () => mainWindow,
    rendererUrl,
    preferences: loaded,
    downloads,
    files,
    checkpointUsed,
  });
  app.setAboutPanelOptions({
    applicationName: APP_NAME,
    applicationVersion: app.getVersion(),
    version: `Electron ${process.versions.electron ?? '?'}`,
    copyright: 'Fashion-MNIST Studio developers. Fashion-MNIST © Zalando SE (MIT licence).',
  });
  const menu = (): void =>
    installMenu({
      platform: process.platform,
      packaged: app.isPackaged,
      appName: APP_NAME,
      recentCheckpoints: loaded.recentCheckpoints,
      send: (command) => sendToWindow({ type: 'menu', command }),
      openRecent: (path) => void openRecent(path),
      clearRecent: () => {
        void loaded.clearRecent();
        app.clearRecentDocuments();
      },
      showAbout: () => app.showAboutPanel(),
      openExternal: (url) => void shell.openExternal(url),
    });
  const openRecent = async (path: string): Promise<void> => {
    const response = await files.open([path], null);
    if (!response.ok) {
      sendToWindow({ type: 'notice', tone: 'error', message: response.error });
      if (/no such file/.test(response.error)) void loaded.removeRecent(path);
    }
  };
  loaded.onRecentChange(menu);
  menu();

  openWindow = (): void => {
    const { window, flushState } = createMainWindow(rendererUrl, loaded);
    flushWindowState = flushState;
    quitGuard.watch(window);
    window.webContents.on('did-finish-load', () => files.pageReady());
    window.webContents.on('did-start-loading', () => files.pageGone());
    window.on('closed', () => {
      files.pageGone();
      if (mainWindow === window) mainWindow = null;
    });
    mainWindow = window;
  };
  openWindow();
  app.on('activate', () => {
    if (!mainWindow) openWindow?.();
  });
  void files.openFromOutside(launchFiles);
}
