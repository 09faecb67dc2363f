/**
 * whileLocked, the short-held lock of the runs folder's imports: one holder at a time across calls (however the
 * path is spelled) and processes, a lock left behind (by a process that is gone, by this process, or one naming no
 * process that is a few seconds old) taken over, a lock just made never taken from its maker, a release that removes
 * only its own lock, and a lock held elsewhere for too long, or that cannot be read, refused in one line.
 */

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { whileLocked } from '@core/records/lock-file';
import { thisProcess } from '@core/records/liveness';
import { tempDir } from '../../../helpers/data';

describe('whileLocked', () => {
  it('lets one call at a time do its work, and leaves no lock behind', async () => {
    const lock = join(await tempDir('fmnist-lock-'), '.test.lock');
    const log: string[] = [];
    const work = (name: string) => async () => {
      log.push(`${name} in`);
      expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
      await new Promise((resolve) => setTimeout(resolve, 30));
      log.push(`${name} out`);
      return name;
    };
    expect(await Promise.all([whileLocked(lock, work('a')), whileLocked(lock, work('b'))])).toEqual(['a', 'b']);
    expect(log).toEqual(['a in', 'a out', 'b in', 'b out']);
    expect(existsSync(lock)).toBe(false);
    await expect(whileLocked(lock, () => Promise.reject(new Error('failed inside')))).rejects.toThrow('failed inside');
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock left by a process that is gone, by this process, or never written', async () => {
    const dir = await tempDir('fmnist-lock-');
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    const left = [
      JSON.stringify({ pid: gone, host: hostname(), processStartedMs: Date.now() - 60_000, processIdentity: null }),
      JSON.stringify(await thisProcess()),
      '',
    ];
    for (const [i, text] of left.entries()) {
      const lock = join(dir, `left-${i}.lock`);
      await writeFile(lock, text);
      // One naming no process is stale once it is a few seconds old.
      if (text === '') await utimes(lock, new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
      expect(await whileLocked(lock, async () => 'done', 5_000)).toBe('done');
      expect(existsSync(lock)).toBe(false);
    }
    // Nothing of the takeovers is left beside the locks: no guard, no file of our own.
    expect((await readdir(dir)).sort()).toEqual([]);
  });

  it('does not take a lock that names no process yet from its maker, and removes only its own lock', async () => {
    const dir = await tempDir('fmnist-lock-');
    const lock = join(dir, 'new.lock');
    await writeFile(lock, '');
    await expect(whileLocked(lock, async () => 'never', 300)).rejects.toThrow(
      `${lock}: is held by another process, still busy after 0.3 s: try again`,
    );
    expect(await readFile(lock, 'utf8')).toBe('');

    // Work during which another process took the lock over (its maker judged gone): the release leaves theirs.
    const other = await tempDir('fmnist-lock-');
    const taken = join(other, 'taken.lock');
    const theirs = JSON.stringify({ pid: 4242, host: 'build-server', processStartedMs: 1, processIdentity: null });
    await whileLocked(taken, () => writeFile(taken, theirs));
    expect(await readFile(taken, 'utf8')).toBe(theirs);
  });

  it('queues the calls of one process however the lock’s path is spelled', async () => {
    const dir = await tempDir('fmnist-lock-');
    let inside = 0;
    let most = 0;
    const work = async () => {
      most = Math.max(most, ++inside);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inside--;
    };
    await Promise.all([
      whileLocked(join(dir, 'x.lock'), work),
      whileLocked(join(dir, '.', 'x.lock'), work),
      whileLocked(join(dir, '..', basename(dir), 'x.lock'), work),
    ]);
    expect(most).toBe(1);
  });

  it('waits for a lock held by another thread of this process', async () => {
    const lock = join(await tempDir('fmnist-lock-'), 'thread.lock');
    await writeFile(lock, JSON.stringify({ ...(await thisProcess()), thread: threadId + 1, token: 'theirs' }));
    await expect(whileLocked(lock, async () => 'never', 300)).rejects.toThrow(
      `${lock}: is held by process ${process.pid}, still busy after 0.3 s: try again`,
    );
    // The same lock naming this thread was left behind by it, and is taken over.
    await writeFile(lock, JSON.stringify({ ...(await thisProcess()), thread: threadId, token: 'mine' }));
    expect(await whileLocked(lock, async () => 'done', 300)).toBe('done');
  });

  it('takes over a stale lock past a takeover guard left by a process killed while it held it', async () => {
    const dir = await tempDir('fmnist-lock-');
    const lock = join(dir, 'guarded.lock');
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    const stale = { pid: gone, host: hostname(), processStartedMs: Date.now() - 60_000, processIdentity: null };
    for (const guardAgeMs of [60_000, 0]) {
      await writeFile(lock, JSON.stringify(stale));
      await writeFile(`${lock}.takeover`, JSON.stringify({ pid: gone, token: 'left' }));
      const guardDate = new Date(Date.now() - guardAgeMs);
      await utimes(`${lock}.takeover`, guardDate, guardDate);
      // A guard just made is waited for until it has stayed a few seconds (3 s).
      const started = performance.now();
      expect(await whileLocked(lock, async () => 'done', 10_000)).toBe('done');
      if (guardAgeMs === 0) expect(performance.now() - started).toBeGreaterThanOrEqual(2_500);
      expect(await readdir(dir)).toEqual([]);
    }
  });

  it('refuses in one line, at once, a lock that cannot be read', async () => {
    const lock = join(await tempDir('fmnist-lock-'), 'dir.lock');
    await mkdir(lock);
    const started = performance.now();
    await expect(whileLocked(lock, async () => 'never', 60_000)).rejects.toThrow(new RegExp(`^${lock}: `));
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('waits for a lock held on another computer, then refuses in one line naming it', async () => {
    const lock = join(await tempDir('fmnist-lock-'), '.test.lock');
    const elsewhere = { pid: 4242, host: 'build-server', processStartedMs: Date.now(), processIdentity: null };
    await writeFile(lock, JSON.stringify(elsewhere));
    const started = performance.now();
    await expect(whileLocked(lock, async () => 'never', 300)).rejects.toThrow(
      `${lock}: is held by process 4242 on build-server, still busy after 0.3 s: try again`,
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(JSON.parse(await readFile(lock, 'utf8'))).toEqual(elsewhere);
  });
});
