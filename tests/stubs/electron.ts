/**
 * A stand-in for the `electron` module (vitest aliases `electron` to this file), so the main process and the
 * preload run in plain Node under test. It keeps what the code asked for — windows and their options,
 * handlers, menus, dialogs shown, recent documents — and lets a test play the user and the system: answer
 * dialogs, emit app events, invoke IPC handlers as a given sender, close windows. `resetElectron()` starts
 * a fresh app.
 */

import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';

type Handler = (...args: any[]) => any;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** An event whose default a handler may prevent. */
export function preventable(): { defaultPrevented: boolean; preventDefault(): void } {
  const event = {
    defaultPrevented: false,
    preventDefault() {
      event.defaultPrevented = true;
    },
  };
  return event;
}

class FakeWebContents extends EventEmitter {
  static nextId = 1;
  readonly id = FakeWebContents.nextId++;
  readonly sent: { channel: string; payload: unknown }[] = [];
  windowOpenHandler: Handler | null = null;
  url = '';
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }
  setWindowOpenHandler(handler: Handler): void {
    this.windowOpenHandler = handler;
  }
  /** What a page is shown as: the last event of each type. */
  events(type: string): unknown[] {
    return this.sent.map((s) => s.payload as { type: string }).filter((p) => p.type === type);
  }
}

