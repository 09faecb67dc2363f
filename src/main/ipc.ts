/**
 * The IPC endpoint of Electron's main process: one request channel, handled only for our own window's
 * frames, every request validated against the contract, then either served here (native dialogs) or
 * forwarded to the training worker. Errors go back as { ok: false, error } with one line.
 */

import { type BrowserWindow, dialog, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { IPC_REQUEST } from '../core/api/channels';
import { type Request, type Response, validateRequest } from '../core/api/contract';
import { userMessage } from '../core/errors';
import { writeFileAtomic } from '../core/io';
import type { BackendHost } from './backend-host';
import { isAppUrl } from './security';

const DATA_FILTERS = [
  { name: 'Fashion-MNIST data (CSV, IDX)', extensions: ['csv', 'gz', 'idx3-ubyte', 'idx1-ubyte', 'ubyte'] },
  { name: 'All files', extensions: ['*'] },
];

async function serve(request: Request, backend: BackendHost, window: BrowserWindow): Promise<Response> {
  switch (request.type) {
    case 'open-dataset': {
      const result = await dialog.showOpenDialog(window, {
        title: request.role === 'train' ? 'Open training data' : 'Open test data',
        buttonLabel: 'Open',
        properties: ['openFile', 'multiSelections'],
        filters: DATA_FILTERS,
      });
      if (result.canceled || result.filePaths.length === 0) return { ok: true, cancelled: true };
      return backend.request({ type: 'load-dataset', role: request.role, paths: result.filePaths });
    }
    case 'save-file': {
      const result = await dialog.showSaveDialog(window, { defaultPath: request.name });
      if (result.canceled || !result.filePath) return { ok: true, cancelled: true };
      await writeFileAtomic(result.filePath, Buffer.from(request.data, 'base64'));
      return { ok: true };
    }
    case 'load-uploaded':
      return { ok: false, error: 'uploads are only used by the browser host; use File › Open' };
    default:
      return backend.request(request);
  }
}

export function enableIpc(backend: BackendHost, getWindow: () => BrowserWindow | null, rendererUrl: string | undefined): void {
  ipcMain.handle(IPC_REQUEST, async (event: IpcMainInvokeEvent, raw: unknown): Promise<Response> => {
    const window = getWindow();
    // Only our window's own page may talk to the backend.
    if (!window || event.sender !== window.webContents || !event.senderFrame || !isAppUrl(event.senderFrame.url, rendererUrl)) {
      return { ok: false, error: 'request refused: unknown sender' };
    }
    try {
      return await serve(validateRequest(raw), backend, window);
    } catch (error) {
      return { ok: false, error: userMessage(error) };
    }
  });
}
