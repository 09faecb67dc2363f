/**
 * The backend's state and progress as the page's stores receive them: an app that has just started, and the
 * parts tests change.
 */

import {
  type DatasetInfo,
  type DatasetRole,
  DEFAULT_SETTINGS,
  type EpochSummary,
  type ModelInfo,
  type ProgressUpdate,
  type RunInfo,
  type StudioState,
} from '@core/shared/contract';

/** No data, no model, no run yet; `changes` replace whole parts. */
export function studioState(changes: Partial<StudioState> = {}): StudioState {
  return {
    version: '0.1.0',
    datasets: { train: null, test: null },
    model: null,
    evaluation: null,
    autosave: { available: true, pending: null, failure: null },
    defaultData: { directory: null, searched: '/home/user/Downloads' },
    run: runInfo(),
    defaults: { ...DEFAULT_SETTINGS, hiddenSizes: [...DEFAULT_SETTINGS.hiddenSizes] },
    cores: 2,
    insightKey: null,
    insightRun: null,
    sweep: null,
    ...changes,
  };
}

/** The run of a session before its first run (a full copy: empty epochs and cost curve). */
export function runInfo(changes: Partial<RunInfo> = {}): RunInfo {
  return {
    id: 0,
    status: 'idle',
    settings: null,
    epochsDone: 0,
    history: [],
    costPoints: [],
    kernels: null,
    threads: null,
    trainingSamples: 0,
    validationSamples: 0,
    error: null,
    outcome: null,
    autosaveFile: null,
    epochsDoneAtStart: 0,
    ...changes,
  };
}

export function datasetInfo(role: DatasetRole, count: number): DatasetInfo {
  return {
    role,
    source: `/data/${role}.csv`,
    paths: [`/data/${role}.csv`],
    count,
    classCounts: new Array(10).fill(count / 10),
    samples: '',
    sampleLabels: [],
  };
}

/** A model trained in the app and not yet saved (no file holds it unless `savedAs` says so). */
export function modelInfo(changes: Partial<ModelInfo> = {}): ModelInfo {
  return {
    file: null,
    architecture: '784-32-10',
    hiddenSizes: [32],
    epochsDone: 2,
    resumable: true,
    settings: null,
    savedAs: null,
    trainedOn: null,
    ...changes,
  };
}

export function epochSummary(epoch: number, changes: Partial<EpochSummary> = {}): EpochSummary {
  return {
    epoch,
    epochs: 5,
    cost: 0.5,
    trainAccuracy: 0.75,
    validationCost: null,
    validationAccuracy: null,
    testCost: null,
    testAccuracy: null,
    seconds: 1,
    evaluationSeconds: 0.1,
    samplesPerSecond: 1000,
    ...changes,
  };
}

/** A progress update early in epoch 1 of 5, with nothing completed since the last one. */
export function progressUpdate(changes: Partial<ProgressUpdate> = {}): ProgressUpdate {
  return {
    epoch: 1,
    epochs: 5,
    batch: 10,
    batches: 100,
    epochCost: 1.5,
    epochAccuracy: 0.5,
    samplesPerSecond: 1000,
    elapsedMs: 1000,
    etaMs: 49_000,
    costPoints: [],
    completedEpochs: [],
    ...changes,
  };
}
