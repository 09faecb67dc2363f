/**
 * The page's store (Studio) against a fake transport: connecting, the backend's events (states, progress,
 * notices, downloads, menu commands), starting and steering runs, the questions asked before a request goes
 * ahead, loading data and models, saving files, and the line each refusal is shown on.
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type Answer,
  DEFAULT_SETTINGS,
  type DownloadState,
  type StudioState,
  type UnfinishedRun,
} from '@core/shared/contract';
import { Studio } from '../../../src/renderer/src/lib/studio.svelte';
import { deferred, FakeTransport, settled } from './fake-transport';
import { datasetInfo, epochSummary, modelInfo, progressUpdate, runInfo, studioState } from './studio-state';

const FOUND = '/home/user/fashion-mnist';
const datasets = { train: datasetInfo('train', 60_000), test: datasetInfo('test', 10_000) };
/** Data loaded, no model, no run yet: Start can go. */
const ready = studioState({ datasets });
const running = (changes: Partial<StudioState['run']> = {}): StudioState =>
  studioState({ datasets, run: runInfo({ id: 1, status: 'running', settings: DEFAULT_SETTINGS, ...changes }) });

/** A studio that connected to a backend in `state` (which must not make it load the default data). */
async function connected(state: StudioState, transport = new FakeTransport()): Promise<Studio> {
  transport.answer('get-state', { ok: true, state });
  const studio = new Studio(transport);
  await studio.connect();
  return studio;
}

/** The labels of the buttons of the question asked. */
const choiceLabels = (studio: Studio): string[] => studio.confirmation?.choices.map((choice) => choice.label) ?? [];

/** Answers the question asked with the choice of this label. */
async function choose(studio: Studio, label: string): Promise<void> {
  const choice = studio.confirmation?.choices.find((c) => c.label === label);
  if (!choice) throw new Error(`no choice "${label}" among ${choiceLabels(studio).join(', ')}`);
  await studio.answer(choice);
}

describe('connecting', () => {
  it("fills the form with the run's settings, or the defaults before any run", async () => {
    const settings = { ...DEFAULT_SETTINGS, epochs: 7, hiddenSizes: [64, 32] };
    const afterRun = await connected(studioState({ run: runInfo({ id: 1, status: 'finished', settings }) }));
    expect(afterRun.form.fields.epochs).toBe('7');
    expect(afterRun.form.fields.hiddenSizes).toBe('64,32');

    const fresh = await connected(studioState({ defaults: { ...DEFAULT_SETTINGS, epochs: 12 } }));
    expect(fresh.form.fields.epochs).toBe('12');
  });

  it('loads the Fashion-MNIST found on this computer at the first start, so Start works at once', async () => {
    const transport = new FakeTransport();
    const defaultData = { directory: FOUND, searched: FOUND };
    transport.answer('get-state', { ok: true, state: studioState({ defaultData }) });
    transport.answer('load-default-data', { ok: true, state: studioState({ defaultData, datasets }) });
    const studio = new Studio(transport);
    await studio.connect();
    expect(transport.requests.map((r) => r.type)).toEqual(['get-state', 'load-default-data']);
    expect(studio.state?.datasets.train?.count).toBe(60_000);
    expect(studio.loading.default).toBe(false);
    expect(studio.canStart).toBe(true);
  });

  it.each([
    ['a data set is loaded already', studioState({ defaultData: { directory: FOUND, searched: FOUND }, datasets })],
    ['none was found', studioState()],
  ])('loads no default data when %s', async (_, state) => {
    const transport = new FakeTransport();
    await connected(state, transport);
    expect(transport.requests.map((r) => r.type)).toEqual(['get-state']);
  });

  it('shows why the backend cannot be reached, and a connection lost later', async () => {
    const transport = new FakeTransport();
    transport.answer('get-state', { ok: false, error: 'cannot reach the backend' });
    const studio = new Studio(transport);
    await studio.connect();
    expect(studio.connectionError).toBe('cannot reach the backend');
    expect(studio.state).toBeNull();

    const reached = new FakeTransport();
    const later = await connected(ready, reached);
    expect(later.connectionError).toBeNull();
    reached.disconnect('the connection to the backend was lost');
    expect(later.connectionError).toBe('the connection to the backend was lost');
  });
});

