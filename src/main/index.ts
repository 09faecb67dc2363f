/** Electron's entry point: the desktop app (src/main/app.ts) with the training worker electron-vite builds. */

import { app, dialog } from 'electron';
import { userMessage } from '@core/shared/errors';
import { startDesktopApp } from './app';
import workerPath from '../worker/worker?modulePath';

startDesktopApp({ workerPath }).catch((error: unknown) => {
  dialog.showErrorBox('Fashion-MNIST Studio could not start', userMessage(error));
  app.exit(1);
});
