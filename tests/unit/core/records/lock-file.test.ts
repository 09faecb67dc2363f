/**
 * whileLocked, the short-held lock of the runs folder's imports: one holder at a time across calls and processes,
 * a lock left behind (by a process that is gone, by this process, or half-written) taken over, and a lock held
 * elsewhere for too long refused in one line naming its holder.
 */

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
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
      expect(await whileLocked(lock, async () => 'done', 5_000)).toBe('done');
      expect(existsSync(lock)).toBe(false);
    }
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
