import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, validateRequest, validateSettings } from '@core/shared/contract';

const settings = { ...DEFAULT_SETTINGS, hiddenSizes: [64], epochs: 2 };

describe('request validation', () => {
  it('accepts every well-formed request', () => {
    for (const request of [
      { type: 'get-state' },
      { type: 'load-default-data' },
      { type: 'open-dataset', role: 'test' },
      { type: 'load-uploaded', role: 'train', uploads: ['0123456789abcdef0123456789abcdef'] },
      { type: 'start', settings, autosave: true, continue: false, allowOtherData: false },
      { type: 'pause' },
      { type: 'evaluate' },
      { type: 'save-checkpoint' },
      { type: 'load-checkpoint' },
      { type: 'load-uploaded-checkpoint', upload: '0123456789abcdef0123456789abcdef' },
      { type: 'export-model', format: 'onnx' },
      { type: 'resume-run', id: '20261125-143012-ab12', autosave: true },
      { type: 'resume' },
      { type: 'stop' },
      { type: 'save-file', name: 'cost.png', data: 'iVBORw0KGgo=' },
      { type: 'download-data' },
      { type: 'cancel-download' },
      { type: 'list-runs' },
      { type: 'get-run-history', ids: ['20261125-143012-ab12', '20261125-150000-0f0f'] },
      { type: 'rename-run', id: '20261125-143012-ab12', name: 'wide, lr 0.002' },
      { type: 'rename-run', id: '20261125-143012-ab12', name: '' },
      { type: 'note-run', id: '20261125-143012-ab12', note: 'two\nlines' },
      { type: 'delete-runs', ids: ['20261125-143012-ab12'] },
      { type: 'delete-run-files', ids: ['20261125-143012-ab12'] },
      { type: 'open-run-checkpoint', id: '20261125-143012-ab12' },
    ]) {
      expect(validateRequest(request)).toEqual(request);
    }
  });

  it.each([
    [null, /invalid request: not an object/],
    [[], /invalid request: not an object/],
    [{ type: 'format-disk' }, /invalid request: unknown type "format-disk"/],
    [{ type: 'pause', now: true }, /unexpected field "now"/],
    [{ type: 'open-dataset', role: 'validation' }, /role must be "train" or "test"/],
    [{ type: 'load-uploaded', role: 'train', uploads: [] }, /uploads must list 1 to 4 files/],
    [{ type: 'load-uploaded', role: 'train', uploads: ['../../etc/passwd'] }, /malformed upload id/],
    [{ type: 'start', autosave: true, continue: false, allowOtherData: false }, /settings must be an object/],
    [
      { type: 'start', settings: { ...settings, epochs: -1 }, autosave: true, continue: false, allowOtherData: false },
      /epochs must be between 1 and 100000, got -1/,
    ],
    [
      {
        type: 'start',
        settings: { ...settings, learningRate: '0.1' },
        autosave: true,
        continue: false,
        allowOtherData: false,
      },
      /learning rate must be a number, got "0.1"/,
    ],
    [
      {
        type: 'start',
        settings: { ...settings, hiddenSizes: [0] },
        autosave: true,
        continue: false,
        allowOtherData: false,
      },
      /hidden layer sizes must be between 1 and 4096/,
    ],
    [
      { type: 'start', settings: { ...settings, beta1: 0.5 }, autosave: true, continue: false, allowOtherData: false },
      /unknown setting "beta1"/,
    ],
    [
      { type: 'start', settings: { epochs: 3 }, autosave: true, continue: false, allowOtherData: false },
      /setting "batchSize" is missing/,
    ],
    [
      {
        type: 'start',
        settings: { ...settings, dropout: 0.95 },
        autosave: true,
        continue: false,
        allowOtherData: false,
      },
      /dropout must be at most 0.9, got 0.95/,
    ],
    [
      {
        type: 'start',
        settings: { ...settings, schedule: 'exp' },
        autosave: true,
        continue: false,
        allowOtherData: false,
      },
      /schedule must be one of constant, step, cosine/,
    ],
    [
      {
        type: 'start',
        settings: { ...settings, restoreBest: true },
        autosave: true,
        continue: false,
        allowOtherData: false,
      },
      /restore best needs a validation split/,
    ],
    [
      { type: 'start', settings, autosave: 'yes', continue: false, allowOtherData: false },
      /autosave must be true or false/,
    ],
    [{ type: 'start', settings, autosave: true, continue: true }, /allowOtherData must be true or false/],
    [{ type: 'export-model', format: 'pickle' }, /format must be "onnx", "safetensors" or "pytorch"/],
    [{ type: 'save-checkpoint', path: '/etc/passwd' }, /unexpected field "path"/],
    [{ type: 'save-file', name: '../evil.sh', data: '' }, /plain name without folders/],
    [{ type: 'save-file', name: 'x.png', data: 'not base64!' }, /must be base64/],
    [{ type: 'open-run-checkpoint', id: '../../etc/passwd' }, /invalid request: malformed run id/],
    [{ type: 'resume-run', id: '../x', autosave: true }, /invalid request: malformed run id/],
    [{ type: 'resume-run', id: '20261125-143012-ab12' }, /invalid request: autosave must be true or false/],
    [{ type: 'delete-run-files', ids: [] }, /invalid request: ids must list 1 to 100 runs/],
    [{ type: 'open-run-checkpoint', id: '20261125-143012-ab12', path: '/etc/passwd' }, /unexpected field "path"/],
    [{ type: 'get-run-history', ids: [] }, /ids must list 1 to 100 runs/],
    [
      { type: 'delete-runs', ids: Array.from({ length: 101 }, () => '20261125-143012-ab12') },
      /ids must list 1 to 100 runs/,
    ],
    [{ type: 'delete-runs', ids: '20261125-143012-ab12' }, /ids must list 1 to 100 runs/],
    [
      { type: 'rename-run', id: '20261125-143012-ab12', name: 'x'.repeat(201) },
      /the name must be text of at most 200 characters/,
    ],
    [{ type: 'note-run', id: '20261125-143012-ab12', note: 42 }, /the note must be text of at most 10000 characters/],
    [{ type: 'rename-run', id: '20261125-143012-ab12' }, /the name must be text/],
  ])('refuses %j with a clear message', (request, message) => {
    expect(() => validateRequest(request)).toThrow(message);
  });

  it('returns only the known settings, checked', () => {
    expect(validateSettings({ ...settings, threads: 2 })).toEqual({ ...settings, threads: 2 });
    const recipes = {
      schedule: 'step',
      stepEpochs: 3,
      dropout: 0.3,
      flip: true,
      validationFraction: 0.1,
      patience: 4,
      restoreBest: true,
    };
    expect(validateSettings({ ...settings, ...recipes })).toEqual({ ...settings, ...recipes });
  });
});