describe('backend events', () => {
  it('extends the charts with the cost points and epochs of each progress update', async () => {
    const transport = new FakeTransport();
    const studio = await connected(running({ history: [], costPoints: [] }), transport);
    const { chartVersion, epochVersion } = studio;

    transport.emit({
      type: 'progress',
      progress: progressUpdate({
        costPoints: [
          [0.25, 2],
          [0.5, 1.5],
        ],
      }),
    });
    expect(studio.series.batchCost).toEqual([
      { x: 0.25, y: 2 },
      { x: 0.5, y: 1.5 },
    ]);
    expect(studio.progress?.batch).toBe(10);
    expect(studio.chartVersion).toBe(chartVersion + 1);
    expect(studio.epochVersion).toBe(epochVersion);

    const first = epochSummary(1, { cost: 1.25, trainAccuracy: 0.75, testAccuracy: 0.625 });
    transport.emit({
      type: 'progress',
      progress: progressUpdate({ epoch: 2, costPoints: [[1, 1.25]], completedEpochs: [first] }),
    });
    expect(studio.series.batchCost.at(-1)).toEqual({ x: 1, y: 1.25 });
    expect(studio.series.epochCost).toEqual([{ x: 1, y: 1.25 }]);
    expect(studio.series.trainAccuracy).toEqual([{ x: 1, y: 75 }]);
    expect(studio.series.testAccuracy).toEqual([{ x: 1, y: 62.5 }]);
    expect(studio.series.validationAccuracy).toEqual([]);
    expect(studio.history).toEqual([first]);
    expect(studio.lastEpoch).toEqual(first);
    expect(studio.epochVersion).toBe(epochVersion + 1);
  });

  it('draws an epoch reported twice once', async () => {
    const transport = new FakeTransport();
    const studio = await connected(running({ history: [], costPoints: [] }), transport);
    const first = epochSummary(1);
    transport.emit({ type: 'progress', progress: progressUpdate({ completedEpochs: [first] }) });
    transport.emit({ type: 'progress', progress: progressUpdate({ completedEpochs: [first] }) });
    expect(studio.history).toEqual([first]);
    expect(studio.series.trainAccuracy).toHaveLength(1);
  });

  it('drops the part of an epoch a stopped run abandoned from the charts', async () => {
    const transport = new FakeTransport();
    const first = epochSummary(1);
    const studio = await connected(
      running({
        epochsDone: 1,
        history: [first],
        costPoints: [
          [0.5, 2],
          [1, 1.5],
        ],
      }),
      transport,
    );
    transport.emit({ type: 'progress', progress: progressUpdate({ epoch: 2, costPoints: [[1.5, 1.25]] }) });
    expect(studio.series.batchCost).toHaveLength(3);

    // The state that says the run stopped names no epochs (they did not change): the page cuts its own.
    transport.emit({
      type: 'state',
      state: running({ status: 'stopped', epochsDone: 1, history: null, costPoints: null }),
    });
    expect(studio.series.batchCost).toEqual([
      { x: 0.5, y: 2 },
      { x: 1, y: 1.5 },
    ]);
    expect(studio.history).toEqual([first]);
    expect(studio.active).toBe(false);
  });

  it('starts the charts afresh for a new run', async () => {
    const transport = new FakeTransport();
    const studio = await connected(
      running({ epochsDone: 1, history: [epochSummary(1)], costPoints: [[1, 1.5]] }),
      transport,
    );
    transport.emit({ type: 'state', state: running({ id: 2, history: null, costPoints: null }) });
    expect(studio.history).toEqual([]);
    expect(studio.series.batchCost).toEqual([]);
    expect(studio.series.trainAccuracy).toEqual([]);
  });

  it("shows a loaded model's epochs and puts its settings in the form", async () => {
    const transport = new FakeTransport();
    const studio = await connected(ready, transport);
    const settings = { ...DEFAULT_SETTINGS, epochs: 9, hiddenSizes: [128] };
    const epochs = [epochSummary(1), epochSummary(2)];
    transport.emit({
      type: 'state',
      state: studioState({
        datasets,
        run: runInfo({ id: 1, settings, epochsDone: 2, history: epochs, costPoints: [] }),
      }),
    });
    expect(studio.history).toEqual(epochs);
    expect(studio.form.fields.epochs).toBe('9');
    expect(studio.form.fields.hiddenSizes).toBe('128');
  });

  it('shows a notice on the error line and follows a download', async () => {
    const transport = new FakeTransport();
    const studio = await connected(ready, transport);
    transport.emit({ type: 'notice', tone: 'error', message: 'model.safetensors: not a checkpoint' });
    expect(studio.requestError).toBe('model.safetensors: not a checkpoint');

    const download: DownloadState = {
      status: 'downloading',
      file: 'train-images-idx3-ubyte.gz',
      receivedBytes: 1000,
      totalBytes: 30_000_000,
      error: null,
      directory: FOUND,
    };
    transport.emit({ type: 'download', download });
    expect(studio.download).toEqual(download);
    expect(studio.downloading).toBe(true);
  });

  it.each([
    ['stop', { type: 'stop' }],
    ['pause-resume', { type: 'pause' }],
  ] as const)('carries out the menu command %s', async (command, request) => {
    const transport = new FakeTransport();
    await connected(running(), transport);
    transport.answer(request.type, { ok: true, state: running() });
    transport.emit({ type: 'menu', command });
    await settled();
    expect(transport.requests.at(-1)).toEqual(request);
  });

  it.each([
    // The model of a run with no autosave: named by its shape (784-32-10) and its 2 epochs.
    ['export-onnx', { type: 'export-model', format: 'onnx', name: 'fashion-mnist-784-32-10-epoch-2.onnx' }],
    [
      'export-safetensors',
      { type: 'export-model', format: 'safetensors', name: 'fashion-mnist-784-32-10-epoch-2-weights.safetensors' },
    ],
    ['export-pytorch', { type: 'export-model', format: 'pytorch', name: 'fashion-mnist-784-32-10-epoch-2-pytorch' }],
    ['save-checkpoint', { type: 'save-checkpoint', name: 'fashion-mnist-784-32-10-epoch-2.safetensors' }],
    ['use-default-data', { type: 'load-default-data' }],
  ] as const)('carries out the menu command %s', async (command, request) => {
    const transport = new FakeTransport();
    const studio = await connected(studioState({ datasets, model: modelInfo() }), transport);
    transport.answer(request.type, { ok: true, state: ready });
    transport.emit({ type: 'menu', command });
    await settled();
    expect(transport.requests.at(-1)).toEqual(request);
    expect(studio.modelBusy).toBe(false);
  });

  it('confirms a save: the file written, or the download offered', async () => {
    vi.stubGlobal('document', { createElement: () => ({ href: '', download: '', click: vi.fn() }) });
    const transport = new FakeTransport();
    const studio = await connected(studioState({ datasets, model: modelInfo() }), transport);
    transport.answer('save-checkpoint', {
      ok: true,
      state: studioState({ datasets, model: modelInfo({ savedAs: '/home/user/m.safetensors' }) }),
    });
    await studio.saveCheckpoint();
    expect(studio.modelNotice).toBe('Checkpoint saved to /home/user/m.safetensors.');
    transport.answer('export-model', {
      ok: true,
      state: studioState({ datasets, model: modelInfo() }),
      download: { url: '/download/1?token=t', name: 'm.onnx' },
    });
    await studio.exportModel('onnx');
    expect(studio.modelNotice).toBe('ONNX model offered as a download: m.onnx.');
    transport.answer('save-checkpoint', { ok: false, error: '/x: permission denied' });
    await studio.saveCheckpoint();
    expect(studio.modelNotice).toBeNull();
    expect(studio.requestError).toBe('/x: permission denied');
    transport.answer('save-checkpoint', { ok: true, cancelled: true });
    await studio.saveCheckpoint();
    expect(studio.modelNotice).toBeNull();
  });
});

