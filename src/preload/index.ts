/** Preload: exposes the app's version to the renderer; the full backend API arrives with the training UI. */

import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('studio', { platform: process.platform });
