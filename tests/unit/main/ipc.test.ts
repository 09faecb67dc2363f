/**
 * The main process's IPC endpoint, against the stand-in Electron and a recording backend: who may call it,
 * validation, the native dialogs (in the folders last used), what is forwarded, and dropped files.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { IPC_OPEN_FILES, IPC_REQUEST } from '@core/shared/channels';
import type { Answer, Response, WorkerRequest } from '@core/shared/contract';
import { standInBackend, type WireAnswer } from '../../helpers/answers';
import { FileOpener } from '../../../src/main/file-open';
import { Preferences } from '../../../src/main/preferences';
import type * as Stub from '../../stubs/electron';
import { tempDir } from '../../helpers/data';

type Electron = typeof Stub;
const APP_PAGE = pathToFileURL(join(__dirname, '..', '..', '..', 'src', 'renderer', 'index.html')).href;

let electron: Electron;
let window: Stub.BrowserWindow;
let forwarded: WorkerRequest[];
let answer: (request: WorkerRequest) => WireAnswer;
let preferences: Preferences;
let used: string[];
let downloads: {
  start: () => Promise<Answer<'download-data'>>;
  cancel: () => Answer<'cancel-download'>;
  withState: <T extends Response>(response: T) => T;
};

beforeEach(async () => {
  vi.resetModules();
  electron = (await import('electron')) as unknown as Electron;
  const { enableIpc } = await import('../../../src/main/ipc');
  window = new electron.BrowserWindow({});
  forwarded = [];
  used = [];
  answer = () => ({ ok: true });
  const backend = standInBackend((request) => {
    forwarded.push(request);
    return answer(request);
  });
  preferences = await Preferences.load(join(await tempDir('fmnist-ipc-'), 'preferences.json'));
  downloads = {
    start: vi.fn(async () => ({ ok: true, cancelled: true }) as const),
    cancel: vi.fn(() => ({ ok: true }) as const),
    withState: vi.fn((response) => response),
  };
  enableIpc({
    backend,
    getWindow: () => window as never,
    rendererUrl: undefined,
    preferences,
    downloads,
    files: new FileOpener(
      backend,
      () => {},
      (path) => used.push(path),
    ),
    checkpointUsed: (path) => used.push(path),
  });
});

const request = (payload: unknown, from: { webContents: unknown } = window, url = APP_PAGE): Promise<WireAnswer> =>
  electron.ipcMain.invoke(IPC_REQUEST, from as never, url, payload) as Promise<WireAnswer>;

describe('IPC', () => {
  it("serves only the window's own page", async () => {
    const other = new electron.BrowserWindow({});
    const refused = { ok: false, error: 'request refused: unknown sender' };
    expect(await request({ type: 'get-state' }, other)).toEqual(refused);
    expect(await request({ type: 'get-state' }, window, 'https://example.org/')).toEqual(refused);
    expect(
      await electron.ipcMain.invoke(IPC_OPEN_FILES, other as never, APP_PAGE, { paths: ['/x.csv'], role: null }),
    ).toEqual(refused);
    expect(forwarded).toEqual([]);
    // get-state answers carry the download's state, which only the host knows.
    expect(await request({ type: 'get-state' })).toEqual({ ok: true });
    expect(downloads.withState).toHaveBeenCalledExactlyOnceWith({ ok: true });
    expect(forwarded).toEqual([{ type: 'get-state' }]);
  });

  it('refuses malformed requests in one line, forwarding nothing', async () => {
    expect(await request({ type: 'start', settings: {}, autosave: true, continue: false })).toEqual({
      ok: false,
      error: 'invalid request: setting "epochs" is missing',
    });
    expect(await request('hello')).toEqual({ ok: false, error: 'invalid request: not an object' });
    expect(await request({ type: 'load-dataset', role: 'train', paths: ['/etc/passwd'] })).toEqual({
      ok: false,
      error: 'invalid request: unknown type "load-dataset"',
    });
    expect(forwarded).toEqual([]);
  });

  it('opens data through the dialog, starting in the folder used last, and remembers the new one', async () => {
    electron.dialog.answers.open.push({
      canceled: false,
      filePaths: ['/data/fm/train-images-idx3-ubyte', '/data/fm/train-labels-idx1-ubyte'],
    });
    await request({ type: 'open-dataset', role: 'train' });
    expect(forwarded).toEqual([
      {
        type: 'load-dataset',
        role: 'train',
        paths: ['/data/fm/train-images-idx3-ubyte', '/data/fm/train-labels-idx1-ubyte'],
      },
    ]);
    expect(electron.dialog.shown[0].options).toMatchObject({
      title: 'Open training data',
      properties: ['openFile', 'multiSelections'],
      defaultPath: undefined,
    });
    expect(preferences.folder('data')).toBe('/data/fm');

    await request({ type: 'open-dataset', role: 'test' });
    expect(electron.dialog.shown[1].options).toMatchObject({ title: 'Open test data', defaultPath: '/data/fm' });
    expect(forwarded).toHaveLength(1); // cancelled
  });

  it('saves a checkpoint where the user chose, in the checkpoint folder used last, and lists it as recent', async () => {
    await preferences.setFolder('checkpoints', '/runs');
    electron.dialog.answers.save.push({ canceled: false, filePath: '/runs/2/model.safetensors' });
    expect(await request({ type: 'save-checkpoint' })).toEqual({ ok: true });
    expect(electron.dialog.shown[0].options).toMatchObject({
      title: 'Save checkpoint',
      defaultPath: join('/runs', 'fashion-mnist-checkpoint.safetensors'),
    });
    expect(forwarded).toEqual([{ type: 'save-checkpoint', path: '/runs/2/model.safetensors' }]);
    expect(used).toEqual(['/runs/2/model.safetensors']);
    expect(preferences.folder('checkpoints')).toBe('/runs/2');

    // A failed save is not a recent document.
    answer = () => ({ ok: false, error: '/ro/m.safetensors: permission denied' });
    electron.dialog.answers.save.push({ canceled: false, filePath: '/ro/m.safetensors' });
    expect(await request({ type: 'save-checkpoint' })).toEqual({
      ok: false,
      error: '/ro/m.safetensors: permission denied',
    });
    expect(used).toHaveLength(1);
  });

  it('exports through the save dialog with the format’s filter, and cancelling does nothing', async () => {
    electron.dialog.answers.save.push({ canceled: false, filePath: '/out/m.onnx' });
    await request({ type: 'export-model', format: 'onnx' });
    expect(electron.dialog.shown[0].options).toMatchObject({
      title: 'Export model as ONNX',
      filters: [{ extensions: ['onnx'] }],
    });
    expect(await request({ type: 'export-model', format: 'safetensors' })).toEqual({ ok: true, cancelled: true });
    expect(electron.dialog.shown[1].options.title).toBe('Export model as safetensors weights');
    expect(forwarded).toEqual([{ type: 'export-model', format: 'onnx', path: '/out/m.onnx' }]);
    expect(used).toEqual([]);
  });

  it('loads a checkpoint through the open dialog and lists it as recent', async () => {
    electron.dialog.answers.open.push({ canceled: false, filePaths: ['/runs/best.safetensors'] });
    await request({ type: 'load-checkpoint' });
    expect(forwarded).toEqual([{ type: 'load-checkpoint', path: '/runs/best.safetensors', replaceUnsaved: true }]);
    expect(used).toEqual(['/runs/best.safetensors']);
    expect(await request({ type: 'load-checkpoint' })).toEqual({ ok: true, cancelled: true });
  });

  it('writes a chart image where the user chose, atomically', async () => {
    const target = join(await tempDir('fmnist-ipc-'), 'cost.png');
    electron.dialog.answers.save.push({ canceled: false, filePath: target });
    expect(
      await request({ type: 'save-file', name: 'cost.png', data: Buffer.from('PNG bytes').toString('base64') }),
    ).toEqual({ ok: true });
    expect(await readFile(target, 'utf8')).toBe('PNG bytes');
    expect(electron.dialog.shown[0].options.defaultPath).toBe('cost.png');
    expect(await request({ type: 'save-file', name: 'x.png', data: '' })).toEqual({ ok: true, cancelled: true });
  });

  it('starts and cancels the download, and refuses the browser host’s uploads', async () => {
    await request({ type: 'download-data' });
    await request({ type: 'cancel-download' });
    expect(downloads.start).toHaveBeenCalledOnce();
    expect(downloads.cancel).toHaveBeenCalledOnce();
    expect(await request({ type: 'load-uploaded-checkpoint', upload: '0'.repeat(32) })).toEqual({
      ok: false,
      error: 'uploads are only used by the browser host; use the File menu',
    });
  });

  it('opens dropped files by kind: checkpoints as the model, data by card or by name', async () => {
    const drop = (payload: unknown): Promise<Response> =>
      electron.ipcMain.invoke(IPC_OPEN_FILES, window, APP_PAGE, payload) as Promise<Response>;
    await drop({
      paths: ['/d/fashion-mnist_train.csv', '/d/fashion-mnist_test.csv', '/d/run.safetensors'],
      role: null,
    });
    expect(forwarded).toEqual([
      { type: 'load-dataset', role: 'train', paths: ['/d/fashion-mnist_train.csv'] },
      { type: 'load-dataset', role: 'test', paths: ['/d/fashion-mnist_test.csv'] },
      { type: 'load-checkpoint', path: '/d/run.safetensors', replaceUnsaved: true },
    ]);
    expect(used).toEqual(['/d/run.safetensors']);
    forwarded.length = 0;
    await drop({ paths: ['/d/t10k-images-idx3-ubyte.gz'], role: 'train' });
    expect(forwarded).toEqual([{ type: 'load-dataset', role: 'train', paths: ['/d/t10k-images-idx3-ubyte.gz'] }]);
    expect(await drop({ paths: [], role: null })).toEqual({
      ok: false,
      error: 'invalid request: open 1 to 8 files at a time',
    });
    expect(await drop({ paths: ['/a'], role: 'validation' })).toEqual({
      ok: false,
      error: 'invalid request: role must be "train" or "test"',
    });
    expect(await drop({ paths: ['/a\0b'], role: null })).toEqual({
      ok: false,
      error: 'invalid request: malformed file path',
    });
  });

  it('reports a failure of the backend as the answer', async () => {
    answer = () => {
      throw new Error('worker gone\nstack');
    };
    expect(await request({ type: 'get-state' })).toEqual({ ok: false, error: 'worker gone' });
  });
});
