/**
 * The Sweeps view's store: the form of a new sweep (one or two settings with their values, the seeds, a name),
 * parsed by the same rules as `fmnist sweep` and the settings form; the sweeps listed with their results; and the
 * actions: start a sweep from the settings form's values, resume one that stopped. A sweep's runs train as any
 * run does, so the run panel and the charts follow them; Stop stops the sweep.
 */

import type { SweepListing } from '@core/shared/contract';
import { userMessage } from '@core/shared/errors';
import { parseSweepList, SWEEP_FIELDS, type SweepField, type SweepPlan } from '@core/shared/sweep/plan';
import type { Studio } from './studio.svelte';

/** What the form calls each sweepable setting: the settings form's label where it has one. */
export const SWEEP_LABELS: Record<SweepField, string> = {
  learningRate: 'Learning rate',
  batchSize: 'Batch size',
  hiddenSizes: 'Hidden layers',
  dropout: 'Dropout',
  weightDecay: 'Weight decay',
  labelSmoothing: 'Label smoothing',
  epochs: 'Epochs',
  shiftPixels: 'Shift images (px)',
};

const names = (field: SweepField | 'seed'): string => (field === 'seed' ? 'Seeds' : SWEEP_LABELS[field]);

export interface SweepAxisForm {
  field: SweepField | '';
  values: string;
}

export class SweepsView {
  axes = $state<SweepAxisForm[]>([
    { field: 'learningRate', values: '0.0005, 0.001, 0.002' },
    { field: '', values: '' },
  ]);
  seeds = $state('1');
  name = $state('');
  sweeps = $state.raw<SweepListing[]>([]);
  warnings = $state.raw<string[]>([]);
  /** The sweep whose results are shown. */
  current = $state<string | null>(null);
  message = $state<{ tone: 'error' | 'info'; text: string } | null>(null);
  loaded = $state(false);

  constructor(private readonly studio: Studio) {}

  /** The form as a plan, or the message naming what is wrong with it (the first problem found). */
  get parsed(): { plan: SweepPlan; runs: number } | { error: string; field: 'axis0' | 'axis1' | 'seeds' | 'form' } {
    const axes: SweepPlan['axes'] = [];
    for (const [i, axis] of this.axes.entries()) {
      if (!axis.field) continue;
      try {
        const values = parseSweepList(axis.field, axis.values, names);
        if (values.length < 2)
          return { error: `${names(axis.field)} needs two or more values to be swept`, field: i ? 'axis1' : 'axis0' };
        axes.push({ field: axis.field, values });
      } catch (error) {
        return { error: sentence(userMessage(error)), field: i ? 'axis1' : 'axis0' };
      }
    }
    if (axes.length === 0) return { error: 'Choose a setting to sweep', field: 'axis0' };
    if (axes.length === 2 && axes[0].field === axes[1].field)
      return { error: `${names(axes[0].field)} is chosen twice`, field: 'axis1' };
    let seeds: number[];
    try {
      seeds = parseSweepList('seed', this.seeds, names) as number[];
    } catch (error) {
      return { error: sentence(userMessage(error)), field: 'seeds' };
    }
    const runs = axes.reduce((count, axis) => count * axis.values.length, seeds.length);
    // The grid's order is the CLI's: settings in their fixed order, whatever order they were chosen in.
    axes.sort((a, b) => SWEEP_FIELDS.indexOf(a.field) - SWEEP_FIELDS.indexOf(b.field));
    return { plan: { axes, seeds }, runs };
  }

  get currentSweep(): SweepListing | null {
    return this.sweeps.find((sweep) => sweep.id === this.current) ?? this.sweeps[0] ?? null;
  }

  async refresh(): Promise<void> {
    const response = await this.studio.transport.request({ type: 'list-sweeps' });
    if (!response.ok) {
      this.message = { tone: 'error', text: response.error };
      return;
    }
    this.sweeps = response.sweeps;
    this.warnings = response.warnings;
    this.loaded = true;
  }

  /** Starts a sweep of the runs the form plans, each with the settings form's values for what it does not sweep. */
  async start(): Promise<void> {
    const parsed = this.parsed;
    const settings = this.studio.form.settings();
    if ('error' in parsed) {
      this.message = { tone: 'error', text: parsed.error };
      return;
    }
    if (!settings) {
      this.message = { tone: 'error', text: 'Fix the settings first: the runs share them' };
      return;
    }
    this.message = null;
    const response = await this.studio.transport.request({
      type: 'start-sweep',
      sweep: { settings, plan: parsed.plan, name: this.name.trim() },
    });
    if (!response.ok) {
      this.message = { tone: 'error', text: sentence(response.error) };
      return;
    }
    this.studio.applyState(response.state);
    this.current = response.state.sweep?.id ?? null;
    await this.refresh();
  }

  async resume(id: string): Promise<void> {
    this.message = null;
    const response = await this.studio.transport.request({ type: 'resume-sweep', id });
    if (!response.ok) {
      this.message = { tone: 'error', text: sentence(response.error) };
      return;
    }
    this.studio.applyState(response.state);
    this.current = id;
    await this.refresh();
  }
}

const sentence = (message: string): string => message.charAt(0).toUpperCase() + message.slice(1);
