/**
 * The settings form: the text it shows for settings and presets, the message under each field that is not
 * valid (alone, or with the others), and the RunSettings its fields stand for.
 */

import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type RunSettings } from '@core/shared/contract';
import { type FieldKey, SettingsForm } from '../../../src/renderer/src/lib/settings-form.svelte';

/** A form whose fields hold this text (the rest as a new form shows them). */
function formWith(text: Partial<Record<FieldKey, string>>): SettingsForm {
  const form = new SettingsForm();
  Object.assign(form.fields, text);
  return form;
}

describe('SettingsForm', () => {
  it('shows the default settings until the backend sends its own, and they are valid', () => {
    const form = new SettingsForm();
    expect(form.fields).toEqual({
      epochs: '50',
      batchSize: '128',
      learningRate: '0.001',
      hiddenSizes: '512,256',
      seed: '1',
      validationFraction: '0',
      limit: '0',
      threads: '0',
      schedule: 'constant',
      warmupEpochs: '0',
      stepEpochs: '10',
      stepFactor: '0.5',
      weightDecay: '0',
      dropout: '0',
      shiftPixels: '0',
      flip: 'false',
      labelSmoothing: '0',
      patience: '0',
      restoreBest: 'false',
    });
    expect(form.errors).toEqual({});
    expect(form.valid).toBe(true);
  });

  it('gives the settings its fields stand for, spaces around the text ignored', () => {
    const form = formWith({
      epochs: ' 8 ',
      hiddenSizes: '64, 32',
      learningRate: '2e-3',
      validationFraction: '0.1',
      schedule: 'cosine',
      warmupEpochs: '1',
      flip: 'true',
      patience: '3',
      restoreBest: 'true',
    });
    const expected: RunSettings = {
      epochs: 8,
      batchSize: 128,
      learningRate: 0.002,
      hiddenSizes: [64, 32],
      seed: 1,
      validationFraction: 0.1,
      limit: 0,
      threads: 0,
      schedule: 'cosine',
      warmupEpochs: 1,
      stepEpochs: 10,
      stepFactor: 0.5,
      weightDecay: 0,
      dropout: 0,
      shiftPixels: 0,
      flip: true,
      labelSmoothing: 0,
      patience: 3,
      restoreBest: true,
    };
    expect(form.settings()).toEqual(expected);
  });

  it('reads empty hidden layers as a network without hidden layers', () => {
    expect(formWith({ hiddenSizes: '' }).settings()?.hiddenSizes).toEqual([]);
    expect(formWith({ hiddenSizes: 'none' }).settings()?.hiddenSizes).toEqual([]);
  });

  it.each<[FieldKey, string, string]>([
    ['epochs', '2.5', 'Epochs must be a whole number, got 2.5'],
    ['epochs', '0', 'Epochs must be between 1 and 100000, got 0'],
    ['epochs', '12a', 'Epochs must be a whole number, got "12a"'],
    // Text JavaScript would read as a number but nobody types as one is quoted as typed.
    ['epochs', '0x10', 'Epochs must be a whole number, got "0x10"'],
    ['learningRate', 'Infinity', 'Learning rate must be a number, got "Infinity"'],
    ['batchSize', '', 'Batch size must be a whole number, got ""'],
    ['learningRate', '0', 'Learning rate must be greater than 0, got 0'],
    ['learningRate', 'fast', 'Learning rate must be a number, got "fast"'],
    ['hiddenSizes', '512,,256', 'Hidden layers must be comma-separated whole numbers like 512,256, got "512,,256"'],
    ['hiddenSizes', '5000', 'Hidden layers must be between 1 and 4096, got 5000'],
    ['validationFraction', '0.95', 'Validation split must be at most 0.9, got 0.95'],
    ['threads', '65', 'Threads must be between 0 and 64, got 65'],
    ['schedule', 'linear', 'Learning-rate schedule must be one of constant, step, cosine, got "linear"'],
    ['stepFactor', '1.5', 'Step factor must be at most 1, got 1.5'],
    ['dropout', '1', 'Dropout must be at most 0.9, got 1'],
    ['shiftPixels', '5', 'Shift images (px) must be between 0 and 4, got 5'],
    ['labelSmoothing', '0.6', 'Label smoothing must be at most 0.5, got 0.6'],
  ])('shows under %s with the text "%s": %s', (key, text, message) => {
    const form = formWith({ [key]: text });
    expect(form.errors).toEqual({ [key]: message });
    expect(form.valid).toBe(false);
    expect(form.settings()).toBeNull();
  });

  // Unlike a field's own messages, these name no field: the page shows them under the label of the field to change
  // ("Early-stopping patience", then "Needs a validation split …").
  it.each<[string, Partial<Record<FieldKey, string>>, FieldKey, string]>([
    [
      'early stopping without a validation split',
      { patience: '3' },
      'patience',
      'Needs a validation split (its cost decides): set the validation split above 0',
    ],
    [
      'keeping the best epoch without a validation split',
      { restoreBest: 'true' },
      'restoreBest',
      'Needs a validation split (its cost decides): set the validation split above 0',
    ],
    [
      'weight decay that would wipe the weights out',
      { learningRate: '2', weightDecay: '0.5' },
      'weightDecay',
      'Times the learning rate must stay below 1 (each step multiplies the weights by 1 − 2 × 0.5)',
    ],
    [
      'a cosine schedule that is all warm-up',
      { schedule: 'cosine', epochs: '4', warmupEpochs: '4' },
      'warmupEpochs',
      'Must be fewer than the epochs (4) for the cosine schedule, got 4',
    ],
  ])('reports %s on the field to change', (_, text, key, message) => {
    const form = formWith(text);
    expect(form.errors).toEqual({ [key]: message });
    expect(form.settings()).toBeNull();
  });

  it('checks how the fields combine only once each is valid on its own', () => {
    const form = formWith({ patience: '3', epochs: '0' });
    expect(form.errors).toEqual({ epochs: 'Epochs must be between 1 and 100000, got 0' });
    form.fields.epochs = '5';
    expect(Object.keys(form.errors)).toEqual(['patience']);
    form.fields.validationFraction = '0.1';
    expect(form.valid).toBe(true);
  });

  it('shows given settings in every field', () => {
    const form = new SettingsForm();
    form.fill({
      ...DEFAULT_SETTINGS,
      epochs: 7,
      hiddenSizes: [64, 32],
      learningRate: 0.0005,
      schedule: 'step',
      flip: true,
    });
    expect(form.fields).toMatchObject({
      epochs: '7',
      hiddenSizes: '64,32',
      learningRate: '0.0005',
      schedule: 'step',
      flip: 'true',
      batchSize: '128',
    });
  });

  it('fills a preset over the defaults and keeps the thread count', () => {
    const form = formWith({ threads: '4', dropout: '0.3' });
    form.applyPreset('quick');
    expect(form.fields).toMatchObject({
      epochs: '8',
      batchSize: '256',
      learningRate: '0.002',
      schedule: 'cosine',
      threads: '4',
      dropout: '0',
    });
    expect(form.preset).toBe('quick');
  });

  it('lists what a preset changed, field by field, from the fields as they were', () => {
    const form = new SettingsForm(); // the defaults: 50 epochs, batch 128, rate 0.001, constant schedule
    form.fields.dropout = '0.3';
    form.applyPreset('quick');
    expect(form.presetChanges).toEqual([
      { key: 'epochs', label: 'Epochs', from: '50', to: '8' },
      { key: 'batchSize', label: 'Batch size', from: '128', to: '256' },
      { key: 'learningRate', label: 'Learning rate', from: '0.001', to: '0.002' },
      { key: 'schedule', label: 'Learning-rate schedule', from: 'constant', to: 'cosine' },
      { key: 'dropout', label: 'Dropout', from: '0.3', to: '0' },
    ]);
    form.applyPreset('quick');
    expect(form.presetChanges).toEqual([]);
  });

  it('names the preset the fields show, whatever the thread count, and none once a setting is edited', () => {
    const form = new SettingsForm();
    expect(form.preset).toBe('notebook');
    form.fields.threads = '2';
    expect(form.preset).toBe('notebook');
    form.fields.epochs = '9';
    expect(form.preset).toBeNull();
  });

  it('says recipes are in use only when a recipe field differs from its default', () => {
    const form = formWith({ epochs: '3', learningRate: '0.01' });
    expect(form.recipesInUse).toBe(false);
    form.fields.dropout = '0.2';
    expect(form.recipesInUse).toBe(true);
    form.applyPreset('notebook');
    expect(form.recipesInUse).toBe(false);
  });
});
