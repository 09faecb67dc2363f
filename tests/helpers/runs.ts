/** Run records for tests: a finished record as another process would have written it, and a pid that has gone. */

import { spawnSync } from 'node:child_process';
import { resolveRunConfig } from '@core/shared/config';
import { RUN_RECORD_FORMAT, type RunRecord } from '@core/shared/run-record';

/** A finished record written straight to a file, as another process would have written it. */
export function recordFor(id: string, changes: Partial<RunRecord> = {}): RunRecord {
  return {
    format: RUN_RECORD_FORMAT,
    formatVersion: 1,
    id,
    name: '',
    note: '',
    status: 'finished',
    error: null,
    origin: 'cli',
    startedAt: '2026-11-25T14:30:12.000Z',
    updatedAt: '2026-11-25T14:31:12.000Z',
    endedAt: '2026-11-25T14:31:12.000Z',
    pid: 1,
    host: 'elsewhere',
    processStartedMs: 0,
    appVersion: '0.1.0',
    config: resolveRunConfig({ epochs: 5, hiddenSizes: [32], learningRate: 0.002 }),
    data: {
      fingerprint: '0123456789abcdef',
      sources: { train: ['/d/train.csv'], test: ['/d/test.csv'] },
      history: null,
    },
    resumedFrom: null,
    checkpoint: null,
    kernels: 'wasm',
    threads: 1,
    trainingSamples: 1000,
    validationSamples: 0,
    metrics: {
      epochs: 1,
      finalCost: 0.5,
      finalTrainAccuracy: 0.8,
      finalValidationAccuracy: null,
      finalTestCost: 0.6,
      finalTestAccuracy: 0.78,
      bestTestAccuracy: 0.78,
      bestTestEpoch: 1,
      trainingSeconds: 3,
    },
    summary: null,
    ...changes,
  };
}

/** The pid of a process that has exited. */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}
