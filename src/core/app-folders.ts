/**
 * The app's data folder (autosaves, run records), the same one Electron's app.getPath('userData') gives, so
 * the desktop app, the browser host and the CLI share it: %APPDATA%\Fashion-MNIST Studio,
 * ~/Library/Application Support/…, or $XDG_CONFIG_HOME (~/.config)/Fashion-MNIST Studio. FMNIST_STUDIO_DATA
 * overrides it (tests, portable use). The desktop app's development runs use a folder of their own (app.ts).
 */

import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_FOLDER_NAME = 'Fashion-MNIST Studio';
/** The folder inside the data folder that Download Fashion-MNIST fills (the data search includes it). */
export const DOWNLOAD_FOLDER = 'fashion-mnist';
/** The folder inside the data folder that holds a record of every training run. */
export const RUNS_FOLDER = 'runs';

export function appDataFolder(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (env.FMNIST_STUDIO_DATA) return env.FMNIST_STUDIO_DATA;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_FOLDER_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_FOLDER_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), APP_FOLDER_NAME);
}

/** Where the run records of a data folder are kept. */
export function runsFolder(dataFolder: string): string {
  return join(dataFolder, RUNS_FOLDER);
}
