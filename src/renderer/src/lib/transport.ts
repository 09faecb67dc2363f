/**
 * How the page reaches the backend: the preload's bridge inside Electron, a WebSocket to the browser host
 * otherwise (its token comes from the page's URL). Both carry the same contract; only opening and saving
 * files differ (native dialogs there, upload and download here).
 */

import type { Answer, BackendEvent, Request, Response, StudioBridge } from '@core/shared/contract';
import { decodeMessage } from '@core/shared/wire';

export interface Transport extends StudioBridge {
  kind: 'electron' | 'browser';
  /** Browser host: uploads a file and returns its id for a load-uploaded request. */
  upload(file: File): Promise<string>;
  /** Called with a message when the connection to the backend is lost. */
  onDisconnect(listener: (message: string) => void): void;
}

function electronTransport(bridge: StudioBridge): Transport {
  return {
    kind: 'electron',
    request: (request) => bridge.request(request),
    onEvent: (listener) => bridge.onEvent(listener),
    upload: () => Promise.reject(new Error('the desktop app opens files with its dialogs')),
    openDropped: (files, role) => bridge.openDropped(files, role),
    onDisconnect: () => {},
  };
}

function browserTransport(): Transport {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const socket = new WebSocket(
    `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/backend?token=${encodeURIComponent(token)}`,
  );
  // Images and model outputs come as binary frames (see core/shared/wire.ts).
  socket.binaryType = 'arraybuffer';
  const opened = new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error('cannot reach the backend')), { once: true });
  });
  const pending = new Map<number, (response: Response) => void>();
  const listeners = new Set<(event: BackendEvent) => void>();
  const disconnectListeners = new Set<(message: string) => void>();
  let nextId = 1;
  socket.addEventListener('message', (message) => {
    const data = decodeMessage(message.data as string | ArrayBuffer) as {
      id?: number;
      response?: Response;
      event?: BackendEvent;
    };
    if (data.event) for (const listener of listeners) listener(data.event);
    else if (typeof data.id === 'number' && data.response) {
      pending.get(data.id)?.(data.response);
      pending.delete(data.id);
    }
  });
  socket.addEventListener('close', () => {
    const message = token
      ? 'the connection to the backend was lost: restart npm run web and reload'
      : 'this page needs the URL with its token that npm run web printed';
    for (const resolve of pending.values()) resolve({ ok: false, error: message });
    pending.clear();
    for (const listener of disconnectListeners) listener(message);
  });
  return {
    kind: 'browser',
    async request<R extends Request>(request: R): Promise<Answer<R['type']>> {
      try {
        await opened;
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
      if (socket.readyState !== WebSocket.OPEN) return { ok: false, error: 'the connection to the backend was lost' };
      const id = nextId++;
      const response = await new Promise<Response>((resolve) => {
        pending.set(id, resolve);
        socket.send(JSON.stringify({ id, request }));
      });
      // The browser host answers each request with the answer of its type.
      return response as Answer<R['type']>;
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async upload(file: File): Promise<string> {
      const response = await fetch('/upload', {
        method: 'PUT',
        headers: { 'x-studio-token': token, 'x-file-name': encodeURIComponent(file.name) },
        body: file,
      });
      const body = (await response.json().catch(() => ({}))) as { id?: string; error?: string };
      if (!response.ok || !body.id) throw new Error(body.error ?? `${file.name}: upload failed (${response.status})`);
      return body.id;
    },
    onDisconnect(listener) {
      disconnectListeners.add(listener);
    },
    openDropped: () => Promise.resolve({ ok: false, error: 'the browser host opens dropped files by uploading them' }),
  };
}

export function connect(): Transport {
  return window.studio ? electronTransport(window.studio) : browserTransport();
}
