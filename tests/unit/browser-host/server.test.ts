import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { request as httpRequest } from 'node:http';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type BackendEvent, DEFAULT_SETTINGS } from '@core/shared/contract';
import { DEFAULT_CONFIG } from '@core/shared/config';
import { loadCheckpoint } from '@core/checkpoint/checkpoint';
import { RunStore } from '@core/records/store';
import { SweepStore, sweepsFolder } from '@core/sweep/store';
import { checkSweepPlan } from '@core/shared/sweep/plan';
import { pendingEntries, SWEEP_RECORD_FORMAT } from '@core/shared/sweep/record';
import { thisProcess } from '@core/records/liveness';
import { FASHION_MNIST_FILES } from '@core/data/download';
import { HOST_LOCK_FILE, HostRunningError } from '../../../src/browser-host/host-lock';
import {
  MAX_REQUESTS_IN_FLIGHT,
  MAX_UPLOADS,
  resumableSources,
  startWebHost,
  type WebHost,
  type WebHostOptions,
} from '../../../src/browser-host/server';
import { decodeMessage } from '@core/shared/wire';
import { builtFile, randomDataset, REAL_DATA_DIR, realDataset, tempDir, toKaggleCsv } from '../../helpers/data';
import { writeUntrainedCheckpoint } from '../../helpers/checkpoints';
import { deadPid } from '../../helpers/runs';
import { type Mirror, startMirror } from '../../helpers/mirror';
import type { WireAnswer } from '../../helpers/answers';

type Reply = { status: number; body: string; bytes: Buffer; headers: Record<string, string | string[] | undefined> };