describe('why Start is unavailable', () => {
  it('says so beside it: no data, data loading, or the fields to fix', async () => {
    const transport = new FakeTransport();
    const studio = await connected(studioState(), transport);
    expect(studio.startBlocker).toBe('Load training data to begin.');
    const withData = await connected(studioState({ datasets }), new FakeTransport());
    expect(withData.startBlocker).toBeNull();
    expect(withData.canStart).toBe(true);
    withData.form.fields.epochs = 'ten';
    withData.form.fields.dropout = '2';
    expect(withData.startBlocker).toBe('Fix the settings Epochs, Dropout to start.');
    expect(withData.canStart).toBe(false);
    withData.form.fields.epochs = '10';
    expect(withData.startBlocker).toBe('Fix the setting Dropout to start.');
  });
});

describe('runs', () => {
  it("starts a run with the form's settings and the autosave choice", async () => {
    const transport = new FakeTransport();
    const studio = await connected(ready, transport);
    studio.form.fields.epochs = '3';
    studio.autosave = false;
    transport.answer('start', { ok: true, state: running() });
    await studio.start();
    expect(transport.sent('start')).toEqual([
      {
        type: 'start',
        settings: { ...DEFAULT_SETTINGS, epochs: 3 },
        autosave: false,
        continue: false,
        allowOtherData: false,
      },
    ]);
    expect(studio.status).toBe('running');
    expect(studio.canStart).toBe(false);
  });

  it('starts nothing without training data or with a field that is not valid', async () => {
    const transport = new FakeTransport();
    const noData = await connected(studioState(), transport);
    await noData.start();
    const invalid = await connected(ready, transport);
    invalid.form.fields.batchSize = '0';
    expect(invalid.canStart).toBe(false);
    await invalid.start();
    expect(transport.sent('start')).toEqual([]);
  });

  it('shows a refused start on the run error line', async () => {
    const transport = new FakeTransport();
    const studio = await connected(ready, transport);
    transport.answer('start', { ok: false, error: 'a run is already going on' });
    await studio.start();
    expect(studio.requestError).toBe('a run is already going on');
    expect(studio.dataErrors).toEqual({ train: null, test: null });
  });

  it('asks before a new run replaces a model no file holds, and starts once the user goes on', async () => {
    const transport = new FakeTransport();
    const studio = await connected(studioState({ datasets, model: modelInfo({ epochsDone: 1 }) }), transport);
    await studio.start();
    expect(transport.sent('start')).toEqual([]);
    expect(studio.confirmation?.title).toBe('Start a new run?');
    expect(studio.confirmation?.message).toBe(
      'The model held (784-32-10, 1 epoch) is not saved in any file, and a new run replaces it. Save it first, or go on without it',
    );
    expect(choiceLabels(studio)).toEqual(['Save checkpoint first', 'Start anyway']);

    transport.answer('start', { ok: true, state: running() });
    await choose(studio, 'Start anyway');
    expect(studio.confirmation).toBeNull();
    expect(transport.sent('start')).toHaveLength(1);
  });

  it('saves the model instead of starting when the user chooses to save it first', async () => {
    const transport = new FakeTransport();
    const studio = await connected(studioState({ datasets, model: modelInfo() }), transport);
    await studio.start();
    transport.answer('save-checkpoint', {
      ok: true,
      state: studioState({ datasets, model: modelInfo({ savedAs: '/m.safetensors' }) }),
    });
    await choose(studio, 'Save checkpoint first');
    expect(transport.requests.map((r) => r.type)).toEqual(['get-state', 'save-checkpoint']);
    expect(studio.unsavedModel).toBeNull();
  });

  it('changes nothing when the question is cancelled', async () => {
    const transport = new FakeTransport();
    const studio = await connected(studioState({ datasets, model: modelInfo() }), transport);
    await studio.start();
    await studio.answer(null);
    expect(studio.confirmation).toBeNull();
    expect(transport.requests.map((r) => r.type)).toEqual(['get-state']);
  });

  it('starts at once when a file holds the model', async () => {
    const transport = new FakeTransport();
    const studio = await connected(
      studioState({ datasets, model: modelInfo({ savedAs: '/m.safetensors' }) }),
      transport,
    );
    transport.answer('start', { ok: true, state: running() });
    await studio.start();
    expect(studio.confirmation).toBeNull();
    expect(transport.sent('start')).toHaveLength(1);
  });

  describe('with an unfinished run offered', () => {
    const pending: UnfinishedRun = {
      id: '20261125-143012-a1b2',
      name: 'baseline',
      epochsDone: 3,
      epochs: 10,
      savedAt: null,
      architecture: '784-32-10',
      dataSources: null,
      bytes: 2_500_000,
    };
    const offered = studioState({ datasets, autosave: { available: true, pending, failure: null } });

    it('asks to resume it before starting, and resumes it when the user agrees', async () => {
      const transport = new FakeTransport();
      const studio = await connected(offered, transport);
      await studio.start();
      expect(studio.confirmation?.title).toBe('Resume the unfinished run?');
      expect(studio.confirmation?.message).toMatch(
        /^The run “baseline” \(784-32-10, epoch 3 of 10\) did not finish\. /,
      );
      expect(choiceLabels(studio)).toEqual(['Resume saved run', 'Keep it and start new']);

      transport.answer('resume-run', { ok: true, state: running() });
      await choose(studio, 'Resume saved run');
      expect(transport.sent('resume-run')).toEqual([{ type: 'resume-run', id: pending.id, autosave: true }]);
      expect(transport.sent('start')).toEqual([]);
    });

    it('starts a new run when the user keeps the unfinished one', async () => {
      const transport = new FakeTransport();
      const studio = await connected(offered, transport);
      await studio.start();
      transport.answer('start', { ok: true, state: running() });
      await choose(studio, 'Keep it and start new');
      expect(transport.sent('start')).toHaveLength(1);
      expect(transport.sent('resume-run')).toEqual([]);
    });

    it('deletes its checkpoint only after asking, saying how much it frees', async () => {
      const transport = new FakeTransport();
      const studio = await connected(offered, transport);
      studio.discardUnfinished();
      expect(studio.confirmation?.message).toContain(
        'The checkpoint of “baseline” (784-32-10, epoch 3 of 10, 2.50 MB)',
      );
      expect(transport.sent('delete-run-files')).toEqual([]);
      transport.answer('delete-run-files', {
        ok: true,
        runs: { folder: '/runs', host: 'here', runs: [], damaged: [], warnings: [] },
      });
      await choose(studio, 'Discard');
      expect(transport.sent('delete-run-files')).toEqual([{ type: 'delete-run-files', ids: [pending.id] }]);
    });
  });

  describe('continuing the model', () => {
    const held = studioState({ datasets, model: modelInfo({ epochsDone: 5, savedAs: '/m.safetensors' }) });
    const otherData = 'the model was trained on other data (train.csv, 60000 images)';

    it('is offered only for a resumable model asked for more epochs than it has', async () => {
      const transport = new FakeTransport();
      const studio = await connected(held, transport);
      studio.form.fields.epochs = '5';
      expect(studio.canContinue).toBe(false);
      studio.form.fields.epochs = '8';
      expect(studio.canContinue).toBe(true);
      transport.emit({ type: 'state', state: { ...held, model: modelInfo({ epochsDone: 5, resumable: false }) } });
      expect(studio.canContinue).toBe(false);
    });

    it('asks before training on other data, and sends again allowing it when the user agrees', async () => {
      const transport = new FakeTransport();
      const studio = await connected(held, transport);
      studio.form.fields.epochs = '8';
      transport.answer(
        'start',
        { ok: false, error: otherData, confirm: 'train-on-other-data' },
        { ok: true, state: running() },
      );
      await studio.continueTraining();
      expect(studio.confirmation?.title).toBe('Train on other data?');
      expect(studio.confirmation?.message).toBe('The model was trained on other data (train.csv, 60000 images)');
      expect(studio.requestError).toBeNull();

      await choose(studio, 'Train on this data');
      expect(transport.sent('start').map((r) => [r.continue, r.allowOtherData, r.settings.epochs])).toEqual([
        [true, false, 8],
        [true, true, 8],
      ]);
      expect(studio.status).toBe('running');
    });

    it('sends nothing more when the user declines to train on other data', async () => {
      const transport = new FakeTransport();
      const studio = await connected(held, transport);
      studio.form.fields.epochs = '8';
      transport.answer('start', { ok: false, error: otherData, confirm: 'train-on-other-data' });
      await studio.continueTraining();
      await studio.answer(null);
      expect(transport.sent('start')).toHaveLength(1);
      expect(studio.status).toBe('idle');
    });
  });

  it('pauses a running run, resumes a paused one and stops either', async () => {
    const transport = new FakeTransport();
    const studio = await connected(running(), transport);
    transport.answer('pause', { ok: true, state: running({ status: 'paused' }) });
    await studio.togglePause();
    expect(studio.status).toBe('paused');
    transport.answer('resume', { ok: true, state: running() });
    await studio.togglePause();
    transport.answer('stop', { ok: true, state: running({ status: 'stopping' }) });
    await studio.stop();
    expect(transport.requests.map((r) => r.type)).toEqual(['get-state', 'pause', 'resume', 'stop']);
    expect(studio.active).toBe(true);
  });

  it('sends no pause or stop when no run goes on', async () => {
    const transport = new FakeTransport();
    const studio = await connected(ready, transport);
    await studio.togglePause();
    await studio.stop();
    expect(transport.requests.map((r) => r.type)).toEqual(['get-state']);
  });

  it('asks before resuming a recorded run over a model no file holds', async () => {
    const transport = new FakeTransport();
    const studio = await connected(studioState({ datasets, model: modelInfo() }), transport);
    await studio.resumeRun('20261125-143012-a1b2');
    expect(studio.confirmation?.title).toBe('Resume the run?');
    transport.answer('resume-run', { ok: true, state: running() });
    await choose(studio, 'Resume anyway');
    expect(transport.sent('resume-run')).toEqual([{ type: 'resume-run', id: '20261125-143012-a1b2', autosave: true }]);
  });
});

