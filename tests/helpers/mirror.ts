/**
 * A local HTTP server standing in for the internet in tests: it records every request and serves files with
 * byte ranges, or fails on purpose (an error status, a connection cut after some bytes).
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MirrorFile {
  body: Uint8Array;
  /** Answer with a redirect to this path instead. */
  redirect?: string;
  /** Answer with this status (and no body) instead. */
  status?: number;
  /** Send only this many bytes of the answer, then cut the connection (a dropped transfer). */
  cutAfter?: number;
  /** Send only this many bytes, then keep the connection open without sending more (a stalled transfer). */
  stallAfter?: number;
  /** Take the request and never answer it, not even with headers (a server that hangs). */
  silent?: boolean;
  /** Ignore Range headers (a server that cannot resume). */
  noRanges?: boolean;
  /** Send no Content-Length (chunked): the size is unknown until the end. */
  chunked?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  range: string | null;
}

export interface Mirror {
  /** Base URL, ending in "/". */
  url: string;
  requests: RecordedRequest[];
  /** Files by path ("/v1/file.zip"); change them between requests to script a scenario. */
  files: Map<string, MirrorFile>;
  close(): Promise<void>;
}

function serve(file: MirrorFile | undefined, request: IncomingMessage, response: ServerResponse): void {
  if (!file) {
    response.writeHead(404, 'Not Found').end();
    return;
  }
  if (file.silent) return;
  if (file.redirect) {
    response.writeHead(302, { location: file.redirect }).end();
    return;
  }
  if (file.status) {
    response.writeHead(file.status).end();
    return;
  }
  const total = file.body.length;
  const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
  const start = range && !file.noRanges ? Number(range[1]) : 0;
  if (start > total) {
    response.writeHead(416, { 'content-range': `bytes */${total}` }).end();
    return;
  }
  const body = file.body.subarray(start);
  const headers: Record<string, string | number> = {
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
  };
  if (!file.chunked) headers['content-length'] = body.length;
  if (start > 0) headers['content-range'] = `bytes ${start}-${total - 1}/${total}`;
  response.writeHead(start > 0 ? 206 : 200, headers);
  if (file.cutAfter !== undefined && file.cutAfter < body.length) {
    response.write(body.subarray(0, file.cutAfter), () => response.socket?.destroy());
    return;
  }
  if (file.stallAfter !== undefined && file.stallAfter < body.length) {
    response.write(body.subarray(0, file.stallAfter));
    return;
  }
  response.end(body);
}

export async function startMirror(files: Record<string, MirrorFile> = {}): Promise<Mirror> {
  const requests: RecordedRequest[] = [];
  const table = new Map(Object.entries(files));
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://mirror').pathname;
    requests.push({ method: request.method ?? 'GET', path, range: request.headers.range ?? null });
    serve(table.get(path), request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    files: table,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