function http(
  host: WebHost,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: host.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, body: bytes.toString('utf8'), bytes, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function open(host: WebHost, query: string, origin: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${host.port}/backend${query}`, { origin, headers });
    socket.on('open', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** What the host answers a request without this launch's token (nor its cookie). */
function expectRefusal(reply: Reply, port: number): void {
  expect(reply.status).toBe(403);
  expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8');
  expect(reply.body).toBe(
    `Fashion-MNIST Studio: open the URL that npm run web printed (http://127.0.0.1:${port}/?token=…); every request needs its token.\n`,
  );
}

describe('browser host', () => {
  let host: WebHost;
  let origin: string;
  beforeAll(async () => {
    host = await startWebHost({
      rendererDirectory: builtFile('out/renderer'),
      workerPath: builtFile('out/node/worker.js'),
      dataDirectory: await tempDir('fmnist-web-data-'),
      env: { FMNIST_DATA: REAL_DATA_DIR },
    });
    origin = `http://127.0.0.1:${host.port}`;
  });
  afterAll(() => host.close());

  it('listens on 127.0.0.1 with a long random token in the URL', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
  });

  it('serves the app with a strict Content-Security-Policy, and nothing outside it', async () => {
    const page = await http(host, { path: `/?token=${host.token}` });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<div id="app">');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'; script-src 'self';");
    expect(await http(host, { path: `/../../package.json?token=${host.token}` })).toMatchObject({ status: 404 });
    expect(await http(host, { path: `/%2e%2e/%2e%2e/package.json?token=${host.token}` })).toMatchObject({
      status: 404,
    });
    expect(await http(host, { path: `/..%2f..%2fpackage.json?token=${host.token}` })).toMatchObject({
      status: 404,
      body: '',
    });
    expect(await http(host, { path: `/?token=${host.token}`, headers: { host: 'evil.example' } })).toMatchObject({
      status: 421,
    });
    expect(await http(host, { method: 'POST', path: `/?token=${host.token}` })).toMatchObject({ status: 405 });
  });

  it('serves no file without the token, and gives the page a cookie for the launch with it', async () => {
    const script = /src="\.(\/assets\/[^"]+\.js)"/.exec((await http(host, { path: `/?token=${host.token}` })).body)![1];
    for (const path of [
      '/',
      '/index.html',
      script,
      '/?token=0123',
      `/?token=${host.token.toUpperCase()}`,
      '/nothing-here',
    ]) {
      expectRefusal(await http(host, { path }), host.port);
    }
    const page = await http(host, { path: `/?token=${host.token}` });
    expect(page.headers['set-cookie']).toEqual([
      `fmnist-studio-${host.port}=${host.token}; Path=/; HttpOnly; SameSite=Strict`,
    ]);
    const cookie = `fmnist-studio-${host.port}=${host.token}`;
    const withCookie = await http(host, { path: script, headers: { cookie: `other=1; ${cookie}` } });
    expect(withCookie.status).toBe(200);
    expect(withCookie.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(withCookie.headers['set-cookie']).toBeUndefined();
    expect((await http(host, { path: '/', headers: { cookie } })).status).toBe(200);
    // Another launch's cookie (another port), or a wrong value, is no key.
    expectRefusal(await http(host, { path: script, headers: { cookie: `fmnist-studio-1=${host.token}` } }), host.port);
    expectRefusal(
      await http(host, { path: script, headers: { cookie: `fmnist-studio-${host.port}=${'0'.repeat(48)}` } }),
      host.port,
    );
    expectRefusal(await http(host, { path: script, headers: { cookie: `fmnist-studio-${host.port}` } }), host.port);
  });

  it('opens the WebSocket and takes uploads with the cookie instead of the token, and explains a refusal in one line', async () => {
    const cookie = `fmnist-studio-${host.port}=${host.token}`;
    const socket = await open(host, '', origin, { cookie });
    socket.close();
    const upload = await http(host, {
      method: 'PUT',
      path: '/upload',
      headers: { origin, cookie, 'content-length': '2' },
      body: 'hi',
    });
    expect(upload.status).toBe(200);
    expectRefusal(
      await http(host, { method: 'PUT', path: '/upload', headers: { origin, 'content-length': '2' }, body: 'hi' }),
      host.port,
    );
    const refused = await new Promise<{ status: number; type: string; body: string }>((resolve) => {
      const request = httpRequest({
        host: '127.0.0.1',
        port: host.port,
        path: '/backend',
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          origin,
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        },
      });
      request.on('response', (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      });
      request.end();
    });
    expect(refused).toEqual({
      status: 403,
      type: 'text/plain; charset=utf-8',
      body: `Fashion-MNIST Studio: open the URL that npm run web printed (http://127.0.0.1:${host.port}/?token=…); every request needs its token.\n`,
    });
  });

  it('refuses WebSockets without the token, with a wrong one, or from another origin', async () => {
    await expect(open(host, '', origin)).rejects.toThrow(/403/);
    await expect(open(host, '?token=0123', origin)).rejects.toThrow(/403/);
    await expect(open(host, `?token=${host.token}`, 'http://evil.example')).rejects.toThrow(/403/);
    await expect(open(host, `?token=${host.token}`, '')).rejects.toThrow(/403/);
  });

  it('answers well-formed requests and refuses malformed, binary and oversized ones', async () => {
    const socket = await open(host, `?token=${host.token}`, origin);
    const replies: { id: unknown; response?: { ok: boolean; error?: string } }[] = [];
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if ('id' in message) replies.push(message);
    });
    socket.send(JSON.stringify({ id: 1, request: { type: 'get-state' } }));
    socket.send(JSON.stringify({ id: 2, request: { type: 'delete-everything' } }));
    socket.send('not json');
    socket.send(Buffer.from([1, 2, 3]), { binary: true });
    socket.send(JSON.stringify({ id: 'x', request: { type: 'get-state' } }));
    await expect.poll(() => replies.length, { timeout: 10_000 }).toBe(5);
    expect(replies.find((r) => r.id === 'x')?.response).toEqual({ ok: false, error: 'a request needs a numeric id' });
    expect(replies.find((r) => r.id === 1)?.response?.ok).toBe(true);
    expect(replies.find((r) => r.id === 2)?.response?.error).toBe('invalid request: unknown type "delete-everything"');
    expect(replies.filter((r) => r.id === null).map((r) => r.response?.ok)).toEqual([false, false]);
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ id: 3, request: { type: 'get-state', pad: 'x'.repeat(100_000) } }));
    expect(await closed).toBe(1009); // message too big
  });

  it('refuses uploads without the token, from another origin, or too large', async () => {
    const upload = (headers: Record<string, string>) =>
      http(host, { method: 'PUT', path: '/upload', headers: { 'content-length': '5', ...headers }, body: 'hello' });
    expect((await upload({ origin })).status).toBe(403);
    expect((await upload({ origin: 'http://evil.example', 'x-studio-token': host.token })).status).toBe(403);
    const big = await http(host, {
      method: 'PUT',
      path: '/upload',
      headers: { origin, 'x-studio-token': host.token, 'content-length': String(2 ** 30) },
    });
    expect(big.status).toBe(413);
    const ok = await upload({ origin, 'x-studio-token': host.token, 'x-file-name': encodeURIComponent('../../x.csv') });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{32}$/), name: 'x.csv' });
  });

  it('survives malformed URLs and headers from anyone', async () => {
    expect((await http(host, { path: `/%?token=${host.token}` })).status).toBe(400);
    expect((await http(host, { path: `/%E0%A4%A?token=${host.token}` })).status).toBe(400);
    expect((await http(host, { path: `/download/%zz?token=${host.token}` })).status).toBe(404);
    expect((await http(host, { path: '/%', headers: { cookie: '%%=%%; =; ;' } })).status).toBe(403);
    expect(
      (await http(host, { path: '//', headers: { cookie: `fmnist-studio-${host.port}=${host.token}` } })).status,
    ).toBe(400);
    const upload = await http(host, {
      method: 'PUT',
      path: '/upload',
      headers: { origin, 'x-studio-token': host.token, 'x-file-name': '%%%', 'content-length': '2' },
      body: 'hi',
    });
    expect(upload.status).toBe(200);
    expect((await http(host, { path: `/?token=${host.token}` })).status).toBe(200);
  });

  it('says in one line when its port is taken', async () => {
    await expect(
      startWebHost({
        port: host.port,
        rendererDirectory: builtFile('out/renderer'),
        workerPath: builtFile('out/node/worker.js'),
        dataDirectory: await tempDir('fmnist-web-data-'),
      }),
    ).rejects.toThrow(`port ${host.port} is already in use on 127.0.0.1`);
  });

  it('serves a prepared download once, to the token only', async () => {
    const socket = await open(host, `?token=${host.token}`, origin);
    const replies = new Map<number, { ok: boolean; download?: { url: string; name: string }; error?: string }>();
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if ('id' in message) replies.set(message.id, message.response);
    });
    const ask = async (id: number, request: object) => {
      socket.send(JSON.stringify({ id, request }));
      await expect.poll(() => replies.has(id), { timeout: 60_000 }).toBe(true);
      return replies.get(id)!;
    };
    expect((await ask(10, { type: 'save-checkpoint' })).error).toBe(
      'there is no model yet: train one or load a checkpoint',
    );
    expect((await ask(11, { type: 'load-default-data' })).ok).toBe(true);
    const settings = {
      ...DEFAULT_SETTINGS,
      epochs: 1,
      batchSize: 128,
      learningRate: 0.001,
      hiddenSizes: [16],
      seed: 1,
      validationFraction: 0,
      limit: 1000,
      threads: 1,
    };
    expect(
      (await ask(12, { type: 'start', settings, autosave: false, continue: false, allowOtherData: false })).ok,
    ).toBe(true);
    // Saving is refused while the run is in progress: retry until it has ended.
    let saved: { ok: boolean; download?: { url: string; name: string }; error?: string } = { ok: false };
    let nextId = 100;
    await expect
      .poll(
        async () => {
          saved = await ask(nextId++, { type: 'save-checkpoint' });
          return saved.ok;
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    expect(saved.download?.name).toBe('fashion-mnist-checkpoint.safetensors');
    const url = saved.download!.url;
    expectRefusal(await http(host, { path: url.replace(/token=\w+/, 'token=wrong') }), host.port);
    expectRefusal(await http(host, { path: url.replace(/\?.*/, '') }), host.port);
    const first = await http(host, { path: url });
    expect(first.status).toBe(200);
    const downloaded = join(await tempDir('fmnist-web-downloaded-'), 'downloaded.safetensors');
    await writeFile(downloaded, first.bytes);
    const checkpoint = await loadCheckpoint(downloaded);
    expect(checkpoint.parameters.shape.hiddenSizes).toEqual([16]);
    expect(checkpoint.history.map((h) => h.epoch)).toEqual([1]);
    expect(checkpoint.config).toMatchObject({ epochs: 1, hiddenSizes: [16], limit: 1000 });
    expect((await http(host, { path: url })).status).toBe(404);
    socket.close();
  });

  it('sends the test images, the weights and the outputs as one binary frame each, everything else as text', async () => {
    const socket = await open(host, `?token=${host.token}`, origin);
    const replies = new Map<number, { binary: boolean; response: WireAnswer }>();
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      const message = decodeMessage(isBinary ? data : data.toString('utf8')) as { id?: number; response?: WireAnswer };
      if (typeof message.id === 'number') replies.set(message.id, { binary: isBinary, response: message.response! });
    });
    let nextId = 500;
    const ask = async (request: object) => {
      const id = nextId++;
      socket.send(JSON.stringify({ id, request }));
      await expect.poll(() => replies.has(id), { timeout: 60_000 }).toBe(true);
      return replies.get(id)!;
    };
    expect((await ask({ type: 'load-default-data' })).response.ok).toBe(true);
    const settings = {
      ...DEFAULT_SETTINGS,
      epochs: 1,
      batchSize: 100,
      learningRate: 0.001,
      hiddenSizes: [8],
      seed: 3,
      validationFraction: 0,
      limit: 500,
      threads: 1,
    };
    expect(
      (await ask({ type: 'start', settings, autosave: false, continue: false, allowOtherData: false })).response.ok,
    ).toBe(true);
    const stateOf = (response: WireAnswer) => (response.ok ? response.state : undefined);
    await expect
      .poll(async () => stateOf((await ask({ type: 'get-state' })).response)?.run.status, { timeout: 30_000 })
      .toBe('finished');
    const answer = await ask({ type: 'get-state' });
    expect(answer.binary).toBe(false);
    const state = stateOf(answer.response);

    const images = await ask({ type: 'get-test-images' });
    expect(images.binary).toBe(true);
    const test = await realDataset('test');
    const received = images.response.ok ? images.response.testImages! : null;
    expect(received?.images).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(received!.images).equals(Buffer.from(test.images))).toBe(true);
    expect(Buffer.from(received!.labels).equals(Buffer.from(test.labels))).toBe(true);

    const insight = await ask({ type: 'get-insight' });
    expect(insight.binary).toBe(true);
    const model = insight.response.ok ? insight.response.insight! : null;
    expect(model?.key).toBe(state?.insightKey);
    expect(model?.weights.map((w) => w.length)).toEqual([784 * 8, 8 * 10]);
    expect(model?.test?.probabilities).toBeInstanceOf(Float32Array);
    expect(model?.test?.probabilities.length).toBe(100_000);
    // The accuracy sent is what its predictions and the labels give.
    const right = model!.test!.predictions.reduce((n, p, i) => n + (p === test.labels[i] ? 1 : 0), 0);
    expect(model?.test?.accuracy).toBe(right / 10_000);
    expect(model?.test?.accuracy).toBe(state?.run.history?.[0].testAccuracy);
    socket.close();
  });
});