describe('data', () => {
  it('shows a refused data set under its card, not on the run error line', async () => {
    const transport = new FakeTransport();
    const studio = await connected(ready, transport);
    transport.answer('open-dataset', { ok: false, error: 'test.csv, row 3: 780 pixels, expected 784' });
    await studio.openDataset('test');
    expect(studio.dataErrors).toEqual({ train: null, test: 'test.csv, row 3: 780 pixels, expected 784' });
    expect(studio.requestError).toBeNull();
    expect(studio.loading.test).toBe(false);
  });

  it('shows a refused default data load under the training card', async () => {
    const transport = new FakeTransport();
    const studio = await connected(ready, transport);
    transport.answer('load-default-data', { ok: false, error: 'Fashion-MNIST is no longer in /home/user' });
    await studio.useDefaultData();
    expect(studio.dataErrors).toEqual({ train: 'Fashion-MNIST is no longer in /home/user', test: null });
    expect(studio.requestError).toBeNull();
  });

  it('shows a refused drop of one set under its card, and of both sets on the run error line', async () => {
    const transport = new FakeTransport();
    const studio = await connected(ready, transport);
    const trainFile = new File([], 'train-images-idx3-ubyte.gz');
    const testFile = new File([], 't10k-images-idx3-ubyte.gz');

    transport.answerDropped({ ok: false, error: 'train-images-idx3-ubyte.gz: no labels file beside it' });
    await studio.openDropped([trainFile], null);
    expect(studio.dataErrors.train).toBe('train-images-idx3-ubyte.gz: no labels file beside it');
    expect(studio.requestError).toBeNull();

    transport.answerDropped({ ok: false, error: 'open 1 to 8 files at a time' });
    await studio.openDropped([trainFile, testFile], null);
    expect(studio.requestError).toBe('open 1 to 8 files at a time');
    expect(studio.dataErrors).toEqual({ train: null, test: null });
    expect(transport.dropped.map((drop) => drop.files.length)).toEqual([1, 2]);
  });

  it('uploads the files chosen in the page, then loads them as the set of that card (browser host)', async () => {
    const transport = new FakeTransport('browser');
    const studio = await connected(studioState(), transport);
    const files = [new File(['i'], 't10k-images-idx3-ubyte.gz'), new File(['l'], 't10k-labels-idx1-ubyte.gz')];
    transport.answer('load-uploaded', {
      ok: true,
      state: studioState({ datasets: { train: null, test: datasets.test } }),
    });
    await studio.openDataset('test', files);
    expect(transport.uploads).toEqual(files);
    expect(transport.sent('load-uploaded')).toEqual([
      { type: 'load-uploaded', role: 'test', uploads: ['0'.repeat(31) + '1', '0'.repeat(31) + '2'] },
    ]);
    expect(studio.state?.datasets.test?.count).toBe(10_000);
  });

  it('shows a failed upload under the card it was for (browser host)', async () => {
    const transport = new FakeTransport('browser');
    const studio = await connected(studioState(), transport);
    transport.uploadError = 'train.csv: upload failed (413)';
    await studio.openDataset('train', [new File(['x'], 'train.csv')]);
    expect(studio.dataErrors.train).toBe('train.csv: upload failed (413)');
    expect(studio.loading.train).toBe(false);
    expect(transport.requests.map((r) => r.type)).toEqual(['get-state']);
  });

  it('does not download Fashion-MNIST that is on this computer already', async () => {
    const transport = new FakeTransport();
    const studio = await connected(
      studioState({ datasets, defaultData: { directory: FOUND, searched: FOUND } }),
      transport,
    );
    await studio.downloadData();
    expect(studio.requestError).toBe(
      `Fashion-MNIST is already on this computer (${FOUND}): use it from the Data panel`,
    );
    expect(transport.requests.map((r) => r.type)).toEqual(['get-state']);
  });

  it('leaves a failed transfer to the download panel, and shows a failure after it on the error line', async () => {
    const transport = new FakeTransport();
    const studio = await connected(studioState(), transport);
    const refusal = deferred<Answer<'download-data'>>();
    transport.answer('download-data', refusal.promise);
    const downloading = studio.downloadData();
    const failed: DownloadState = {
      status: 'failed',
      file: 'train-images-idx3-ubyte.gz',
      receivedBytes: 1000,
      totalBytes: 30_000_000,
      error: 'the connection was reset',
      directory: FOUND,
    };
    transport.emit({ type: 'download', download: failed });
    refusal.resolve({ ok: false, error: 'the connection was reset' });
    await downloading;
    expect(studio.requestError).toBeNull();

    transport.emit({ type: 'download', download: { ...failed, status: 'finished', error: null } });
    transport.answer('download-data', { ok: false, error: 't10k-labels-idx1-ubyte.gz: 9999 labels, expected 10000' });
    await studio.downloadData();
    expect(studio.requestError).toBe('t10k-labels-idx1-ubyte.gz: 9999 labels, expected 10000');
  });
});

