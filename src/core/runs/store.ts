/**
 * The runs folder (`<data folder>/runs`), shared by every process of the user: the app, the browser host and
 * any number of fmnist commands, at the same time, any of them killed at any moment. Per run:
 *  - `<id>.json`, the summary, and `<id>.history.json`, the epochs: written only by the run's own trainer,
 *    each atomically (temporary file, flush, rename), so a kill mid-write leaves the previous version whole;
 *  - `<id>.edits.jsonl`, the edits of everyone else (name, note, files the model was saved to): only ever
 *    appended to, one line per edit in one write, and folded over the summary when read;
 *  - `<id>/`, the run's own checkpoints: `last.safetensors` (its last whole epoch) and `best.safetensors`
 *    (the best epoch it kept), so every run keeps its model.
 * Why a journal rather than a lock around read-modify-write: a writer killed while holding a lock leaves it
 * behind, and breaking a stale lock safely needs the holder's liveness and a second protocol; an append is
 * atomic on its own (O_APPEND), nobody reads to write, and so no interleaving of the trainer's writes and
 * any number of renames and notes can lose one of them or put back an old status.
 * Listing never throws: a damaged summary is named with its id and what is wrong (and can still be deleted),
 * a foreign file is skipped with a warning, and a "running" run whose process is gone shows as interrupted.
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { displayPath, FmnistError, userMessage } from '../errors';
import { asFileError } from '../errors';
import { readRegularFile, writeFileAtomic } from '../io';
import type { EpochSummary } from '../train/events';
import { PROCESS_STARTED_MS, processAlive, sameProcessAlive, START_TOLERANCE_MS } from './liveness';
import {
  checkRunHistory,
  checkRunRecord,
  cleanName,
  type DamagedRun,
  cleanNote,
  parseRunEdits,
  RUN_HISTORY_FORMAT,
  RUN_ID,
  type RunEdit,
  type RunFiles,
  type RunHistoryFile,
  type RunRecord,
  runId,
  withEdits,
} from './record';

export { PROCESS_STARTED_MS, processAlive } from './liveness';
export type { DamagedRun } from './record';

/** Larger files than these are no records of ours (a summary is a few KB; a history about 300 bytes an epoch). */
const MAX_SUMMARY_BYTES = 1024 * 1024;
const MAX_HISTORY_BYTES = 256 * 1024 * 1024;
const MAX_EDITS_BYTES = 16 * 1024 * 1024;
/** Files read at once while listing. */
const READ_CONCURRENCY = 16;
const HISTORY_SUFFIX = '.history.json';
const EDITS_SUFFIX = '.edits.jsonl';
const SUMMARY_SUFFIX = '.json';
export const LAST_CHECKPOINT = 'last.safetensors';
export const BEST_CHECKPOINT = 'best.safetensors';
/** A temporary file of a write (io.ts names it .<file>.<pid>.<time>.tmp) this old, of a process gone, is left over. */
const STALE_TEMPORARY_MS = 60_000;
const TEMPORARY = /^\..+\.(?:json|safetensors)\.(\d+)\.[0-9a-z]+\.tmp$/;

/** The runs this thread is recording now: a "running" record of this process that is not here was abandoned. */
const recording = new Set<string>();

export interface RunList {
  /** Oldest first. */
  runs: RunRecord[];
  /** Summaries of ours that cannot be read, oldest first. */
  damaged: DamagedRun[];
  /** One line per other file skipped, naming it and what is wrong. */
  warnings: string[];
}

/** The edits a user (or the app for them) makes to a run's record. */
export interface RunChange {
  name?: string;
  note?: string;
  /** The model was saved to this file. */
  copy?: string;
  /** This run was continued as that one. */
  continuedBy?: string;
}

