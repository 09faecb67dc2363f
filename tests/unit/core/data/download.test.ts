/**
 * Downloading Fashion-MNIST, against a local HTTP server standing in for the original host: success, a
 * transfer cut off and resumed with a range request, a server that cannot resume, a corrupted file refused
 * and removed, a server error, a stalled transfer, cancelling, a damaged file in place fetched again alone,
 * a move into place that fails part-way and is undone, and the real files' checksums.
 */

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendEvent, DownloadState } from '@core/shared/contract';
import { FmnistError } from '@core/shared/errors';
import {
  DataDownloads,
  type DownloadFile,
  downloadBaseUrl,
  downloadDataset,
  downloadMoveHooks,
  FASHION_MNIST_FILES,
  FASHION_MNIST_URL,
} from '@core/data/download';
import { NO_REAL_DATA, REAL_DATA_DIR, realDataAvailable, tempDir } from '../../../helpers/data';
import { type Mirror, startMirror } from '../../../helpers/mirror';

/** Four small stand-in files: random contents (so gzip cannot shrink them much) and their manifest. */
function fixtures(): { gz: Map<string, Buffer>; raw: Map<string, Buffer>; manifest: DownloadFile[] } {
  const gz = new Map<string, Buffer>();
  const raw = new Map<string, Buffer>();
  const manifest = FASHION_MNIST_FILES.map((file, i) => {
    const contents = randomBytes([300_000, 2_000, 120_000, 1_000][i]);
    const compressed = gzipSync(contents);
    raw.set(file.name, contents);
    gz.set(file.name, compressed);
    return {
      name: file.name,
      sha256: createHash('sha256').update(contents).digest('hex'),
      size: contents.length,
      compressedSize: compressed.length,
    };
  });
  return { gz, raw, manifest };
}

function serveAll(gz: Map<string, Buffer>): Record<string, { body: Buffer }> {
  return Object.fromEntries([...gz].map(([name, body]) => [`/${name}`, { body }]));
}

async function failure(promise: Promise<unknown>): Promise<FmnistError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FmnistError);
  return error as FmnistError;
}

