/**
 * The settings form: each field's text as the user typed it, what setting it stands for or why it is not
 * valid (with the same rules as the CLI), and the settings of all fields together. Recipe fields that only
 * matter with another setting (the step schedule's factor, restore best with a validation split) are still
 * shown; how the fields combine is checked on the whole form and reported on the field to change.
 */

import { DEFAULT_SETTINGS, type RunSettings } from '@core/shared/contract';
import {
  combinationProblem,
  DEFAULT_CONFIG,
  FIELD_LABELS,
  parseHiddenSizes,
  resolveFields,
  SCHEDULES,
} from '@core/shared/config';
import { PRESET_NAMES, type PresetName, presetOf, presetSettings, PRESETS } from '@core/shared/presets';

interface FieldSpec {
  key: keyof RunSettings;
  label: string;
  hint: string;
  /** text (the default), a choice among `choices`, or an on/off check box. */
  kind?: 'choice' | 'check';
  choices?: readonly string[];
  /** Shown under "Recipes" rather than with the basic settings. */
  recipe?: true;
}

/** The form's fields, and how each maps to a setting. */
export const FIELDS = [
  { key: 'epochs', label: 'Epochs', hint: '1–100 000' },
  { key: 'batchSize', label: 'Batch size', hint: 'samples per step' },
  { key: 'learningRate', label: 'Learning rate', hint: "Adam's step size" },
  { key: 'hiddenSizes', label: 'Hidden layers', hint: 'units per layer, e.g. 512,256' },
  { key: 'seed', label: 'Seed', hint: 'same seed, same run' },
  { key: 'validationFraction', label: 'Validation split', hint: 'fraction held out, 0–0.9' },
  { key: 'limit', label: 'Training subset size', hint: '0 = all samples' },
  { key: 'threads', label: 'Threads', hint: '0 = one per core' },
  {
    key: 'schedule',
    label: 'Learning-rate schedule',
    hint: 'constant, step decay or cosine to 0',
    kind: 'choice',
    choices: SCHEDULES,
    recipe: true,
  },
  { key: 'warmupEpochs', label: 'Warm-up epochs', hint: 'rate rises linearly first; 0 = none', recipe: true },
  { key: 'stepEpochs', label: 'Step every (epochs)', hint: 'step schedule: epochs per drop', recipe: true },
  { key: 'stepFactor', label: 'Step factor', hint: 'step schedule: rate × this at each drop', recipe: true },
  { key: 'weightDecay', label: 'Weight decay', hint: 'AdamW, weights only; 0 = none', recipe: true },
  { key: 'dropout', label: 'Dropout', hint: 'share of hidden units dropped, 0–0.9', recipe: true },
  { key: 'shiftPixels', label: 'Shift images (px)', hint: 'random shifts up to this, 0–4', recipe: true },
  { key: 'flip', label: 'Flip images', hint: 'mirror half of them left to right', kind: 'check', recipe: true },
  { key: 'labelSmoothing', label: 'Label smoothing', hint: 'target spread over classes, 0–0.5', recipe: true },
  {
    key: 'patience',
    label: 'Early-stopping patience',
    hint: 'epochs without a better validation cost; 0 = off',
    recipe: true,
  },
  {
    key: 'restoreBest',
    label: 'Keep the best epoch',
    hint: 'end with the lowest validation cost',
    kind: 'check',
    recipe: true,
  },
] as const satisfies readonly FieldSpec[];

export type FieldKey = (typeof FIELDS)[number]['key'];
export type Field = (typeof FIELDS)[number];

function formatSetting(key: FieldKey, settings: RunSettings): string {
  return key === 'hiddenSizes' ? settings.hiddenSizes.join(',') : String(settings[key]);
}

/** A field's text as the value resolveFields expects: numbers, sizes, a choice's name, or true/false. */
function rawValue(key: FieldKey, text: string): unknown {
  const trimmed = text.trim();
  const spec = FIELDS.find((field) => field.key === key) as FieldSpec;
  if (key === 'hiddenSizes') return parseHiddenSizes(trimmed);
  if (spec.kind === 'choice') return trimmed;
  if (spec.kind === 'check') return trimmed === 'true';
  // Text that is no decimal number stays text, so the message quotes what was typed (Number would read '' as 0,
  // '0x10' as 16 and 'Infinity' as a number).
  return DECIMAL.test(trimmed) ? Number(trimmed) : trimmed;
}

