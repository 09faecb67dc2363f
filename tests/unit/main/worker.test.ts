/** The training worker's message loop, run in-process with a stand-in parent port (the build runs it in a real thread elsewhere). */

import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WorkerOutbound } from '../../../src/main/worker';

const port = Object.assign(new EventEmitter(), { posted: [] as WorkerOutbound[], postMessage: (m: WorkerOutbound) => port.posted.push(m) });
const thread = { parentPort: port as EventEmitter | null, workerData: { dataDirectory: '/data/studio', downloadDirectory: '/data/studio/fashion-mnist' } as unknown };
vi.mock('node:worker_threads', () => ({
  get parentPort() {
    return thread.parentPort;
  },
  get workerData() {
    return thread.workerData;
  },
}));

afterEach(() => {
  port.removeAllListeners();
  port.posted = [];
  vi.resetModules();
});

describe('the training worker', () => {
  it('answers each request with its id, and uses the folders the host gave it', async () => {
    await import('../../../src/main/worker');
    port.emit('message', { id: 7, request: { type: 'get-state' } });
    await vi.waitFor(() => expect(port.posted.some((m) => 'id' in m && m.id === 7)).toBe(true));
    const answer = port.posted.find((m): m is Extract<WorkerOutbound, { id: number }> => 'id' in m && m.id === 7)!;
    expect(answer.response.ok).toBe(true);
    const state = answer.response.ok ? answer.response.state! : null;
    expect(state?.autosave.file).toBe(join('/data/studio', 'autosave.safetensors'));
    expect(state?.defaultData.searched).toContain("the app's download folder (/data/studio/fashion-mnist)");
  });

  it('passes the session’s events to the host', async () => {
    await import('../../../src/main/worker');
    port.emit('message', { id: 2, request: { type: 'discard-autosave' } });
    await vi.waitFor(() => expect(port.posted.some((m) => 'id' in m && m.id === 2)).toBe(true));
    expect(port.posted.find((m) => 'event' in m)).toEqual({ event: { type: 'state', state: expect.objectContaining({ version: expect.any(String) }) } });
  });

  it('refuses to run outside a worker thread', async () => {
    thread.parentPort = null;
    try {
      await expect(import('../../../src/main/worker')).rejects.toThrow('the training worker must run in a worker thread');
    } finally {
      thread.parentPort = port;
    }
  });

  it('runs without a data folder when the host gives none', async () => {
    thread.workerData = undefined;
    try {
      await import('../../../src/main/worker');
      port.emit('message', { id: 1, request: { type: 'get-state' } });
      await vi.waitFor(() => expect(port.posted.length).toBeGreaterThan(0));
      const answer = port.posted[0] as Extract<WorkerOutbound, { id: number }>;
      expect(answer.response.ok && answer.response.state?.autosave.file).toBeNull();
    } finally {
      thread.workerData = { dataDirectory: '/data/studio' };
    }
  });
});
