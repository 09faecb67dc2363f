/**
 * The application menu: the usual File/Edit/View/Window/Help entries with their platform shortcuts, plus a
 * Training menu. Items that act on the page are sent to it as menu commands, so the page's buttons and
 * the menu always do the same thing.
 */

import { app, Menu, type MenuItemConstructorOptions, shell } from 'electron';
import type { MenuCommand } from '../core/api/contract';

export function installMenu(send: (command: MenuCommand) => void): void {
  const isMac = process.platform === 'darwin';
  const command = (label: string, name: MenuCommand, accelerator?: string): MenuItemConstructorOptions => ({
    label,
    accelerator,
    click: () => send(name),
  });
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        command('Open Training Data…', 'open-train', 'CmdOrCtrl+O'),
        command('Open Test Data…', 'open-test', 'CmdOrCtrl+Shift+O'),
        command('Use Fashion-MNIST Found on This Computer', 'use-default-data'),
        { type: 'separator' },
        command('Save Checkpoint…', 'save-checkpoint', 'CmdOrCtrl+S'),
        command('Load Checkpoint…', 'load-checkpoint', 'CmdOrCtrl+L'),
        command('Export Model as ONNX…', 'export-onnx'),
        command('Export Model Weights (safetensors)…', 'export-safetensors'),
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
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
        ...(app.isPackaged ? [] : [{ type: 'separator' as const }, { role: 'reload' as const }, { role: 'toggleDevTools' as const }]),
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        {
          label: 'About Fashion-MNIST',
          click: () => void shell.openExternal('https://github.com/zalandoresearch/fashion-mnist'),
        },
        ...(isMac
          ? []
          : [
              {
                label: 'About Fashion-MNIST Studio',
                click: () => {
                  app.setAboutPanelOptions({ applicationName: 'Fashion-MNIST Studio', applicationVersion: app.getVersion() });
                  app.showAboutPanel();
                },
              },
            ]),
      ],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
