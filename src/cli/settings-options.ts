/**
 * The run settings given as `fmnist train` options (--epochs, --lr, --dropout, …, and --preset under them), as the
 * partial RunConfig that config.ts checks, and --autosave-every. `fmnist sweep` takes the same options for the
 * settings its runs share.
 */

import { parseHiddenSizes, type RunConfig } from '@core/shared/config';
import { FmnistError } from '@core/shared/errors';
import { PRESET_NAMES, type PresetName, presetSettings } from '@core/shared/presets';
import { threadCount } from './args';
import { AUTOSAVE_INTERVAL_MS } from '@core/training/autosave';

/** The longest --autosave-every: a day. */
const MAX_AUTOSAVE_SECONDS = 86_400;

/** --autosave-every in milliseconds (the default when not given); refused in one line outside 0 s – a day. */
export function autosaveIntervalMs(value: unknown): number {
  if (value === undefined) return AUTOSAVE_INTERVAL_MS;
  const seconds = value as number;
  if (!(seconds >= 0 && seconds <= MAX_AUTOSAVE_SECONDS))
    throw new FmnistError(
      'bad-option',
      `--autosave-every must be between 0 and ${MAX_AUTOSAVE_SECONDS} seconds, got ${seconds}`,
    );
  return seconds * 1000;
}

/** The settings given on the command line (absent ones stay undefined). */
export function givenSettings(options: Record<string, unknown>): Partial<Record<keyof RunConfig, unknown>> {
  return {
    epochs: options.epochs,
    batchSize: options['batch-size'],
    learningRate: options.lr,
    hiddenSizes: typeof options.hidden === 'string' ? parseHiddenSizes(options.hidden) : undefined,
    seed: options.seed,
    validationFraction: options.validation,
    limit: options.limit,
    threads: options.threads === undefined ? undefined : threadCount(options.threads),
    schedule: options.schedule,
    warmupEpochs: options.warmup,
    stepEpochs: options['step-epochs'],
    stepFactor: options['step-factor'],
    weightDecay: options['weight-decay'],
    dropout: options.dropout,
    shiftPixels: options.shift,
    flip: options.flip,
    patience: options.patience,
    restoreBest: options['restore-best'],
    labelSmoothing: options['label-smoothing'],
  };
}

/** A --preset value's settings; the options given on the command line are laid over them. */
export function presetGiven(value: unknown): Partial<RunConfig> {
  if (value === undefined) return {};
  if (!PRESET_NAMES.includes(value as PresetName)) {
    throw new FmnistError('bad-option', `--preset must be one of ${PRESET_NAMES.join(', ')}, got "${String(value)}"`);
  }
  return presetSettings(value as PresetName);
}

/** The settings given: a preset's, then the options given, absent ones left out. */
export function givenWithPreset(options: Record<string, unknown>): Partial<Record<keyof RunConfig, unknown>> {
  const given = Object.fromEntries(Object.entries(givenSettings(options)).filter(([, value]) => value !== undefined));
  return { ...presetGiven(options.preset), ...given };
}
