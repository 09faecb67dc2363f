/**
 * App-wide security (Electron's checklist): sandbox everywhere, no navigation away from the app, no new
 * windows, no <webview>, every permission request denied, links opened in the system browser only when
 * they are https.
 */

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, session, shell, type WebContents } from 'electron';

/** The app's own page: the built index.html, exactly. */
const APP_PAGE = pathToFileURL(join(__dirname, '../renderer/index.html')).href;

/** Whether a URL is the app's own page: the built file, or the dev server's origin during `npm run dev`. */
export function isAppUrl(url: string, rendererUrl: string | undefined): boolean {
  try {
    if (rendererUrl) return new URL(url).origin === new URL(rendererUrl).origin;
    return url.split(/[?#]/)[0] === APP_PAGE;
  } catch {
    return false;
  }
}

export function enableSecurity(rendererUrl: string | undefined): void {
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url, rendererUrl)) event.preventDefault();
    });
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (url.startsWith('https://')) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
  void app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
  });
}
