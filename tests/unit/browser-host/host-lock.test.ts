/**
 * The browser host's lock on its data folder (host.json): taken once, found by a second start, released only by
 * its holder, taken over from a holder that is gone or a file that is not a lock, and given up on in one line
 * when hosts keep replacing it.
 */

import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROCESS_STARTED_MS, processIdentity } from '@core/records/liveness';
import { claimDataFolder, HOST_LOCK_FILE } from '../../../src/browser-host/host-lock';
import { tempDir } from '../../helpers/data';
import { deadPid } from '../../helpers/runs';

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    rename: vi.fn(actual.rename),
    unlink: vi.fn(actual.unlink),
    readFile: vi.fn(actual.readFile),
    link: vi.fn(actual.link),
  };
});

afterEach(() => {
  vi.mocked(fs.rename).mockRestore();
  vi.mocked(fs.unlink).mockRestore();
  vi.mocked(fs.readFile).mockRestore();
  vi.mocked(fs.link).mockRestore();
});

describe('the browser host’s lock on its data folder', () => {
  it('is held by the first claim, found by the next with the address once known, and released by its holder only', async () => {
    const folder = await tempDir('fmnist-lock-');
    const first = await claimDataFolder(folder);
    if (!('lock' in first)) throw new Error('not claimed');
    await first.lock.setUrl('http://127.0.0.1:1234/?token=t');
    expect(await claimDataFolder(folder)).toEqual({
      running: {
        url: 'http://127.0.0.1:1234/?token=t',
        pid: process.pid,
        otherHost: null,
        file: join(folder, HOST_LOCK_FILE),
      },
    });
    // Another holder's lock (the file replaced) is not removed by an old holder's release.
    const other = JSON.stringify({ pid: process.ppid, processStartedMs: 1, host: 'elsewhere', url: null });
    await writeFile(join(folder, HOST_LOCK_FILE), other);
    await first.lock.release();
    expect(await readFile(join(folder, HOST_LOCK_FILE), 'utf8')).toBe(other);
  });

  it('takes over a file that is no lock, and a lock whose process is gone', async () => {
    for (const contents of [
      'not json',
      JSON.stringify({ pid: 'x', processStartedMs: PROCESS_STARTED_MS, host: hostname() }),
      JSON.stringify({ pid: deadPid(), processStartedMs: PROCESS_STARTED_MS, host: hostname(), url: null }),
    ]) {
      const folder = await tempDir('fmnist-lock-');
      await writeFile(join(folder, HOST_LOCK_FILE), contents);
      const claim = await claimDataFolder(folder);
      expect('lock' in claim).toBe(true);
      expect(JSON.parse(await readFile(join(folder, HOST_LOCK_FILE), 'utf8'))).toMatchObject({
        pid: process.pid,
        host: hostname(),
      });
    }
  });

  it('waits for a holder that is still starting to say where it listens, and stops waiting if it goes', async () => {
    const folder = await tempDir('fmnist-lock-');
    const starting = {
      pid: process.ppid,
      processStartedMs: 0,
      processIdentity: await processIdentity(process.ppid),
      host: hostname(),
      url: null,
    };
    await writeFile(join(folder, HOST_LOCK_FILE), JSON.stringify(starting));
    setTimeout(
      () =>
        void writeFile(
          join(folder, HOST_LOCK_FILE),
          JSON.stringify({ ...starting, url: 'http://127.0.0.1:9/?token=late' }),
        ),
      300,
    );
    expect(await claimDataFolder(folder)).toEqual({
      running: {
        url: 'http://127.0.0.1:9/?token=late',
        pid: process.ppid,
        otherHost: null,
        file: join(folder, HOST_LOCK_FILE),
      },
    });
    // The holder's lock goes while it is awaited: its address is not known.
    await writeFile(join(folder, HOST_LOCK_FILE), JSON.stringify(starting));
    setTimeout(() => void writeFile(join(folder, HOST_LOCK_FILE), 'gone'), 300);
    expect(await claimDataFolder(folder)).toEqual({
      running: { url: null, pid: process.ppid, otherHost: null, file: join(folder, HOST_LOCK_FILE) },
    });
  });

  it('goes on when a file it removes cannot be removed (held open elsewhere): the lock stays taken, the release quiet', async () => {
    const folder = await tempDir('fmnist-lock-');
    await writeFile(join(folder, HOST_LOCK_FILE), 'not json');
    vi.mocked(fs.unlink).mockRejectedValue(Object.assign(new Error('EBUSY'), { code: 'EBUSY' }));
    const claim = await claimDataFolder(folder);
    if (!('lock' in claim)) throw new Error('not claimed');
    await expect(claim.lock.release()).resolves.toBeUndefined();
    expect(JSON.parse(await readFile(join(folder, HOST_LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
  });

  it('lets only one of two hosts take over a stale lock at once, however their steps interleave', async () => {
    for (let round = 0; round < 5; round++) {
      const folder = await tempDir('fmnist-lock-');
      await writeFile(
        join(folder, HOST_LOCK_FILE),
        JSON.stringify({ pid: deadPid(), processStartedMs: 0, host: hostname(), url: null }),
      );
      // Each read and removal of the lock waits a while, so both hosts judge the lock stale before either removes it,
      // and their take-overs overlap.
      const file = join(folder, HOST_LOCK_FILE);
      const actualRead = vi.mocked(fs.readFile).getMockImplementation()!;
      const actualUnlink = vi.mocked(fs.unlink).getMockImplementation()!;
      const pause = () => new Promise((resolve) => setTimeout(resolve, 50 + 100 * Math.random()));
      vi.mocked(fs.readFile).mockImplementation((async (path: string, ...rest: unknown[]) => {
        if (path === file) await pause();
        return (actualRead as (...args: unknown[]) => unknown)(path, ...rest);
      }) as typeof fs.readFile);
      vi.mocked(fs.unlink).mockImplementation(async (path) => {
        if (path === file) await pause();
        return actualUnlink(path);
      });
      const pending = [claimDataFolder(folder), claimDataFolder(folder)];
      // The winner says where it listens (as a host does once it listens), so the other need not wait long.
      const first = await Promise.race(pending);
      if ('lock' in first) await first.lock.setUrl('http://127.0.0.1:1/?token=winner');
      const claims = await Promise.all(pending);
      vi.mocked(fs.readFile).mockImplementation(actualRead);
      vi.mocked(fs.unlink).mockImplementation(actualUnlink);
      expect(claims.filter((claim) => 'lock' in claim)).toHaveLength(1);
      expect(claims.filter((claim) => 'running' in claim)).toHaveLength(1);
      expect(JSON.parse(await readFile(join(folder, HOST_LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    }
  });

  it('takes the folder when the lock cannot be read at first, or vanishes or cannot be read under the take-over’s guard', async () => {
    const folder = await tempDir('fmnist-lock-');
    const file = join(folder, HOST_LOCK_FILE);
    const guard = `${file}.takeover`;
    await writeFile(file, 'not json');
    const actualRead = vi.mocked(fs.readFile).getMockImplementation()!;
    // The lock cannot be read when first looked at; under the guard, the first look fails and at the second the
    // lock is gone (removed by someone else): the next attempt creates it.
    let reads = 0;
    let guarded = 0;
    vi.mocked(fs.readFile).mockImplementation((async (path: string, ...rest: unknown[]) => {
      if (path === file && reads++ === 0) throw Object.assign(new Error('EIO'), { code: 'EIO' });
      if (path === file && existsSync(guard)) {
        guarded++;
        if (guarded === 1) throw Object.assign(new Error('EIO'), { code: 'EIO' });
        if (guarded === 2) {
          await fs.unlink(file);
          throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
        }
      }
      return (actualRead as (...args: unknown[]) => unknown)(path, ...rest);
    }) as typeof fs.readFile);
    const claim = await claimDataFolder(folder);
    expect('lock' in claim).toBe(true);
    vi.mocked(fs.readFile).mockImplementation(actualRead);
    expect(guarded).toBe(2);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid });
    // Nothing of the take-overs is left: no guard, no file of a lock's maker, nothing moved aside.
    expect(await readdir(folder)).toEqual([HOST_LOCK_FILE]);
  });

  it('gives up in one line when the stale lock can be neither removed nor moved aside, time after time', async () => {
    const folder = await tempDir('fmnist-lock-');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, HOST_LOCK_FILE), 'not json');
    vi.mocked(fs.rename).mockRejectedValue(Object.assign(new Error('EBUSY'), { code: 'EBUSY' }));
    vi.mocked(fs.unlink).mockRejectedValue(Object.assign(new Error('EBUSY'), { code: 'EBUSY' }));
    await expect(claimDataFolder(folder)).rejects.toThrow(
      `${join(folder, HOST_LOCK_FILE)}: is held by browser hosts that keep starting and stopping: try again (or, if none runs, delete ${join(folder, HOST_LOCK_FILE)})`,
    );
  });
});