const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

const sentence = (message: string): string => message.charAt(0).toUpperCase() + message.slice(1);

/** A message about a field, naming it as the form's label does ("Early-stopping patience needs …"). */
function relabelled(key: FieldKey, message: string): string {
  const core = FIELD_LABELS[key];
  const label = FIELDS.find((field) => field.key === key)?.label ?? core;
  return message.toLowerCase().startsWith(`${core} `) ? `${label}${message.slice(core.length)}` : sentence(message);
}

/** The setting a field's text stands for, or the message saying why it is not valid (on its own). */
export function parseField(key: FieldKey, text: string): { value: RunSettings[FieldKey] } | { error: string } {
  try {
    const config = resolveFields({ [key]: rawValue(key, text) });
    return { value: config[key] };
  } catch (error) {
    return { error: relabelled(key, (error as Error).message) };
  }
}

function formatAll(settings: RunSettings): Record<FieldKey, string> {
  return Object.fromEntries(FIELDS.map(({ key }) => [key, formatSetting(key, settings)])) as Record<FieldKey, string>;
}

export class SettingsForm {
  // The defaults until the backend's state arrives: the form never shows an error for text nobody typed.
  fields = $state<Record<FieldKey, string>>(formatAll(DEFAULT_SETTINGS));

  /** Shows these settings in every field. */
  fill(settings: RunSettings): void {
    for (const { key } of FIELDS) this.fields[key] = formatSetting(key, settings);
  }

  /** The fields the last preset chosen changed, from what to what (shown while the preset is kept as it is). */
  presetChanges = $state<{ key: FieldKey; label: string; from: string; to: string }[]>([]);

  /** Fills the fields with a preset: its settings over the defaults; the thread count stays. */
  applyPreset(name: PresetName): void {
    const before = { ...this.fields };
    const threads = this.fields.threads;
    const settings = {
      ...DEFAULT_SETTINGS,
      hiddenSizes: [...DEFAULT_CONFIG.hiddenSizes],
      ...presetSettings(name),
    } as RunSettings;
    this.fill(settings);
    this.fields.threads = threads;
    this.presetChanges = FIELDS.filter(({ key }) => before[key].trim() !== this.fields[key]).map(({ key, label }) => ({
      key,
      label,
      from: before[key].trim(),
      to: this.fields[key],
    }));
  }

  /** Whether a recipe field differs from its default (the recipe is in use). */
  get recipesInUse(): boolean {
    return FIELDS.some(
      (field) => 'recipe' in field && this.fields[field.key].trim() !== formatSetting(field.key, DEFAULT_SETTINGS),
    );
  }

  /** The preset the fields show exactly, or null (edited settings). */
  get preset(): PresetName | null {
    const settings = this.settings();
    return settings ? presetOf({ ...DEFAULT_CONFIG, ...settings }) : null;
  }

  /** Every field parsed: the settings, and what is wrong with a field or (once each is fine) how they combine. */
  private parseAll(): { values: Record<string, unknown>; errors: Partial<Record<FieldKey, string>> } {
    const errors: Partial<Record<FieldKey, string>> = {};
    const values: Record<string, unknown> = {};
    for (const { key } of FIELDS) {
      const parsed = parseField(key, this.fields[key]);
      if ('error' in parsed) errors[key] = parsed.error;
      else values[key] = parsed.value;
    }
    if (Object.keys(errors).length === 0) {
      const problem = combinationProblem({ ...DEFAULT_CONFIG, ...values });
      if (problem) errors[problem.field as FieldKey] = sentence(problem.problem);
    }
    return { values, errors };
  }

  get errors(): Partial<Record<FieldKey, string>> {
    return this.parseAll().errors;
  }

  get valid(): boolean {
    return Object.keys(this.errors).length === 0;
  }

  /** The settings of all fields, or null when one is not valid (or they do not fit together). */
  settings(): RunSettings | null {
    const { values, errors } = this.parseAll();
    return Object.keys(errors).length === 0 ? (values as unknown as RunSettings) : null;
  }
}

export { PRESET_NAMES, PRESETS };
