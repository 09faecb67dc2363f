/** The app's data folder on each platform, as Electron's app.getPath('userData') names it, and its runs folder. */

import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appDataFolder, runsFolder } from '@core/app-folders';

describe('the data folder', () => {
  it('is per platform, under the product name, unless FMNIST_STUDIO_DATA says otherwise', () => {
    expect(appDataFolder({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32')).toBe(
      join('C:\\Users\\u\\AppData\\Roaming', 'Fashion-MNIST Studio'),
    );
    expect(appDataFolder({}, 'win32')).toBe(join(homedir(), 'AppData', 'Roaming', 'Fashion-MNIST Studio'));
    expect(appDataFolder({}, 'darwin')).toBe(join(homedir(), 'Library', 'Application Support', 'Fashion-MNIST Studio'));
    expect(appDataFolder({ XDG_CONFIG_HOME: '/cfg' }, 'linux')).toBe(join('/cfg', 'Fashion-MNIST Studio'));
    expect(appDataFolder({}, 'linux')).toBe(join(homedir(), '.config', 'Fashion-MNIST Studio'));
    expect(appDataFolder({ FMNIST_STUDIO_DATA: '/portable' }, 'win32')).toBe('/portable');
  });

  it('keeps the run records in its runs folder', () => {
    expect(runsFolder('/portable')).toBe(join('/portable', 'runs'));
  });
});
