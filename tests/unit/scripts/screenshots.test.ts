/** `npm run screenshots` (scripts/screenshots.mjs), run short: one epoch on 3 000 images, into a temporary folder. */

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHROMIUM } from '../../helpers/browser';
import { builtFile, tempDir } from '../../helpers/data';

/** Width and height from a PNG's IHDR, or from a JPEG's first start-of-frame marker. */
function size(file: string): { width: number; height: number } {
  const bytes = readFileSync(file);
  if (bytes.subarray(1, 4).toString('latin1') === 'PNG')
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
  for (let i = 2; i < bytes.length;) {
    const marker = bytes[i + 1];
    if (marker >= 0xc0 && marker <= 0xc2)
      return { height: bytes.readUInt16BE(i + 5), width: bytes.readUInt16BE(i + 7) };
    i += 2 + bytes.readUInt16BE(i + 2);
  }
  throw new Error(`${file}: no frame header`);
}

describe('npm run screenshots', () => {
  it('captures every view of the app after training', async (ctx) => {
    ctx.skip(!CHROMIUM && !process.env.CI, 'no Chromium here (apt-get install chromium)');
    builtFile('out/node/web.js');
    const out = await tempDir('fmnist-screenshots-');
    const result = spawnSync(
      process.execPath,
      ['scripts/screenshots.mjs', '--out', out, '--epochs', '1', '--limit', '3000'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe(`Screenshots in ${out}\n`);
    for (const view of ['charts', 'gallery', 'evaluation', 'draw', 'network', 'runs', 'sweeps'])
      for (const [width, height] of [
        [1024, 700],
        [1280, 900],
      ])
        for (const theme of ['light', 'dark']) {
          const name = `${view}-${width}-${theme}.${view === 'network' ? 'jpg' : 'png'}`;
          expect(size(join(out, name)), name).toEqual({ width, height });
        }
    // Light and dark are different pictures.
    const charts = (theme: string) => readFileSync(join(out, `charts-1280-${theme}.png`));
    expect(charts('light').equals(charts('dark'))).toBe(false);
  });
});
