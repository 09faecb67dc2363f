/**
 * App-wide security (Electron's checklist): sandbox everywhere, no navigation away from the app, no new
 * windows, no <webview>, every permission request denied, links opened in the system browser only when
 * they are https.
 */

import { app, session, shell, type WebContents } from 'electron';

/** Where the app's own pages come from: the built files, or the dev server during `npm run dev`. */
export function isAppUrl(url: string, rendererUrl: string | undefined): boolean {
  if (rendererUrl && url.startsWith(rendererUrl)) return true;
  return url.startsWith('file://') && url.includes('/renderer/index.html');
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
