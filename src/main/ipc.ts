/**
 * The IPC endpoint of Electron's main process: requests and dropped files, handled only for our own window's
 * own page, every message validated against the contract, then either served here (native dialogs opened
 * in the folders last used, the download) or forwarded to the training worker. Errors go back as
 * { ok: false, error } with one line.
 */

import { dirname, join } from 'node:path';
import { type BrowserWindow, dialog, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { IPC_OPEN_FILES, IPC_REQUEST } from '@core/shared/channels';
import {
  type Answer,
  type Backend,
  type ExportFormat,
  type Request,
  type Response,
  SUGGESTED_NAMES,
  validateOpenFiles,
  validateRequest,
} from '@core/shared/contract';
import { userMessage } from '@core/shared/errors';
import { plainName } from '@core/shared/file-names';
import { writeFileAtomic } from '@core/io';
import type { FileOpener } from './file-open';
import type { FolderKind, Preferences } from './preferences';
import { isAppUrl } from './security';

const CHECKPOINT_FILTERS = [{ name: 'Checkpoints (safetensors)', extensions: ['safetensors'] }];
const EXPORT_FILTERS: Record<ExportFormat, { name: string; extensions: string[] }[]> = {
  onnx: [{ name: 'ONNX model', extensions: ['onnx'] }],
  safetensors: [{ name: 'Weights (safetensors)', extensions: ['safetensors'] }],
  // A folder, named in the save dialog and made by the export.
  pytorch: [],
};
const EXPORT_TITLES: Record<ExportFormat, string> = {
  onnx: 'Export model as ONNX',
  safetensors: 'Export model as safetensors weights',
  pytorch: 'Export the run for PyTorch (a new folder: train.py, the checkpoint, a README)',
};

const DATA_FILTERS = [
  { name: 'Fashion-MNIST data (CSV, IDX)', extensions: ['csv', 'gz', 'idx3-ubyte', 'idx1-ubyte', 'ubyte'] },
  { name: 'All files', extensions: ['*'] },
];

export interface IpcServices {
  backend: Backend;
  getWindow(): BrowserWindow | null;
  rendererUrl: string | undefined;
  preferences: Preferences;
  downloads: {
    start(): Promise<Answer<'download-data'>>;
    cancel(): Answer<'cancel-download'>;
    withState<T extends Response>(response: T): T;
  };
  files: FileOpener;
  /** A checkpoint was loaded or saved (recent documents). */
  checkpointUsed(path: string): void;
}

/** A folder remembered from a dialog's choice, and a default path inside it. */
function inFolder(preferences: Preferences, kind: FolderKind, name?: string): string | undefined {
  const folder = preferences.folder(kind);
  if (!folder) return name;
  return name ? join(folder, name) : folder;
}

async function serve(request: Request, services: IpcServices, window: BrowserWindow): Promise<Response> {
  const { backend, preferences } = services;
  switch (request.type) {
    case 'open-dataset': {
      const result = await dialog.showOpenDialog(window, {
        title: request.role === 'train' ? 'Open training data' : 'Open test data',
        buttonLabel: 'Open',
        defaultPath: inFolder(preferences, 'data'),
        properties: ['openFile', 'multiSelections'],
        filters: DATA_FILTERS,
      });
      if (result.canceled || result.filePaths.length === 0) return { ok: true, cancelled: true };
      void preferences.setFolder('data', dirname(result.filePaths[0]));
      return backend.request({ type: 'load-dataset', role: request.role, paths: result.filePaths });
    }
    case 'save-checkpoint':
    case 'export-model': {
      const format = request.type === 'export-model' ? request.format : null;
      const result = await dialog.showSaveDialog(window, {
        title: format ? EXPORT_TITLES[format] : 'Save checkpoint',
        ...(format === 'pytorch' ? { buttonLabel: 'Create folder' } : {}),
        defaultPath: inFolder(
          preferences,
          'checkpoints',
          plainName(request.name ?? '', format ?? 'checkpoint') ?? SUGGESTED_NAMES[format ?? 'checkpoint'],
        ),
        filters: format ? EXPORT_FILTERS[format] : CHECKPOINT_FILTERS,
      });
      if (result.canceled || !result.filePath) return { ok: true, cancelled: true };
      void preferences.setFolder('checkpoints', dirname(result.filePath));
      if (format) return backend.request({ type: 'export-model', format, path: result.filePath });
      const response = await backend.request({ type: 'save-checkpoint', path: result.filePath });
      if (response.ok) services.checkpointUsed(result.filePath);
      return response;
    }
    case 'load-checkpoint': {
      const result = await dialog.showOpenDialog(window, {
        title: 'Load checkpoint',
        defaultPath: inFolder(preferences, 'checkpoints'),
        properties: ['openFile'],
        filters: CHECKPOINT_FILTERS,
      });
      if (result.canceled || result.filePaths.length === 0) return { ok: true, cancelled: true };
      const path = result.filePaths[0];
      void preferences.setFolder('checkpoints', dirname(path));
      // The page asked before opening the dialog when the model held is in no file.
      const response = await backend.request({ type: 'load-checkpoint', path, replaceUnsaved: true });
      if (response.ok) services.checkpointUsed(path);
      return response;
    }
    case 'save-file': {
      const result = await dialog.showSaveDialog(window, { defaultPath: request.name });
      if (result.canceled || !result.filePath) return { ok: true, cancelled: true };
      await writeFileAtomic(result.filePath, Buffer.from(request.data, 'base64'));
      return { ok: true };
    }
    case 'get-state':
      return services.downloads.withState(await backend.request(request));
    case 'download-data':
      return services.downloads.start();
    case 'cancel-download':
      return services.downloads.cancel();
    case 'load-uploaded':
    case 'load-uploaded-checkpoint':
      return { ok: false, error: 'uploads are only used by the browser host; use the File menu' };
    default:
      return backend.request(request);
  }
}

export function enableIpc(services: IpcServices): void {
  /** Only our window's own page may talk to the backend; anything else gets this window or null. */
  const ownWindow = (event: IpcMainInvokeEvent): BrowserWindow | null => {
    const window = services.getWindow();
    if (
      !window ||
      event.sender !== window.webContents ||
      !event.senderFrame ||
      !isAppUrl(event.senderFrame.url, services.rendererUrl)
    )
      return null;
    return window;
  };
  ipcMain.handle(IPC_REQUEST, async (event: IpcMainInvokeEvent, raw: unknown): Promise<Response> => {
    const window = ownWindow(event);
    if (!window) return { ok: false, error: 'request refused: unknown sender' };
    try {
      return await serve(validateRequest(raw), services, window);
    } catch (error) {
      return { ok: false, error: userMessage(error) };
    }
  });
  ipcMain.handle(IPC_OPEN_FILES, async (event: IpcMainInvokeEvent, raw: unknown): Promise<Response> => {
    if (!ownWindow(event)) return { ok: false, error: 'request refused: unknown sender' };
    try {
      const { paths, role } = validateOpenFiles(raw);
      // The page asked before a dropped checkpoint replaces a model held in no file.
      return await services.files.open(paths, role, true);
    } catch (error) {
      return { ok: false, error: userMessage(error) };
    }
  });
}
