/**
 * What the desktop app remembers between launches, in `preferences.json` in its data folder: the window's
 * size, position and maximised state, the folders last used for data and for checkpoints, and the recent
 * checkpoints (File ▸ Open Recent). A missing or damaged file means defaults; each field is checked on
 * load, and saves are atomic and one at a time.
 */

import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '@core/io';

export interface Bounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowPlacement {
  bounds: Bounds;
  maximized: boolean;
}

export type FolderKind = 'data' | 'checkpoints';

export interface PreferencesData {
  window: WindowPlacement | null;
  folders: Record<FolderKind, string | null>;
  recentCheckpoints: string[];
}

export const MAX_RECENT = 10;
export const PREFERENCES_FILE = 'preferences.json';

function defaults(): PreferencesData {
  return { window: null, folders: { data: null, checkpoints: null }, recentCheckpoints: [] };
}

const isText = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= 4096;

function checkBounds(value: unknown): Bounds | null {
  if (typeof value !== 'object' || value === null) return null;
  const { x, y, width, height } = value as Record<string, unknown>;
  const whole = [x, y, width, height].every((n) => Number.isSafeInteger(n));
  return whole && (width as number) > 0 && (height as number) > 0
    ? { x: x as number, y: y as number, width: width as number, height: height as number }
    : null;
}

/** The stored preferences, field by field: anything malformed is replaced by its default. */
export function parsePreferences(text: string): PreferencesData {
  const result = defaults();
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return result;
  }
  if (typeof raw !== 'object' || raw === null) return result;
  const window = raw.window as Record<string, unknown> | undefined;
  const bounds = checkBounds(window?.bounds);
  if (bounds) result.window = { bounds, maximized: window?.maximized === true };
  const folders = raw.folders as Record<string, unknown> | undefined;
  for (const kind of ['data', 'checkpoints'] as const)
    if (isText(folders?.[kind])) result.folders[kind] = folders![kind] as string;
  if (Array.isArray(raw.recentCheckpoints))
    result.recentCheckpoints = [...new Set(raw.recentCheckpoints.filter(isText))].slice(0, MAX_RECENT);
  return result;
}

export class Preferences {
  private writing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<() => void>();

  private constructor(
    readonly file: string | null,
    private data: PreferencesData,
  ) {}

  /** Reads the file (defaults when it is missing or damaged); null keeps everything in memory only. */
  static async load(file: string | null): Promise<Preferences> {
    const text = file ? await readFile(file, 'utf8').catch(() => null) : null;
    return new Preferences(file, text === null ? defaults() : parsePreferences(text));
  }

  get window(): WindowPlacement | null {
    return this.data.window;
  }

  folder(kind: FolderKind): string | null {
    return this.data.folders[kind];
  }

  get recentCheckpoints(): readonly string[] {
    return this.data.recentCheckpoints;
  }

  /** Called after the recent checkpoints change (the menu is rebuilt). */
  onRecentChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  setWindow(placement: WindowPlacement): Promise<void> {
    this.data.window = placement;
    return this.save();
  }

  setFolder(kind: FolderKind, folder: string): Promise<void> {
    this.data.folders[kind] = folder;
    return this.save();
  }

  /** Puts a checkpoint first in the recent list (at most MAX_RECENT, no duplicates). */
  addRecent(path: string): Promise<void> {
    this.data.recentCheckpoints = [path, ...this.data.recentCheckpoints.filter((p) => p !== path)].slice(0, MAX_RECENT);
    return this.recentChanged();
  }

  removeRecent(path: string): Promise<void> {
    this.data.recentCheckpoints = this.data.recentCheckpoints.filter((p) => p !== path);
    return this.recentChanged();
  }

  clearRecent(): Promise<void> {
    this.data.recentCheckpoints = [];
    return this.recentChanged();
  }

  private recentChanged(): Promise<void> {
    for (const listener of this.listeners) listener();
    return this.save();
  }

  /** Resolves when every change so far is on disk (before the app quits). */
  flush(): Promise<void> {
    return this.writing;
  }

  /** Writes the current preferences after any write in progress; a failure is not worth bothering anyone. */
  private save(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    this.writing = this.writing.then(async () => {
      try {
        await mkdir(dirname(file), { recursive: true });
        await writeFileAtomic(file, Buffer.from(`${JSON.stringify(this.data, null, 2)}\n`));
      } catch {
        // Preferences are a convenience: the app works the same without them.
      }
    });
    return this.writing;
  }
}
