/**
 * Whether the process that wrote a record is still the one running: a pid alone proves nothing once the
 * process is gone (the system hands the number to the next process), so a record also carries when its
 * process started, and a live pid counts only when the process behind it started at that time. Start times
 * come from the system, the same way for the writer and the reader: Linux `/proc/PID/stat` (ticks since
 * boot) with the boot time of `/proc/stat`; macOS `ps -o lstart=`; Windows the process's CreationDate.
 */

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Start times of one process, measured twice, differ by less than this (boot time and `ps` round to 1 s). */
export const START_TOLERANCE_MS = 2000;

/** Whether a process with this pid exists (EPERM: it does, but belongs to someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let bootMs: number | null | undefined;

function linuxBootMs(): number | null {
  if (bootMs !== undefined) return bootMs;
  try {
    const line = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    bootMs = line ? Number(line[1]) * 1000 : null;
  } catch {
    bootMs = null;
  }
  return bootMs;
}

/** Clock ticks per second of /proc's times: 100 on every Linux architecture Node runs on. */
const LINUX_TICKS_PER_SECOND = 100;

function linuxStartMs(pid: number): number | null {
  const boot = linuxBootMs();
  if (boot === null) return null;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces or parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Field 22, starttime, is the 20th after the command name.
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? boot + (ticks / LINUX_TICKS_PER_SECOND) * 1000 : null;
}

function commandOutput(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'], windowsHide: true }).trim();
  } catch {
    return null;
  }
}

function macStartMs(pid: number): number | null {
  const text = commandOutput('ps', ['-o', 'lstart=', '-p', String(pid)]);
  const ms = text ? Date.parse(text) : NaN;
  return Number.isFinite(ms) ? ms : null;
}

function windowsStartMs(pid: number): number | null {
  const text = commandOutput('powershell.exe', [
    '-NoProfile',
    '-NonInteractive',
    '-Command',
    `(Get-Process -Id ${pid} -ErrorAction Stop).StartTime.ToUniversalTime().ToString('o')`,
  ]);
  const ms = text ? Date.parse(text) : NaN;
  return Number.isFinite(ms) ? ms : null;
}

/** When a process started (ms since 1970), as the system says; null when it cannot tell (or no such process). */
export function processStartMs(pid: number, platform: NodeJS.Platform = process.platform): number | null {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  if (platform === 'linux') return linuxStartMs(pid);
  if (platform === 'darwin') return macStartMs(pid);
  if (platform === 'win32') return windowsStartMs(pid);
  return null;
}

/** This process's start time, measured as processStartMs measures others' (Node's own uptime where it cannot). */
export const PROCESS_STARTED_MS = Math.round(processStartMs(process.pid) ?? Date.now() - process.uptime() * 1000);

/**
 * Whether the process `pid` that started at `startedMs` is running: the pid is alive and, where the system
 * tells start times, its process started then (else the pid was handed to another process since).
 */
export function sameProcessAlive(pid: number, startedMs: number): boolean {
  if (!processAlive(pid)) return false;
  const started = processStartMs(pid);
  return started === null || Math.abs(started - startedMs) <= START_TOLERANCE_MS;
}
