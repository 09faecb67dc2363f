/**
 * Telling whether a record's process still runs: its pid alive and started when the record says. Start times
 * come from the system (here Linux's /proc), compared with what `ps` says independently.
 */

import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PROCESS_STARTED_MS, processAlive, processStartMs, sameProcessAlive } from '../../../../src/core/runs/liveness';

describe('process liveness', () => {
  it.runIf(process.platform === 'linux')('reads a process’s start time as ps does (to the second)', () => {
    const ps = spawnSync('ps', ['-o', 'lstart=', '-p', String(process.pid)], { encoding: 'utf8' });
    const byPs = Date.parse(ps.stdout.trim());
    expect(Math.abs(processStartMs(process.pid)! - byPs)).toBeLessThan(1500);
    expect(Math.abs(PROCESS_STARTED_MS - byPs)).toBeLessThan(1500);
  });

  it('says a pid is another process when it started at another time, and a gone pid is no process', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    await new Promise((resolve) => child.once('spawn', resolve));
    const pid = child.pid!;
    const started = processStartMs(pid);
    expect(processAlive(pid)).toBe(true);
    if (started !== null) {
      expect(sameProcessAlive(pid, started)).toBe(true);
      // The same pid, but the record's process started an hour before: the pid was handed on.
      expect(sameProcessAlive(pid, started - 3_600_000)).toBe(false);
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(processAlive(pid)).toBe(false);
    expect(sameProcessAlive(pid, started ?? 0)).toBe(false);
    expect(processStartMs(-1)).toBeNull();
    expect(processStartMs(pid, 'aix')).toBeNull();
  });
});
