/**
 * Named starting points for a run's settings. A preset sets some fields; whatever the user sets explicitly
 * wins, and the rest are the defaults (the reference notebook's). docs/training.md reports how `best` was
 * chosen.
 */

import { DEFAULT_CONFIG, type RunConfig } from './config';

export const PRESET_NAMES = ['notebook', 'quick', 'best'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface Preset {
  name: PresetName;
  /** One line for menus and --help. */
  summary: string;
  settings: Partial<RunConfig>;
}

export const PRESETS: Readonly<Record<PresetName, Preset>> = Object.freeze({
  notebook: {
    name: 'notebook',
    summary: 'the reference notebook: 50 epochs of Adam at 0.001, no recipes',
    settings: {},
  },
  quick: {
    name: 'quick',
    summary: 'a good model in about 10 seconds: 8 epochs, batch 256, cosine schedule from 0.002',
    settings: { epochs: 8, batchSize: 256, learningRate: 0.002, schedule: 'cosine' },
  },
  best: {
    name: 'best',
    summary: 'the most accurate recipe found: 100 epochs with dropout, flips, label smoothing and a cosine schedule',
    settings: {
      epochs: 100,
      schedule: 'cosine',
      warmupEpochs: 2,
      dropout: 0.2,
      flip: true,
      labelSmoothing: 0.1,
    },
  },
});

/** The preset's settings over the defaults: the RunConfig fields it names, with their values. */
export function presetSettings(name: PresetName): Partial<RunConfig> {
  return { ...PRESETS[name].settings };
}

/** The name of the preset these settings are exactly, if any (for the settings form's preset menu). */
export function presetOf(config: RunConfig): PresetName | null {
  const ignored = new Set<keyof RunConfig>(['threads']);
  for (const name of PRESET_NAMES) {
    const wanted = { ...DEFAULT_CONFIG, ...PRESETS[name].settings };
    const same = (Object.keys(DEFAULT_CONFIG) as (keyof RunConfig)[]).every(
      (key) => ignored.has(key) || JSON.stringify(wanted[key]) === JSON.stringify(config[key]),
    );
    if (same) return name;
  }
  return null;
}
