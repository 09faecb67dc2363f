/**
 * The application menu: each platform's conventions (on macOS the app menu with About, Hide and Quit and no
 * Settings, Close in File, a Window menu; elsewhere Quit in File and About in Help), File ▸ Open Recent, and
 * a Training menu. Items that act on the page are sent to it as menu commands, so the page's buttons and the
 * menu always do the same thing.
 */

import { basename } from 'node:path';
import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '@core/shared/contract';

export interface MenuOptions {
  platform: NodeJS.Platform;
  /** Development builds add Reload and the developer tools. */
  packaged: boolean;
  appName: string;
  recentCheckpoints: readonly string[];
  send(command: MenuCommand): void;
  openRecent(path: string): void;
  clearRecent(): void;
  showAbout(): void;
  openExternal(url: string): void;
}

export function menuTemplate(options: MenuOptions): MenuItemConstructorOptions[] {
  const mac = options.platform === 'darwin';
  const command = (label: string, name: MenuCommand, accelerator?: string): MenuItemConstructorOptions => ({
    label,
    accelerator,
    click: () => options.send(name),
  });
  const recent: MenuItemConstructorOptions[] = options.recentCheckpoints.length
    ? [
        ...options.recentCheckpoints.map((path) => ({
          label: basename(path),
          toolTip: path,
          click: () => options.openRecent(path),
        })),
        { type: 'separator' },
        { label: 'Clear Menu', click: () => options.clearRecent() },
      ]
    : [{ label: 'No Recent Checkpoints', enabled: false }];
  const template: MenuItemConstructorOptions[] = [];
  if (mac) {
    template.push({
      label: options.appName,
      submenu: [
        { role: 'about', label: `About ${options.appName}` },
        { type: 'separator' },
        { role: 'services' },
        { type: 'separator' },
        { role: 'hide', label: `Hide ${options.appName}` },
        { role: 'hideOthers' },
        { role: 'unhide' },
        { type: 'separator' },
        { role: 'quit', label: `Quit ${options.appName}` },
      ],
    });
  }
  template.push(
    {
      label: '&File',
      submenu: [
        command('Open Training Data…', 'open-train', 'CmdOrCtrl+O'),
        command('Open Test Data…', 'open-test', 'CmdOrCtrl+Shift+O'),
        command('Use Fashion-MNIST Found on This Computer', 'use-default-data'),
        command('Download Fashion-MNIST…', 'download-data'),
        { type: 'separator' },
        command('Load Checkpoint…', 'load-checkpoint', 'CmdOrCtrl+L'),
        { label: 'Open Recent', submenu: recent },
        command('Save Checkpoint…', 'save-checkpoint', 'CmdOrCtrl+S'),
        command('Export Model as ONNX…', 'export-onnx'),
        command('Export Model Weights (safetensors)…', 'export-safetensors'),
        command('Export the Run for PyTorch…', 'export-pytorch'),
        { type: 'separator' },
        mac ? { role: 'close' } : { role: 'quit', label: 'E&xit', accelerator: 'Ctrl+Q' },
      ],
    },
    { role: 'editMenu' },
    {
      label: '&Training',
      submenu: [
        command('Start', 'start', 'CmdOrCtrl+Enter'),
        command('Pause / Resume', 'pause-resume', 'CmdOrCtrl+P'),
        command('Stop', 'stop', 'CmdOrCtrl+.'),
      ],
    },
    {
      label: '&View',
      submenu: [
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(options.packaged
          ? []
          : ([{ type: 'separator' }, { role: 'reload' }, { role: 'toggleDevTools' }] as MenuItemConstructorOptions[])),
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        {
          label: 'About Fashion-MNIST (the Data Set)',
          click: () => options.openExternal('https://github.com/zalandoresearch/fashion-mnist'),
        },
        ...(mac
          ? []
          : ([
              { type: 'separator' },
              { label: `About ${options.appName}`, click: () => options.showAbout() },
            ] as MenuItemConstructorOptions[])),
      ],
    },
  );
  return template;
}

export function installMenu(options: MenuOptions): void {
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(options)));
}
