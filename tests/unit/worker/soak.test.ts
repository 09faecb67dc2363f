/**
 * A long run through the backend as the app drives it (host, worker, session, engine): 300 epochs on a
 * 2 000-image subset. Resident memory must not grow over the run's second half, and no message may grow with the
 * run (state events do not re-send the cost curve and history; progress updates carry only what is new).
 *
 * The run's first half (about 5 s) lets the process reach its working size: from there, seven runs grew 0–4 MB by
 * the end, and with 80 kB kept in the worker at every epoch two runs grew 11.1 and 15.1 MB and failed. Sampled from
 * epoch 30 instead (about 1 s in), runs grew 6–8 MB, and one in CI 23.5 MB: it had 168 MB resident at epoch 30
 * against the others' 184–188 MB, and ended at 191 MB as they did.
 */

import { describe, expect, it } from 'vitest';
import { type BackendEvent, DEFAULT_SETTINGS } from '@core/shared/contract';
import { BackendHost } from '../../../src/worker/backend-host';
import { builtFile, REAL_DATA_DIR, tempDir } from '../../helpers/data';

const EPOCHS = 300;
/** Message sizes are compared between the epochs after this one and the last 50. */
const EARLY = 30;
/** Resident memory is compared between the first progress from this epoch on and the end. */
const SETTLED = EPOCHS / 2;

describe('a long run through the backend', () => {
  it(`keeps memory flat and messages small over ${EPOCHS} epochs`, async () => {
    process.env.FMNIST_DATA = REAL_DATA_DIR;
    const sizes: { epoch: number; type: string; bytes: number }[] = [];
    let epoch = 0;
    let rssSettled = 0;
    const dataDirectory = await tempDir('fmnist-soak-');
    const host = new BackendHost(
      builtFile('out/node/worker.js'),
      (event: BackendEvent) => {
        if (event.type === 'progress') epoch = Math.max(epoch, ...event.progress.completedEpochs.map((e) => e.epoch));
        sizes.push({ epoch, type: event.type, bytes: JSON.stringify(event).length });
        if (epoch >= SETTLED && rssSettled === 0) rssSettled = process.memoryUsage().rss;
      },
      () => ({ dataDirectory }),
    );
    try {
      expect((await host.request({ type: 'load-default-data' })).ok).toBe(true);
      const started = await host.request({
        type: 'start',
        settings: { ...DEFAULT_SETTINGS, epochs: EPOCHS, limit: 2000, hiddenSizes: [32], threads: 1 },
        autosave: true,
        continue: false,
        allowOtherData: false,
      });
      expect(started.ok).toBe(true);
      // Requests during the run are answered with small states too.
      await expect.poll(() => epoch, { timeout: 60_000 }).toBeGreaterThanOrEqual(EPOCHS / 2);
      const paused = await host.request({ type: 'pause' });
      sizes.push({ epoch, type: 'response', bytes: JSON.stringify(paused).length });
      await host.request({ type: 'resume' });
      await expect.poll(() => epoch, { timeout: 120_000 }).toBe(EPOCHS);
      await expect
        .poll(
          async () => {
            const state = await host.request({ type: 'get-state' });
            return state.ok && state.state?.run.status;
          },
          { timeout: 30_000 },
        )
        .toBe('finished');
      const rssAtEnd = process.memoryUsage().rss;
      const growthMb = (rssAtEnd - rssSettled) / 1024 / 1024;
      const largest = (type: string, from: number, to: number): number =>
        Math.max(0, ...sizes.filter((s) => s.type === type && s.epoch >= from && s.epoch <= to).map((s) => s.bytes));
      const report = {
        progressEarly: largest('progress', EARLY, EARLY + 50),
        progressLate: largest('progress', EPOCHS - 50, EPOCHS),
        stateFirst: largest('state', 0, 0),
        stateLast: largest('state', EPOCHS, EPOCHS),
        largest: Math.max(...sizes.map((s) => s.bytes)),
      };
      console.info(
        `soak: RSS ${(rssSettled / 1024 / 1024).toFixed(0)} MB after ${SETTLED} epochs, ${(rssAtEnd / 1024 / 1024).toFixed(0)} MB after ${EPOCHS} ` +
          `(${growthMb >= 0 ? '+' : ''}${growthMb.toFixed(1)} MB); largest message ${report.largest} bytes; progress updates ` +
          `${report.progressEarly} bytes at most in epochs ${EARLY}–${EARLY + 50}, ${report.progressLate} in the last 50; ` +
          `state ${report.stateFirst} bytes at the start, ${report.stateLast} at the end; ${sizes.length} messages`,
      );
      expect(growthMb).toBeLessThan(10);
      // Nothing grows with the run: late messages are the size of early ones of the same kind. (A state is
      // about 43 KB at any time: mostly the two data sets' sample images.)
      expect(report.progressLate).toBeLessThan(report.progressEarly * 1.5 + 500);
      expect(report.stateLast - report.stateFirst).toBeLessThan(2048);
      expect(report.largest).toBeLessThan(64 * 1024);
    } finally {
      await host.dispose();
    }
  }, 240_000);
});