describe('browser host: opening files and downloading Fashion-MNIST', () => {
  let host: WebHost;
  let origin: string;
  let mirror: Mirror;
  let downloadDirectory: string;
  beforeAll(async () => {
    mirror = await startMirror(
      Object.fromEntries(
        FASHION_MNIST_FILES.map((f) => [`/${f.name}`, { body: readFileSync(join(REAL_DATA_DIR, f.name)) }]),
      ),
    );
    downloadDirectory = await tempDir('fmnist-web-download-');
    host = await startWebHost({
      rendererDirectory: builtFile('out/renderer'),
      workerPath: builtFile('out/node/worker.js'),
      dataDirectory: await tempDir('fmnist-web-data-'),
      downloadDirectory,
      // No $FMNIST_DATA for the worker, so the download folder is what it finds.
      env: { FMNIST_DOWNLOAD_URL: mirror.url },
    });
    origin = `http://127.0.0.1:${host.port}`;
  });
  afterAll(async () => {
    await host.close();
    await mirror.close();
  });

  async function connect() {
    const socket = await open(host, `?token=${host.token}`, origin);
    const replies = new Map<number, WireAnswer>();
    const events: BackendEvent[] = [];
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if ('id' in message) replies.set(message.id, message.response);
      else events.push(message.event);
    });
    let nextId = 1;
    const ask = async (request: object): Promise<WireAnswer> => {
      const id = nextId++;
      socket.send(JSON.stringify({ id, request }));
      await expect.poll(() => replies.has(id), { timeout: 60_000 }).toBe(true);
      return replies.get(id)!;
    };
    return { socket, ask, events };
  }

  const upload = async (name: string, body: Buffer | string): Promise<string> => {
    const reply = await http(host, {
      method: 'PUT',
      path: '/upload',
      headers: {
        origin,
        'x-studio-token': host.token,
        'x-file-name': encodeURIComponent(name),
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    expect(reply.status).toBe(200);
    return JSON.parse(reply.body).id;
  };

  it('downloads the four files from the mirror with progress events, then has the data loaded', async () => {
    const { socket, ask, events } = await connect();
    const done = await ask({ type: 'download-data' });
    expect(done.ok).toBe(true);
    expect(done.ok && done.state?.datasets.train?.count).toBe(60000);
    expect(done.ok && done.state?.datasets.test?.count).toBe(10000);
    expect(done.ok && done.state?.defaultData.directory).toBe(downloadDirectory);
    const statuses = events
      .filter((e): e is Extract<BackendEvent, { type: 'download' }> => e.type === 'download')
      .map((e) => e.download.status);
    expect(statuses[0]).toBe('downloading');
    expect(statuses).toContain('verifying');
    expect(statuses.at(-1)).toBe('finished');
    expect(mirror.requests.map((r) => r.path).sort()).toEqual(FASHION_MNIST_FILES.map((f) => `/${f.name}`).sort());
    expect(await ask({ type: 'cancel-download' })).toEqual({ ok: true });
    socket.close();
  });

  it('loads uploaded data and checkpoints, and refuses what was never uploaded or needs a dialog', async () => {
    const { socket, ask } = await connect();
    const csv = await upload('fashion-mnist_test.csv', toKaggleCsv(randomDataset(50)));
    const loaded = await ask({ type: 'load-uploaded', role: 'test', uploads: [csv] });
    expect(loaded.ok && loaded.state?.datasets.test?.count).toBe(50);
    expect(await ask({ type: 'load-uploaded', role: 'test', uploads: ['f'.repeat(32)] })).toEqual({
      ok: false,
      error: 'unknown upload: upload the file again',
    });

    const checkpointFile = join(await tempDir('fmnist-web-checkpoint-'), 'm.safetensors');
    await writeUntrainedCheckpoint(checkpointFile, [8], { settings: false });
    const id = await upload('m.safetensors', readFileSync(checkpointFile));
    const model = await ask({ type: 'load-uploaded-checkpoint', upload: id });
    expect(model.ok && model.state?.model?.architecture).toBe('784-8-10');
    expect(await ask({ type: 'load-uploaded-checkpoint', upload: 'f'.repeat(32) })).toEqual({
      ok: false,
      error: 'unknown upload: upload the file again',
    });
    // A refusal names the file as the user chose it, not the host's copy of it in a temporary folder.
    const png = await upload('bad.png', Buffer.from('\x89PNG\r\n\x1a\n not a checkpoint'));
    const refused = await ask({ type: 'load-uploaded-checkpoint', upload: png });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.error).toMatch(/^bad\.png: is not a safetensors file/);
    const badData = await upload('broken.csv', Buffer.from('label,pixel1\n3,oops\n'));
    const refusedData = await ask({ type: 'load-uploaded', role: 'test', uploads: [badData] });
    expect(!refusedData.ok && refusedData.error).toMatch(/^broken\.csv[:,]/);
    for (const type of ['open-dataset', 'load-checkpoint']) {
      const request = type === 'open-dataset' ? { type, role: 'train' } : { type };
      expect(await ask(request)).toEqual({
        ok: false,
        error: 'the browser host opens files by upload and saves them by download',
      });
    }
    socket.close();
  });
});

