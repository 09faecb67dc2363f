/**
 * The IPC endpoint of Electron's main process: one request channel, handled only for our own window's
 * frames, every request validated against the contract, then either served here (native dialogs) or
 * forwarded to the training worker. Errors go back as { ok: false, error } with one line.
 */

import { type BrowserWindow, dialog, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { IPC_REQUEST } from '../core/api/channels';
import { type ExportFormat, type Request, type Response, SUGGESTED_NAMES, validateRequest } from '../core/api/contract';
import { userMessage } from '../core/errors';
import { writeFileAtomic } from '../core/io';
import type { BackendHost } from './backend-host';
import { isAppUrl } from './security';

const CHECKPOINT_FILTERS = [{ name: 'Checkpoints (safetensors)', extensions: ['safetensors'] }];
const EXPORT_FILTERS: Record<ExportFormat, { name: string; extensions: string[] }[]> = {
  onnx: [{ name: 'ONNX model', extensions: ['onnx'] }],
  safetensors: [{ name: 'Weights (safetensors)', extensions: ['safetensors'] }],
};

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
    case 'save-checkpoint':
    case 'export-model': {
      const format = request.type === 'export-model' ? request.format : null;
      const result = await dialog.showSaveDialog(window, {
        title: format ? `Export model as ${format === 'onnx' ? 'ONNX' : 'safetensors weights'}` : 'Save checkpoint',
        defaultPath: SUGGESTED_NAMES[format ?? 'checkpoint'],
        filters: format ? EXPORT_FILTERS[format] : CHECKPOINT_FILTERS,
      });
      if (result.canceled || !result.filePath) return { ok: true, cancelled: true };
      return format
        ? backend.request({ type: 'export-model', format, path: result.filePath })
        : backend.request({ type: 'save-checkpoint', path: result.filePath });
    }
    case 'load-checkpoint': {
      const result = await dialog.showOpenDialog(window, { title: 'Load checkpoint', properties: ['openFile'], filters: CHECKPOINT_FILTERS });
      if (result.canceled || result.filePaths.length === 0) return { ok: true, cancelled: true };
      return backend.request({ type: 'load-checkpoint', path: result.filePaths[0] });
    }
    case 'save-file': {
      const result = await dialog.showSaveDialog(window, { defaultPath: request.name });
      if (result.canceled || !result.filePath) return { ok: true, cancelled: true };
      await writeFileAtomic(result.filePath, Buffer.from(request.data, 'base64'));
      return { ok: true };
    }
    case 'load-uploaded':
    case 'load-uploaded-checkpoint':
      return { ok: false, error: 'uploads are only used by the browser host; use the File menu' };
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
