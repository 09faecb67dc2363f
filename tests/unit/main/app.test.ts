/**
 * The desktop app's main process, run against the stand-in Electron (tests/stubs/electron.ts) with the real
 * training worker: one instance, the window and menu it opens, files given on the command line, double-
 * clicked (open-file) or passed to a second launch, and quitting while training.
 */

import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IPC_EVENT, IPC_REQUEST } from '@core/shared/channels';
import { type BackendEvent, DEFAULT_SETTINGS, type StudioState } from '@core/shared/contract';
import { FASHION_MNIST_FILES } from '@core/data/download';
import { writeUntrainedCheckpoint } from '../../helpers/checkpoints';
import type * as Stub from '../../stubs/electron';
import { REAL_DATA_DIR, tempDir } from '../../helpers/data';
import { startMirror } from '../../helpers/mirror';
import type { WireAnswer } from '../../helpers/answers';

type Electron = typeof Stub;

/** A launch: fresh modules (a new stand-in Electron, a new app), with the given arguments and data folder. */
async function launch(
  options: {
    argv?: string[];
    singleInstance?: boolean;
    beforeReady?: (electron: Electron) => void;
    env?: Record<string, string>;
  } = {},
) {
  vi.resetModules();
  const electron = (await import('electron')) as unknown as Electron;
  electron.app.singleInstance = options.singleInstance ?? true;
  const dataFolder = await tempDir('fmnist-app-data-');
  const { startDesktopApp } = await import('../../../src/main/app');
  const { default: workerPath } = await import('../../../src/worker/worker?modulePath');
  const started = startDesktopApp({
    workerPath,
    env: { FMNIST_STUDIO_DATA: dataFolder, FMNIST_DATA: REAL_DATA_DIR, ...options.env },
    argv: options.argv ?? ['/opt/electron', '/app'],
  });
  options.beforeReady?.(electron);
  electron.app.ready();
  await started;
  const window = (): Stub.BrowserWindow => electron.BrowserWindow.getAllWindows()[0];
  const events = (): BackendEvent[] =>
    window()
      .webContents.sent.filter((s) => s.channel === IPC_EVENT)
      .map((s) => s.payload as BackendEvent);
  const lastState = (): StudioState | undefined =>
    events()
      .filter((e): e is Extract<BackendEvent, { type: 'state' }> => e.type === 'state')
      .at(-1)?.state;
  const request = (payload: unknown): Promise<WireAnswer> =>
    electron.ipcMain.invoke(IPC_REQUEST, window(), window().webContents.url, payload) as Promise<WireAnswer>;
  /** The page finished loading (it then listens for events). */
  const pageLoaded = (): void => void window().webContents.emit('did-finish-load');
  return { electron, dataFolder, window, events, lastState, request, pageLoaded };
}

const writeCheckpoint = (path: string, epochs = 3): Promise<void> =>
  writeUntrainedCheckpoint(path, [16], { seed: 5, settings: { epochs } });

let quitApp: (() => void) | null = null;
afterEach(() => {
  quitApp?.();
  quitApp = null;
});