describe('browser host: its temporary folder (uploads and prepared downloads)', () => {
  // Each test has a host of its own, with its own temporary folder, so it can see the folders come and go.
  let host: WebHost;
  let origin: string;
  let temporary: string;
  // os.tmpdir() reads TMPDIR, or TEMP and TMP on Windows.
  const saved = { TMPDIR: process.env.TMPDIR, TEMP: process.env.TEMP, TMP: process.env.TMP };
  beforeEach(async () => {
    temporary = await tempDir('fmnist-web-tmp-');
    Object.assign(process.env, { TMPDIR: temporary, TEMP: temporary, TMP: temporary });
    try {
      host = await startWebHost({
        rendererDirectory: builtFile('out/renderer'),
        workerPath: builtFile('out/node/worker.js'),
        dataDirectory: await tempDir('fmnist-web-data-'),
        downloadLifetimeMs: 1500,
      });
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    origin = `http://127.0.0.1:${host.port}`;
  });
  afterEach(() => host.close());

  /** Sends an upload's headers now; its body when `send` is called (or never, if the server answers first). */
  function startUpload(body: string) {
    const req = httpRequest({
      host: '127.0.0.1',
      port: host.port,
      method: 'PUT',
      path: '/upload',
      headers: { origin, 'x-studio-token': host.token, 'x-file-name': 'a.csv', 'content-length': String(body.length) },
    });
    const status = new Promise<number>((resolve) => {
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(-1));
    });
    req.flushHeaders();
    return { req, status, send: () => req.end(body) };
  }

  const uploadFolders = async (): Promise<string[]> => {
    const [root] = await readdir(temporary);
    return readdir(join(temporary, root));
  };

  it('removes a prepared download that was not fetched in time, and at once the folder of one that failed', async () => {
    const socket = await open(host, `?token=${host.token}`, origin);
    const replies = new Map<number, WireAnswer>();
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if ('id' in message) replies.set(message.id, message.response);
    });
    let nextId = 1;
    const ask = async (request: object): Promise<WireAnswer> => {
      const id = nextId++;
      socket.send(JSON.stringify({ id, request }));
      await expect.poll(() => replies.has(id), { timeout: 60_000 }).toBe(true);
      return replies.get(id)!;
    };
    try {
      expect(await ask({ type: 'export-model', format: 'onnx' })).toEqual({
        ok: false,
        error: 'there is no model yet: train one or load a checkpoint',
      });
      expect(await uploadFolders()).toEqual([]);

      const checkpointFile = join(await tempDir('fmnist-web-checkpoint-'), 'm.safetensors');
      await writeUntrainedCheckpoint(checkpointFile, [8], { settings: false });
      const body = readFileSync(checkpointFile);
      const uploaded = await http(host, {
        method: 'PUT',
        path: '/upload',
        headers: {
          origin,
          'x-studio-token': host.token,
          'x-file-name': 'm.safetensors',
          'content-length': String(body.length),
        },
        body,
      });
      expect((await ask({ type: 'load-uploaded-checkpoint', upload: JSON.parse(uploaded.body).id })).ok).toBe(true);
      const kept = await ask({ type: 'export-model', format: 'onnx' });
      const expired = await ask({ type: 'export-model', format: 'safetensors' });
      if (!kept.ok || !expired.ok) throw new Error('the exports failed');
      expect((await uploadFolders()).filter((f) => f.startsWith('download-'))).toHaveLength(2);
      expect((await http(host, { path: kept.download!.url })).status).toBe(200);
      // The one not fetched goes when its time is up (1.5 s here; 10 minutes by default), folder and all.
      await expect
        .poll(async () => (await uploadFolders()).filter((f) => f.startsWith('download-')), { timeout: 10_000 })
        .toEqual([]);
      expect((await http(host, { path: expired.download!.url })).status).toBe(404);

      // A prepared file that went missing meanwhile (a temporary-file cleaner, say) is a plain 404.
      const vanished = await ask({ type: 'save-checkpoint' });
      if (!vanished.ok) throw new Error(vanished.error);
      const [root] = await readdir(temporary);
      const [folder] = (await uploadFolders()).filter((f) => f.startsWith('download-'));
      await rm(join(temporary, root, folder), { recursive: true });
      expect(await http(host, { path: vanished.download!.url })).toMatchObject({ status: 404, body: '' });
    } finally {
      socket.close();
    }
  });

  it('says in one line why an upload failed when its temporary folder has gone', async () => {
    const [root] = await readdir(temporary);
    await rm(join(temporary, root), { recursive: true });
    const reply = await http(host, {
      method: 'PUT',
      path: '/upload',
      headers: { origin, 'x-studio-token': host.token, 'x-file-name': 'a.csv', 'content-length': '5' },
      body: 'label',
    });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({
      error: expect.stringMatching(/^upload failed: .*[0-9a-f]{32}: no such file or directory$/),
    });
  });

  it('frees the slot of a failed upload, and never grants more slots than it has, however many arrive at once', async () => {
    // Two uploads break off half-way: their folders go, and so do their slots.
    const broken = [startUpload('0123456789'), startUpload('0123456789')];
    await expect.poll(uploadFolders).toHaveLength(2);
    for (const upload of broken) upload.req.destroy();
    await expect.poll(uploadFolders).toHaveLength(0);

    const uploads = Array.from({ length: MAX_UPLOADS + 6 }, () => startUpload('label\n'));
    try {
      // The refusals come before any body is sent: the slots were taken as the requests arrived.
      const refused = async () =>
        (await Promise.all(uploads.map((u) => Promise.race([u.status, Promise.resolve(0)])))).filter((s) => s === 429)
          .length;
      await expect.poll(refused).toBe(6);
      for (const upload of uploads) upload.send();
      const statuses = await Promise.all(uploads.map((u) => u.status));
      expect(statuses.filter((s) => s === 200)).toHaveLength(MAX_UPLOADS);
      expect(statuses.filter((s) => s === 429)).toHaveLength(6);
      const folders = await uploadFolders();
      expect(folders).toHaveLength(MAX_UPLOADS);
      const [root] = await readdir(temporary);
      for (const folder of folders)
        expect(readFileSync(join(temporary, root, folder, 'a.csv'), 'utf8')).toBe('label\n');
    } finally {
      for (const upload of uploads) upload.req.destroy();
    }
  });
});

