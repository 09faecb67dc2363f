/**
 * The training worker's message loop, run in-process with a stand-in parent port (the build runs it in a real thread
 * elsewhere).
 */

import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HOST_NAME } from '@core/records/liveness';
import type { WorkerOutbound } from '../../../src/worker/worker';
import { builtFile } from '../../helpers/data';

const port = Object.assign(new EventEmitter(), {
  posted: [] as WorkerOutbound[],
  postMessage: (m: WorkerOutbound) => port.posted.push(m),
});
const thread = {
  parentPort: port as EventEmitter | null,
  workerData: {
    dataDirectory: '/data/studio',
    downloadDirectory: '/data/studio/fashion-mnist',
    runsDirectory: '/data/studio/runs',
  } as unknown,
};
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
    await import('../../../src/worker/worker');
    port.emit('message', { id: 7, request: { type: 'get-state' } });
    await vi.waitFor(() => expect(port.posted.some((m) => 'id' in m && m.id === 7)).toBe(true));
    const answer = port.posted.find((m): m is Extract<WorkerOutbound, { id: number }> => 'id' in m && m.id === 7)!;
    expect(answer.response.ok).toBe(true);
    const state = 'state' in answer.response ? answer.response.state : null;
    expect(state?.autosave.available).toBe(true);
    expect(state?.defaultData.searched).toContain("the app's download folder (/data/studio/fashion-mnist)");
    port.emit('message', { id: 8, request: { type: 'list-runs' } });
    await vi.waitFor(() => expect(port.posted.some((m) => 'id' in m && m.id === 8)).toBe(true));
    expect(port.posted.find((m) => 'id' in m && m.id === 8)).toEqual({
      id: 8,
      response: {
        ok: true,
        runs: { folder: '/data/studio/runs', host: HOST_NAME, runs: [], damaged: [], warnings: [] },
      },
    });
  });

  it('passes the session’s events to the host', async () => {
    await import('../../../src/worker/worker');
    port.emit('message', { id: 2, request: { type: 'shutdown' } });
    await vi.waitFor(() => expect(port.posted.some((m) => 'id' in m && m.id === 2)).toBe(true));
    expect(port.posted.find((m) => 'event' in m)).toEqual({
      event: { type: 'state', state: expect.objectContaining({ version: expect.any(String) }) },
    });
  });

  it('answers a malformed message with an error, and keeps serving', async () => {
    await import('../../../src/worker/worker');
    const malformed: unknown[] = [
      null,
      'get-state',
      [1, { type: 'get-state' }],
      { request: { type: 'get-state' } },
      { id: 1.5, request: { type: 'get-state' } },
      { id: '3', request: { type: 'get-state' } },
      { id: 4 },
      { id: 5, request: null },
      { id: 6, request: [] },
      { id: 7, request: { type: 'delete-everything' } },
      { id: 8, request: { type: 42 } },
    ];
    for (const message of malformed) port.emit('message', message);
    port.emit('message', { id: 9, request: { type: 'get-state' } });
    await vi.waitFor(() => expect(port.posted.some((m) => 'id' in m && m.id === 9)).toBe(true));
    const answers = port.posted.filter((m): m is Extract<WorkerOutbound, { id: number }> => 'id' in m);
    expect(answers.slice(0, malformed.length)).toEqual([
      ...[null, null, null, null, null, null].map((id) => ({
        id,
        response: { ok: false, error: 'malformed message to the training worker: it needs a numeric id and a request' },
      })),
      {
        id: 4,
        response: { ok: false, error: 'malformed message to the training worker: it needs a numeric id and a request' },
      },
      {
        id: 5,
        response: { ok: false, error: 'malformed message to the training worker: it needs a numeric id and a request' },
      },
      {
        id: 6,
        response: { ok: false, error: 'malformed message to the training worker: it needs a numeric id and a request' },
      },
      {
        id: 7,
        response: { ok: false, error: 'malformed message to the training worker: unknown request "delete-everything"' },
      },
      { id: 8, response: { ok: false, error: 'malformed message to the training worker: unknown request "42"' } },
    ]);
    expect(answers.at(-1)).toEqual({ id: 9, response: expect.objectContaining({ ok: true }) });
  });

  it('survives a malformed message in a real thread too', async () => {
    const { Worker } = await vi.importActual<typeof import('node:worker_threads')>('node:worker_threads');
    const worker = new Worker(builtFile('out/node/worker.js'), { workerData: { dataDirectory: null }, stderr: true });
    const answers: unknown[] = [];
    const exits: number[] = [];
    worker.on('message', (message: WorkerOutbound | { id: null }) => {
      if ('id' in message) answers.push(message);
    });
    worker.on('exit', (code) => exits.push(code));
    try {
      worker.postMessage(null);
      worker.postMessage({ id: 1, request: { type: 'get-state' } });
      await vi.waitFor(() => expect(answers).toHaveLength(2), { timeout: 10_000 });
      expect(answers[0]).toEqual({
        id: null,
        response: { ok: false, error: 'malformed message to the training worker: it needs a numeric id and a request' },
      });
      expect(answers[1]).toEqual({ id: 1, response: expect.objectContaining({ ok: true }) });
      expect(exits).toEqual([]);
    } finally {
      await worker.terminate();
    }
  });

  it('refuses to run outside a worker thread', async () => {
    thread.parentPort = null;
    try {
      await expect(import('../../../src/worker/worker')).rejects.toThrow(
        'the training worker must run in a worker thread',
      );
    } finally {
      thread.parentPort = port;
    }
  });

  it('runs without a data folder when the host gives none', async () => {
    thread.workerData = undefined;
    try {
      await import('../../../src/worker/worker');
      port.emit('message', { id: 1, request: { type: 'get-state' } });
      await vi.waitFor(() => expect(port.posted.length).toBeGreaterThan(0));
      const answer = port.posted[0] as Extract<WorkerOutbound, { id: number }>;
      expect('state' in answer.response && answer.response.state.autosave.available).toBe(false);
    } finally {
      thread.workerData = { dataDirectory: '/data/studio' };
    }
  });
});
