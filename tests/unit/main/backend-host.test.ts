import { afterAll, describe, expect, it } from 'vitest';
import type { BackendEvent, StudioState } from '../../../src/core/api/contract';
import { DEFAULT_SETTINGS } from '../../../src/core/api/contract';
import { BackendHost } from '../../../src/main/backend-host';
import { builtFile, REAL_DATA_DIR } from '../../helpers/data';

describe('backend host', () => {
  const events: BackendEvent[] = [];
  process.env.FMNIST_DATA = REAL_DATA_DIR;
  const host = new BackendHost(builtFile('out/node/worker.js'), (event) => events.push(event));
  afterAll(() => host.dispose());
  const lastState = (): StudioState | undefined =>
    [...events].reverse().find((e): e is Extract<BackendEvent, { type: 'state' }> => e.type === 'state')?.state;
  // The host's worker, to simulate faults.
  const worker = (): { postMessage(value: unknown): void; terminate(): Promise<number> } => (host as unknown as { worker: never }).worker;

  it('reports a worker that throws mid-run, then starts a fresh one with the data reloaded', async () => {
    expect((await host.request({ type: 'load-default-data' })).ok).toBe(true);
    const started = await host.request({ type: 'start', settings: { ...DEFAULT_SETTINGS, epochs: 500, limit: 3000, hiddenSizes: [32] }, autosave: false, continue: false });
    expect(started.ok).toBe(true);
    // A malformed message makes the worker's handler throw: an uncaught exception ends the thread.
    worker().postMessage(null);
    await expect.poll(() => lastState()?.run.status, { timeout: 10_000 }).toBe('failed');
    expect(lastState()?.run.error).toMatch(/^training failed: .*(null|reading 'request')/);

    const state = await host.request({ type: 'get-state' });
    expect(state.ok && state.state?.datasets.train?.count).toBe(60000);
    expect(state.ok && state.state?.run).toMatchObject({ status: 'failed' });
    const again = await host.request({ type: 'start', settings: { ...DEFAULT_SETTINGS, epochs: 1, limit: 1000, hiddenSizes: [32] }, autosave: false, continue: false });
    expect(again.ok).toBe(true);
    await expect.poll(() => lastState()?.run.status, { timeout: 30_000 }).toBe('finished');
    expect(lastState()?.run.error).toBeNull();
  });

  it('reports a worker that is killed while idle and recovers on the next request', async () => {
    await worker().terminate();
    await expect.poll(() => lastState()?.run.error, { timeout: 5_000 }).toMatch(/^the backend failed: the training worker stopped unexpectedly/);
    const state = await host.request({ type: 'get-state' });
    expect(state.ok && state.state?.datasets.test?.count).toBe(10000);
  });
});