describe('browser host: closing', () => {
  const startHost = async (options: Partial<WebHostOptions> = {}) => {
    const dataDirectory = await tempDir('fmnist-web-data-');
    const host = await startWebHost({
      rendererDirectory: builtFile('out/renderer'),
      workerPath: builtFile('out/node/worker.js'),
      dataDirectory,
      ...options,
    });
    return { host, dataDirectory, origin: `http://127.0.0.1:${host.port}` };
  };

  it('keeps a run in progress: it ends at its last whole epoch, written to its own checkpoint for the next start', async () => {
    const { host, dataDirectory, origin } = await startHost();
    const socket = await open(host, `?token=${host.token}`, origin);
    const epochs: number[] = [];
    const replies = new Map<number, WireAnswer>();
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if ('id' in message) replies.set(message.id, message.response);
      else if (message.event.type === 'progress')
        epochs.push(...message.event.progress.completedEpochs.map((e: { epoch: number }) => e.epoch));
    });
    const ask = async (id: number, request: object): Promise<WireAnswer> => {
      socket.send(JSON.stringify({ id, request }));
      await expect.poll(() => replies.has(id), { timeout: 60_000 }).toBe(true);
      return replies.get(id)!;
    };
    const csv = toKaggleCsv(randomDataset(2000));
    const uploaded = await http(host, {
      method: 'PUT',
      path: '/upload',
      headers: {
        origin,
        'x-studio-token': host.token,
        'x-file-name': 'train.csv',
        'content-length': String(csv.length),
      },
      body: csv,
    });
    expect((await ask(1, { type: 'load-uploaded', role: 'train', uploads: [JSON.parse(uploaded.body).id] })).ok).toBe(
      true,
    );
    // Autosave off: closing keeps the run all the same.
    const settings = {
      ...DEFAULT_SETTINGS,
      epochs: 100_000,
      batchSize: 100,
      learningRate: 0.001,
      hiddenSizes: [16],
      seed: 1,
      validationFraction: 0,
      limit: 2000,
      threads: 1,
    };
    expect(
      (await ask(2, { type: 'start', settings, autosave: false, continue: false, allowOtherData: false })).ok,
    ).toBe(true);
    await expect.poll(() => epochs.length, { timeout: 60_000 }).toBeGreaterThan(1);
    await host.close();
    // The run is recorded in the runs folder of the host's data folder: stopped at the epoch it kept, which its
    // own checkpoint holds.
    const { runs } = await new RunStore(join(dataDirectory, 'runs')).list();
    const saved = await loadCheckpoint(runs[0].files!.last!);
    expect(saved.epochsDone).toBeGreaterThanOrEqual(epochs.at(-1)!);
    expect(saved.config?.epochs).toBe(100_000);
    expect(saved.optimizer).not.toBeNull();
    expect(runs).toMatchObject([
      { status: 'stopped', origin: 'app', metrics: { epochs: saved.epochsDone }, checkpoint: runs[0].files!.last },
    ]);
  });

  it('closes within its time limit when the worker does not answer', async () => {
    const folder = await tempDir('fmnist-web-worker-');
    const silentWorker = join(folder, 'silent-worker.cjs');
    await writeFile(
      silentWorker,
      "const { parentPort } = require('node:worker_threads');\n" +
        "parentPort.on('message', (m) => { if (m.request.type !== 'shutdown') parentPort.postMessage({ id: m.id, response: { ok: true } }); });\n",
    );
    const { host, origin } = await startHost({ workerPath: silentWorker, shutdownLimitMs: 300 });
    const socket = await open(host, `?token=${host.token}`, origin);
    const answered = new Promise((resolve) => socket.once('message', resolve));
    socket.send(JSON.stringify({ id: 1, request: { type: 'stop' } }));
    await answered;
    const started = Date.now();
    await host.close();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('closes while an upload is still arriving', async () => {
    const { host, origin } = await startHost();
    const upload = httpRequest({
      host: '127.0.0.1',
      port: host.port,
      method: 'PUT',
      path: '/upload',
      headers: { origin, 'x-studio-token': host.token, 'x-file-name': 'a.csv', 'content-length': '1000' },
    });
    upload.on('error', () => {});
    upload.write('label');
    await new Promise((resolve) => setTimeout(resolve, 200));
    let closed = false;
    void host.close().then(() => (closed = true));
    await expect.poll(() => closed, { timeout: 5000 }).toBe(true);
  });
});

