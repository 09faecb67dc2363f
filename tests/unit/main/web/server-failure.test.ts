/**
 * The browser host when one of its own steps fails unexpectedly: that request gets a 500, and the host serves
 * on. (The failure is a stand-in: the message helper throws once, while a failed upload is being answered.)
 */

import { request as httpRequest } from 'node:http';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import * as errors from '../../../../src/core/errors';
import { startWebHost, type WebHost } from '../../../../src/main/web/server';
import { builtFile, tempDir } from '../../../helpers/data';

vi.mock('../../../../src/core/errors', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../../src/core/errors')>();
  return { ...actual, userMessage: vi.fn(actual.userMessage) };
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
        headers: { origin: `http://127.0.0.1:${port}`, 'x-studio-token': token, 'x-file-name': 'a.csv', 'content-length': '5' },
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
    host = await startWebHost({ rendererDirectory: builtFile('out/renderer'), workerPath: builtFile('out/node/worker.js'), dataDirectory: await tempDir('fmnist-web-data-') });
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
