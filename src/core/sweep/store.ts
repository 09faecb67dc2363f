/**
 * The sweeps folder (`<data folder>/runs/sweeps`): a record per sweep (`<id>.json`), written atomically (temporary
 * file, flush, rename) and only by the process that holds the sweep's lock (`<id>.lock`, lock.ts). Reading checks
 * every field; a damaged record is refused in one line naming the file, and listing names it without failing.
 * The runs folder's own listing passes over this folder (it is no run's).
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { readRegularFile, writeFileAtomic } from '@core/io';
import { HOST_NAME, processAlive, thisProcess } from '@core/records/liveness';
import { parseJson } from '@core/records/store';
import { asFileError, displayPath, FmnistError, userMessage } from '@core/shared/errors';
import type { RunConfig } from '@core/shared/config';
import { cleanName, RUN_ID, type RunOrigin, runId } from '@core/shared/run-record';
import type { SweepPlan } from '@core/shared/sweep/plan';
import { APP_VERSION } from '../version';
import { claimSweepLock, lockHeld, type SweepLock } from './lock';
import {
  checkSweepRecord,
  type ListedSweepStatus,
  pendingEntries,
  SWEEP_RECORD_FORMAT,
  SWEEP_RECORD_VERSION,
  type SweepRecord,
} from '@core/shared/sweep/record';

export const SWEEPS_FOLDER = 'sweeps';
/** A sweep record holds a few hundred bytes per planned run: far below this. */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;
const RECORD_SUFFIX = '.json';
const LOCK_SUFFIX = '.lock';
/** A temporary file of a write (io.ts names it .<file>.<pid>.<time>.tmp) this old, of a process gone, is left over. */
const STALE_TEMPORARY_MS = 60_000;
const TEMPORARY = /^\..+\.json\.(\d+)\.[0-9a-z]+\.tmp$/;

/** Where the sweep records of a runs folder are kept. */
export function sweepsFolder(runsFolder: string): string {
  return join(runsFolder, SWEEPS_FOLDER);
}

/** A record as listed: its status says "interrupted" when it says "running" but no process runs it. */
export type ListedSweep = SweepRecord & { listedStatus: ListedSweepStatus };

export interface DamagedSweep {
  id: string;
  file: string;
  problem: string;
}

export interface SweepList {
  /** Oldest first. */
  sweeps: ListedSweep[];
  damaged: DamagedSweep[];
  /** Other files skipped, one line each. */
  warnings: string[];
}

/** What a new sweep is made of: the rest of its record is the process's and the plan's. */
export interface NewSweep {
  /** The user's name ("" for none). */
  name: string;
  origin: RunOrigin;
  plan: SweepPlan;
  base: RunConfig;
  kernels: string;
  data: { train: string[]; test: string[] | null };
}

export class SweepStore {
  constructor(readonly folder: string) {}

  file(id: string): string {
    return join(this.folder, `${id}${RECORD_SUFFIX}`);
  }

  lockFile(id: string): string {
    return join(this.folder, `${id}${LOCK_SUFFIX}`);
  }

  /** A new sweep of this process: its first record, every planned run pending, and its lock (see create). */
  async begin(sweep: NewSweep): Promise<{ record: SweepRecord; lock: SweepLock }> {
    const owner = { processIdentity: null, ...(await thisProcess()) };
    return this.create((id) => {
      const now = new Date().toISOString();
      return {
        format: SWEEP_RECORD_FORMAT,
        formatVersion: SWEEP_RECORD_VERSION,
        id,
        name: cleanName(sweep.name),
        status: 'running',
        error: null,
        origin: sweep.origin,
        createdAt: now,
        updatedAt: now,
        endedAt: null,
        ...owner,
        appVersion: APP_VERSION,
        plan: sweep.plan,
        base: sweep.base,
        kernels: sweep.kernels,
        data: { ...sweep.data, fingerprint: null },
        runs: pendingEntries(sweep.plan),
      };
    });
  }

  /**
   * A new sweep: a fresh id (the time and random digits, like a run's), claimed with its lock, and its first
   * record written. The caller runs the sweep and releases the lock.
   */
  async create(make: (id: string) => SweepRecord, now = new Date()): Promise<{ record: SweepRecord; lock: SweepLock }> {
    await mkdir(this.folder, { recursive: true }).catch((error: unknown) => {
      throw asFileError(error, this.folder);
    });
    for (let attempt = 0; ; attempt++) {
      const id = runId(now, randomBytes(2).toString('hex'));
      if (existsSync(this.file(id))) continue;
      let lock: SweepLock;
      try {
        lock = await claimSweepLock(this.lockFile(id), id);
      } catch (error) {
        // Another process took this id this very second: draw again.
        if (attempt < 20 && error instanceof FmnistError && error.kind === 'bad-option') continue;
        throw error;
      }
      const record = make(id);
      try {
        await this.write(record);
      } catch (error) {
        await lock.release();
        throw error;
      }
      return { record, lock };
    }
  }