describe('browser host: uploaded data sets kept in the data folder', () => {
  const settings = {
    ...DEFAULT_SETTINGS,
    epochs: 100_000,
    batchSize: 100,
    learningRate: 0.001,
    hiddenSizes: [8],
    seed: 1,
    validationFraction: 0,
    limit: 600,
    threads: 1,
  };

  /** A host on `dataDirectory` with a connected page: ask() sends a request and returns its answer. */
  async function session(dataDirectory: string) {
    const host = await startWebHost({
      rendererDirectory: builtFile('out/renderer'),
      workerPath: builtFile('out/node/worker.js'),
      dataDirectory,
    });
    const origin = `http://127.0.0.1:${host.port}`;
    const socket = await open(host, `?token=${host.token}`, origin);
    const replies = new Map<number, WireAnswer>();
    const epochs: number[] = [];
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if ('id' in message) replies.set(message.id, message.response);
      else if (message.event.type === 'progress')
        epochs.push(...message.event.progress.completedEpochs.map((e: { epoch: number }) => e.epoch));
    });
    let nextId = 1;
    const ask = async (request: object): Promise<Extract<WireAnswer, { ok: true }>> => {
      const id = nextId++;
      socket.send(JSON.stringify({ id, request }));
      await expect.poll(() => replies.has(id), { timeout: 60_000 }).toBe(true);
      const response = replies.get(id)!;
      if (!response.ok) throw new Error(response.error);
      return response;
    };
    const upload = async (name: string, body: string | Buffer): Promise<string> => {
      const reply = await http(host, {
        method: 'PUT',
        path: '/upload',
        headers: {
          origin,
          'x-studio-token': host.token,
          'x-file-name': name,
          'content-length': String(Buffer.byteLength(body)),
        },
        body,
      });
      return JSON.parse(reply.body).id;
    };
    /** Trains until `count` more epochs are done (the run goes on). */
    const epochsDone = async (count: number) => {
      const target = epochs.length + count;
      await expect.poll(() => epochs.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(target);
    };
    return { host, ask, upload, epochsDone };
  }

  const keptFolders = async (dataDirectory: string): Promise<string[]> =>
    (await readdir(join(dataDirectory, 'uploads')).catch(() => [])).sort();
  const folderOf = (dataDirectory: string, path: string | undefined): string => {
    const inside = relative(join(dataDirectory, 'uploads'), path ?? '');
    expect(inside).toMatch(/^[0-9a-f]{32}[/\\][^/\\]+$/);
    return inside.split(/[/\\]/)[0];
  };

  it('keeps the files of a data set while a loaded set or a run that may be resumed names them, across restarts, and no longer', async () => {
    const dataDirectory = await tempDir('fmnist-web-data-');
    // What an earlier launch left half-copied: nothing names it.
    await mkdir(join(dataDirectory, 'uploads', 'f'.repeat(32)), { recursive: true });
    await writeFile(join(dataDirectory, 'uploads', 'f'.repeat(32), 'train.csv'), 'label');

    const first = await session(dataDirectory);
    await first.ask({ type: 'get-state' });
    await expect.poll(() => keptFolders(dataDirectory)).toEqual([]);
    const trainUpload = await first.upload('fashion-mnist_train.csv', toKaggleCsv(randomDataset(600, 1)));
    let state = (await first.ask({ type: 'load-uploaded', role: 'train', uploads: [trainUpload] })).state!;
    const trainFolder = folderOf(dataDirectory, state.datasets.train?.paths[0]);
    expect(state.datasets.train?.paths).toEqual([
      join(dataDirectory, 'uploads', trainFolder, 'fashion-mnist_train.csv'),
    ]);
    state = (
      await first.ask({
        type: 'load-uploaded',
        role: 'test',
        uploads: [await first.upload('fashion-mnist_test.csv', toKaggleCsv(randomDataset(100, 2)))],
      })
    ).state!;
    const testFolder = folderOf(dataDirectory, state.datasets.test?.paths[0]);
    expect(await keptFolders(dataDirectory)).toEqual([trainFolder, testFolder].sort());
    // An upload is loaded once (the page uploads each file it opens).
    await expect(first.ask({ type: 'load-uploaded', role: 'train', uploads: [trainUpload] })).rejects.toThrow(
      'unknown upload: upload the file again',
    );
    // A set that does not load leaves nothing behind.
    await expect(
      first.ask({
        type: 'load-uploaded',
        role: 'train',
        uploads: [await first.upload('broken.csv', 'label,pixel1\n3,4\n')],
      }),
    ).rejects.toThrow(/broken\.csv/);
    expect(await keptFolders(dataDirectory)).toEqual([trainFolder, testFolder].sort());

    await first.ask({ type: 'start', settings, autosave: true, continue: false, allowOtherData: false });
    await first.epochsDone(1);
    await first.host.close();
    // The run was kept for the next start, and with it the data it needs.
    expect(await keptFolders(dataDirectory)).toEqual([trainFolder, testFolder].sort());

    const keptSources = {
      train: [join(dataDirectory, 'uploads', trainFolder, 'fashion-mnist_train.csv')],
      test: [join(dataDirectory, 'uploads', testFolder, 'fashion-mnist_test.csv')],
    };
    const second = await session(dataDirectory);
    state = (await second.ask({ type: 'get-state' })).state!;
    expect(state.autosave.pending?.dataSources).toEqual(keptSources);
    state = (await second.ask({ type: 'resume-run', id: state.autosave.pending!.id, autosave: true })).state!;
    expect([state.datasets.train?.count, state.datasets.test?.count]).toEqual([600, 100]);
    await second.epochsDone(1);
    await second.ask({ type: 'stop' });
    // Other training data replaces the loaded set; the stopped run still names the data it used.
    await expect
      .poll(async () => (await second.ask({ type: 'get-state' })).state!.run.status, { timeout: 30_000 })
      .toBe('stopped');
    state = (
      await second.ask({
        type: 'load-uploaded',
        role: 'train',
        uploads: [await second.upload('other.csv', toKaggleCsv(randomDataset(300, 3)))],
      })
    ).state!;
    const otherFolder = folderOf(dataDirectory, state.datasets.train?.paths[0]);
    await expect.poll(() => keptFolders(dataDirectory)).toEqual([trainFolder, testFolder, otherFolder].sort());
    // Closing keeps the stopped run for the next start with the data it was trained on, not the data loaded
    // now: only what a loaded set alone named goes.
    await second.host.close();
    expect(await keptFolders(dataDirectory)).toEqual([trainFolder, testFolder].sort());

    const third = await session(dataDirectory);
    state = (await third.ask({ type: 'get-state' })).state!;
    expect(state.autosave.pending?.dataSources).toEqual(keptSources);
    // The files of the continuation deleted: the first run, which it continued, can be resumed again, so its
    // data stays; the first run's files deleted too: what only they named goes.
    const { runs } = (await third.ask({ type: 'list-runs' })).runs!;
    expect(runs.map((run) => run.continuedBy ?? null)).toEqual([state.autosave.pending!.id, null]);
    await third.ask({ type: 'delete-run-files', ids: [state.autosave.pending!.id] });
    expect(await keptFolders(dataDirectory)).toEqual([trainFolder, testFolder].sort());
    await third.ask({ type: 'delete-run-files', ids: [runs[0].id] });
    await expect.poll(() => keptFolders(dataDirectory)).toEqual([]);
    await third.host.close();
  });

  it('keeps two uploads of the same name apart', async () => {
    const dataDirectory = await tempDir('fmnist-web-data-');
    const { host, ask, upload } = await session(dataDirectory);
    try {
      const dataset = randomDataset(20);
      // IDX: a big-endian magic number, the count and the image size, then the bytes.
      const header = (magic: number, ...sizes: number[]) => {
        const bytes = Buffer.alloc(4 * (2 + sizes.length));
        [magic, dataset.count, ...sizes].forEach((n, i) => bytes.writeUInt32BE(n, 4 * i));
        return bytes;
      };
      const images = Buffer.concat([header(0x803, 28, 28), dataset.images]);
      const labels = Buffer.concat([header(0x801), dataset.labels]);
      const sources = [await upload('data', images), await upload('data', labels)];
      const state = (await ask({ type: 'load-uploaded', role: 'train', uploads: sources })).state!;
      const folder = folderOf(dataDirectory, state.datasets.train?.paths[0]);
      expect(state.datasets.train?.paths).toEqual([
        join(dataDirectory, 'uploads', folder, 'data'),
        join(dataDirectory, 'uploads', folder, '2-data'),
      ]);
      expect(state.datasets.train?.count).toBe(20);
    } finally {
      await host.close();
    }
  });

  it('keeps the data of a sweep not finished, which no resumable run may name', async () => {
    const runsFolder = join(await tempDir('fmnist-web-data-'), 'runs');
    const store = new SweepStore(sweepsFolder(runsFolder));
    const plan = checkSweepPlan(
      { axes: [{ field: 'learningRate', values: [0.001, 0.002] }], seeds: [1] },
      DEFAULT_CONFIG,
    );
    const owner = { processIdentity: null, ...(await thisProcess()) };
    for (const [status, train] of [
      ['stopped', '/u/a/train.csv'],
      ['finished', '/u/b/train.csv'],
    ] as const) {
      const { lock } = await store.create((id) => ({
        format: SWEEP_RECORD_FORMAT,
        formatVersion: 1,
        id,
        name: '',
        status,
        error: null,
        origin: 'app',
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
        endedAt: null,
        ...owner,
        appVersion: '0.1.0',
        plan,
        base: DEFAULT_CONFIG,
        kernels: 'auto',
        data: { train: [train], test: null, fingerprint: null },
        runs: pendingEntries(plan),
      }));
      await lock.release();
    }
    // No run at all: only the sweep that is not finished names its data.
    expect(await resumableSources(new RunStore(runsFolder))).toEqual(['/u/a/train.csv']);
    // A sweeps folder that cannot be listed: nothing is known, so nothing may be removed.
    const unreadable = join(await tempDir('fmnist-web-data-'), 'runs');
    await mkdir(unreadable, { recursive: true });
    await writeFile(sweepsFolder(unreadable), 'not a folder');
    expect(await resumableSources(new RunStore(unreadable))).toBeNull();
  });

  it('keeps nothing for a finished run; everything while a run record is damaged', async () => {
    const leftover = async (dataDirectory: string) => {
      await mkdir(join(dataDirectory, 'uploads', 'e'.repeat(32)), { recursive: true });
      await writeFile(join(dataDirectory, 'uploads', 'e'.repeat(32), 'train.csv'), 'label');
    };
    const finished = await tempDir('fmnist-web-data-');
    const first = await session(finished);
    await first.ask({
      type: 'load-uploaded',
      role: 'train',
      uploads: [await first.upload('train.csv', toKaggleCsv(randomDataset(200)))],
    });
    await first.ask({
      type: 'start',
      settings: { ...settings, epochs: 1 },
      autosave: true,
      continue: false,
      allowOtherData: false,
    });
    await expect
      .poll(async () => (await first.ask({ type: 'get-state' })).state!.run.status, { timeout: 30_000 })
      .toBe('finished');
    expect(await keptFolders(finished)).toHaveLength(1);
    await first.host.close();
    expect(await keptFolders(finished)).toEqual([]);

    // Nothing names a leftover: it goes.
    const clean = await tempDir('fmnist-web-data-');
    await leftover(clean);
    const second = await session(clean);
    expect((await second.ask({ type: 'get-state' })).state!.autosave.pending).toBeNull();
    await expect.poll(() => keptFolders(clean)).toEqual([]);
    await second.host.close();

    // A damaged record might be an unfinished run that names it: it stays.
    const damaged = await tempDir('fmnist-web-data-');
    await mkdir(join(damaged, 'runs'));
    await writeFile(join(damaged, 'runs', '20261125-100000-dead.json'), '{"format": "fashion-mnist-studio-run", ');
    await leftover(damaged);
    const third = await session(damaged);
    await third.ask({ type: 'get-state' });
    await third.host.close();
    expect(await keptFolders(damaged)).toEqual(['e'.repeat(32)]);
  });

  it('says in one line when the data folder cannot take the files, and loads nothing', async () => {
    const dataDirectory = await tempDir('fmnist-web-data-');
    await writeFile(join(dataDirectory, 'uploads'), 'a file where the folder should be');
    const { host, ask, upload } = await session(dataDirectory);
    try {
      const id = await upload('train.csv', toKaggleCsv(randomDataset(10)));
      await expect(ask({ type: 'load-uploaded', role: 'train', uploads: [id, id] })).rejects.toThrow(
        'unknown upload: upload the file again',
      );
      const uploadsFolder = join(dataDirectory, 'uploads').replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
      await expect(ask({ type: 'load-uploaded', role: 'train', uploads: [id] })).rejects.toThrow(
        new RegExp(`^cannot keep the uploaded files in the data folder: ${uploadsFolder}[/\\\\][0-9a-f]{32}: `),
      );
      expect((await ask({ type: 'get-state' })).state!.datasets.train).toBeNull();
    } finally {
      await host.close();
    }
  });
});

