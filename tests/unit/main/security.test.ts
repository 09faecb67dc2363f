/** App-wide security, against the stand-in Electron: navigation, redirects, webviews, new windows, permissions. */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type * as Stub from '../../stubs/electron';

type Electron = typeof Stub;
let electron: Electron;
let security: typeof import('../../../src/main/security');

const appPage = pathToFileURL(join(__dirname, '..', '..', '..', 'src', 'renderer', 'index.html')).href;

beforeEach(async () => {
  vi.resetModules();
  electron = (await import('electron')) as unknown as Electron;
  security = await import('../../../src/main/security');
});

function contentsOf(rendererUrl?: string): Stub.BrowserWindow['webContents'] {
  security.enableSecurity(rendererUrl);
  return new electron.BrowserWindow({}).webContents;
}

describe('security', () => {
  it("knows the app's own page: exactly the built file, or the dev server's origin", () => {
    // The built page is out/renderer/index.html beside out/main; from src/main that is src/renderer.
    expect(security.isAppUrl(appPage, undefined)).toBe(true);
    expect(security.isAppUrl(`${appPage}?x=1#top`, undefined)).toBe(true);
    expect(security.isAppUrl(pathToFileURL('/etc/passwd').href, undefined)).toBe(false);
    expect(security.isAppUrl(`${appPage}.evil.html`, undefined)).toBe(false);
    expect(security.isAppUrl('http://localhost:5173/page', 'http://localhost:5173')).toBe(true);
    expect(security.isAppUrl('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
    expect(security.isAppUrl('not a url', 'http://localhost:5173')).toBe(false);
  });

  it('turns the sandbox on for every renderer', () => {
    security.enableSecurity(undefined);
    expect(electron.app.sandboxEnabled).toBe(true);
  });

  it('refuses navigation away from the app, every redirect and every <webview>', () => {
    const contents = contentsOf();
    const navigate = (url: string): boolean => {
      const event = electron.preventable();
      contents.emit('will-navigate', event, url);
      return event.defaultPrevented;
    };
    expect(navigate('https://example.org/')).toBe(true);
    expect(navigate(pathToFileURL('/tmp/other.html').href)).toBe(true);
    expect(navigate(appPage)).toBe(false);
    for (const name of ['will-redirect', 'will-attach-webview']) {
      const event = electron.preventable();
      contents.emit(name, event, 'https://example.org/');
      expect(event.defaultPrevented, name).toBe(true);
    }
  });

  it('never opens a new window; https links go to the system browser, nothing else does', () => {
    const contents = contentsOf();
    expect(contents.windowOpenHandler!({ url: 'https://github.com/zalandoresearch/fashion-mnist' })).toEqual({
      action: 'deny',
    });
    expect(contents.windowOpenHandler!({ url: 'http://example.org/' })).toEqual({ action: 'deny' });
    expect(contents.windowOpenHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(electron.shell.opened).toEqual(['https://github.com/zalandoresearch/fashion-mnist']);
  });

  it('denies every permission request and check once the app is ready', async () => {
    security.enableSecurity(undefined);
    electron.app.ready();
    await electron.app.whenReady();
    await Promise.resolve();
    const answers: boolean[] = [];
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read']) {
      electron.session.defaultSession.permissionRequestHandler!({}, permission, (granted: boolean) =>
        answers.push(granted),
      );
    }
    expect(answers).toEqual([false, false, false, false]);
    expect(electron.session.defaultSession.permissionCheckHandler!({}, 'media')).toBe(false);
  });
});

describe('the page’s Content-Security-Policy', () => {
  it('allows only the app’s own scripts, styles, images and connections, in the source and in the build', () => {
    for (const page of ['src/renderer/index.html', 'out/renderer/index.html']) {
      const html = readFileSync(join(__dirname, '..', '..', '..', page), 'utf8');
      const policy = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
      const directives = Object.fromEntries(
        policy!
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .map(([name, ...values]) => [name, values]),
      );
      expect(directives, page).toEqual({
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:', 'blob:'],
        'connect-src': ["'self'"],
      });
    }
  });
});
