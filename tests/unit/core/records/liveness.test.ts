/**
 * Telling whether a record's process still runs: its pid alive and its identity (on Linux, the boot's id and
 * the start time in ticks) the same, so a pid handed on to another process does not count; records from
 * before identities are judged by their start time in ms, compared with what `ps` says independently.
 */

import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  HOST_NAME,
  isThisProcess,
  PROCESS_STARTED_MS,
  processAlive,
  processIdentity,
  recordedProcessAlive,
  thisProcess,
} from '@core/records/liveness';

describe('process liveness', () => {
  it.runIf(process.platform === 'linux')(
    'knows a process by its boot and start ticks; an old record by its start time, as ps tells it',
    async () => {
      const identity = await processIdentity(process.pid);
      const boot = spawnSync('cat', ['/proc/sys/kernel/random/boot_id'], { encoding: 'utf8' }).stdout.trim();
      expect(identity).toMatch(new RegExp(`^linux:${boot}:\\d+$`));
      const byPs = Date.parse(
        spawnSync('ps', ['-o', 'lstart=', '-p', String(process.pid)], { encoding: 'utf8' }).stdout.trim(),
      );
      expect(Math.abs(PROCESS_STARTED_MS - byPs)).toBeLessThan(1500);
      // A record without an identity, of this process: judged by its start time.
      expect(await recordedProcessAlive({ pid: process.pid, host: HOST_NAME, processStartedMs: byPs })).toBe(true);
      expect(
        await recordedProcessAlive({ pid: process.pid, host: HOST_NAME, processStartedMs: byPs - 3_600_000 }),
      ).toBe(false);
    },
  );

  it('says a pid is another process when its identity differs, and a gone pid is no process', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    await new Promise((resolve) => child.once('spawn', resolve));
    const pid = child.pid!;
    const identity = await processIdentity(pid);
    const recorded = { pid, host: HOST_NAME, processStartedMs: Date.now(), processIdentity: identity };
    expect(processAlive(pid)).toBe(true);
    expect(await recordedProcessAlive(recorded)).toBe(true);
    if (identity !== null)
      expect(await recordedProcessAlive({ ...recorded, processIdentity: `${identity}0` })).toBe(false);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(processAlive(pid)).toBe(false);
    expect(await recordedProcessAlive(recorded)).toBe(false);
    expect(await processIdentity(-1)).toBeNull();
    expect(await processIdentity(pid, 'aix')).toBeNull();
  });

  it('knows this very process, and not another with its pid', async () => {
    const own = await thisProcess();
    expect(own).toMatchObject({ pid: process.pid, host: HOST_NAME, processStartedMs: PROCESS_STARTED_MS });
    expect(await isThisProcess(own)).toBe(true);
    expect(await isThisProcess({ ...own, processIdentity: 'linux:other-boot:1' })).toBe(own.processIdentity === null);
    expect(await isThisProcess({ ...own, host: 'elsewhere' })).toBe(false);
  });
});
