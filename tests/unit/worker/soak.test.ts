/**
 * A long run through the backend as the app drives it (host, worker, session, engine): 300 epochs on a
 * 2 000-image subset. Resident memory must settle after warm-up, and no message may grow with the run (state
 * events do not re-send the cost curve and history; progress updates carry only what is new).
 */

import { describe, expect, it } from 'vitest';
import { type BackendEvent, DEFAULT_SETTINGS } from '@core/shared/contract';
import { BackendHost } from '../../../src/worker/backend-host';
import { builtFile, REAL_DATA_DIR, tempDir } from '../../helpers/data';

const EPOCHS = 300;
const WARM_UP = 30;

describe('a long run through the backend', () => {
  it(`keeps memory flat and messages small over ${EPOCHS} epochs`, async () => {
    process.env.FMNIST_DATA = REAL_DATA_DIR;
    const sizes: { epoch: number; type: string; bytes: number }[] = [];
    let epoch = 0;
    let rssAfterWarmUp = 0;
    const dataDirectory = await tempDir('fmnist-soak-');
    const host = new BackendHost(
      builtFile('out/node/worker.js'),
      (event: BackendEvent) => {
        if (event.type === 'progress') epoch = Math.max(epoch, ...event.progress.completedEpochs.map((e) => e.epoch));
        sizes.push({ epoch, type: event.type, bytes: JSON.stringify(event).length });
        if (epoch >= WARM_UP && rssAfterWarmUp === 0) rssAfterWarmUp = process.memoryUsage().rss;
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
      const growthMb = (rssAtEnd - rssAfterWarmUp) / 1024 / 1024;
      const largest = (type: string, from: number, to: number): number =>
        Math.max(0, ...sizes.filter((s) => s.type === type && s.epoch >= from && s.epoch <= to).map((s) => s.bytes));
      const report = {
        progressEarly: largest('progress', WARM_UP, WARM_UP + 50),
        progressLate: largest('progress', EPOCHS - 50, EPOCHS),
        stateFirst: largest('state', 0, 0),
        stateLast: largest('state', EPOCHS, EPOCHS),
        largest: Math.max(...sizes.map((s) => s.bytes)),
      };
      console.info(
        `soak: RSS ${(rssAfterWarmUp / 1024 / 1024).toFixed(0)} MB after ${WARM_UP} epochs, ${(rssAtEnd / 1024 / 1024).toFixed(0)} MB after ${EPOCHS} ` +
          `(${growthMb >= 0 ? '+' : ''}${growthMb.toFixed(1)} MB); largest message ${report.largest} bytes; progress updates ` +
          `${report.progressEarly} bytes at most in epochs ${WARM_UP}–${WARM_UP + 50}, ${report.progressLate} in the last 50; ` +
          `state ${report.stateFirst} bytes at the start, ${report.stateLast} at the end; ${sizes.length} messages`,
      );
      expect(growthMb).toBeLessThan(20);
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
