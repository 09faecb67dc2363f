/**
 * Whether the process that wrote a record (or holds a lock) is still the one running: a pid alone proves
 * nothing once the process is gone (the system hands the number to the next process), so a record also
 * carries its process's identity, which no later process shares:
 *  - Linux: the boot's id and the process's start time in clock ticks since boot (`/proc/PID/stat`), both
 *    exact and unmoved by changes of the wall clock;
 *  - macOS: `ps -o lstart=` (in the C locale), to the second;
 *  - Windows: the process's StartTime, to the tick.
 * A live pid counts only when its identity matches. Records from before identities, or from a system that
 * gives none, fall back to the start time in ms (within START_TOLERANCE_MS), or to the pid alone.
 */

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

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

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Field 22 of /proc/PID/stat (start time in ticks since boot), counted from after the command name. */
function linuxStartTicks(pid: number): string | null {
  const stat = readText(`/proc/${pid}/stat`);
  // The command name (field 2) is in parentheses and may hold spaces or parentheses: count from the last ')'.
  const ticks = stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return ticks && /^\d+$/.test(ticks) ? ticks : null;
}

function commandOutput(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(command, args, { encoding: 'utf8', timeout: 5000, windowsHide: true, env }, (error, stdout) =>
      resolve(error ? null : stdout.trim() || null),
    );
  });
}

/** A process's identity (see the header); null when the system does not say (or there is no such process). */
export async function processIdentity(
  pid: number,
  platform: NodeJS.Platform = process.platform,
): Promise<string | null> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  if (platform === 'linux') {
    const boot = readText('/proc/sys/kernel/random/boot_id')?.trim();
    const ticks = linuxStartTicks(pid);
    return boot && ticks ? `linux:${boot}:${ticks}` : null;
  }
  if (platform === 'darwin') {
    const started = await commandOutput('ps', ['-o', 'lstart=', '-p', String(pid)], { ...process.env, LC_ALL: 'C' });
    return started ? `darwin:${started.replace(/\s+/g, ' ')}` : null;
  }
  if (platform === 'win32') {
    const started = await commandOutput('powershell.exe', [
      '-NoProfile',
      '-NonInteractive',
      '-Command',
      `(Get-Process -Id ${pid} -ErrorAction Stop).StartTime.ToUniversalTime().Ticks`,
    ]);
    return started ? `win32:${started}` : null;
  }
  return null;
}

let ownIdentity: Promise<string | null> | null = null;

/** This process's identity, asked of the system once. */
export function thisProcessIdentity(): Promise<string | null> {
  ownIdentity ??= processIdentity(process.pid);
  return ownIdentity;
}

/** When this process started (ms since 1970), from Node's own uptime: shown, and compared for old records. */
export const PROCESS_STARTED_MS = Math.round(Date.now() - process.uptime() * 1000);

/** This computer's name, as records and locks name the computer that wrote them. */
export const HOST_NAME = hostname();

/** What a record (or a lock) says of the process that writes it. */
export interface RecordedProcess {
  pid: number;
  host: string;
  processStartedMs: number;
  /** The process's identity (absent in records written before identities were kept). */
  processIdentity?: string | null;
}

/** The fields a record or lock written now carries for this process. */
export async function thisProcess(): Promise<RecordedProcess> {
  return {
    pid: process.pid,
    host: HOST_NAME,
    processStartedMs: PROCESS_STARTED_MS,
    processIdentity: await thisProcessIdentity(),
  };
}

/**
 * Whether the recorded process is this very process: same pid, and same identity (or, lacking one, a start
 * time within the tolerance).
 */
export async function isThisProcess(recorded: RecordedProcess): Promise<boolean> {
  if (recorded.host !== HOST_NAME || recorded.pid !== process.pid) return false;
  const own = await thisProcessIdentity();
  if (recorded.processIdentity && own) return recorded.processIdentity === own;
  return Math.abs(recorded.processStartedMs - PROCESS_STARTED_MS) <= START_TOLERANCE_MS;
}

/**
 * Whether the recorded process (of this computer) is still running: its pid is alive and, where the system
 * tells identities, it is the same process.
 */
export async function recordedProcessAlive(recorded: RecordedProcess): Promise<boolean> {
  if (!processAlive(recorded.pid)) return false;
  if (recorded.processIdentity) {
    const now = await processIdentity(recorded.pid);
    if (now) return now === recorded.processIdentity;
  }
  // An older record: its start time in ms (Node's clock, as it wrote it) against the system's, where it says.
  const ticks = process.platform === 'linux' ? linuxStartTicks(recorded.pid) : null;
  const uptimeSeconds = Number(readText('/proc/uptime')?.split(' ')[0]);
  if (ticks === null || !Number.isFinite(uptimeSeconds)) return true;
  const startedMs = Date.now() - uptimeSeconds * 1000 + (Number(ticks) / LINUX_TICKS_PER_SECOND) * 1000;
  return Math.abs(startedMs - recorded.processStartedMs) <= START_TOLERANCE_MS;
}

/** Clock ticks per second of /proc's times: 100 on every Linux architecture Node runs on. */
const LINUX_TICKS_PER_SECOND = 100;
