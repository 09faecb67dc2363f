/**
 * The Runs view's store: the recorded runs (summaries only, as the backend lists them), their order in the
 * table, the runs selected for the charts, the settings that differ between them, and those runs' per-epoch
 * histories (fetched only for them, kept until a run's record changes), and the actions on runs: rename, note,
 * delete (and the question asked first), open the checkpoint, and fill the settings form from a run's settings.
 */

import {
  type DamagedRun,
  type EpochSummary,
  type Request,
  type RunListing,
  type RunRecord,
  type RunSettings,
  SETTING_KEYS,
} from '@core/shared/contract';
import { FIELD_LABELS } from '@core/shared/config';
import { formatBytes } from '@core/shared/format';
import {
  DEFAULT_RUN_ORDER,
  settingDifferences,
  type SortDirection,
  type SortKey,
  sortRuns,
} from '@core/shared/run-display';
import { displayName, isResumable, modelFileOf } from '@core/shared/run-record';
import type { Point } from './chart-series';
import { FIELDS } from './settings-form.svelte';
import type { Studio } from './studio.svelte';

export { sortRuns, type SortDirection, type SortKey };

/** Colours for the selected runs' curves, distinct on light and dark backgrounds (Tableau 10). */
export const RUN_COLORS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

/** A file that may hold the run's model: its own checkpoint, or (older records) the file it named. */
export function hasCheckpoint(run: RunRecord): boolean {
  return !!modelFileOf(run.files) || !!run.checkpoint || !!run.copies?.length;
}

/** A setting's name as the settings form labels it ("Learning rate"); the others as the CLI's messages do. */
export function settingLabel(key: string): string {
  const field = FIELDS.find((f) => f.key === key);
  if (field) return field.label;
  const label = (FIELD_LABELS as Record<string, string>)[key] ?? key;
  return label.charAt(0).toUpperCase() + label.slice(1);
}

/** The most characters of a run's name a chart legend shows. */
export const LEGEND_NAME_CHARS = 30;

/** A name cut to LEGEND_NAME_CHARS characters, with an ellipsis when cut. */
function cut(name: string): string {
  const chars = Array.from(name);
  return chars.length > LEGEND_NAME_CHARS
    ? `${chars
        .slice(0, LEGEND_NAME_CHARS - 1)
        .join('')
        .trimEnd()}…`
    : name;
}