describe('the model', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('is busy with an operation until its answer arrives', async () => {
    const transport = new FakeTransport();
    const studio = await connected(studioState({ datasets, model: modelInfo() }), transport);
    const answer = deferred<Answer<'evaluate'>>();
    transport.answer('evaluate', answer.promise);
    const evaluating = studio.evaluate();
    expect(studio.modelBusy).toBe(true);
    answer.resolve({
      ok: true,
      state: studioState({ datasets, model: modelInfo(), evaluation: { count: 10_000, accuracy: 0.85, cost: 0.42 } }),
    });
    await evaluating;
    expect(studio.modelBusy).toBe(false);
    expect(studio.state?.evaluation?.accuracy).toBe(0.85);
  });

  it('loads a checkpoint with the native dialog on the desktop, and through the page in the browser', async () => {
    const desktop = new FakeTransport();
    const studio = await connected(ready, desktop);
    desktop.answer('load-checkpoint', { ok: true, cancelled: true });
    await studio.loadCheckpoint();
    expect(desktop.sent('load-checkpoint')).toHaveLength(1);

    const browser = new FakeTransport('browser');
    const page = await connected(ready, browser);
    const chooseFile = vi.fn();
    await page.loadCheckpoint(chooseFile);
    expect(chooseFile).toHaveBeenCalledOnce();
    const file = new File(['st'], 'model.safetensors');
    browser.answer('load-uploaded-checkpoint', {
      ok: true,
      state: studioState({ datasets, model: modelInfo({ file: 'model.safetensors' }) }),
    });
    await page.loadCheckpointFile(file);
    expect(browser.uploads).toEqual([file]);
    expect(browser.sent('load-uploaded-checkpoint')).toEqual([
      { type: 'load-uploaded-checkpoint', upload: '0'.repeat(31) + '1' },
    ]);
    expect(page.state?.model?.file).toBe('model.safetensors');
    expect(page.modelBusy).toBe(false);
  });

  it('shows a failed checkpoint upload on the run error line (browser host)', async () => {
    const transport = new FakeTransport('browser');
    const studio = await connected(ready, transport);
    transport.uploadError = 'model.safetensors: upload failed (413)';
    await studio.loadCheckpointFile(new File(['st'], 'model.safetensors'));
    expect(studio.requestError).toBe('model.safetensors: upload failed (413)');
    expect(studio.modelBusy).toBe(false);
  });

  it('offers a checkpoint the browser host prepared as a download of its name', async () => {
    const link = { href: '', download: '', click: vi.fn() };
    vi.stubGlobal('document', { createElement: () => link });
    const transport = new FakeTransport('browser');
    const studio = await connected(studioState({ datasets, model: modelInfo() }), transport);
    const download = { url: '/download/7f3a?token=abc', name: 'fashion-mnist-checkpoint.safetensors' };
    transport.answer('save-checkpoint', { ok: true, state: ready, download });
    await studio.saveCheckpoint();
    expect(link).toEqual({ href: download.url, download: download.name, click: link.click });
    expect(link.click).toHaveBeenCalledOnce();
  });
});