/** Refused because the record cannot be read: says so, and how to get rid of it. */
function damagedError(damaged: DamagedRun): FmnistError {
  return new FmnistError('bad-input', `run ${damaged.id} is damaged: ${damaged.problem} (fmnist runs delete ${damaged.id} removes it)`, {
    file: damaged.file,
  });
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

  editsFile(id: string): string {
    return join(this.folder, `${id}${EDITS_SUFFIX}`);
  }

  /** The folder of a run's own checkpoints. */
  filesFolder(id: string): string {
    return join(this.folder, id);
  }

  /** Where a run's own checkpoints are written. */
  checkpointFiles(id: string): { last: string; best: string } {
    return { last: join(this.filesFolder(id), LAST_CHECKPOINT), best: join(this.filesFolder(id), BEST_CHECKPOINT) };
  }

  /** A fresh id: the time given and random digits, not used in this folder yet. */
  newId(now = new Date()): string {
    for (;;) {
      const id = runId(now, randomBytes(2).toString('hex'));
      if (!existsSync(this.summaryFile(id)) && !existsSync(this.filesFolder(id))) return id;
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
      await this.writeHistory(record.id, history);
      await this.writeSummary(record);
    } catch (error) {
      recording.delete(record.id);
      throw error;
    }
  }

  /**
   * The trainer's write of its run's record (with its history first, when given). Returns false, writing
   * nothing, when the record was deleted since. Other people's edits live in the journal, so nothing of
   * theirs needs reading first.
   */
  async save(record: RunRecord, history: readonly EpochSummary[] | null): Promise<boolean> {
    if (!(await stat(this.summaryFile(record.id)).catch(() => null))) {
      recording.delete(record.id);
      return false;
    }
    if (history) await this.writeHistory(record.id, history);
    await this.writeSummary(record);
    return true;
  }

  /** The run is no longer recorded by this thread (it ended). */
  release(id: string): void {
    recording.delete(id);
  }

  /** Every run's summary, oldest first; damaged ones by id, and other files that are not records, as warnings. */
  async list(): Promise<RunList> {
    let names: string[];
    try {
      names = await readdir(this.folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { runs: [], damaged: [], warnings: [] };
      return { runs: [], damaged: [], warnings: [`${userMessage(error)} (no runs listed)`] };
    }
    await this.removeLeftovers(names);
    const summaries = names
      .filter((name) => name.endsWith(SUMMARY_SUFFIX) && !name.endsWith(HISTORY_SUFFIX) && !name.startsWith('.'))
      .map((name) => name.slice(0, -SUMMARY_SUFFIX.length))
      .sort();
    const results: (RunRecord | DamagedRun | string)[] = new Array(summaries.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < summaries.length) {
        const i = next++;
        const id = summaries[i];
        results[i] = await this.read(id).catch((error: unknown) => {
          const problem = userMessage(error);
          // A summary of ours that cannot be read is a damaged run; anything else is not a run at all.
          if (!RUN_ID.test(id)) return `${problem} (skipped)`;
          const file = this.summaryFile(id);
          return { id, file, problem: problem.startsWith(`${file}: `) ? problem.slice(file.length + 2) : problem };
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, summaries.length) }, worker));
    const runs: RunRecord[] = [];
    const damaged: DamagedRun[] = [];
    const warnings: string[] = [];
    for (const result of results) {
      if (typeof result === 'string') warnings.push(result);
      else if ('problem' in result) damaged.push(result);
      else runs.push(result);
    }
    runs.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { runs, damaged, warnings };
  }

  /** One run's record by its exact id; throws an FmnistError naming the file when it is missing or damaged. */
  async get(id: string): Promise<RunRecord> {
    if (!RUN_ID.test(id)) throw this.noSuchRun(id);
    try {
      return await this.read(id);
    } catch (error) {
      if (error instanceof FmnistError && error.kind === 'not-found') throw this.noSuchRun(id);
      const file = this.summaryFile(id);
      const problem = userMessage(error);
      throw damagedError({ id, file, problem: problem.startsWith(`${file}: `) ? problem.slice(file.length + 2) : problem });
    }
  }

  /** A run (intact or damaged) by its id or a prefix of it that names one run only. */
  async resolve(idOrPrefix: string, listing?: RunList): Promise<RunRecord | DamagedRun> {
    const { runs, damaged } = listing ?? (await this.list());
    const all: (RunRecord | DamagedRun)[] = [...runs, ...damaged];
    const exact = all.find((run) => run.id === idOrPrefix);
    if (exact) return exact;
    const matches = idOrPrefix ? all.filter((run) => run.id.startsWith(idOrPrefix)) : [];
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) {
      const shown = matches
        .slice(0, 4)
        .map((run) => run.id)
        .sort()
        .join(', ');
      throw new FmnistError('bad-option', `"${idOrPrefix}" names ${matches.length} runs (${shown}${matches.length > 4 ? ', …' : ''}): give more of the id`);
    }
    throw new FmnistError('not-found', `there is no run ${JSON.stringify(idOrPrefix)} in ${displayPath(this.folder)} (fmnist runs lists them)`);
  }

  /** A readable run by its id or a unique prefix; a damaged one is refused, saying what is wrong. */
  async find(idOrPrefix: string, listing?: RunList): Promise<RunRecord> {
    const found = await this.resolve(idOrPrefix, listing);
    if ('problem' in found) throw damagedError(found);
    return found;
  }

  /** A run's per-epoch history ([] before its first epoch); throws naming the file when it is damaged. */
  async history(id: string): Promise<EpochSummary[]> {
    if (!RUN_ID.test(id)) throw this.noSuchRun(id);
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

  /**
   * Changes a run's name or note, or notes a file its model was saved to, by appending to its journal (the
   * record as its trainer wrote it stays untouched). Returns the record with the change.
   */
  async edit(id: string, change: RunChange): Promise<RunRecord> {
    await this.get(id);
    const edit: RunEdit = { at: new Date().toISOString() };
    if (change.name !== undefined) edit.name = cleanName(change.name);
    if (change.note !== undefined) edit.note = cleanNote(change.note);
    if (change.copy !== undefined) edit.copy = change.copy;
    if (change.continuedBy !== undefined) edit.continuedBy = change.continuedBy;
    await appendLine(this.editsFile(id), JSON.stringify(edit));
    return this.get(id);
  }

  /**
   * Deletes runs: their records and their own checkpoints (never a copy saved elsewhere). A run training
   * here is refused; one recorded as training on another computer only with `force` (this one cannot check).
   * A damaged record can be deleted.
   */
  async remove(ids: readonly string[], options: { force?: boolean } = {}): Promise<void> {
    for (const id of ids) await this.refuseIfTraining(id, 'deleting it', options.force === true);
    for (const id of ids) {
      // The journal first: an edit that comes after finds no run.
      for (const file of [this.editsFile(id), this.summaryFile(id), this.historyFile(id)]) await rm(file, { force: true });
      await rm(this.filesFolder(id), { recursive: true, force: true });
    }
  }

  /** Deletes runs' own checkpoints and keeps their records. */
  async removeFiles(ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.refuseIfTraining(id, 'deleting its files', false);
    for (const id of ids) await rm(this.filesFolder(id), { recursive: true, force: true });
  }

  private async refuseIfTraining(id: string, what: string, force: boolean): Promise<void> {
    let record: RunRecord;
    try {
      record = await this.get(id);
    } catch (error) {
      // A damaged record can go; a missing one is an error.
      if (error instanceof FmnistError && error.kind === 'not-found') throw error;
      return;
    }
    if (record.status !== 'running') return;
    if (record.host !== this.host) {
      if (force) return;
      throw new FmnistError(
        'bad-option',
        `run ${id} is recorded as training on ${displayPath(record.host)}, which this computer cannot check: if it is over there, --force deletes it`,
      );
    }
    throw new FmnistError('bad-option', `run ${id} is still training: stop it before ${what}`);
  }

  private noSuchRun(id: string): FmnistError {
    // An id of ours is shown as it is; anything else quoted (it may hold anything).
    return new FmnistError('not-found', `there is no run ${RUN_ID.test(id) ? id : JSON.stringify(id)} in ${displayPath(this.folder)}`);
  }

  /**
   * Removes the temporary files of writes whose process was killed before it renamed them (a process still
   * alive may be writing; a minute's grace covers a folder shared with another computer).
   */
  private async removeLeftovers(names: string[]): Promise<void> {
    for (const name of names) {
      const match = TEMPORARY.exec(name);
      // A journal whose record is gone: an edit that raced the record's deletion wrote it.
      const orphan = name.endsWith(EDITS_SUFFIX) && !names.includes(`${name.slice(0, -EDITS_SUFFIX.length)}${SUMMARY_SUFFIX}`);
      if (!orphan && (!match || processAlive(Number(match[1])))) continue;
      const file = join(this.folder, name);
      const info = await stat(file).catch(() => null);
      if (info && Date.now() - info.mtimeMs > STALE_TEMPORARY_MS) await unlink(file).catch(() => undefined);
    }
  }

  /** A run's record as it stands: its summary, its journal's edits, whether it still trains, its own files. */
  private async read(id: string): Promise<RunRecord> {
    const file = this.summaryFile(id);
    const bytes = await readRegularFile(file, MAX_SUMMARY_BYTES, 'run record');
    const checked = checkRunRecord(parseJson(bytes, file), id);
    if (typeof checked === 'string') throw new FmnistError('bad-input', checked, { file });
    const [edits, files] = await Promise.all([this.readEdits(id), this.filesOf(id)]);
    return { ...this.withLiveStatus(withEdits(checked, edits)), files };
  }

  private async readEdits(id: string): Promise<RunEdit[]> {
    try {
      return parseRunEdits(new TextDecoder().decode(await readRegularFile(this.editsFile(id), MAX_EDITS_BYTES, 'run journal')));
    } catch (error) {
      if (error instanceof FmnistError && error.kind === 'not-found') return [];
      throw error;
    }
  }

  /** The run's own checkpoints and the bytes of its folder; null when it has none. */
  private async filesOf(id: string): Promise<RunFiles | null> {
    const folder = this.filesFolder(id);
    const names = await readdir(folder).catch(() => null);
    if (!names) return null;
    let bytes = 0;
    for (const name of names) bytes += (await stat(join(folder, name)).catch(() => null))?.size ?? 0;
    const has = (name: string): string | null => (names.includes(name) ? join(folder, name) : null);
    return { last: has(LAST_CHECKPOINT), best: has(BEST_CHECKPOINT), bytes };
  }

  /**
   * A "running" record whose process is gone (killed, crashed, its pid now another process's) is shown as
   * interrupted. One written on another computer is never judged by this computer's processes.
   */
  private withLiveStatus(record: RunRecord): RunRecord {
    if (record.status !== 'running' || record.host !== this.host) return record;
    const ours = record.pid === process.pid && Math.abs(record.processStartedMs - PROCESS_STARTED_MS) <= START_TOLERANCE_MS;
    const alive = ours ? recording.has(record.id) : sameProcessAlive(record.pid, record.processStartedMs);
    return alive ? record : { ...record, status: 'interrupted' };
  }

  private async writeSummary(record: RunRecord): Promise<void> {
    // What is folded in when read stays out of the file: the journal's edits and the files found.
    const { files: _files, copies: _copies, continuedBy: _continuedBy, ...stored } = record;
    await writeFileAtomic(this.summaryFile(record.id), new TextEncoder().encode(`${JSON.stringify(stored, null, 2)}\n`));
  }

  private async writeHistory(id: string, epochs: readonly EpochSummary[]): Promise<void> {
    const file: RunHistoryFile = { format: RUN_HISTORY_FORMAT, id, epochs: [...epochs] };
    await writeFileAtomic(this.historyFile(id), new TextEncoder().encode(`${JSON.stringify(file)}\n`));
  }
}

/**
 * Appends one line in one write (O_APPEND: atomic among appenders), flushed. It starts with a line break, so
 * a line that a killed writer left cut short never swallows the next one.
 */
async function appendLine(file: string, line: string): Promise<void> {
  const bytes = new TextEncoder().encode(`\n${line}\n`);
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  try {
    handle = await open(file, 'a', 0o644);
    const { bytesWritten } = await handle.write(bytes);
    if (bytesWritten !== bytes.length) throw new FmnistError('io', 'could not be written whole', { file });
    await handle.sync();
  } catch (error) {
    throw asFileError(error, file);
  } finally {
    await handle?.close().catch(() => undefined);
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
