/** The file names suggested when saving a model: which run and which epoch, and only plain names accepted. */

import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, validateRequest } from '@core/shared/contract';
import { plainName, suggestedModelName } from '@core/shared/file-names';
import { modelInfo, runInfo } from './studio-state';

const quick = { ...DEFAULT_SETTINGS, epochs: 8, batchSize: 256, learningRate: 0.002, schedule: 'cosine' as const };

describe('suggestedModelName', () => {
  it('names a run’s model by its preset (or shape), its run and its epochs', () => {
    const run = runInfo({ autosaveFile: '/data/runs/20261206-210850-3f95/last.safetensors' });
    expect(suggestedModelName('checkpoint', { run, model: modelInfo({ settings: quick, epochsDone: 8 }) })).toBe(
      'fashion-mnist-quick-20261206-210850-3f95-epoch-8.safetensors',
    );
    expect(suggestedModelName('onnx', { run, model: modelInfo({ architecture: '784-32-10', epochsDone: 3 }) })).toBe(
      'fashion-mnist-784-32-10-20261206-210850-3f95-epoch-3.onnx',
    );
    expect(suggestedModelName('safetensors', { run, model: modelInfo({ epochsDone: 3 }) })).toBe(
      'fashion-mnist-784-32-10-20261206-210850-3f95-epoch-3-weights.safetensors',
    );
  });

  it('names a loaded checkpoint’s model after its file, with the epochs it has now', () => {
    const model = modelInfo({ file: 'C:\\models\\shirts-epoch-4.safetensors', epochsDone: 12 });
    expect(suggestedModelName('checkpoint', { run: runInfo(), model })).toBe('shirts-epoch-12.safetensors');
    expect(suggestedModelName('onnx', { run: runInfo(), model: { ...model, epochsDone: null } })).toBe('shirts.onnx');
  });

  it('names a model opened from a run’s own checkpoint after that run, not after "last"', () => {
    const model = modelInfo({ file: '/data/runs/20261206-210850-3f95/last.safetensors', epochsDone: 3 });
    expect(suggestedModelName('checkpoint', { run: runInfo(), model })).toBe(
      'fashion-mnist-784-32-10-20261206-210850-3f95-epoch-3.safetensors',
    );
  });

  it('has nothing to suggest without a model', () => {
    expect(suggestedModelName('checkpoint', { run: runInfo(), model: null })).toBeNull();
  });
});

describe('plainName', () => {
  it('keeps a plain name, adds the ending, and strips folders and odd characters', () => {
    expect(plainName('my model', 'checkpoint')).toBe('my model.safetensors');
    expect(plainName('my model.safetensors', 'checkpoint')).toBe('my model.safetensors');
    expect(plainName('../../etc/passwd', 'onnx')).toBe('passwd.onnx');
    expect(plainName('a:b*c?.onnx', 'onnx')).toBe('a-b-c-.onnx');
    expect(plainName('...', 'checkpoint')).toBeNull();
    expect(plainName('', 'checkpoint')).toBeNull();
  });
});

describe('the save requests', () => {
  it('carry a suggested name of bounded length, or none', () => {
    expect(validateRequest({ type: 'save-checkpoint' })).toEqual({ type: 'save-checkpoint' });
    expect(validateRequest({ type: 'save-checkpoint', name: 'a.safetensors' })).toEqual({
      type: 'save-checkpoint',
      name: 'a.safetensors',
    });
    expect(validateRequest({ type: 'export-model', format: 'onnx', name: 'a.onnx' })).toEqual({
      type: 'export-model',
      format: 'onnx',
      name: 'a.onnx',
    });
    expect(() => validateRequest({ type: 'save-checkpoint', name: 'x'.repeat(256) })).toThrow(
      'the file name must be text of at most 255 characters',
    );
    expect(() => validateRequest({ type: 'save-checkpoint', name: 7 })).toThrow(/the file name must be text/);
  });
});
