/**
 * The settings form: each field's text as the user typed it, what setting it stands for or why it is not
 * valid (with the same rules as the CLI), and the settings of all fields together.
 */

import { DEFAULT_SETTINGS, type RunSettings } from '../../../core/api/contract';
import { parseHiddenSizes, resolveRunConfig } from '../../../core/config';

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
] as const satisfies readonly { key: keyof RunSettings; label: string; hint: string }[];

export type FieldKey = (typeof FIELDS)[number]['key'];

function formatSetting(key: FieldKey, settings: RunSettings): string {
  return key === 'hiddenSizes' ? settings.hiddenSizes.join(',') : String(settings[key]);
}

/** The setting a field's text stands for, or the message saying why it is not valid. */
export function parseField(key: FieldKey, text: string): { value: RunSettings[FieldKey] } | { error: string } {
  try {
    const trimmed = text.trim();
    const raw = key === 'hiddenSizes' ? parseHiddenSizes(trimmed) : trimmed === '' ? Number.NaN : Number(trimmed);
    const config = resolveRunConfig({ [key]: raw });
    return { value: config[key] };
  } catch (error) {
    const message = (error as Error).message;
    return { error: message.charAt(0).toUpperCase() + message.slice(1) };
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

  get errors(): Partial<Record<FieldKey, string>> {
    const errors: Partial<Record<FieldKey, string>> = {};
    for (const { key } of FIELDS) {
      const parsed = parseField(key, this.fields[key]);
      if ('error' in parsed) errors[key] = parsed.error;
    }
    return errors;
  }

  get valid(): boolean {
    return Object.keys(this.errors).length === 0;
  }

  /** The settings of all fields, or null when one is not valid. */
  settings(): RunSettings | null {
    const settings: Record<string, unknown> = {};
    for (const { key } of FIELDS) {
      const parsed = parseField(key, this.fields[key]);
      if ('error' in parsed) return null;
      settings[key] = parsed.value;
    }
    return settings as unknown as RunSettings;
  }
}
