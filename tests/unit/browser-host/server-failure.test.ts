/**
 * The browser host when one of its own steps fails unexpectedly: that request gets a 500, and the host serves
 * on. (The failure is a stand-in: the message helper throws once, while a failed upload is being answered.)
 * And a runs folder it may not read (EACCES, which the root user these tests may run as never meets: a
 * stand-in refuses it) keeps every upload, as a run in it might name them.
 */

import { request as httpRequest } from 'node:http';
import * as fs from 'node:fs/promises';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import * as errors from '@core/shared/errors';
import * as io from '@core/io';
import { HOST_LOCK_FILE } from '../../../src/browser-host/host-lock';
import { startWebHost, type WebHost } from '../../../src/browser-host/server';
import { builtFile, tempDir } from '../../helpers/data';

vi.mock('@core/shared/errors', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@core/shared/errors')>();
  return { ...actual, userMessage: vi.fn(actual.userMessage) };
});

vi.mock('@core/io', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@core/io')>();
  return { ...actual, writeFileAtomic: vi.fn(actual.writeFileAtomic) };
});

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, readdir: vi.fn(actual.readdir) };
});

let host: WebHost | null = null;
afterEach(async () => {
  await host?.close();
  host = null;
});

function upload(port: number, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: '/upload',
        headers: {
          origin: `http://127.0.0.1:${port}`,
          'x-studio-token': token,
          'x-file-name': 'a.csv',
          'content-length': '5',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end('label');
  });
}

it('answers a request whose handling fails unexpectedly with a 500, and serves on', async () => {
  const temporary = await tempDir('fmnist-web-tmp-');
  const saved = { TMPDIR: process.env.TMPDIR, TEMP: process.env.TEMP, TMP: process.env.TMP };
  Object.assign(process.env, { TMPDIR: temporary, TEMP: temporary, TMP: temporary });
  try {
    host = await startWebHost({
      rendererDirectory: builtFile('out/renderer'),
      workerPath: builtFile('out/node/worker.js'),
      dataDirectory: await tempDir('fmnist-web-data-'),
    });
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  // The upload fails (its temporary folder has gone), and answering that fails too.
  const [root] = await readdir(temporary);
  await rm(join(temporary, root), { recursive: true });
  vi.mocked(errors.userMessage).mockImplementationOnce(() => {
    throw new Error('an unexpected failure');
  });
  expect(await upload(host.port, host.token)).toBe(500);
  expect(await upload(host.port, host.token)).toBe(400);
});

it('keeps every kept upload while the runs folder cannot be read', async () => {
  const dataDirectory = await tempDir('fmnist-web-data-');
  const kept = join(dataDirectory, 'uploads', 'e'.repeat(32));
  await mkdir(kept, { recursive: true });
  await writeFile(join(kept, 'train.csv'), 'label');
  const runs = join(dataDirectory, 'runs');
  await mkdir(runs);
  const actual = vi.mocked(fs.readdir).getMockImplementation()!;
  vi.mocked(fs.readdir).mockImplementation((async (path: string, ...rest: unknown[]) => {
    if (path === runs)
      throw Object.assign(new Error(`EACCES: permission denied, scandir '${runs}'`), { code: 'EACCES' });
    return (actual as (...args: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.readdir);
  try {
    host = await startWebHost({
      rendererDirectory: builtFile('out/renderer'),
      workerPath: builtFile('out/node/worker.js'),
      dataDirectory,
    });
    const origin = `http://127.0.0.1:${host.port}`;
    const socket = new WebSocket(`ws://127.0.0.1:${host.port}/backend?token=${host.token}`, { origin });
    const answered = new Promise<void>((resolve) =>
      socket.on('message', (data) => 'id' in JSON.parse(String(data)) && resolve()),
    );
    await new Promise((resolve, reject) => socket.on('open', resolve).on('error', reject));
    socket.send(JSON.stringify({ id: 1, request: { type: 'get-state' } }));
    await answered;
    socket.close();
    await host.close();
    host = null;
    expect(await readdir(join(dataDirectory, 'uploads'))).toEqual(['e'.repeat(32)]);
    expect(vi.mocked(fs.readdir)).toHaveBeenCalledWith(runs);
  } finally {
    vi.mocked(fs.readdir).mockImplementation(actual);
  }
});

it('serves all the same when it cannot write its address into its lock (a second start then says it is starting)', async () => {
  const dataDirectory = await tempDir('fmnist-web-data-');
  const actual = vi.mocked(io.writeFileAtomic).getMockImplementation()!;
  vi.mocked(io.writeFileAtomic).mockImplementation(async (path, data) => {
    if (String(path).endsWith(HOST_LOCK_FILE))
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    return actual(path, data);
  });
  try {
    host = await startWebHost({
      rendererDirectory: builtFile('out/renderer'),
      workerPath: builtFile('out/node/worker.js'),
      dataDirectory,
    });
    const page = await new Promise<number>((resolve, reject) =>
      httpRequest({ host: '127.0.0.1', port: host!.port, path: `/?token=${host!.token}` }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end(),
    );
    expect(page).toBe(200);
  } finally {
    vi.mocked(io.writeFileAtomic).mockImplementation(actual);
  }
});