/** Up to three names in quotes ("“a”, “b” and “c”"), or two and how many more. */
function quotedNames(names: string[]): string {
  const quoted = names.map((name) => `“${name}”`);
  if (quoted.length <= 3)
    return quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)}`;
  return `${quoted.slice(0, 2).join(', ')} and ${quoted.length - 2} more`;
}

export class RunsView {
  /** The runs as last listed (oldest first); plain objects, replaced whole. */
  runs = $state.raw<RunRecord[]>([]);
  /** Records that cannot be read (named, and deletable). */
  damaged = $state.raw<DamagedRun[]>([]);
  warnings = $state.raw<string[]>([]);
  folder = $state<string | null>(null);
  /** This computer's name (a running record of another one is not judged here). */
  host = $state('');
  loaded = $state(false);
  sortKey = $state<SortKey>(DEFAULT_RUN_ORDER.key);
  sortDirection = $state<SortDirection>(DEFAULT_RUN_ORDER.direction);
  /** Runs whose curves are drawn, in the order they were selected (their colours). */
  selected = $state.raw<string[]>([]);
  /** The run whose details are shown. */
  current = $state<string | null>(null);
  message = $state<{ tone: 'error' | 'info'; text: string } | null>(null);
  /** Bumped when the charts' series change (selection, histories). */
  chartVersion = $state(0);
  /** Histories of selected runs, and the record version (updatedAt) they were read at: plain, for Chart.js. */
  private readonly histories = new Map<string, { updatedAt: string; epochs: EpochSummary[] }>();
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;

  constructor(private readonly studio: Studio) {}

  get sorted(): RunRecord[] {
    return sortRuns(this.runs, this.sortKey, this.sortDirection);
  }

  get currentRun(): RunRecord | null {
    return this.runs.find((run) => run.id === this.current) ?? null;
  }

  /** Whether a run listed here can be resumed (see isResumable). */
  canResume(run: RunRecord): boolean {
    return isResumable(run, this.runs);
  }

  /** Clicking a column header: sort by it, or turn its direction around. */
  sortBy(key: SortKey): void {
    if (this.sortKey === key) this.sortDirection = this.sortDirection === 'ascending' ? 'descending' : 'ascending';
    else {
      this.sortKey = key;
      this.sortDirection = key === 'name' || key === 'preset' || key === 'status' ? 'ascending' : 'descending';
    }
  }

  /** Lists the runs again (one listing at a time; asked for meanwhile, one more follows). */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.refreshAgain = false;
          const response = await this.studio.transport.request({ type: 'list-runs' });
          if (!response.ok) {
            this.message = { tone: 'error', text: response.error };
            return;
          }
          this.applyListing(response.runs);
        } while (this.refreshAgain);
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private applyListing(listing: RunListing): void {
    this.runs = listing.runs;
    this.damaged = listing.damaged;
    this.warnings = listing.warnings;
    this.folder = listing.folder;
    this.host = listing.host;
    this.loaded = true;
    const ids = new Set(listing.runs.map((run) => run.id));
    if (this.selected.some((id) => !ids.has(id))) this.selected = this.selected.filter((id) => ids.has(id));
    if (this.current && !ids.has(this.current)) this.current = null;
    void this.loadHistories();
  }

  toggle(id: string): void {
    this.selected = this.selected.includes(id) ? this.selected.filter((s) => s !== id) : [...this.selected, id];
    void this.loadHistories();
  }

  isSelected(id: string): boolean {
    return this.selected.includes(id);
  }

  /** Fetches the histories of selected runs not read yet, or whose record changed since (a run going on). */
  async loadHistories(): Promise<void> {
    const byId = new Map(this.runs.map((run) => [run.id, run]));
    const wanted = this.selected.filter((id) => this.histories.get(id)?.updatedAt !== byId.get(id)?.updatedAt);
    if (wanted.length > 0) {
      const response = await this.studio.transport.request({ type: 'get-run-history', ids: wanted });
      if (!response.ok) {
        this.message = { tone: 'error', text: response.error };
      } else {
        const { histories, warnings } = response.runHistories;
        for (const [id, epochs] of Object.entries(histories))
          this.histories.set(id, { updatedAt: byId.get(id)?.updatedAt ?? '', epochs });
        if (warnings.length) this.message = { tone: 'error', text: warnings.join('; ') };
      }
    }
    this.chartVersion++;
  }

  /** One curve per selected run (its name in the legend, its colour by selection order). */
  curves(value: (epoch: EpochSummary) => number | null): { label: string; color: string; points: Point[] }[] {
    const names = new Map<string, number>();
    for (const run of this.runs) names.set(displayName(run), (names.get(displayName(run)) ?? 0) + 1);
    return this.selected.flatMap((id, i) => {
      const run = this.runs.find((r) => r.id === id);
      if (!run) return [];
      const name = displayName(run);
      // Two runs of the same name are told apart by the end of their ids; a long name is cut to fit a legend.
      const label = (names.get(name) ?? 0) > 1 && name !== run.id ? `${cut(name)} (${run.id.slice(-4)})` : cut(name);
      const points: Point[] = [];
      for (const epoch of this.histories.get(id)?.epochs ?? []) {
        const y = value(epoch);
        if (y !== null) points.push({ x: epoch.epoch, y });
      }
      return [{ label, color: RUN_COLORS[i % RUN_COLORS.length], points }];
    });
  }

  /**
   * The longest selected run, in epochs (the charts' x axis): what its record says, or its history when that
   * was read later and goes further (a run training).
   */
  get maxEpochs(): number | undefined {
    const lengths = this.selected.map((id) =>
      Math.max(
        this.runs.find((run) => run.id === id)?.metrics.epochs ?? 0,
        this.histories.get(id)?.epochs.at(-1)?.epoch ?? 0,
      ),
    );
    return lengths.length ? Math.max(1, ...lengths) : undefined;
  }

  /** The selected runs (two or more), in the order selected, and each one's value of the settings that differ. */
  get differences(): { runs: RunRecord[]; settings: { key: string; label: string; values: string[] }[] } | null {
    const chosen = this.selected
      .map((id) => this.runs.find((run) => run.id === id))
      .filter((run): run is RunRecord => !!run);
    if (chosen.length < 2) return null;
    const settings = settingDifferences(chosen).map((setting) => ({ ...setting, label: settingLabel(setting.key) }));
    return { runs: chosen, settings };
  }

  /**
   * The question asked before deleting runs (`filesOnly`: only their checkpoints): which runs, what goes, what
   * stays, in the grammar of one run or several.
   */
  deleteQuestion(ids: string[], filesOnly: boolean): string {
    const chosen = ids.map(
      (id) => this.runs.find((run) => run.id === id) ?? this.damaged.find((run) => run.id === id) ?? null,
    );
    const names = chosen.map((run, i) => (run && 'config' in run ? displayName(run) : ids[i]));
    const one = ids.length === 1;
    const which = one ? `the run ${quotedNames(names)}` : `${ids.length} runs (${quotedNames(names)})`;
    const bytes = chosen.reduce((sum, run) => sum + (run?.files?.bytes ?? 0), 0);
    const size = bytes ? ` (${formatBytes(bytes)})` : '';
    const checkpoints = chosen.reduce(
      (sum, run) => sum + (run?.files ? [run.files.last, run.files.best].filter(Boolean).length : 0),
      0,
    );
    const checkpointWord = checkpoints === 1 ? 'checkpoint' : 'checkpoints';
    if (filesOnly) {
      const stay = one
        ? 'Its record and charts stay; it can no longer be opened or resumed.'
        : 'Their records and charts stay; they can no longer be opened or resumed.';
      return `Delete the ${checkpointWord}${size} of ${which}? ${stay}`;
    }
    const goes = one
      ? bytes
        ? `Its record and its own ${checkpointWord}${size} go`
        : 'Its record goes'
      : bytes
        ? `Their records and their own ${checkpointWord}${size} go`
        : 'Their records go';
    const copies = chosen.some((run) => run && 'config' in run && run.copies?.length)
      ? '; copies saved elsewhere stay'
      : '';
    const first = chosen[0];
    const elsewhere =
      one && first && 'config' in first && this.elsewhere(first)
        ? ` It is recorded as training on ${first.host}, which this computer cannot check: ` +
          'delete it only if that is over.'
        : '';
    return `Delete ${which}? ${goes}${copies}.${elsewhere}`;
  }

  async rename(id: string, name: string): Promise<boolean> {
    return this.edit({ type: 'rename-run', id, name });
  }

  async note(id: string, note: string): Promise<boolean> {
    return this.edit({ type: 'note-run', id, note });
  }

  private async edit(request: Extract<Request, { type: 'rename-run' | 'note-run' }>): Promise<boolean> {
    this.message = null;
    const response = await this.studio.transport.request(request);
    if (!response.ok) {
      this.message = { tone: 'error', text: response.error };
      return false;
    }
    const edited = response.run;
    this.runs = this.runs.map((run) => (run.id === edited.id ? edited : run));
    this.chartVersion++;
    return true;
  }

  /** A run recorded as training on another computer, which this one cannot check. */
  elsewhere(run: RunRecord): boolean {
    return run.status === 'running' && run.host !== this.host;
  }

  /** Deletes records and their own checkpoints (copies saved elsewhere stay); `force`: also runs training elsewhere. */
  async remove(ids: string[], force = false): Promise<void> {
    if (await this.deleting({ type: 'delete-runs', ids, ...(force ? { force } : {}) })) {
      for (const id of ids) this.histories.delete(id);
      this.message = {
        tone: 'info',
        text:
          ids.length === 1
            ? 'The run was deleted, with its own files.'
            : `${ids.length} runs were deleted, with their own files.`,
      };
    }
  }

  /** Deletes runs' own checkpoints; their records stay. */
  async removeFiles(ids: string[]): Promise<void> {
    if (await this.deleting({ type: 'delete-run-files', ids })) {
      this.message = {
        tone: 'info',
        text:
          ids.length === 1
            ? 'The run’s files were deleted; its record stays.'
            : `The files of ${ids.length} runs were deleted; their records stay.`,
      };
    }
  }

  /** Sends a deletion and lists the runs it leaves; false (the error shown) when it was refused. */
  private async deleting(request: Extract<Request, { type: 'delete-runs' | 'delete-run-files' }>): Promise<boolean> {
    this.message = null;
    const response = await this.studio.transport.request(request);
    if (!response.ok) {
      this.message = { tone: 'error', text: response.error };
      return false;
    }
    this.applyListing(response.runs);
    return true;
  }

  /** Continues the run from its own last checkpoint, as a new run. */
  async resume(id: string): Promise<void> {
    this.message = null;
    await this.studio.resumeRun(id);
  }

  /**
   * Loads the run's checkpoint as the model (as Load checkpoint does, asking first when the model held is in no file).
   */
  async openCheckpoint(id: string): Promise<void> {
    this.message = null;
    await this.studio.replacingModel('Open the run’s checkpoint?', 'opening another replaces it', 'Open anyway', () =>
      this.openAsked(id),
    );
  }

  private async openAsked(id: string): Promise<void> {
    const response = await this.studio.transport.request({ type: 'open-run-checkpoint', id, replaceUnsaved: true });
    if (!response.ok) {
      this.message = { tone: 'error', text: response.error };
      return;
    }
    this.studio.apply({ type: 'state', state: response.state });
    this.message = {
      tone: 'info',
      text: `Loaded ${response.state.model?.file ?? 'the checkpoint'}: the model bar and the other views show it now.`,
    };
  }

  /** Fills the settings form with the run's settings (those the form has; the defaults for any it lacks). */
  newRunFrom(run: RunRecord): void {
    const defaults = this.studio.state?.defaults;
    if (!defaults) return;
    const settings = { ...defaults, hiddenSizes: [...defaults.hiddenSizes] } as Record<string, unknown>;
    const config = run.config as unknown as Record<string, unknown>;
    for (const key of SETTING_KEYS)
      if (config[key] !== undefined)
        settings[key] = Array.isArray(config[key]) ? [...(config[key] as number[])] : config[key];
    this.studio.form.fill(settings as unknown as RunSettings);
    this.message = {
      tone: 'info',
      text: `The settings of ${displayName(run)} are in the form: change what you like and press Start.`,
    };
  }
}
