/**
 * The name a recorder gives a new run: the one it was given (an empty one too), else the default name of its
 * settings, written into the record when the run starts; a run that continues a model says so.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRunConfig, type RunConfig } from '@core/shared/config';
import { presetSettings } from '@core/shared/presets';
import { type RunStart, StoreRecorder } from '@core/records/recorder';
import { RunStore } from '@core/records/store';
import type { EpochSummary } from '@core/shared/events';
import { tempDir } from '../../../helpers/data';

function start(config: RunConfig, history: EpochSummary[] = []): RunStart {
  return {
    config,
    data: { fingerprint: 'f'.repeat(16), sources: { train: ['/data/train.csv'], test: null }, history: null },
    kernels: 'typescript',
    threads: 1,
    trainingSamples: 100,
    validationSamples: 0,
    history,
  };
}

/** Starts a run with these options and settings; the name its record holds on disk. */
async function recordedName(name: string | undefined, config: RunConfig, history: EpochSummary[] = []) {
  const folder = await tempDir('fmnist-recorder-name-');
  const recorder = new StoreRecorder(new RunStore(folder), { origin: 'app', name, checkpoint: null });
  await recorder.start(start(config, history));
  return JSON.parse(await readFile(join(folder, `${recorder.id}.json`), 'utf8')).name as string;
}

describe('the name of a new run', () => {
  it('is the default name of its settings when it is given none', async () => {
    expect(await recordedName(undefined, resolveRunConfig({ ...presetSettings('quick'), limit: 600 }))).toBe(
      'quick preset · limit 600',
    );
    expect(await recordedName(undefined, resolveRunConfig({ learningRate: 0.002, dropout: 0.2 }))).toBe(
      'lr 0.002 · dropout 0.2',
    );
  });

  it('is the name given, cleaned to one line; an empty one leaves the run unnamed', async () => {
    expect(await recordedName('wide\nnet', resolveRunConfig())).toBe('wide net');
    expect(await recordedName('', resolveRunConfig({ epochs: 2 }))).toBe('');
  });

  it('says that the run continued a model', async () => {
    const before: EpochSummary = {
      epoch: 1,
      epochs: 8,
      cost: 0.5,
      trainAccuracy: 0.8,
      validationCost: null,
      validationAccuracy: null,
      testCost: null,
      testAccuracy: null,
      seconds: 1,
      evaluationSeconds: 0,
      samplesPerSecond: 100,
    };
    expect(await recordedName(undefined, resolveRunConfig(presetSettings('quick')), [before])).toBe(
      'quick preset, continued',
    );
  });
});