describe('downloading Fashion-MNIST', () => {
  let mirror: Mirror | null = null;
  afterEach(async () => {
    await mirror?.close();
    mirror = null;
  });

  it('fetches the four files, verifies them and moves them into place, reporting progress', async () => {
    const { gz, raw, manifest } = fixtures();
    mirror = await startMirror(serveAll(gz));
    const directory = await tempDir('fmnist-download-');
    const states: DownloadState[] = [];
    await downloadDataset({ directory, baseUrl: mirror.url, files: manifest, onProgress: (s) => states.push(s) });

    for (const file of manifest)
      expect(gunzipSync(readFileSync(join(directory, file.name))).equals(raw.get(file.name)!)).toBe(true);
    expect((await readdir(directory)).sort()).toEqual(manifest.map((f) => f.name).sort());
    expect(mirror.requests.map((r) => r.path)).toEqual(manifest.map((f) => `/${f.name}`));
    const total = [...gz.values()].reduce((sum, b) => sum + b.length, 0);
    const last = states.at(-1)!;
    expect(last).toMatchObject({ status: 'finished', receivedBytes: total, totalBytes: total, error: null });
    for (let i = 1; i < states.length; i++)
      expect(states[i].receivedBytes).toBeGreaterThanOrEqual(states[i - 1].receivedBytes);
    expect(states.some((s) => s.status === 'verifying')).toBe(true);

    // Again: everything is there and verified, so nothing is fetched.
    await downloadDataset({ directory, baseUrl: mirror.url, files: manifest });
    expect(mirror.requests).toHaveLength(4);
  });

  it('resumes a transfer that was cut off with a range request for the rest', async () => {
    const { gz, raw, manifest } = fixtures();
    const big = manifest[0].name;
    mirror = await startMirror({ ...serveAll(gz), [`/${big}`]: { body: gz.get(big)!, cutAfter: 100_000 } });
    const directory = await tempDir('fmnist-download-');
    const error = await failure(downloadDataset({ directory, baseUrl: mirror.url, files: manifest }));
    expect(error.message).toMatch(
      new RegExp(
        `^${mirror.url}${big}: the connection dropped after 0\\.\\d MB of 0\\.3 MB; download again to continue where it stopped$`,
      ),
    );
    const kept = (await stat(join(directory, '.download', `${big}.part`))).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(100_000);
    expect(await readdir(directory)).toEqual(['.download']);

    mirror.files.set(`/${big}`, { body: gz.get(big)! });
    await downloadDataset({ directory, baseUrl: mirror.url, files: manifest });
    const second = mirror.requests.filter((r) => r.path === `/${big}`)[1];
    expect(second.range).toBe(`bytes=${kept}-`);
    expect(gunzipSync(readFileSync(join(directory, big))).equals(raw.get(big)!)).toBe(true);
    expect(existsSync(join(directory, '.download'))).toBe(false);
  });

  it('starts a file afresh when the server ignores the range request', async () => {
    const { gz, raw, manifest } = fixtures();
    const big = manifest[0].name;
    mirror = await startMirror({
      ...serveAll(gz),
      [`/${big}`]: { body: gz.get(big)!, cutAfter: 50_000, noRanges: true },
    });
    const directory = await tempDir('fmnist-download-');
    await failure(downloadDataset({ directory, baseUrl: mirror.url, files: manifest }));
    mirror.files.set(`/${big}`, { body: gz.get(big)!, noRanges: true });
    await downloadDataset({ directory, baseUrl: mirror.url, files: manifest });
    expect(gunzipSync(readFileSync(join(directory, big))).equals(raw.get(big)!)).toBe(true);
  });

  it('refuses and removes a file whose contents are not the published ones', async () => {
    const { gz, manifest } = fixtures();
    const labels = manifest[1].name;
    const corrupted = Buffer.from(gz.get(labels)!);
    corrupted[corrupted.length >> 1] ^= 0x40;
    mirror = await startMirror({ ...serveAll(gz), [`/${labels}`]: { body: corrupted } });
    const directory = await tempDir('fmnist-download-');
    const error = await failure(downloadDataset({ directory, baseUrl: mirror.url, files: manifest }));
    expect(error.message).toBe(
      `${mirror.url}${labels}: does not match Fashion-MNIST's published contents (damaged in transit, or not the original file); ` +
        'it was removed, so the next try starts it afresh',
    );
    expect(existsSync(join(directory, labels))).toBe(false);
    expect(existsSync(join(directory, '.download', `${labels}.part`))).toBe(false);
    // The file verified before waits in .download for the rest; none is in place until all are.
    expect(existsSync(join(directory, '.download', manifest[0].name))).toBe(true);
    expect(await readdir(directory)).toEqual(['.download']);
  });

  it('reports a server error in one line and writes nothing', async () => {
    const { gz, manifest } = fixtures();
    mirror = await startMirror({ ...serveAll(gz), [`/${manifest[0].name}`]: { body: Buffer.alloc(0), status: 503 } });
    const directory = await tempDir('fmnist-download-');
    const error = await failure(downloadDataset({ directory, baseUrl: mirror.url, files: manifest }));
    expect(error.message).toBe(
      `${mirror.url}${manifest[0].name}: the server answered 503 Service Unavailable; try again later`,
    );
    expect(await readdir(join(directory, '.download'))).toEqual([]);
  });

  it('reports a failure that is not the network’s (a redirect loop) by what fetch says', async () => {
    const { manifest } = fixtures();
    mirror = await startMirror({
      [`/${manifest[0].name}`]: { body: Buffer.alloc(0), redirect: `/${manifest[0].name}` },
    });
    const error = await failure(
      downloadDataset({ directory: await tempDir('fmnist-download-'), baseUrl: mirror.url, files: manifest }),
    );
    expect(error.message).toMatch(new RegExp(`^${mirror.url}${manifest[0].name}: .*redirect.*; try again$`));
  });

  it('says when the host cannot be reached', async () => {
    mirror = await startMirror();
    const url = mirror.url;
    await mirror.close();
    mirror = null;
    const error = await failure(
      downloadDataset({ directory: await tempDir('fmnist-download-'), baseUrl: url, files: fixtures().manifest }),
    );
    expect(error.message).toMatch(
      /: cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\); check the connection or proxy, then try again$/,
    );
  });

  it('gives up on a transfer that stalls, keeping what arrived', async () => {
    const { gz, manifest } = fixtures();
    const big = manifest[0].name;
    mirror = await startMirror({ ...serveAll(gz), [`/${big}`]: { body: gz.get(big)!, stallAfter: 40_000 } });
    const directory = await tempDir('fmnist-download-');
    const error = await failure(downloadDataset({ directory, baseUrl: mirror.url, files: manifest, stallMs: 300 }));
    expect(error.message).toMatch(
      /the connection dropped after 0\.\d MB of 0\.3 MB \(no data for a while\); download again/,
    );
    expect((await stat(join(directory, '.download', `${big}.part`))).size).toBe(40_000);
  });

  it('gives up on a server that takes the request and never answers it', async () => {
    const { gz, manifest } = fixtures();
    const big = manifest[0].name;
    mirror = await startMirror({ ...serveAll(gz), [`/${big}`]: { body: gz.get(big)!, silent: true } });
    const directory = await tempDir('fmnist-download-');
    const error = await failure(downloadDataset({ directory, baseUrl: mirror.url, files: manifest, stallMs: 300 }));
    expect(error.message).toMatch(/: the server sent nothing for 0\.3 s; try again$/);
  });

  it('stops when cancelled and keeps the partial file for the next try', async () => {
    const { gz, raw, manifest } = fixtures();
    const big = manifest[0].name;
    mirror = await startMirror({ ...serveAll(gz), [`/${big}`]: { body: gz.get(big)!, stallAfter: 60_000 } });
    const directory = await tempDir('fmnist-download-');
    const controller = new AbortController();
    const error = await failure(
      downloadDataset({
        directory,
        baseUrl: mirror.url,
        files: manifest,
        signal: controller.signal,
        onProgress: (s) => {
          if (s.receivedBytes >= 60_000) controller.abort();
        },
      }),
    );
    expect(error.kind).toBe('stopped');
    expect((await stat(join(directory, '.download', `${big}.part`))).size).toBe(60_000);
    mirror.files.set(`/${big}`, { body: gz.get(big)! });
    await downloadDataset({ directory, baseUrl: mirror.url, files: manifest });
    expect(mirror.requests.filter((r) => r.path === `/${big}`).at(-1)!.range).toBe('bytes=60000-');
    expect(gunzipSync(readFileSync(join(directory, big))).equals(raw.get(big)!)).toBe(true);
  });

  it('names the file it cannot write', async () => {
    const { gz, manifest } = fixtures();
    mirror = await startMirror(serveAll(gz));
    const parent = await tempDir('fmnist-download-');
    await writeFile(join(parent, 'a-file'), 'x');
    const error = await failure(
      downloadDataset({ directory: join(parent, 'a-file', 'data'), baseUrl: mirror.url, files: manifest }),
    );
    expect(error.message).toBe(`${join(parent, 'a-file', 'data')}: a part of this path is not a directory`);
  });

  it('uses $FMNIST_DOWNLOAD_URL as the mirror, else the original location', () => {
    expect(downloadBaseUrl({})).toBe(FASHION_MNIST_URL);
    expect(downloadBaseUrl({ FMNIST_DOWNLOAD_URL: 'https://example.org/fm' })).toBe('https://example.org/fm/');
  });

  it('knows the real files: their decompressed SHA-256 and sizes match the data set', async (ctx) => {
    ctx.skip(!realDataAvailable(), NO_REAL_DATA);
    for (const file of FASHION_MNIST_FILES) {
      const contents = gunzipSync(readFileSync(join(REAL_DATA_DIR, file.name)));
      expect({
        name: file.name,
        size: contents.length,
        sha256: createHash('sha256').update(contents).digest('hex'),
      }).toEqual({
        name: file.name,
        size: file.size,
        sha256: file.sha256,
      });
    }
  });

  it('downloads the real files from a mirror, announces progress as events and then loads them', async (ctx) => {
    ctx.skip(!realDataAvailable(), NO_REAL_DATA);
    mirror = await startMirror(
      Object.fromEntries(
        FASHION_MNIST_FILES.map((f) => [`/${f.name}`, { body: readFileSync(join(REAL_DATA_DIR, f.name)) }]),
      ),
    );
    const directory = await tempDir('fmnist-download-');
    const events: BackendEvent[] = [];
    let loaded = 0;
    const downloads = new DataDownloads(
      directory,
      (e) => events.push(e),
      async () => ({ ok: true, loaded: ++loaded }) as never,
      {
        FMNIST_DOWNLOAD_URL: mirror.url,
      },
    );
    const result = await downloads.start();
    expect(result.ok).toBe(true);
    expect(loaded).toBe(1);
    expect(downloads.current.status).toBe('finished');
    const statuses = events.map((e) => (e.type === 'download' ? e.download.status : null));
    expect(statuses[0]).toBe('downloading');
    expect(statuses.at(-1)).toBe('finished');
    for (const file of FASHION_MNIST_FILES)
      expect(readFileSync(join(directory, file.name)).equals(readFileSync(join(REAL_DATA_DIR, file.name)))).toBe(true);
  });

  it('loads nothing when cancelled while the last file is checked', async (ctx) => {
    ctx.skip(!realDataAvailable(), NO_REAL_DATA);
    mirror = await startMirror(
      Object.fromEntries(
        FASHION_MNIST_FILES.map((f) => [`/${f.name}`, { body: readFileSync(join(REAL_DATA_DIR, f.name)) }]),
      ),
    );
    let loads = 0;
    const last = FASHION_MNIST_FILES.at(-1)!.name;
    const downloads: DataDownloads = new DataDownloads(
      await tempDir('fmnist-download-'),
      (event) => {
        if (event.type === 'download' && event.download.status === 'verifying' && event.download.file === last)
          downloads.cancel();
      },
      async () => {
        loads++;
        return { ok: false, error: 'not expected to load' };
      },
      { FMNIST_DOWNLOAD_URL: mirror.url },
    );
    expect(await downloads.start()).toEqual({ ok: true, cancelled: true });
    expect(loads).toBe(0);
    expect(downloads.current.status).toBe('cancelled');
  });

  it('publishes a failure and a cancellation, and refuses a second download at the same time', async () => {
    const { gz, manifest } = fixtures();
    mirror = await startMirror({
      ...serveAll(gz),
      [`/${manifest[0].name}`]: { body: gz.get(manifest[0].name)!, stallAfter: 1000 },
    });
    const events: BackendEvent[] = [];
    const downloads = new DataDownloads(
      await tempDir('fmnist-download-'),
      (e) => events.push(e),
      async () => ({ ok: false, error: 'not expected to load' }),
      {
        FMNIST_DOWNLOAD_URL: mirror.url,
      },
    );
    const running = downloads.start();
    await expect.poll(() => downloads.current.receivedBytes).toBeGreaterThan(0);
    expect(await downloads.start()).toEqual({ ok: false, error: 'Fashion-MNIST is already downloading' });
    expect(downloads.cancel()).toEqual({ ok: true });
    expect(await running).toEqual({ ok: true, cancelled: true });
    expect(downloads.current).toMatchObject({ status: 'cancelled', error: null });

    await mirror.close();
    mirror = null;
    const failed = await downloads.start();
    expect(failed.ok).toBe(false);
    expect(downloads.current.status).toBe('failed');
    expect(downloads.current.error).toMatch(/cannot reach/);
  });
});

