/**
 * The runs folder (`<data folder>/runs`): one summary file and one history file per run, each written
 * atomically (temporary file, flush, rename), so a run killed mid-write leaves the previous version whole.
 * Listing reads the summaries only and never throws: a damaged or foreign file is skipped with one warning
 * naming it, and a run whose process is gone is reported as interrupted. Several processes (the app, any
 * number of fmnist commands) share the folder; each writes only the runs it trains, and the user's edits
 * (name, note) are merged into every later write.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { displayPath, FmnistError, userMessage } from '../errors';
import { readRegularFile, writeFileAtomic } from '../io';
import type { EpochSummary } from '../train/events';
import {
  checkRunHistory,
  checkRunRecord,
  cleanName,
  cleanNote,
  RUN_HISTORY_FORMAT,
  RUN_ID,
  type RunHistoryFile,
  type RunRecord,
  runId,
} from './record';

/** Larger files than these are no records of ours (a summary is a few KB; a history about 300 bytes an epoch). */
const MAX_SUMMARY_BYTES = 1024 * 1024;
const MAX_HISTORY_BYTES = 256 * 1024 * 1024;
/** Files read at once while listing. */
const READ_CONCURRENCY = 16;
const HISTORY_SUFFIX = '.history.json';
const SUMMARY_SUFFIX = '.json';

/** When this process started, in ms since 1970: with the pid it names the process that writes a record. */
export const PROCESS_STARTED_MS = Math.round(Date.now() - process.uptime() * 1000);
/** Tolerance when comparing process start times (each is computed from the clock and the uptime). */
const START_TOLERANCE_MS = 2000;
/** A temporary file of a write (io.ts names it .<file>.<pid>.<time>.tmp) this old, of a process gone, is left over. */
const STALE_TEMPORARY_MS = 60_000;
const TEMPORARY = /^\..+\.json\.(\d+)\.[0-9a-z]+\.tmp$/;

/** The runs this thread is recording now: a "running" record of this process that is not here was abandoned. */
const recording = new Set<string>();
/** Writes of each run, one after another (in this thread), so a rename never overtakes an epoch's write. */
const writeQueues = new Map<string, Promise<unknown>>();

function serialised<T>(id: string, work: () => Promise<T>): Promise<T> {
  const before = writeQueues.get(id) ?? Promise.resolve();
  const turn = before.then(work, work);
  const settled = turn.catch(() => undefined);
  writeQueues.set(id, settled);
  void settled.then(() => {
    if (writeQueues.get(id) === settled) writeQueues.delete(id);
  });
  return turn;
}

/** Whether a process exists (EPERM: it does, but belongs to someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RunList {
  /** Oldest first. */
  runs: RunRecord[];
  /** One line per file skipped, naming it and what is wrong. */
  warnings: string[];
}

export class RunStore {
  private readonly host = hostname();

  constructor(readonly folder: string) {}

  summaryFile(id: string): string {
    return join(this.folder, `${id}${SUMMARY_SUFFIX}`);
  }

  historyFile(id: string): string {
    return join(this.folder, `${id}${HISTORY_SUFFIX}`);
  }

  /** A fresh id: the time now and random digits, not yet used in this folder. */
  async newId(now = new Date()): Promise<string> {
    for (;;) {
      const id = runId(now, randomBytes(2).toString('hex'));
      if (!(await stat(this.summaryFile(id)).catch(() => null))) return id;
    }
  }

  /** The host and process a new record names. */
  processFields(): Pick<RunRecord, 'pid' | 'host' | 'processStartedMs'> {
    return { pid: process.pid, host: this.host, processStartedMs: PROCESS_STARTED_MS };
  }

  /** Writes a new run's record (and its history so far) and marks it as recorded by this thread. */
  async create(record: RunRecord, history: readonly EpochSummary[] = []): Promise<void> {
    await mkdir(this.folder, { recursive: true });
    recording.add(record.id);
    try {
      await serialised(record.id, async () => {
        await this.writeHistory(record.id, history);
        await this.writeSummary(record);
      });
    } catch (error) {
      recording.delete(record.id);
      throw error;
    }
  }

