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
import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, open, readdir, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { displayPath, FmnistError, userMessage } from '@core/shared/errors';
import { asFileError } from '@core/shared/errors';
import { readAt, readRegularFile, writeFileAtomic } from '../io';
import type { EpochSummary } from '@core/shared/events';
import { HOST_NAME, isThisProcess, processAlive, type RecordedProcess, recordedProcessAlive } from './liveness';
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
} from '@core/shared/run-record';

export type { DamagedRun } from '@core/shared/run-record';

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
/** A run's folder without a record this old is listed as damaged (younger, its record may be on its way). */
const ORPHAN_FOLDER_MS = 60_000;
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

/** Refused because the record cannot be read: says so, and that deleting it is what can be done. */
function damagedError(damaged: DamagedRun): FmnistError {
  return new FmnistError('bad-input', `run ${damaged.id} is damaged: ${damaged.problem}; it can only be deleted`, {
    file: damaged.file,
  });
}

/** An error's message without the file it names first (the damaged record names its file apart). */
function problemOf(error: unknown, file: string): string {
  const message = userMessage(error);
  return message.startsWith(`${displayPath(file)}: `) ? message.slice(displayPath(file).length + 2) : message;
}

export class RunStore {
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

  /**
   * A fresh id: the time given and random digits, claimed by creating the run's folder (which fails when
   * another process took the id first). Where the folder cannot be made now, an id no file uses yet; the
   * run's writes then report why they fail.
   */
  newId(now = new Date()): string {
    try {
      mkdirSync(this.folder, { recursive: true });
    } catch {
      // Reported by the record's first write.
    }
    for (;;) {
      const id = runId(now, randomBytes(2).toString('hex'));
      try {
        mkdirSync(this.filesFolder(id));
        return id;
      } catch (error) {
        // Taken by another run; or the folder cannot be made (an id no file uses then).
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        if (!existsSync(this.summaryFile(id))) return id;
      }
    }
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

  /**
   * Every run's summary, oldest first; damaged ones (and runs' folders whose record is gone) by id, and other
   * files that are not records, as warnings.
   */
  async list(): Promise<RunList> {
    let names: string[];
    try {
      names = await readdir(this.folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { runs: [], damaged: [], warnings: [] };
      return { runs: [], damaged: [], warnings: [`${userMessage(error)} (no runs listed)`] };
    }
    await this.removeLeftovers(this.folder, names);
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
        results[i] = await this.read(id).catch(async (error: unknown) => {
          // A summary of ours that cannot be read is a damaged run; anything else is not a run at all.
          if (!RUN_ID.test(id)) return `${userMessage(error)} (skipped)`;
          const file = this.summaryFile(id);
          return { id, file, problem: problemOf(error, file), files: await this.filesOf(id) };
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
    damaged.push(...(await this.orphanFolders(names)));
    runs.sort((a, b) =>
      a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
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
      throw damagedError({ id, file, problem: problemOf(error, file), files: null });
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
      throw new FmnistError(
        'bad-option',
        `"${idOrPrefix}" names ${matches.length} runs (${shown}${matches.length > 4 ? ', …' : ''}): give more of the id`,
      );
    }
    throw new FmnistError(
      'not-found',
      `there is no run ${JSON.stringify(idOrPrefix)} in ${displayPath(this.folder)} (fmnist runs lists them)`,
    );
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
      // Its files first, so a kill half-way never leaves them without a record to delete them by; then the
      // journal, so an edit that comes after finds no run.
      await rm(this.filesFolder(id), { recursive: true, force: true });
      for (const file of [this.editsFile(id), this.summaryFile(id), this.historyFile(id)])
        await rm(file, { force: true });
    }
  }

  /** Deletes runs' own checkpoints and keeps their records. */
  async removeFiles(ids: readonly string[], options: { force?: boolean } = {}): Promise<void> {
    for (const id of ids) await this.refuseIfTraining(id, 'deleting its files', options.force === true);
    for (const id of ids) await rm(this.filesFolder(id), { recursive: true, force: true });
  }

  /**
   * Refuses to delete a run that trains: here (always), or on another computer, which this one cannot
   * check (unless forced). A damaged summary is judged by the process fields it still has; a record that
   * cannot be read now for another reason (no permission, too many open files) is not deleted.
   */
  private async refuseIfTraining(id: string, what: string, force: boolean): Promise<void> {
    let recorded: (RecordedProcess & { status: unknown }) | null;
    try {
      const record = await this.get(id);
      recorded = record.status === 'running' ? record : null;
    } catch (error) {
      // A run's folder without a record (listed as damaged) can go.
      if (error instanceof FmnistError && error.kind === 'not-found' && existsSync(this.filesFolder(id))) return;
      if (!(error instanceof FmnistError) || error.kind !== 'bad-input') throw error;
      recorded = await this.rawProcessFields(id);
      if (
        recorded &&
        (recorded.status !== 'running' || (recorded.host === HOST_NAME && !(await recordedProcessAlive(recorded))))
      )
        recorded = null;
    }
    if (!recorded) return;
    if (recorded.host !== HOST_NAME) {
      if (force) return;
      throw new FmnistError(
        'bad-option',
        `run ${id} is recorded as training on ${displayPath(recorded.host)}, which this computer cannot check: if it is over there, delete it anyway (--force)`,
      );
    }
    throw new FmnistError('bad-option', `run ${id} is still training: stop it before ${what}`);
  }

  /** The process fields of a damaged summary, where it still has them whole (null when it does not). */
  private async rawProcessFields(id: string): Promise<(RecordedProcess & { status: unknown }) | null> {
    try {
      const value = JSON.parse(
        new TextDecoder().decode(await readRegularFile(this.summaryFile(id), MAX_SUMMARY_BYTES, 'run record')),
      ) as Record<string, unknown>;
      if (typeof value.pid !== 'number' || typeof value.host !== 'string' || typeof value.processStartedMs !== 'number')
        return null;
      const identity = typeof value.processIdentity === 'string' ? value.processIdentity : null;
      return {
        pid: value.pid,
        host: value.host,
        processStartedMs: value.processStartedMs,
        processIdentity: identity,
        status: value.status,
      };
    } catch {
      return null;
    }
  }

  private noSuchRun(id: string): FmnistError {
    // An id of ours is shown as it is; anything else quoted (it may hold anything).
    return new FmnistError(
      'not-found',
      `there is no run ${RUN_ID.test(id) ? id : JSON.stringify(id)} in ${displayPath(this.folder)}`,
    );
  }

  /**
   * Removes the temporary files of writes whose process was killed before it renamed them (a process still
   * alive may be writing; a minute's grace covers a folder shared with another computer), here and in the
   * runs' own folders.
   */
  private async removeLeftovers(folder: string, names: string[]): Promise<void> {
    for (const name of names) {
      const match = TEMPORARY.exec(name);
      // A journal whose record is gone: an edit that raced the record's deletion wrote it.
      const orphan =
        folder === this.folder &&
        name.endsWith(EDITS_SUFFIX) &&
        !names.includes(`${name.slice(0, -EDITS_SUFFIX.length)}${SUMMARY_SUFFIX}`);
      if (folder === this.folder && RUN_ID.test(name)) {
        const inside = await readdir(join(folder, name)).catch(() => null);
        if (inside?.some((file) => TEMPORARY.test(file))) await this.removeLeftovers(join(folder, name), inside);
        continue;
      }
      if (!orphan && (!match || processAlive(Number(match[1])))) continue;
      const file = join(folder, name);
      const info = await stat(file).catch(() => null);
      if (info && Date.now() - info.mtimeMs > STALE_TEMPORARY_MS) await unlink(file).catch(() => undefined);
    }
  }

  /**
   * Runs' folders without a record, a minute old: an empty one (a run that ended before its record was first
   * written) is removed; one with files (its deletion cut short, or its record never written) is a damaged
   * run, so the space it takes can be seen and freed.
   */
  private async orphanFolders(names: string[]): Promise<DamagedRun[]> {
    const orphans: DamagedRun[] = [];
    for (const id of names) {
      if (!RUN_ID.test(id) || names.includes(`${id}${SUMMARY_SUFFIX}`) || recording.has(id)) continue;
      const info = await stat(this.filesFolder(id)).catch(() => null);
      if (!info?.isDirectory() || Date.now() - info.mtimeMs < ORPHAN_FOLDER_MS) continue;
      const files = await this.filesOf(id);
      if (files) orphans.push({ id, file: this.filesFolder(id), problem: 'has files but no record', files });
      else await rmdir(this.filesFolder(id)).catch(() => undefined);
    }
    return orphans;
  }

  /** A run's record as it stands: its summary, its journal's edits, whether it still trains, its own files. */
  private async read(id: string): Promise<RunRecord> {
    const file = this.summaryFile(id);
    const bytes = await readRegularFile(file, MAX_SUMMARY_BYTES, 'run record');
    const checked = checkRunRecord(parseJson(bytes, file), id);
    if (typeof checked === 'string') throw new FmnistError('bad-input', checked, { file });
    const [edits, files] = await Promise.all([this.readEdits(id), this.filesOf(id)]);
    return { ...(await this.withLiveStatus(withEdits(checked, edits))), files };
  }

  /** The journal's edits; of a journal grown past MAX_EDITS_BYTES, those of its last part (the newest win anyway). */
  private async readEdits(id: string): Promise<RunEdit[]> {
    let handle: Awaited<ReturnType<typeof open>> | null = null;
    try {
      handle = await open(this.editsFile(id), 'r');
      const { size } = await handle.stat();
      const start = Math.max(0, size - MAX_EDITS_BYTES);
      const bytes = await readAt(handle, start, size - start);
      // Cut into a line: the first (partial) line is skipped by the parser like any damaged line.
      return parseRunEdits(new TextDecoder().decode(bytes));
    } catch {
      // No journal, or one that cannot be read now: the record as its trainer wrote it.
      return [];
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  /** The run's own checkpoints and the bytes of its folder; null when it has none (no folder, or an empty one). */
  private async filesOf(id: string): Promise<RunFiles | null> {
    const folder = this.filesFolder(id);
    const names = await readdir(folder).catch(() => null);
    if (!names?.length) return null;
    let bytes = 0;
    for (const name of names) bytes += (await stat(join(folder, name)).catch(() => null))?.size ?? 0;
    const has = (name: string): string | null => (names.includes(name) ? join(folder, name) : null);
    return { last: has(LAST_CHECKPOINT), best: has(BEST_CHECKPOINT), bytes };
  }

  /**
   * A "running" record whose process is gone (killed, crashed, its pid now another process's) is shown as
   * interrupted. One written on another computer is never judged by this computer's processes.
   */
  private async withLiveStatus(record: RunRecord): Promise<RunRecord> {
    if (record.status !== 'running' || record.host !== HOST_NAME) return record;
    const alive = (await isThisProcess(record)) ? recording.has(record.id) : await recordedProcessAlive(record);
    return alive ? record : { ...record, status: 'interrupted' };
  }

  private async writeSummary(record: RunRecord): Promise<void> {
    // What is folded in when read stays out of the file: the journal's edits and the files found.
    const { files: _files, copies: _copies, continuedBy: _continuedBy, ...stored } = record;
    await writeFileAtomic(
      this.summaryFile(record.id),
      new TextEncoder().encode(`${JSON.stringify(stored, null, 2)}\n`),
    );
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

/** A JSON file's bytes as a value; refused in one line naming the file when empty or not JSON. */
export function parseJson(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    const reason = bytes.length === 0 ? 'is empty' : `is not valid JSON (${userMessage(error)})`;
    throw new FmnistError('bad-input', reason, { file });
  }
}
