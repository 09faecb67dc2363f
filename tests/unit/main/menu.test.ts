/** The application menu on each platform: conventions, accelerators, commands, Open Recent and About. */

import { describe, expect, it, vi } from 'vitest';
import type { MenuCommand } from '@core/shared/contract';
import { type MenuOptions, menuTemplate } from '../../../src/main/menu';

type Item = {
  label?: string;
  role?: string;
  accelerator?: string;
  enabled?: boolean;
  toolTip?: string;
  type?: string;
  submenu?: Item[];
  click?: () => void;
};

function build(platform: NodeJS.Platform, overrides: Partial<MenuOptions> = {}) {
  const sent: MenuCommand[] = [];
  const options: MenuOptions = {
    platform,
    packaged: true,
    appName: 'Fashion-MNIST Studio',
    recentCheckpoints: [],
    send: (command) => sent.push(command),
    openRecent: vi.fn(),
    clearRecent: vi.fn(),
    showAbout: vi.fn(),
    openExternal: vi.fn(),
    ...overrides,
  };
  const template = menuTemplate(options) as Item[];
  const menu = (name: string): Item[] => template.find((m) => m.label === name || m.role === name)!.submenu!;
  const item = (menuName: string, label: string): Item => menu(menuName).find((i) => i.label === label)!;
  return { template, menu, item, sent, options };
}

describe('the application menu', () => {
  it('follows macOS: an app menu with About, Hide and Quit and no Settings; Close in File; a Window menu', () => {
    const { template, menu } = build('darwin');
    expect(template[0].label).toBe('Fashion-MNIST Studio');
    const roles = menu('Fashion-MNIST Studio').map((i) => i.role ?? i.type);
    expect(roles).toEqual([
      'about',
      'separator',
      'services',
      'separator',
      'hide',
      'hideOthers',
      'unhide',
      'separator',
      'quit',
    ]);
    expect(JSON.stringify(template)).not.toMatch(/Settings|Preferences/);
    expect(menu('&File').at(-1)!.role).toBe('close');
    expect(template.map((m) => m.label ?? m.role)).toEqual([
      'Fashion-MNIST Studio',
      '&File',
      'editMenu',
      '&Training',
      '&View',
      'windowMenu',
      'help',
    ]);
    expect(menu('help').map((i) => i.label)).toEqual(['About Fashion-MNIST (the Data Set)']);
  });

  it('follows Windows and Linux: no app menu, Exit (Ctrl+Q) in File, About in Help', () => {
    for (const platform of ['win32', 'linux'] as const) {
      const { template, menu, item, options } = build(platform);
      expect(template[0].label).toBe('&File');
      expect(menu('&File').at(-1)).toMatchObject({ role: 'quit', accelerator: 'Ctrl+Q' });
      item('help', 'About Fashion-MNIST Studio').click!();
      expect(options.showAbout).toHaveBeenCalledOnce();
    }
  });

  it('sends each command to the page, with the documented shortcuts', () => {
    const { menu, sent } = build('linux');
    const commands = [...menu('&File'), ...menu('&Training')].filter((i) => i.click && i.label !== 'Open Recent');
    for (const item of commands) item.click!();
    expect(sent).toEqual([
      'open-train',
      'open-test',
      'use-default-data',
      'download-data',
      'load-checkpoint',
      'save-checkpoint',
      'export-onnx',
      'export-safetensors',
      'export-pytorch',
      'start',
      'pause-resume',
      'stop',
    ]);
    const shortcuts = Object.fromEntries(commands.filter((i) => i.accelerator).map((i) => [i.label, i.accelerator]));
    expect(shortcuts).toEqual({
      'Open Training Data…': 'CmdOrCtrl+O',
      'Open Test Data…': 'CmdOrCtrl+Shift+O',
      'Load Checkpoint…': 'CmdOrCtrl+L',
      'Save Checkpoint…': 'CmdOrCtrl+S',
      Start: 'CmdOrCtrl+Enter',
      'Pause / Resume': 'CmdOrCtrl+P',
      Stop: 'CmdOrCtrl+.',
    });
  });

  it('lists recent checkpoints by name (the path as tooltip), opens one, and clears the list', () => {
    const { item, options } = build('linux', {
      recentCheckpoints: ['/home/u/runs/a.safetensors', '/home/u/b.safetensors'],
    });
    const recent = item('&File', 'Open Recent').submenu!;
    expect(recent.map((i) => i.label ?? i.type)).toEqual(['a.safetensors', 'b.safetensors', 'separator', 'Clear Menu']);
    expect(recent[0].toolTip).toBe('/home/u/runs/a.safetensors');
    recent[1].click!();
    expect(options.openRecent).toHaveBeenCalledWith('/home/u/b.safetensors');
    recent[3].click!();
    expect(options.clearRecent).toHaveBeenCalledOnce();
    expect(build('linux').item('&File', 'Open Recent').submenu).toEqual([
      { label: 'No Recent Checkpoints', enabled: false },
    ]);
  });

  it('offers Reload and the developer tools only in development builds', () => {
    expect(
      build('linux', { packaged: true })
        .menu('&View')
        .map((i) => i.role),
    ).not.toContain('toggleDevTools');
    expect(
      build('linux', { packaged: false })
        .menu('&View')
        .map((i) => i.role),
    ).toEqual(expect.arrayContaining(['reload', 'toggleDevTools']));
  });

  it('links to the data set in the system browser', () => {
    const { item, options } = build('darwin');
    item('help', 'About Fashion-MNIST (the Data Set)').click!();
    expect(options.openExternal).toHaveBeenCalledWith('https://github.com/zalandoresearch/fashion-mnist');
  });

  it('installs the template as the application menu', async () => {
    vi.resetModules();
    const electron = await import('electron');
    const { installMenu } = await import('../../../src/main/menu');
    const { options } = build('linux');
    installMenu(options);
    expect(
      (electron as unknown as { Menu: { application: { template: Item[] } } }).Menu.application.template[0].label,
    ).toBe('&File');
  });
});