  /**
   * Writes a run's record (with its history first, when given), keeping the name and note the user may have
   * changed meanwhile. Returns false, writing nothing, when the record was deleted since.
   */
  async save(record: RunRecord, history: readonly EpochSummary[] | null): Promise<boolean> {
    return serialised(record.id, async () => {
      const current = await this.readSummary(record.id).catch((error: unknown) => (error instanceof FmnistError && error.kind === 'not-found' ? null : record));
      if (!current) {
        recording.delete(record.id);
        return false;
      }
      record.name = current.name;
      record.note = current.note;
      if (history) await this.writeHistory(record.id, history);
      await this.writeSummary(record);
      return true;
    });
  }

  /** The run is no longer recorded by this thread (it ended). */
  release(id: string): void {
    recording.delete(id);
  }

  /** Every run's summary, oldest first; files that are not whole records of ours are skipped with a warning. */
  async list(): Promise<RunList> {
    let names: string[];
    try {
      names = await readdir(this.folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { runs: [], warnings: [] };
      return { runs: [], warnings: [`${userMessage(error)} (no runs listed)`] };
    }
    await this.removeLeftovers(names);
    const ids = names
      .filter((name) => name.endsWith(SUMMARY_SUFFIX) && !name.endsWith(HISTORY_SUFFIX) && !name.startsWith('.'))
      .map((name) => name.slice(0, -SUMMARY_SUFFIX.length))
      .sort();
    const results: (RunRecord | string)[] = new Array(ids.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        const i = next++;
        results[i] = await this.readSummary(ids[i]).catch((error: unknown) => `${userMessage(error)} (skipped)`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, ids.length) }, worker));
    const runs: RunRecord[] = [];
    const warnings: string[] = [];
    for (const result of results) {
      if (typeof result === 'string') warnings.push(result);
      else runs.push(this.withLiveStatus(result));
    }
    runs.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { runs, warnings };
  }

  /** One run's summary by its exact id; throws an FmnistError naming the file when it is missing or damaged. */
  async get(id: string): Promise<RunRecord> {
    if (!RUN_ID.test(id)) throw new FmnistError('not-found', `there is no run ${JSON.stringify(id)} in ${displayPath(this.folder)}`);
    try {
      return this.withLiveStatus(await this.readSummary(id));
    } catch (error) {
      if (error instanceof FmnistError && error.kind === 'not-found') throw new FmnistError('not-found', `there is no run ${id} in ${displayPath(this.folder)}`);
      throw error;
    }
  }

  /** A run by its id or a prefix of it that names one run only. */
  async find(idOrPrefix: string, runs?: readonly RunRecord[]): Promise<RunRecord> {
    const all = runs ?? (await this.list()).runs;
    const exact = all.find((run) => run.id === idOrPrefix);
    if (exact) return exact;
    const matches = idOrPrefix ? all.filter((run) => run.id.startsWith(idOrPrefix)) : [];
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) {
      const shown = matches.slice(0, 4).map((run) => run.id).join(', ');
      throw new FmnistError('bad-option', `"${idOrPrefix}" names ${matches.length} runs (${shown}${matches.length > 4 ? ', …' : ''}): give more of the id`);
    }
    throw new FmnistError('not-found', `there is no run ${JSON.stringify(idOrPrefix)} in ${displayPath(this.folder)} (fmnist runs lists them)`);
  }

  /** A run's per-epoch history ([] before its first epoch); throws naming the file when it is damaged. */
  async history(id: string): Promise<EpochSummary[]> {
    if (!RUN_ID.test(id)) throw new FmnistError('not-found', `there is no run ${JSON.stringify(id)} in ${displayPath(this.folder)}`);
    const file = this.historyFile(id);
    let bytes: Uint8Array;
    try {
      bytes = await readRegularFile(file, MAX_HISTORY_BYTES, 'run history');
    } catch (error) {
      if (error instanceof FmnistError && error.kind === 'not-found') return [];
      throw error;
    }
    const checked = checkRunHistory(parseJson(bytes, file), id);
    if (typeof checked === 'string') throw new FmnistError('bad-input', checked, { file });
    return checked;
  }

  /** Changes a run's name or note (the rest of the record stays as its trainer wrote it). */
  async edit(id: string, change: { name?: string; note?: string; checkpoint?: string | null }): Promise<RunRecord> {
    return serialised(id, async () => {
      const record = await this.get(id);
      if (change.name !== undefined) record.name = cleanName(change.name);
      if (change.note !== undefined) record.note = cleanNote(change.note);
      if (change.checkpoint !== undefined) record.checkpoint = change.checkpoint;
      // As stored: a record listed as interrupted stays "running" on disk.
      const stored = { ...record, status: record.status === 'interrupted' ? 'running' : record.status } as RunRecord;
      await this.writeSummary(stored);
      return record;
    });
  }

  /** Deletes runs (both files; never their checkpoints). A run still training is refused. */
  async remove(ids: readonly string[]): Promise<void> {
    const records = await Promise.all(ids.map((id) => this.get(id)));
    const running = records.find((record) => record.status === 'running');
    if (running) throw new FmnistError('bad-option', `run ${running.id} is still training: stop it before deleting it`);
    for (const id of ids) {
      await serialised(id, async () => {
        await rm(this.summaryFile(id), { force: true });
        await rm(this.historyFile(id), { force: true });
      });
    }
  }

  /**
   * Removes the temporary files of writes whose process was killed before it renamed them (a process still
   * alive may be writing; a minute's grace covers a folder shared with another computer).
   */
  private async removeLeftovers(names: string[]): Promise<void> {
    for (const name of names) {
      const match = TEMPORARY.exec(name);
      if (!match || processAlive(Number(match[1]))) continue;
      const file = join(this.folder, name);
      const info = await stat(file).catch(() => null);
      if (info && Date.now() - info.mtimeMs > STALE_TEMPORARY_MS) await unlink(file).catch(() => undefined);
    }
  }

  /** A "running" record whose process is gone (killed, crashed) is shown as interrupted. */
  private withLiveStatus(record: RunRecord): RunRecord {
    if (record.status !== 'running' || record.host !== this.host) return record;
    const ours = record.pid === process.pid;
    const sameProcess = ours && Math.abs(record.processStartedMs - PROCESS_STARTED_MS) <= START_TOLERANCE_MS;
    const alive = sameProcess ? recording.has(record.id) : !ours && processAlive(record.pid);
    return alive ? record : { ...record, status: 'interrupted' };
  }

  private async readSummary(id: string): Promise<RunRecord> {
    const file = this.summaryFile(id);
    const bytes = await readRegularFile(file, MAX_SUMMARY_BYTES, 'run record');
    const checked = checkRunRecord(parseJson(bytes, file), id);
    if (typeof checked === 'string') throw new FmnistError('bad-input', checked, { file });
    return checked;
  }

  private async writeSummary(record: RunRecord): Promise<void> {
    await writeFileAtomic(this.summaryFile(record.id), new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`));
  }

  private async writeHistory(id: string, epochs: readonly EpochSummary[]): Promise<void> {
    const file: RunHistoryFile = { format: RUN_HISTORY_FORMAT, id, epochs: [...epochs] };
    await writeFileAtomic(this.historyFile(id), new TextEncoder().encode(`${JSON.stringify(file)}\n`));
  }
}

function parseJson(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    const reason = bytes.length === 0 ? 'is empty' : `is not valid JSON (${userMessage(error)})`;
    throw new FmnistError('bad-input', reason, { file });
  }
}
