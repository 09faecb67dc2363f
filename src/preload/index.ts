/**
 * Preload (sandboxed, context-isolated): exposes exactly the contract's StudioBridge as `window.studio`:
 * one request method and one event subscription. No Node or Electron object reaches the page.
 */

import { contextBridge, type IpcRendererEvent, ipcRenderer } from 'electron';
import { IPC_EVENT, IPC_REQUEST } from '../core/api/channels';
import type { BackendEvent, Request, Response, StudioBridge } from '../core/api/contract';

const bridge: StudioBridge = {
  request: (request: Request): Promise<Response> => ipcRenderer.invoke(IPC_REQUEST, request),
  onEvent: (listener: (event: BackendEvent) => void): (() => void) => {
    const handler = (_event: IpcRendererEvent, payload: BackendEvent): void => listener(payload);
    ipcRenderer.on(IPC_EVENT, handler);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, handler);
    };
  },
};

contextBridge.exposeInMainWorld('studio', bridge);
