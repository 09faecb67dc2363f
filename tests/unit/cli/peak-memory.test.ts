/**
 * `fmnist train` reports the process's peak resident memory: checked against the kernel's own high-water
 * mark of the child (VmHWM in /proc/<pid>/status), read while it runs.
 */

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtFile } from '../../helpers/data';

const procAvailable = existsSync(`/proc/${process.pid}/status`);

/** VmHWM of a process in MB, or null once it is gone. */
function highWaterMb(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

describe('fmnist train peak memory', () => {
  if (!procAvailable) it.skip('needs /proc to read a process’s high-water mark (Linux only)', () => {});

  /** A short training run of the built CLI, with the child's high-water mark as last seen before it ended. */
  async function train(
    json: boolean,
  ): Promise<{ code: number | null; stdout: string; stderr: string; lastSeen: number }> {
    const args = [
      'train',
      '--epochs',
      '1',
      '--limit',
      '3000',
      '--hidden',
      '64',
      '--no-record',
      ...(json ? ['--json'] : []),
    ];
    const child = spawn(process.execPath, [builtFile('out/node/fmnist.js'), ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, FMNIST_STUDIO_DATA: process.env.FMNIST_STUDIO_DATA },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let lastSeen = 0;
    const poll = setInterval(() => {
      const mb = highWaterMb(child.pid!);
      if (mb !== null) lastSeen = mb;
    }, 5);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearInterval(poll);
    return { code, stdout, stderr, lastSeen };
  }

  it.skipIf(!procAvailable)(
    'is the high-water mark the kernel keeps for the process',
    async () => {
      const { code, stdout, lastSeen } = await train(true);
      expect(code).toBe(0);
      const summary = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .find((line) => line.type === 'summary');
      expect(Number.isInteger(summary.peakMemoryMb)).toBe(true);
      // Both are the same high-water mark, read at slightly different times (the summary just before exit).
      expect(lastSeen).toBeGreaterThan(30);
      expect(Math.abs(summary.peakMemoryMb - lastSeen)).toBeLessThan(10);

      const text = await train(false);
      expect(text.code).toBe(0);
      const said = Number(/^Finished after 1 epoch in .*; peak memory (\d+) MB\.$/m.exec(text.stderr)?.[1]);
      expect(Math.abs(said - text.lastSeen)).toBeLessThan(10);
    },
    60_000,
  );
});