describe('saving files (desktop)', () => {
  it('saves a chart image as the bytes of its data URL', async () => {
    const transport = new FakeTransport();
    const studio = await connected(ready, transport);
    transport.answer('save-file', { ok: true });
    await studio.exportImage('cost.png', 'data:image/png;base64,iVBORw0KGgo=');
    expect(transport.sent('save-file')).toEqual([{ type: 'save-file', name: 'cost.png', data: 'iVBORw0KGgo=' }]);
  });

  it('saves text as its UTF-8 bytes, however long', async () => {
    const transport = new FakeTransport();
    const studio = await connected(ready, transport);
    const text = 'name,note\n' + 'baseline,café – 90 %\n'.repeat(5000);
    transport.answer('save-file', { ok: true });
    await studio.exportText('runs.csv', text, 'text/csv');
    const [request] = transport.sent('save-file');
    expect(Buffer.from(request.data, 'base64').toString('utf8')).toBe(text);
  });

  it('shows a refused save on the run error line', async () => {
    const transport = new FakeTransport();
    const studio = await connected(ready, transport);
    transport.answer('save-file', { ok: false, error: '/read-only/cost.png: permission denied' });
    await studio.exportImage('cost.png', 'data:image/png;base64,iVBORw0KGgo=');
    expect(studio.requestError).toBe('/read-only/cost.png: permission denied');
  });
});