describe('the desktop app', () => {
  it('quits at once when another instance is running, handing it the files given, and says so', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const app = await launch({ singleInstance: false, argv: ['/opt/electron', '/app', '/runs/m.safetensors'] });
      expect(app.electron.app.quitCalls).toBe(1);
      expect(app.electron.app.lockData).toEqual({ files: [resolve('/runs/m.safetensors')] });
      expect(app.electron.BrowserWindow.windows).toHaveLength(0);
      expect(app.electron.ipcMain.handlers.size).toBe(0);
      expect(out).toHaveBeenCalledWith(
        'Fashion-MNIST Studio is already running: its window was brought to the front with the files given.\n',
      );
    } finally {
      out.mockRestore();
    }
  });

  it('keeps a development run’s data apart from the installed app’s', async () => {
    vi.resetModules();
    const electron = (await import('electron')) as unknown as Electron;
    const { startDesktopApp } = await import('../../../src/main/app');
    const started = startDesktopApp({ workerPath: '/nonexistent-worker.js', env: {}, argv: ['/opt/electron', '/app'] });
    electron.app.ready();
    await started;
    expect(electron.app.getPath('userData')).toBe('/tmp/fmnist-fake-user-data (development)');
    electron.app.emit('will-quit');
  });

  it('opens one secure window with the menu, IPC and About set up', async () => {
    const app = await launch();
    quitApp = () => app.electron.app.emit('will-quit');
    const window = app.window();
    expect(window.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    });
    expect(window.options.webPreferences.preload).toMatch(/preload[\\/]index\.js$/);
    expect(window.loaded.file).toMatch(/renderer[\\/]index\.html$/);
    expect(window.visible).toBe(false);
    window.emit('ready-to-show');
    expect(window.visible).toBe(true);
    expect(app.electron.app.sandboxEnabled).toBe(true);
    expect([...app.electron.ipcMain.handlers.keys()].sort()).toEqual(['studio:open-files', 'studio:request']);
    expect(app.electron.Menu.application?.template.map((m) => m.label ?? m.role)).toContain('&Training');
    expect(app.electron.app.aboutOptions).toMatchObject({
      applicationName: 'Fashion-MNIST Studio',
      applicationVersion: '0.1.0',
    });
    const state = await app.request({ type: 'get-state' });
    expect(state.ok && state.state?.defaultData.directory).toBe(REAL_DATA_DIR);
  });

  it('opens a checkpoint given on the command line once the page has loaded, and lists it as recent', async () => {
    const folder = await tempDir('fmnist-app-files-');
    const checkpoint = join(folder, 'given.safetensors');
    await writeCheckpoint(checkpoint);
    const app = await launch({ argv: ['/opt/electron', '/app', '--some-switch', checkpoint] });
    quitApp = () => app.electron.app.emit('will-quit');
    // Nothing is opened before the page can show what happens.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(app.lastState()).toBeUndefined();
    app.pageLoaded();
    await expect.poll(() => app.lastState()?.model?.file, { timeout: 20_000 }).toBe(checkpoint);
    // Listed once the load has answered, which follows the state that shows the model.
    await expect.poll(() => app.electron.app.recentDocuments, { timeout: 5_000 }).toEqual([checkpoint]);
    const openRecent = app.electron.Menu.application!.template.find((m) => m.label === '&File').submenu.find(
      (i: { label?: string }) => i.label === 'Open Recent',
    );
    expect(openRecent.submenu[0]).toMatchObject({ label: 'given.safetensors', toolTip: checkpoint });
  });

  it('opens a file the system hands over before start-up finished (macOS open-file)', async () => {
    const folder = await tempDir('fmnist-app-files-');
    const checkpoint = join(folder, 'double-clicked.safetensors');
    await writeCheckpoint(checkpoint);
    const app = await launch({
      beforeReady: (electron) => {
        const event = { defaultPrevented: false, preventDefault: () => (event.defaultPrevented = true) };
        electron.app.emit('open-file', event, checkpoint);
        expect(event.defaultPrevented).toBe(true);
      },
    });
    quitApp = () => app.electron.app.emit('will-quit');
    app.pageLoaded();
    await expect.poll(() => app.lastState()?.model?.file, { timeout: 20_000 }).toBe(checkpoint);
  });

  it('a file handed over while no window is open (macOS keeps running) opens a window for it', async () => {
    const folder = await tempDir('fmnist-app-files-');
    const checkpoint = join(folder, 'later.safetensors');
    await writeCheckpoint(checkpoint);
    const app = await launch();
    quitApp = () => app.electron.app.emit('will-quit');
    const first = app.window();
    first.destroyed = true;
    first.emit('closed');
    expect(app.electron.BrowserWindow.getAllWindows()).toHaveLength(0);
    app.electron.app.emit('second-instance', {}, ['/opt/electron', '/app', '--whatever'], folder, {
      files: [checkpoint],
    });
    expect(app.electron.BrowserWindow.getAllWindows()).toHaveLength(1);
    app.pageLoaded();
    await expect.poll(() => app.lastState()?.model?.file, { timeout: 20_000 }).toBe(checkpoint);
    // A second launch without files just brings the window back.
    app.window().minimize();
    app.electron.app.emit('second-instance', {}, ['/opt/electron', '/app'], folder, { files: [] });
    expect(app.window().isMinimized()).toBe(false);
    const second = app.window();
    second.destroyed = true;
    second.emit('closed');
    app.electron.app.emit('second-instance', {}, ['/opt/electron', '/app'], folder, { files: [] });
    expect(app.electron.BrowserWindow.getAllWindows()).toHaveLength(1);
  });

  it('a second launch focuses the window and opens its file there; a bad one is reported in one line', async () => {
    const app = await launch();
    quitApp = () => app.electron.app.emit('will-quit');
    app.pageLoaded();
    const folder = await tempDir('fmnist-app-files-');
    const checkpoint = join(folder, 'second.safetensors');
    await writeCheckpoint(checkpoint);
    app.window().minimize();
    app.electron.app.emit('second-instance', {}, ['/opt/electron', '/app', 'second.safetensors'], folder);
    expect(app.window().isMinimized()).toBe(false);
    expect(app.window().focused).toBe(true);
    await expect.poll(() => app.lastState()?.model?.file, { timeout: 20_000 }).toBe(checkpoint);

    const broken = join(folder, 'broken.safetensors');
    await writeFile(broken, 'not a checkpoint');
    app.electron.app.emit('second-instance', {}, ['/opt/electron', '/app', broken], folder);
    await expect
      .poll(
        () =>
          app
            .events()
            .filter((e) => e.type === 'notice')
            .at(-1),
        { timeout: 20_000 },
      )
      .toEqual({
        type: 'notice',
        tone: 'error',
        message: expect.stringMatching(new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `)),
      });
    // The model loaded before stays.
    expect(app.lastState()?.model?.file).toBe(checkpoint);
  });

  it('runs the menu: commands reach the page; Open Recent opens, or reports a file that is gone and drops it; Clear Menu; About; the data set link', async () => {
    const folder = await tempDir('fmnist-app-files-');
    const kept = join(folder, 'kept.safetensors');
    const gone = join(folder, 'gone.safetensors');
    await writeCheckpoint(kept);
    await writeCheckpoint(gone);
    const app = await launch({ argv: ['/opt/electron', '/app', gone] });
    quitApp = () => app.electron.app.emit('will-quit');
    app.pageLoaded();
    await expect.poll(() => app.lastState()?.model?.file, { timeout: 20_000 }).toBe(gone);
    type Item = { label?: string; submenu?: Item[]; click?: () => void };
    const fileMenu = (): Item[] =>
      (app.electron.Menu.application!.template as Item[]).find((m) => m.label === '&File')!.submenu!;
    const recent = (): Item[] => fileMenu().find((i) => i.label === 'Open Recent')!.submenu!;

    fileMenu().find((i) => i.label === 'Save Checkpoint…')!.click!();
    expect(app.events().at(-1)).toEqual({ type: 'menu', command: 'save-checkpoint' });

    const { rm } = await import('node:fs/promises');
    await rm(gone);
    recent()[0].click!();
    await expect
      .poll(() =>
        app
          .events()
          .filter((e) => e.type === 'notice')
          .at(-1),
      )
      .toEqual({
        type: 'notice',
        tone: 'error',
        message: `${gone}: no such file or directory`,
      });
    await expect.poll(() => recent().map((i) => i.label)).toEqual(['No Recent Checkpoints']);

    // The model held came from the file that is gone: no file holds it now, so a checkpoint opened from
    // outside does not replace it (the page's Load checkpoint would ask).
    app.electron.app.emit('second-instance', {}, ['/opt/electron', '/app', kept], folder);
    await expect
      .poll(() =>
        app
          .events()
          .filter((e) => e.type === 'notice')
          .at(-1),
      )
      .toEqual({
        type: 'notice',
        tone: 'error',
        message: `${kept}: not opened: the model held (784-16-10, 0 epochs) is not saved in any file; save it first, or open the checkpoint with Load checkpoint, which asks`,
      });
    expect(app.lastState()?.model?.file).toBe(gone);
    // Back in a file, it can be replaced.
    await writeCheckpoint(gone);
    app.electron.app.emit('second-instance', {}, ['/opt/electron', '/app', kept], folder);
    await expect.poll(() => recent().map((i) => i.label)).toEqual(['kept.safetensors', undefined, 'Clear Menu']);
    recent()[2].click!();
    await expect.poll(() => recent().map((i) => i.label)).toEqual(['No Recent Checkpoints']);
    expect(app.electron.app.recentDocuments).toEqual([]);

    const help = (app.electron.Menu.application!.template as (Item & { role?: string })[]).find(
      (m) => m.role === 'help',
    )!.submenu!;
    help[0].click!();
    expect(app.electron.shell.opened).toEqual(['https://github.com/zalandoresearch/fashion-mnist']);
    help.at(-1)!.click!();
    expect(app.electron.app.aboutShown).toBe(process.platform === 'darwin' ? 0 : 1);
  });

  it('downloads Fashion-MNIST into the data folder when asked, then loads it from there', async () => {
    const mirror = await startMirror(
      Object.fromEntries(
        FASHION_MNIST_FILES.map((f) => [`/${f.name}`, { body: readFileSync(join(REAL_DATA_DIR, f.name)) }]),
      ),
    );
    const app = await launch({ env: { FMNIST_DOWNLOAD_URL: mirror.url, FMNIST_DATA: '' } });
    quitApp = () => app.electron.app.emit('will-quit');
    try {
      const done = await app.request({ type: 'download-data' });
      expect(done.ok && done.state?.defaultData.directory).toBe(join(app.dataFolder, 'fashion-mnist'));
      expect(done.ok && done.state?.datasets.train?.count).toBe(60000);
      expect(
        app
          .events()
          .filter((e) => e.type === 'download')
          .at(-1),
      ).toMatchObject({ download: { status: 'finished' } });
      const state = await app.request({ type: 'get-state' });
      expect(state.ok && state.state?.download).toMatchObject({
        status: 'finished',
        directory: join(app.dataFolder, 'fashion-mnist'),
      });
      // The gallery's images reach the page as bytes (Electron's IPC clones typed arrays), not as JSON.
      const images = await app.request({ type: 'get-test-images' });
      expect(images.ok && images.testImages?.images).toBeInstanceOf(Uint8Array);
      expect(images.ok && images.testImages?.images.length).toBe(10000 * 784);
    } finally {
      await mirror.close();
    }
  });

  it('holds files handed over while the page reloads until it has loaded again', async () => {
    const folder = await tempDir('fmnist-app-files-');
    const checkpoint = join(folder, 'during-reload.safetensors');
    await writeCheckpoint(checkpoint);
    const app = await launch();
    quitApp = () => app.electron.app.emit('will-quit');
    app.pageLoaded();
    app.window().webContents.emit('did-start-loading');
    app.electron.app.emit('second-instance', {}, [], folder, { files: [checkpoint] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(app.lastState()?.model).toBeUndefined();
    app.pageLoaded();
    await expect.poll(() => app.lastState()?.model?.file, { timeout: 20_000 }).toBe(checkpoint);
  });

  it('opens a new window when the app is activated without one (the macOS Dock icon)', async () => {
    const app = await launch();
    quitApp = () => app.electron.app.emit('will-quit');
    const first = app.window();
    app.electron.app.emit('activate');
    expect(app.electron.BrowserWindow.getAllWindows()).toEqual([first]);
    first.destroyed = true;
    first.emit('closed');
    app.electron.app.emit('activate');
    expect(app.electron.BrowserWindow.getAllWindows()).toHaveLength(1);
    expect(app.window()).not.toBe(first);
  });

  it('asks before quitting during a run; Cancel keeps training, Stop and Quit keeps the last whole epoch for resuming', async () => {
    const app = await launch();
    quitApp = () => app.electron.app.emit('will-quit');
    app.pageLoaded();
    expect((await app.request({ type: 'load-default-data' })).ok).toBe(true);
    const started = await app.request({
      type: 'start',
      // Long enough to be running whatever this test does (minutes), short epochs.
      settings: { ...DEFAULT_SETTINGS, epochs: 5000, limit: 5000, hiddenSizes: [128], threads: 1 },
      autosave: false,
      continue: false,
      allowOtherData: false,
    });
    expect(started.ok).toBe(true);
    const epochsDone = (): number =>
      app.events().reduce((sum, e) => sum + (e.type === 'progress' ? e.progress.completedEpochs.length : 0), 0);
    await expect
      .poll(() => app.events().filter((e) => e.type === 'progress').length, { timeout: 30_000 })
      .toBeGreaterThan(0);

    // Closing the window (Windows, Linux) during the run asks first; Cancel leaves everything as it was.
    app.electron.dialog.answers.message.push({ response: 1 });
    if (process.platform !== 'darwin') {
      app.window().close();
      await expect.poll(() => app.electron.dialog.shown.length).toBe(1);
      expect(app.window()).toBeDefined();
    } else {
      app.electron.app.quit();
      await expect.poll(() => app.electron.dialog.shown.length).toBe(1);
    }
    expect(app.electron.dialog.shown[0].options).toMatchObject({
      buttons: ['Stop and Quit', 'Cancel'],
      message: 'Training is running. Quit anyway?',
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(app.lastState()?.run.status).toBe('running');

    // Quit again and confirm: the run stops at its last whole epoch, which is written for resuming.
    await expect.poll(epochsDone, { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
    app.electron.dialog.answers.message.push({ response: 0 });
    const quitting = new Promise<void>((resolve) => app.electron.app.once('will-quit', () => resolve()));
    app.electron.app.quit();
    await quitting;
    // The run is recorded in the data folder's runs folder, stopped at the epoch it kept, which its own
    // checkpoint holds (autosave was off: written as the run stopped).
    const { RunStore } = await import('@core/records/store');
    const { runs } = await new RunStore(join(app.dataFolder, 'runs')).list();
    const own = join(app.dataFolder, 'runs', runs[0].id, 'last.safetensors');
    expect(existsSync(own)).toBe(true);
    const { loadCheckpoint } = await import('@core/checkpoint/checkpoint');
    const kept = await loadCheckpoint(own);
    expect(kept.epochsDone).toBeGreaterThanOrEqual(1);
    expect(kept.optimizer).not.toBeNull();
    expect(kept.config?.epochs).toBe(5000);
    expect(app.lastState()?.run.status).toBe('stopped');
    expect(runs).toMatchObject([
      { status: 'stopped', origin: 'app', metrics: { epochs: kept.epochsDone }, checkpoint: own },
    ]);
    quitApp = null;
  }, 120_000);

  it('quits without asking when no run is going, and on Windows and Linux when the last window closes', async () => {
    const app = await launch();
    const quitting = new Promise<void>((resolve) => app.electron.app.once('will-quit', () => resolve()));
    if (process.platform === 'darwin') app.electron.app.quit();
    else app.window().close();
    await quitting;
    expect(app.electron.dialog.shown).toEqual([]);
  });
});
