/**
 * Run ids are claimed: a new run's id is taken by creating its folder, so two runs started in the same second
 * that draw the same random digits never share an id (the second draws again).
 */

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { tempDir } from '../../../helpers/data';

const draws = vi.hoisted(() => ({ next: [] as string[] }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    randomBytes: (size: number) =>
      draws.next.length ? Buffer.from(draws.next.shift()!, 'hex') : actual.randomBytes(size),
  };
});

afterEach(() => {
  draws.next = [];
});

it('draws again when another process has taken the id (its folder exists), and claims the one it returns', async () => {
  const { RunStore } = await import('@core/records/store');
  const folder = join(await tempDir('fmnist-run-ids-'), 'runs');
  const store = new RunStore(folder);
  const now = new Date(Date.UTC(2026, 10, 25, 14, 30, 12));
  // Another process took 20261125-143012-abcd a moment ago.
  await mkdir(join(folder, '20261125-143012-abcd'), { recursive: true });
  draws.next = ['abcd', 'abcd', '1234'];
  expect(store.newId(now)).toBe('20261125-143012-1234');
  expect(existsSync(join(folder, '20261125-143012-1234'))).toBe(true);
  // The same draw again: taken now, so yet another id.
  draws.next = ['1234', '5678'];
  expect(store.newId(now)).toBe('20261125-143012-5678');
});

it('still gives an id, at once, when the runs folder cannot be made (a file is where it should be)', async () => {
  const { RunStore } = await import('@core/records/store');
  const { writeFile } = await import('node:fs/promises');
  const blocked = join(await tempDir('fmnist-run-ids-'), 'runs');
  await writeFile(blocked, 'a file where the runs folder should be');
  expect(new RunStore(blocked).newId(new Date(Date.UTC(2026, 10, 25, 14, 30, 12)))).toMatch(
    /^20261125-143012-[0-9a-f]{4}$/,
  );
});