describe('browser host: one per data folder', () => {
  const options = async (dataDirectory: string): Promise<WebHostOptions> => ({
    rendererDirectory: builtFile('out/renderer'),
    workerPath: builtFile('out/node/worker.js'),
    dataDirectory,
  });

  it('refuses a second host on the same data folder, naming the first one’s address; the folder is free again once it closes', async () => {
    const dataDirectory = await tempDir('fmnist-web-data-');
    const first = await startWebHost(await options(dataDirectory));
    const lock = JSON.parse(await readFile(join(dataDirectory, HOST_LOCK_FILE), 'utf8'));
    expect(lock).toMatchObject({ pid: process.pid, url: first.url });
    const refused = await startWebHost(await options(dataDirectory)).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(HostRunningError);
    expect(refused).toMatchObject({ url: first.url, pid: process.pid });
    // Another data folder is another host.
    const other = await startWebHost(await options(await tempDir('fmnist-web-data-')));
    await other.close();
    await first.close();
    expect(existsSync(join(dataDirectory, HOST_LOCK_FILE))).toBe(false);
    const again = await startWebHost(await options(dataDirectory));
    await again.close();
  });

  it('takes over the lock of a host that was killed (its pid gone, or since given to another process)', async () => {
    for (const stale of [
      { pid: deadPid(), processStartedMs: Date.now() - 60_000 },
      { pid: process.ppid, processStartedMs: 1_000 },
    ]) {
      const dataDirectory = await tempDir('fmnist-web-data-');
      await writeFile(
        join(dataDirectory, HOST_LOCK_FILE),
        JSON.stringify({ ...stale, host: hostname(), url: 'http://127.0.0.1:1/?token=old' }),
      );
      const host = await startWebHost(await options(dataDirectory));
      expect(JSON.parse(await readFile(join(dataDirectory, HOST_LOCK_FILE), 'utf8'))).toMatchObject({
        pid: process.pid,
        url: host.url,
      });
      await host.close();
    }
  });

  it('lets only one of two hosts started at once on a folder serve it: the other prints where, and exits 0', async () => {
    const dataDirectory = await tempDir('fmnist-web-data-');
    const web = builtFile('out/node/web.js');
    const env = { ...process.env, FMNIST_STUDIO_DATA: join(dataDirectory, 'app') };
    const starts = [0, 1].map(
      () =>
        new Promise<{ code: number | null; stdout: string; child: ChildProcess }>((resolve) => {
          const child = spawn(process.execPath, [web], { env, stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          child.stdout!.on('data', (chunk) => {
            stdout += chunk;
            // The one that serves keeps running: report it once it has said where.
            if (stdout.includes('Ctrl-C stops it')) resolve({ code: null, stdout, child });
          });
          child.on('exit', (code) => resolve({ code, stdout, child }));
        }),
    );
    const results = await Promise.all(starts);
    const serving = results.filter((r) => r.code === null);
    const refused = results.filter((r) => r.code !== null);
    expect(serving).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const url = /running at (\S+)/.exec(serving[0].stdout)![1];
    expect(refused[0]).toMatchObject({
      code: 0,
      stdout: `Fashion-MNIST Studio is already running at ${url}\n(process ${serving[0].child.pid} serves this data folder; open that address)\n`,
    });
    const exited = new Promise((resolve) => serving[0].child.once('exit', resolve));
    serving[0].child.kill('SIGTERM');
    await exited;
    expect(existsSync(join(dataDirectory, 'app', 'browser-host', HOST_LOCK_FILE))).toBe(false);
  });
});

describe('browser host: uploads without a length, and pages that fall behind', () => {
  it('says in one line when its data folder cannot hold its lock, and starts nothing', async () => {
    const file = join(await tempDir('fmnist-web-data-'), 'not-a-folder');
    await writeFile(file, 'x');
    await expect(
      startWebHost({
        rendererDirectory: builtFile('out/renderer'),
        workerPath: builtFile('out/node/worker.js'),
        dataDirectory: file,
      }),
    ).rejects.toThrow(`${join(file, HOST_LOCK_FILE)}: a part of this path is not a directory`);
  });

  it('takes a chunked upload (no Content-Length) of any size up to the limit, and refuses a larger one while it arrives', async () => {
    const host = await startWebHost({
      rendererDirectory: builtFile('out/renderer'),
      workerPath: builtFile('out/node/worker.js'),
      dataDirectory: await tempDir('fmnist-web-data-'),
      maxUploadBytes: 1000,
    });
    const origin = `http://127.0.0.1:${host.port}`;
    try {
      const chunked = (chunks: string[]): Promise<{ status: number; body: string }> =>
        new Promise((resolve, reject) => {
          const req = httpRequest(
            {
              host: '127.0.0.1',
              port: host.port,
              method: 'PUT',
              path: '/upload',
              headers: { origin, 'x-studio-token': host.token, 'x-file-name': 'small.csv' },
            },
            (res) => {
              let body = '';
              res.on('data', (d) => (body += d));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            },
          );
          req.on('error', (error) =>
            error.message.includes('EPIPE') || error.message.includes('ECONNRESET') ? undefined : reject(error),
          );
          for (const chunk of chunks) req.write(chunk);
          req.end();
        });
      const small = await chunked(['label,', 'pixel1\n']);
      expect(small.status).toBe(200);
      expect(JSON.parse(small.body)).toMatchObject({ name: 'small.csv' });
      const big = await chunked(Array.from({ length: 20 }, () => 'x'.repeat(100)));
      expect(big).toEqual({ status: 413, body: JSON.stringify({ error: 'uploads are limited to 1000 bytes' }) });
      // A declared length over the limit is refused before its body is read.
      const declared = await http(host, {
        method: 'PUT',
        path: '/upload',
        headers: { origin, 'x-studio-token': host.token, 'content-length': '1001' },
        body: 'x'.repeat(1001),
      });
      expect(declared.status).toBe(413);
    } finally {
      await host.close();
    }
  });

  /**
   * A stand-in worker: answers "stop" never (it stays in flight), each "get-state" with a burst of progress
   * events and each "list-runs" with a burst of large state-like notices (which do not merge).
   */
  const standIn = async (): Promise<string> => {
    const file = join(await tempDir('fmnist-web-worker-'), 'worker.cjs');
    await writeFile(
      file,
      "const { parentPort } = require('node:worker_threads');\n" +
        'let point = 0;\n' +
        '// Each progress event carries 64 KB more than its points, so a page that reads nothing backs up soon.\n' +
        "const padding = 'x'.repeat(65536);\n" +
        "parentPort.on('message', (m) => {\n" +
        "  if (m.request.type === 'stop') return;\n" +
        "  if (m.request.type === 'get-state') {\n" +
        '    for (let i = 0; i < 400; i++) {\n' +
        '      const costPoints = Array.from({ length: 100 }, () => [point++, 0.5]);\n' +
        "      parentPort.postMessage({ event: { type: 'progress', progress: { epoch: 1, epochs: 1, batch: i, batches: 400, epochCost: 0, epochAccuracy: 0, samplesPerSecond: 0, elapsedMs: 0, etaMs: 0, costPoints, completedEpochs: [], padding } } });\n" +
        '    }\n' +
        '  }\n' +
        "  if (m.request.type === 'evaluate') {\n" +
        '    for (let i = 0; i < 200; i++) {\n' +
        '      const costPoints = Array.from({ length: 1000 }, () => [point++, 0.5]);\n' +
        "      parentPort.postMessage({ event: { type: 'progress', progress: { epoch: 1, epochs: 1, batch: i, batches: 200, epochCost: 0, epochAccuracy: 0, samplesPerSecond: 0, elapsedMs: 0, etaMs: 0, costPoints, completedEpochs: [], padding } } });\n" +
        '    }\n' +
        '  }\n' +
        "  if (m.request.type === 'list-runs') {\n" +
        "    for (let i = 0; i < 2000; i++) parentPort.postMessage({ event: { type: 'notice', tone: 'info', message: 'x'.repeat(65536) } });\n" +
        '  }\n' +
        '  parentPort.postMessage({ id: m.id, response: { ok: true } });\n' +
        '});\n',
    );
    return file;
  };

  it('refuses requests beyond its limit in flight at once, and serves on', async () => {
    const host = await startWebHost({
      rendererDirectory: builtFile('out/renderer'),
      workerPath: await standIn(),
      dataDirectory: await tempDir('fmnist-web-data-'),
    });
    const origin = `http://127.0.0.1:${host.port}`;
    try {
      const socket = await open(host, `?token=${host.token}`, origin);
      const replies = new Map<number, WireAnswer>();
      socket.on('message', (data) => {
        const message = JSON.parse(String(data));
        if ('id' in message) replies.set(message.id, message.response);
      });
      for (let id = 1; id <= MAX_REQUESTS_IN_FLIGHT + 3; id++)
        socket.send(JSON.stringify({ id, request: { type: 'stop' } }));
      await expect.poll(() => replies.size).toBe(3);
      for (let id = MAX_REQUESTS_IN_FLIGHT + 1; id <= MAX_REQUESTS_IN_FLIGHT + 3; id++) {
        expect(replies.get(id)).toEqual({
          ok: false,
          error: `too many requests at once (at most ${MAX_REQUESTS_IN_FLIGHT} wait for answers)`,
        });
      }
      socket.close();
    } finally {
      await host.close();
    }
  });

  it('holds a slow page’s events while its socket is backed up, merging progress, and delivers every point in order', async () => {
    const host = await startWebHost({
      rendererDirectory: builtFile('out/renderer'),
      workerPath: await standIn(),
      dataDirectory: await tempDir('fmnist-web-data-'),
    });
    const origin = `http://127.0.0.1:${host.port}`;
    try {
      const socket = await open(host, `?token=${host.token}`, origin);
      const received: number[][] = [];
      let answered = false;
      let pointsBeforeAnswer = -1;
      socket.on('message', (data) => {
        const message = JSON.parse(String(data));
        if ('id' in message) {
          answered = true;
          pointsBeforeAnswer = received.reduce((sum, points) => sum + points.length, 0);
        } else received.push(message.event.progress.costPoints.map((p: [number, number]) => p[0]));
      });
      // The page stops reading: 400 events of 100 points and 64 KB (about 27 MB) pile up on the host's side.
      (socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      socket.send(JSON.stringify({ id: 1, request: { type: 'get-state' } }));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      (socket as unknown as { _socket: { resume(): void } })._socket.resume();
      await expect.poll(() => answered, { timeout: 10_000 }).toBe(true);
      await expect
        .poll(() => received.reduce((sum, points) => sum + points.length, 0), { timeout: 20_000 })
        .toBe(400 * 100);
      const points = received.flat();
      expect(points.every((value, i) => value === i)).toBe(true);
      // Merged while it waited: fewer messages than events; and the answer, sent after them, came after them.
      expect(received.length).toBeLessThan(400);
      expect(pointsBeforeAnswer).toBe(400 * 100);
      socket.close();
    } finally {
      await host.close();
    }
  });

  it('disconnects a page whose waiting progress holds more cost points than a run makes', async () => {
    const host = await startWebHost({
      rendererDirectory: builtFile('out/renderer'),
      workerPath: await standIn(),
      dataDirectory: await tempDir('fmnist-web-data-'),
    });
    const origin = `http://127.0.0.1:${host.port}`;
    try {
      const socket = await open(host, `?token=${host.token}`, origin);
      const closed = new Promise<number>((resolve) => socket.once('close', resolve));
      (socket as unknown as { _socket: { pause(): void } })._socket.pause();
      // 200 progress events of 1000 points: merged into one of over 100 000 points while the page reads nothing.
      socket.send(JSON.stringify({ id: 1, request: { type: 'evaluate' } }));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      (socket as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await closed).toBe(1006);
    } finally {
      await host.close();
    }
  });

  it('disconnects a page that falls too far behind, rather than hold its events without bound', async () => {
    const host = await startWebHost({
      rendererDirectory: builtFile('out/renderer'),
      workerPath: await standIn(),
      dataDirectory: await tempDir('fmnist-web-data-'),
    });
    const origin = `http://127.0.0.1:${host.port}`;
    try {
      const socket = await open(host, `?token=${host.token}`, origin);
      const closed = new Promise<number>((resolve) => socket.once('close', resolve));
      (socket as unknown as { _socket: { pause(): void } })._socket.pause();
      // 2000 notices of 64 KB: far more than the socket holds, and they do not merge.
      socket.send(JSON.stringify({ id: 1, request: { type: 'list-runs' } }));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      (socket as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await closed).toBe(1006);
    } finally {
      await host.close();
    }
  });
});
