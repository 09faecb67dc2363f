/** The settings the app shows and sends (RunSettings) and the full configuration of a run (RunConfig). */

import type { RunConfig } from '@core/shared/config';
import { type RunSettings, SETTING_KEYS } from '@core/shared/contract';

export function settingsOf(config: RunConfig): RunSettings {
  return Object.fromEntries(
    SETTING_KEYS.map((key) => [key, key === 'hiddenSizes' ? [...config.hiddenSizes] : config[key]]),
  ) as unknown as RunSettings;
}
