/**
 * The app's sweeps: one at a time, its runs trained one after another through the session's own run controls
 * (so the page's charts, progress, Pause and Stop work as for any run), each recorded in the run history, and the
 * sweep's record kept by the SweepRunner the CLI uses too. Stop ends the run in training (it stays resumable) and
 * the sweep with it; Resume goes on where it stopped, in the app or with `fmnist sweep --resume`.
 */

import type { SweepListing, SweepStart, SweepState } from '@core/shared/contract';
import { resolveRunConfig } from '@core/shared/config';
import { FmnistError, userMessage } from '@core/shared/errors';
import { aggregateSweep } from '@core/shared/sweep/aggregate';
import { checkSweepPlan, describeSettings } from '@core/shared/sweep/plan';
import { type SweepRecord, sweepDisplayName } from '@core/shared/sweep/record';
import { RunStore } from '../records/store';
import { type SweepJob, type SweepJobEnd, SweepRunner } from '../sweep/runner';
import type { SweepLock } from '../sweep/lock';
import { SweepStore, sweepsFolder } from '../sweep/store';

export interface SweepHost {
  /** The runs folder (null: runs are not recorded, so there are no sweeps). */
  runsFolder: string | null;
  kernels: string;
  /** The training data loaded now: its files (for the record) and whether there is any. */
  trainingSources(): { train: string[]; test: string[] | null } | null;
  /** Trains one planned run through the session's run controls; resolves when it has ended. */
  train(job: SweepJob): Promise<SweepJobEnd>;
  /** Publishes the app's state (the sweep's progress is part of it). */
  publish(): void;
  /** One line for the user about the sweep (a run retrained, the sweep failing). */
  notice(message: string, tone: 'info' | 'error'): void;
}

interface Current {
  runner: SweepRunner;
  record: SweepRecord;
  position: number;
  settings: string;
  done: Promise<void>;
}

export class AppSweeps {
  private readonly store: SweepStore | null;
  private readonly runs: RunStore | null;
  private current: Current | null = null;
  /** A start or resume is on its way (two requests at once must not start two sweeps). */
  private starting = false;

  constructor(private readonly host: SweepHost) {
    this.runs = host.runsFolder ? new RunStore(host.runsFolder) : null;
    this.store = host.runsFolder ? new SweepStore(sweepsFolder(host.runsFolder)) : null;
  }

  /** A sweep is training its runs (or between two of them). */
  get active(): boolean {
    return this.current !== null || this.starting;
  }

  describe(): SweepState | null {
    const current = this.current;
    if (!current) return null;
    return {
      id: current.record.id,
      name: sweepDisplayName(current.record),
      position: current.position,
      total: current.record.runs.length,
      settings: current.settings,
      stopping: current.runner.stopRequested,
    };
  }

  /** Starts a new sweep; resolves once its record is written and its first run is on its way. */
  async start(sweep: SweepStart): Promise<void> {
    await this.opening((store) => {
      const sources = this.host.trainingSources();
      if (!sources) throw new FmnistError('bad-option', 'load training data first');
      // The form's settings are the base; each run changes only what the plan sweeps, and its seed.
      const base = resolveRunConfig({ ...sweep.settings });
      const plan = checkSweepPlan(sweep.plan, base);
      return store.begin({ name: sweep.name, origin: 'app', plan, base, kernels: this.host.kernels, data: sources });
    });
  }

  /** Goes on with a sweep that stopped (or whose process was killed) where it stopped. */
  async resume(id: string): Promise<void> {
    await this.opening((store) => this.reopen(store, id));
  }

  /** Gets a sweep's record and lock, one start at a time (two requests at once must not start two), and launches it. */
  private async opening(open: (store: SweepStore) => Promise<{ record: SweepRecord; lock: SweepLock }>): Promise<void> {
    const { store } = this.ready();
    this.starting = true;
    try {
      const { record, lock } = await open(store);
      this.launch(record, lock);
    } finally {
      this.starting = false;
    }
  }

  private async reopen(store: SweepStore, id: string): Promise<{ record: SweepRecord; lock: SweepLock }> {
    const lock = await store.claim(id);
    try {
      return { record: await store.read(id), lock };
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** Stops the run in training after its current batch and starts no other; the sweep stays resumable. */
  stop(): void {
    this.current?.runner.stop();
    this.host.publish();
  }

  /** Resolves once the sweep under way (if any) has ended. */
  async whenIdle(): Promise<void> {
    await this.current?.done;
  }

  async list(): Promise<{ sweeps: SweepListing[]; warnings: string[] }> {
    if (!this.store) return { sweeps: [], warnings: [] };
    const { sweeps, damaged, warnings } = await this.store.list();
    return {
      // Newest first, as the runs are listed.
      sweeps: [...sweeps]
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
        .map((record) => ({
          id: record.id,
          name: sweepDisplayName(record),
          // The sweep this process runs is read as it is in memory, a step ahead of its file at times.
          status: this.current?.record.id === record.id ? 'running' : record.listedStatus,
          createdAt: record.createdAt,
          plan: record.plan,
          runs: (this.current?.record.id === record.id ? this.current.record : record).runs,
          results: aggregateSweep(this.current?.record.id === record.id ? this.current.record : record),
        })),
      warnings: [...damaged.map((sweep) => `${sweep.file}: ${sweep.problem}`), ...warnings],
    };
  }

  private ready(): { store: SweepStore; runs: RunStore } {
    if (!this.store || !this.runs)
      throw new FmnistError('bad-option', 'sweeps need the app data folder, where their runs are recorded');
    if (this.current)
      throw new FmnistError('bad-option', `sweep ${this.current.record.id} is under way: stop it first`);
    if (this.starting) throw new FmnistError('bad-option', 'a sweep is starting: wait for it to begin');
    return { store: this.store, runs: this.runs };
  }

  private launch(record: SweepRecord, lock: SweepLock): void {
    const current: Current = {
      record,
      position: 0,
      settings: '',
      runner: new SweepRunner({
        sweeps: this.store!,
        runs: this.runs!,
        record,
        lock,
        train: (job) => this.host.train(job),
        onEvent: (event) => {
          if (event.type === 'run-started') {
            current.position = event.position;
            current.settings = describeSettings(event.entry.settings, event.entry.seed);
            this.host.publish();
          } else if (event.type === 'notice') this.host.notice(event.message, 'info');
        },
      }),
      done: Promise.resolve(),
    };
    this.current = current;
    current.done = current.runner
      .run()
      .then(
        () => undefined,
        (error: unknown) =>
          this.host.notice(
            `Sweep ${record.id} stopped: ${userMessage(error)}. Resume it from the Sweeps tab when that is fixed.`,
            'error',
          ),
      )
      .finally(() => {
        if (this.current === current) this.current = null;
        this.host.publish();
      });
  }
}