export class BrowserWindow extends EventEmitter {
  static windows: BrowserWindow[] = [];
  static getAllWindows(): BrowserWindow[] {
    return BrowserWindow.windows.filter((w) => !w.destroyed);
  }
  readonly webContents = new FakeWebContents();
  destroyed = false;
  visible = false;
  minimized = false;
  maximized = false;
  fullScreen = false;
  focused = false;
  bounds: Rect;
  loaded: { url?: string; file?: string } = {};
  constructor(readonly options: Record<string, any>) {
    super();
    this.bounds = {
      x: options.x ?? 100,
      y: options.y ?? 100,
      width: options.width ?? 800,
      height: options.height ?? 600,
    };
    BrowserWindow.windows.push(this);
    app.emit('web-contents-created', preventable(), this.webContents);
  }
  async loadURL(url: string): Promise<void> {
    this.loaded = { url };
    this.webContents.url = url;
  }
  async loadFile(file: string): Promise<void> {
    this.loaded = { file };
    this.webContents.url = pathToFileURL(file).href;
  }
  show(): void {
    this.visible = true;
  }
  focus(): void {
    this.focused = true;
  }
  restore(): void {
    this.minimized = false;
  }
  minimize(): void {
    this.minimized = true;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  maximize(): void {
    this.maximized = true;
    this.emit('maximize');
  }
  unmaximize(): void {
    this.maximized = false;
    this.emit('unmaximize');
  }
  isMaximized(): boolean {
    return this.maximized;
  }
  isFullScreen(): boolean {
    return this.fullScreen;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  getNormalBounds(): Rect {
    return { ...this.bounds };
  }
  getBounds(): Rect {
    return { ...this.bounds };
  }
  setBounds(bounds: Partial<Rect>): void {
    this.bounds = { ...this.bounds, ...bounds };
    this.emit('resize');
    this.emit('move');
  }
  /** Closing as the user does: 'close' can be prevented, then 'closed', then the app may have no window left. */
  close(): void {
    const event = preventable();
    this.emit('close', event);
    if (event.defaultPrevented) return;
    this.destroyed = true;
    this.emit('closed');
    if (BrowserWindow.getAllWindows().length === 0) app.emit('window-all-closed');
  }
}

class FakeApp extends EventEmitter {
  isPackaged = false;
  name = 'electron';
  version = '0.1.0';
  paths: Record<string, string> = { userData: '/tmp/fmnist-fake-user-data' };
  setPath(name: string, path: string): void {
    this.paths[name] = path;
  }
  singleInstance = true;
  /** What the instance passed to requestSingleInstanceLock (for the second-instance event). */
  lockData: unknown = undefined;
  quitCalls = 0;
  exitCode: number | null = null;
  sandboxEnabled = false;
  recentDocuments: string[] = [];
  aboutOptions: Record<string, unknown> | null = null;
  aboutShown = 0;
  private resolveReady!: () => void;
  private readyPromise = new Promise<void>((resolve) => (this.resolveReady = resolve));
  getPath(name: string): string {
    return this.paths[name] ?? `/tmp/fmnist-fake-${name}`;
  }
  getVersion(): string {
    return this.version;
  }
  setName(name: string): void {
    this.name = name;
  }
  requestSingleInstanceLock(additionalData?: unknown): boolean {
    this.lockData = additionalData;
    return this.singleInstance;
  }
  whenReady(): Promise<void> {
    return this.readyPromise;
  }
  /** The test says the app is ready (Electron does after start-up). */
  ready(): void {
    this.resolveReady();
    this.emit('ready');
  }
  enableSandbox(): void {
    this.sandboxEnabled = true;
  }
  /** Quitting as Electron does: 'before-quit' can be prevented; otherwise 'will-quit' and the app ends. */
  quit(): void {
    this.quitCalls++;
    const event = preventable();
    this.emit('before-quit', event);
    if (event.defaultPrevented) return;
    this.emit('will-quit', preventable());
  }
  exit(code: number): void {
    this.exitCode = code;
  }
  addRecentDocument(path: string): void {
    this.recentDocuments.push(path);
  }
  clearRecentDocuments(): void {
    this.recentDocuments = [];
  }
  setAboutPanelOptions(options: Record<string, unknown>): void {
    this.aboutOptions = options;
  }
  showAboutPanel(): void {
    this.aboutShown++;
  }
}

export let app = new FakeApp();

export const ipcMain = {
  handlers: new Map<string, Handler>(),
  handle(channel: string, handler: Handler): void {
    if (ipcMain.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    ipcMain.handlers.set(channel, handler);
  },
  /** Calls a handler as Electron would for a message from `sender`'s frame at `url`. */
  invoke(
    channel: string,
    sender: { webContents: FakeWebContents } | FakeWebContents,
    url: string,
    payload: unknown,
  ): Promise<unknown> {
    const handler = ipcMain.handlers.get(channel);
    if (!handler) throw new Error(`no handler for ${channel}`);
    const contents = sender instanceof FakeWebContents ? sender : sender.webContents;
    return Promise.resolve(handler({ sender: contents, senderFrame: { url } }, payload));
  },
};

type DialogAnswer = Record<string, unknown>;
/** Dialogs shown (kind and options), answered from queues the test fills; cancelled when a queue is empty. */
export const dialog = {
  shown: [] as { kind: string; options: Record<string, any> }[],
  answers: { open: [] as DialogAnswer[], save: [] as DialogAnswer[], message: [] as DialogAnswer[] },
  errorBoxes: [] as { title: string; content: string }[],
  async showOpenDialog(...args: any[]): Promise<DialogAnswer> {
    dialog.shown.push({ kind: 'open', options: args.at(-1) });
    return dialog.answers.open.shift() ?? { canceled: true, filePaths: [] };
  },
  async showSaveDialog(...args: any[]): Promise<DialogAnswer> {
    dialog.shown.push({ kind: 'save', options: args.at(-1) });
    return dialog.answers.save.shift() ?? { canceled: true, filePath: '' };
  },
  async showMessageBox(...args: any[]): Promise<DialogAnswer> {
    dialog.shown.push({ kind: 'message', options: args.at(-1) });
    return dialog.answers.message.shift() ?? { response: (args.at(-1) as { cancelId?: number }).cancelId ?? 0 };
  },
  showErrorBox(title: string, content: string): void {
    dialog.errorBoxes.push({ title, content });
  },
};

export const Menu = {
  application: null as { template: any[] } | null,
  buildFromTemplate(template: any[]): { template: any[] } {
    return { template };
  },
  setApplicationMenu(menu: { template: any[] } | null): void {
    Menu.application = menu;
  },
};

export const session = {
  defaultSession: {
    permissionRequestHandler: null as Handler | null,
    permissionCheckHandler: null as Handler | null,
    setPermissionRequestHandler(handler: Handler): void {
      session.defaultSession.permissionRequestHandler = handler;
    },
    setPermissionCheckHandler(handler: Handler): void {
      session.defaultSession.permissionCheckHandler = handler;
    },
  },
};

export const shell = {
  opened: [] as string[],
  async openExternal(url: string): Promise<void> {
    shell.opened.push(url);
  },
};

export const nativeTheme = { shouldUseDarkColors: false };

const PRIMARY: Rect = { x: 0, y: 0, width: 1920, height: 1040 };
export const screen = {
  workAreas: [PRIMARY] as Rect[],
  getAllDisplays(): { workArea: Rect }[] {
    return screen.workAreas.map((workArea) => ({ workArea }));
  },
  getPrimaryDisplay(): { workArea: Rect } {
    return { workArea: screen.workAreas[0] };
  },
};

// The preload's side.
export const contextBridge = {
  exposed: new Map<string, unknown>(),
  exposeInMainWorld(key: string, api: unknown): void {
    contextBridge.exposed.set(key, api);
  },
};

export const ipcRenderer = Object.assign(new EventEmitter(), {
  invoked: [] as { channel: string; payload: unknown }[],
  answer: (async () => ({ ok: true })) as (channel: string, payload: unknown) => Promise<unknown>,
  invoke(channel: string, payload: unknown): Promise<unknown> {
    ipcRenderer.invoked.push({ channel, payload });
    return ipcRenderer.answer(channel, payload);
  },
});

export const webUtils = {
  paths: new WeakMap<object, string>(),
  getPathForFile(file: object): string {
    return webUtils.paths.get(file) ?? '';
  },
};

/** A fresh app and empty records, as at a new launch. */
export function resetElectron(): void {
  app = new FakeApp();
  BrowserWindow.windows = [];
  ipcMain.handlers.clear();
  dialog.shown = [];
  dialog.answers = { open: [], save: [], message: [] };
  dialog.errorBoxes = [];
  Menu.application = null;
  session.defaultSession.permissionRequestHandler = null;
  session.defaultSession.permissionCheckHandler = null;
  shell.opened = [];
  nativeTheme.shouldUseDarkColors = false;
  screen.workAreas = [PRIMARY];
  contextBridge.exposed.clear();
  ipcRenderer.removeAllListeners();
  ipcRenderer.invoked = [];
  ipcRenderer.answer = async () => ({ ok: true });
}

export default {
  app,
  BrowserWindow,
  ipcMain,
  dialog,
  Menu,
  session,
  shell,
  nativeTheme,
  screen,
  contextBridge,
  ipcRenderer,
  webUtils,
};