  /** Takes the lock of an existing sweep to run it (refused in one line when another process runs it). */
  claim(id: string): Promise<SweepLock> {
    return claimSweepLock(this.lockFile(id), id);
  }

  /** Writes the record whole, atomically. Only the lock's holder calls this. */
  async write(record: SweepRecord): Promise<void> {
    await writeFileAtomic(this.file(record.id), new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`));
  }

  /** One sweep by its exact id; refused in one line naming the file when it is missing or damaged. */
  async read(id: string): Promise<SweepRecord> {
    if (!RUN_ID.test(id)) throw this.noSuchSweep(id);
    const file = this.file(id);
    let bytes: Uint8Array;
    try {
      bytes = await readRegularFile(file, MAX_RECORD_BYTES, 'sweep record');
    } catch (error) {
      if (error instanceof FmnistError && error.kind === 'not-found') throw this.noSuchSweep(id);
      throw error;
    }
    const checked = checkSweepRecord(parseJson(bytes, file), id);
    if (typeof checked === 'string') throw new FmnistError('bad-input', checked, { file });
    return checked;
  }

  /** A sweep by its id or a prefix of it that names one sweep only; a damaged one is refused, saying what is wrong. */
  async find(idOrPrefix: string): Promise<SweepRecord> {
    const { sweeps, damaged } = await this.list();
    const all: (SweepRecord | DamagedSweep)[] = [...sweeps, ...damaged];
    const exact = all.find((sweep) => sweep.id === idOrPrefix);
    const matches = exact ? [exact] : idOrPrefix ? all.filter((sweep) => sweep.id.startsWith(idOrPrefix)) : [];
    if (matches.length > 1)
      throw new FmnistError(
        'bad-option',
        `"${idOrPrefix}" names ${matches.length} sweeps (${matches
          .slice(0, 4)
          .map((s) => s.id)
          .join(', ')}${matches.length > 4 ? ', …' : ''}): give more of the id`,
      );
    if (matches.length === 0) throw this.noSuchSweep(idOrPrefix);
    const found = matches[0];
    if ('problem' in found) throw new FmnistError('bad-input', found.problem, { file: found.file });
    return this.read(found.id);
  }

  /** Every sweep, oldest first; damaged records by id with what is wrong, other files as warnings. */
  async list(): Promise<SweepList> {
    let names: string[];
    try {
      names = await readdir(this.folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { sweeps: [], damaged: [], warnings: [] };
      return { sweeps: [], damaged: [], warnings: [`${userMessage(error)} (no sweeps listed)`] };
    }
    await this.removeLeftovers(names);
    const sweeps: ListedSweep[] = [];
    const damaged: DamagedSweep[] = [];
    const warnings: string[] = [];
    for (const name of names.filter((n) => n.endsWith(RECORD_SUFFIX) && !n.startsWith('.')).sort()) {
      const id = name.slice(0, -RECORD_SUFFIX.length);
      try {
        const record = await this.read(id);
        sweeps.push({ ...record, listedStatus: await this.liveStatus(record) });
      } catch (error) {
        const file = this.file(id);
        const message = userMessage(error);
        const problem = message.startsWith(`${displayPath(file)}: `)
          ? message.slice(displayPath(file).length + 2)
          : message;
        if (RUN_ID.test(id)) damaged.push({ id, file, problem });
        else warnings.push(`${message} (skipped)`);
      }
    }
    return { sweeps, damaged, warnings };
  }

  /** "interrupted" for a record that says "running" while no process of this computer holds its lock. */
  async liveStatus(record: SweepRecord): Promise<ListedSweepStatus> {
    if (record.status !== 'running' || record.host !== HOST_NAME) return record.status;
    return (await lockHeld(this.lockFile(record.id))) ? 'running' : 'interrupted';
  }

  private noSuchSweep(id: string): FmnistError {
    return new FmnistError(
      'not-found',
      `there is no sweep ${RUN_ID.test(id) ? id : JSON.stringify(id)} in ${displayPath(this.folder)} (fmnist sweep --list lists them)`,
    );
  }

  /** Removes the temporary files of writes whose process was killed before it renamed them. */
  private async removeLeftovers(names: string[]): Promise<void> {
    for (const name of names) {
      const match = TEMPORARY.exec(name);
      if (!match || processAlive(Number(match[1]))) continue;
      const file = join(this.folder, name);
      const info = await stat(file).catch(() => null);
      if (info && Date.now() - info.mtimeMs > STALE_TEMPORARY_MS) await unlink(file).catch(() => undefined);
    }
  }
}
