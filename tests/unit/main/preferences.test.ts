/** What the desktop app remembers: read field by field (damage means defaults), written atomically. */

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_RECENT, parsePreferences, Preferences } from '../../../src/main/preferences';
import { tempDir } from '../../helpers/data';

describe('preferences', () => {
  it('start from defaults when the file is missing, empty or not JSON', async () => {
    const dir = await tempDir('fmnist-preferences-');
    const empty = { window: null, folders: { data: null, checkpoints: null }, recentCheckpoints: [] };
    expect(parsePreferences('')).toEqual(empty);
    expect(parsePreferences('{"window": ')).toEqual(empty);
    expect(parsePreferences('null')).toEqual(empty);
    expect(parsePreferences('[1,2]')).toEqual(empty);
    const missing = await Preferences.load(join(dir, 'none.json'));
    expect([missing.window, missing.folder('data'), missing.recentCheckpoints]).toEqual([null, null, []]);
  });

  it('keep each valid field and drop each malformed one', () => {
    const parsed = parsePreferences(
      JSON.stringify({
        window: { bounds: { x: -1200, y: 40, width: 1100.5, height: 700 }, maximized: true },
        folders: { data: '/data', checkpoints: 42 },
        recentCheckpoints: ['/a.safetensors', 7, '', '/a.safetensors', '/b.safetensors'],
      }),
    );
    expect(parsed).toEqual({
      window: null,
      folders: { data: '/data', checkpoints: null },
      recentCheckpoints: ['/a.safetensors', '/b.safetensors'],
    });
    expect(
      parsePreferences(
        JSON.stringify({ window: { bounds: { x: -1200, y: 40, width: 1100, height: 700 }, maximized: 'yes' } }),
      ).window,
    ).toEqual({
      bounds: { x: -1200, y: 40, width: 1100, height: 700 },
      maximized: false,
    });
    expect(
      parsePreferences(JSON.stringify({ window: { bounds: { x: 0, y: 0, width: 0, height: 700 } } })).window,
    ).toBeNull();
  });

  it('keep at most ten recent checkpoints, most recent first, without duplicates, and tell the menu', async () => {
    const file = join(await tempDir('fmnist-preferences-'), 'preferences.json');
    const preferences = await Preferences.load(file);
    let changes = 0;
    preferences.onRecentChange(() => changes++);
    for (let i = 0; i < 12; i++) await preferences.addRecent(`/runs/${i}.safetensors`);
    await preferences.addRecent('/runs/5.safetensors');
    expect(preferences.recentCheckpoints).toHaveLength(MAX_RECENT);
    expect(preferences.recentCheckpoints.slice(0, 3)).toEqual([
      '/runs/5.safetensors',
      '/runs/11.safetensors',
      '/runs/10.safetensors',
    ]);
    await preferences.removeRecent('/runs/11.safetensors');
    expect(preferences.recentCheckpoints[1]).toBe('/runs/10.safetensors');
    expect(changes).toBe(14);
    const reread = await Preferences.load(file);
    expect(reread.recentCheckpoints).toEqual(preferences.recentCheckpoints);
    await reread.clearRecent();
    expect(JSON.parse(await readFile(file, 'utf8')).recentCheckpoints).toEqual([]);
  });

  it('survive a place they cannot be written to: the app works on, nothing is thrown', async () => {
    // A file where the folder should be (permissions would not stop a test run as root).
    const dir = await tempDir('fmnist-preferences-');
    await writeFile(join(dir, 'not-a-folder'), 'x');
    const preferences = await Preferences.load(join(dir, 'not-a-folder', 'preferences.json'));
    await expect(preferences.setFolder('checkpoints', '/new')).resolves.toBeUndefined();
    expect(preferences.folder('checkpoints')).toBe('/new');
    expect(await readFile(join(dir, 'not-a-folder'), 'utf8')).toBe('x');
  });

  it('in memory only when there is no file', async () => {
    const preferences = await Preferences.load(null);
    await preferences.setFolder('data', '/d');
    expect(preferences.folder('data')).toBe('/d');
  });
});
