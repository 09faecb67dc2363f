/**
 * Preload (sandboxed, context-isolated): exposes exactly the contract's StudioBridge as `window.studio`:
 * one request method, one event subscription, and opening dropped files, whose paths are read here from the
 * File objects (the page never sees or names a path). No Node or Electron object reaches the page.
 */

import { contextBridge, type IpcRendererEvent, ipcRenderer, webUtils } from 'electron';
import { IPC_EVENT, IPC_OPEN_FILES, IPC_REQUEST } from '@core/shared/channels';
import type { BackendEvent, DatasetRole, OpenFilesMessage, Response, StudioBridge } from '@core/shared/contract';

const bridge: StudioBridge = {
  // The main process answers each request with the answer of its type (Answers).
  request: (request) => ipcRenderer.invoke(IPC_REQUEST, request),
  onEvent: (listener: (event: BackendEvent) => void): (() => void) => {
    const handler = (_event: IpcRendererEvent, payload: BackendEvent): void => listener(payload);
    ipcRenderer.on(IPC_EVENT, handler);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, handler);
    };
  },
  openDropped: async (files: readonly unknown[], role: DatasetRole | null): Promise<Response> => {
    // Only files from the user's file system have a path; anything the page made up has none.
    const paths = files
      .map((file) => (file instanceof File ? webUtils.getPathForFile(file) : ''))
      .filter((path) => path !== '');
    if (paths.length === 0) return { ok: false, error: 'only files from your computer can be opened' };
    return ipcRenderer.invoke(IPC_OPEN_FILES, { paths, role } satisfies OpenFilesMessage);
  },
};

contextBridge.exposeInMainWorld('studio', bridge);