describe('downloading Fashion-MNIST: what is not the original', () => {
  let mirror: Mirror | null = null;
  afterEach(async () => {
    await mirror?.close();
    mirror = null;
  });

  it('refuses a file announced, or sent, far larger than the original', async () => {
    const { gz, manifest } = fixtures();
    const labels = manifest[1].name;
    const huge = randomBytes(manifest[1].compressedSize * 5);
    mirror = await startMirror({ ...serveAll(gz), [`/${labels}`]: { body: huge } });
    const directory = await tempDir('fmnist-download-');
    expect((await failure(downloadDataset({ directory, baseUrl: mirror.url, files: manifest }))).message).toMatch(
      new RegExp(`${labels}: is 0\\.0 MB, far more than Fashion-MNIST's 0\\.0 MB: not the original file$`),
    );
    mirror.files.set(`/${labels}`, { body: huge, chunked: true });
    expect((await failure(downloadDataset({ directory, baseUrl: mirror.url, files: manifest }))).message).toMatch(
      new RegExp(`${labels}: sends more than 0\\.0 MB: not the original file$`),
    );
  });

  it('checks a partial file that is already longer than the file, and starts afresh when it is wrong', async () => {
    const { gz, raw, manifest } = fixtures();
    const labels = manifest[1].name;
    mirror = await startMirror(serveAll(gz));
    const directory = await tempDir('fmnist-download-');
    await mkdir(join(directory, '.download'), { recursive: true });
    await writeFile(
      join(directory, '.download', `${labels}.part`),
      Buffer.concat([gz.get(labels)!, Buffer.from('left over')]),
    );
    const error = await failure(downloadDataset({ directory, baseUrl: mirror.url, files: manifest }));
    expect(error.message).toMatch(/does not match Fashion-MNIST's published contents/);
    expect(mirror.requests.find((r) => r.path === `/${labels}`)!.range).toBe(`bytes=${gz.get(labels)!.length + 9}-`);
    await downloadDataset({ directory, baseUrl: mirror.url, files: manifest });
    expect(gunzipSync(readFileSync(join(directory, labels))).equals(raw.get(labels)!)).toBe(true);
  });

  it('names the file it cannot write or move into place', async () => {
    const { gz, manifest } = fixtures();
    mirror = await startMirror(serveAll(gz));
    const blockedPart = await tempDir('fmnist-download-');
    await mkdir(join(blockedPart, '.download', `${manifest[0].name}.part`), { recursive: true });
    expect(
      (await failure(downloadDataset({ directory: blockedPart, baseUrl: mirror.url, files: manifest }))).message,
    ).toBe(`${join(blockedPart, '.download', `${manifest[0].name}.part`)}: is a directory, expected a file`);
    const blockedTarget = await tempDir('fmnist-download-');
    await mkdir(join(blockedTarget, manifest[0].name, 'inside'), { recursive: true });
    expect(
      (await failure(downloadDataset({ directory: blockedTarget, baseUrl: mirror.url, files: manifest }))).message,
    ).toMatch(new RegExp(`^${join(blockedTarget, manifest[0].name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    // Nothing was moved into place, and the folder in the way of the move is still there.
    expect(existsSync(join(blockedTarget, manifest[0].name, 'inside'))).toBe(true);
    expect((await readdir(blockedTarget)).sort()).toEqual(['.download', manifest[0].name]);
    const blockedStaged = await tempDir('fmnist-download-');
    await mkdir(join(blockedStaged, '.download', manifest[0].name, 'inside'), { recursive: true });
    expect(
      (await failure(downloadDataset({ directory: blockedStaged, baseUrl: mirror.url, files: manifest }))).message,
    ).toMatch(
      new RegExp(`^${join(blockedStaged, '.download', manifest[0].name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `),
    );
  });

  it('reports a URL it cannot even request in one line', async () => {
    const error = await failure(
      downloadDataset({
        directory: await tempDir('fmnist-download-'),
        baseUrl: 'not a url/',
        files: fixtures().manifest,
      }),
    );
    expect(error.message).toBe('not a url/train-images-idx3-ubyte.gz: is not a valid URL (check $FMNIST_DOWNLOAD_URL)');
  });
});

describe('downloading Fashion-MNIST: files already in place, and the move into place', () => {
  let mirror: Mirror | null = null;
  afterEach(async () => {
    downloadMoveHooks.beforeRename = undefined;
    await mirror?.close();
    mirror = null;
  });

  /** How many requests the mirror got for each file. */
  function requestsPerFile(manifest: readonly DownloadFile[]): Record<string, number> {
    return Object.fromEntries(
      manifest.map((f) => [f.name, mirror!.requests.filter((r) => r.path === `/${f.name}`).length]),
    );
  }

  function damage(body: Buffer): Buffer {
    const copy = Buffer.from(body);
    copy[copy.length >> 1] ^= 0x40;
    return copy;
  }

  it('fetches again only the file that is damaged in place, keeping the verified ones', async () => {
    const { gz, raw, manifest } = fixtures();
    mirror = await startMirror(serveAll(gz));
    const directory = await tempDir('fmnist-download-');
    await downloadDataset({ directory, baseUrl: mirror.url, files: manifest });
    const labels = manifest[1].name;
    await writeFile(join(directory, labels), damage(gz.get(labels)!));

    await downloadDataset({ directory, baseUrl: mirror.url, files: manifest });
    expect(requestsPerFile(manifest)).toEqual(
      Object.fromEntries(manifest.map((f) => [f.name, f.name === labels ? 2 : 1])),
    );
    for (const file of manifest)
      expect(gunzipSync(readFileSync(join(directory, file.name))).equals(raw.get(file.name)!)).toBe(true);
    expect((await readdir(directory)).sort()).toEqual(manifest.map((f) => f.name).sort());
  });

  it('moves the set into place all or nothing: a rename failing part-way leaves the folder as it was', async () => {
    const { gz, raw, manifest } = fixtures();
    mirror = await startMirror(serveAll(gz));
    const directory = await tempDir('fmnist-download-');
    // A damaged file in place, which the move replaces before it fails, so it has to come back too.
    const labels = manifest[1].name;
    const damaged = damage(gz.get(labels)!);
    await writeFile(join(directory, labels), damaged);
    // The last file cannot be moved in (as on Windows when another program holds a file of that name open).
    const last = join(directory, manifest[3].name);
    downloadMoveHooks.beforeRename = (_from, to) => {
      if (to === last) throw Object.assign(new Error('EBUSY: resource busy or locked'), { code: 'EBUSY' });
    };
    const error = await failure(downloadDataset({ directory, baseUrl: mirror.url, files: manifest }));
    expect(error.message).toBe(`${last}: the file or device is busy (in use by another program)`);
    expect(readFileSync(join(directory, labels)).equals(damaged)).toBe(true);
    for (const file of manifest.filter((f) => f.name !== labels))
      expect(existsSync(join(directory, file.name))).toBe(false);
    expect((await readdir(directory)).sort()).toEqual(['.download', labels]);

    // The verified files wait in .download, so the next try fetches nothing and moves them all in.
    downloadMoveHooks.beforeRename = undefined;
    await downloadDataset({ directory, baseUrl: mirror.url, files: manifest });
    expect(requestsPerFile(manifest)).toEqual(Object.fromEntries(manifest.map((f) => [f.name, 1])));
    for (const file of manifest)
      expect(gunzipSync(readFileSync(join(directory, file.name))).equals(raw.get(file.name)!)).toBe(true);
    expect((await readdir(directory)).sort()).toEqual(manifest.map((f) => f.name).sort());
  });

  it('undoes the rest of a failed move when one undo fails too; the file left in place is kept by the next try', async () => {
    const { gz, raw, manifest } = fixtures();
    mirror = await startMirror(serveAll(gz));
    const directory = await tempDir('fmnist-download-');
    const labels = manifest[1].name;
    const damaged = damage(gz.get(labels)!);
    await writeFile(join(directory, labels), damaged);
    const first = manifest[0].name;
    const last = join(directory, manifest[3].name);
    downloadMoveHooks.beforeRename = (from, to) => {
      if (to === last) throw Object.assign(new Error('EBUSY: resource busy or locked'), { code: 'EBUSY' });
      // Taking the first file back out fails as well.
      if (from === join(directory, first))
        throw Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' });
    };
    const error = await failure(downloadDataset({ directory, baseUrl: mirror.url, files: manifest }));
    expect(error.message).toBe(`${last}: the file or device is busy (in use by another program)`);
    expect(gunzipSync(readFileSync(join(directory, first))).equals(raw.get(first)!)).toBe(true);
    expect(readFileSync(join(directory, labels)).equals(damaged)).toBe(true);
    for (const file of manifest.slice(2)) expect(existsSync(join(directory, file.name))).toBe(false);
    expect((await readdir(directory)).sort()).toEqual(['.download', first, labels].sort());

    downloadMoveHooks.beforeRename = undefined;
    await downloadDataset({ directory, baseUrl: mirror.url, files: manifest });
    expect(requestsPerFile(manifest)).toEqual(Object.fromEntries(manifest.map((f) => [f.name, 1])));
    for (const file of manifest)
      expect(gunzipSync(readFileSync(join(directory, file.name))).equals(raw.get(file.name)!)).toBe(true);
    expect((await readdir(directory)).sort()).toEqual(manifest.map((f) => f.name).sort());
  });
});
