/**
 * The Runs view's store (RunsView) against a fake transport: listings, the selection and the histories fetched
 * for it, the curves drawn and their x axis, the settings that differ between the runs selected, sorting (by
 * default as `fmnist runs` lists), and the actions on runs (rename, note, delete and the question before it,
 * resume, open the checkpoint, a new run from a run's settings) with the message each leaves.
 */

import { describe, expect, it } from 'vitest';
import { resolveRunConfig, type RunConfig } from '@core/shared/config';
import { presetSettings } from '@core/shared/presets';
import { sortRuns } from '@core/shared/run-display';
import type { EpochSummary, RunListing, RunRecord } from '@core/shared/contract';
import { RUN_COLORS, RunsView } from '../../../src/renderer/src/lib/runs.svelte';
import { Studio } from '../../../src/renderer/src/lib/studio.svelte';
import { recordFor } from '../../helpers/runs';
import { deferred, FakeTransport, settled } from './fake-transport';
import { epochSummary, modelInfo, runInfo, studioState } from './studio-state';

const a = recordFor('20261125-143012-a1b2', { name: 'baseline', startedAt: '2026-11-25T14:30:12.000Z' });
const b = recordFor('20261126-090000-c3d4', { name: 'wide', startedAt: '2026-11-26T09:00:00.000Z' });
const c = recordFor('20261127-100000-e5f6', { name: 'deep', startedAt: '2026-11-27T10:00:00.000Z' });

function listing(runs: RunRecord[], changes: Partial<RunListing> = {}): RunListing {
  return { folder: '/home/user/.fmnist/runs', host: 'this-computer', runs, damaged: [], warnings: [], ...changes };
}

function histories(byId: Record<string, EpochSummary[]>): {
  ok: true;
  runHistories: { histories: Record<string, EpochSummary[]>; warnings: string[] };
} {
  return { ok: true, runHistories: { histories: byId, warnings: [] } };
}

/** A Runs view that has listed these runs. */
async function listed(runs: RunRecord[]): Promise<{ view: RunsView; studio: Studio; transport: FakeTransport }> {
  const transport = new FakeTransport();
  const studio = new Studio(transport);
  const view = new RunsView(studio);
  transport.answer('list-runs', { ok: true, runs: listing(runs) });
  await view.refresh();
  return { view, studio, transport };
}

describe('listing', () => {
  it('replaces the runs and what the backend says about the folder', async () => {
    const { view, transport } = await listed([a, b]);
    expect(view.loaded).toBe(true);
    expect(view.runs).toEqual([a, b]);
    expect(view.folder).toBe('/home/user/.fmnist/runs');
    expect(view.host).toBe('this-computer');

    const damaged = [{ id: '20261128-080000-0bad', file: '/runs/0bad.json', problem: 'not JSON', files: null }];
    transport.answer('list-runs', { ok: true, runs: listing([c], { damaged, warnings: ['0bad.json: skipped'] }) });
    await view.refresh();
    expect(view.runs).toEqual([c]);
    expect(view.damaged).toEqual(damaged);
    expect(view.warnings).toEqual(['0bad.json: skipped']);
  });

  it('drops the selection and the details of runs that vanished', async () => {
    const { view, transport } = await listed([a, b, c]);
    transport.answer('get-run-history', histories({ [a.id]: [] }), histories({ [c.id]: [] }));
    view.toggle(a.id);
    await settled();
    view.toggle(c.id);
    await settled();
    view.current = c.id;

    transport.answer('list-runs', { ok: true, runs: listing([a, b]) });
    await view.refresh();
    expect(view.selected).toEqual([a.id]);
    expect(view.current).toBeNull();
    expect(view.currentRun).toBeNull();
  });

  it('shows a refused listing as an error', async () => {
    const transport = new FakeTransport();
    const view = new RunsView(new Studio(transport));
    transport.answer('list-runs', { ok: false, error: 'the runs folder cannot be read: permission denied' });
    await view.refresh();
    expect(view.message).toEqual({ tone: 'error', text: 'the runs folder cannot be read: permission denied' });
    expect(view.loaded).toBe(false);
  });

  it('folds listings asked for during one into one more', async () => {
    const transport = new FakeTransport();
    const view = new RunsView(new Studio(transport));
    const first = deferred<{ ok: true; runs: RunListing }>();
    transport.answer('list-runs', first.promise, { ok: true, runs: listing([a, b]) });
    const refreshes = [view.refresh(), view.refresh(), view.refresh()];
    first.resolve({ ok: true, runs: listing([a]) });
    await Promise.all(refreshes);
    expect(transport.sent('list-runs')).toHaveLength(2);
    expect(view.runs).toEqual([a, b]);
  });
});

describe('selection and charts', () => {
  it("fetches a selected run's history once, and again when its record changes", async () => {
    const { view, transport } = await listed([a, b]);
    transport.answer('get-run-history', histories({ [a.id]: [epochSummary(1)] }));
    view.toggle(a.id);
    await settled();
    view.toggle(a.id);
    view.toggle(a.id);
    await settled();
    expect(view.isSelected(a.id)).toBe(true);
    expect(transport.sent('get-run-history')).toEqual([{ type: 'get-run-history', ids: [a.id] }]);

    const updated = { ...a, updatedAt: '2026-11-25T14:40:00.000Z' };
    transport.answer('list-runs', { ok: true, runs: listing([updated, b]) });
    transport.answer('get-run-history', histories({ [a.id]: [epochSummary(1), epochSummary(2)] }));
    await view.refresh();
    await settled();
    expect(transport.sent('get-run-history')).toEqual([
      { type: 'get-run-history', ids: [a.id] },
      { type: 'get-run-history', ids: [a.id] },
    ]);
    expect(view.curves((epoch) => epoch.cost)[0].points).toHaveLength(2);
  });

  it('draws one curve per selected run in the order selected, skipping epochs without the value', async () => {
    const twin = recordFor('20261128-110000-9f9f', { name: 'baseline', metrics: { ...a.metrics, epochs: 4 } });
    const { view, transport } = await listed([a, b, twin]);
    transport.answer(
      'get-run-history',
      histories({ [b.id]: [epochSummary(1, { testAccuracy: 0.625 })] }),
      histories({ [twin.id]: [epochSummary(1, { testAccuracy: null }), epochSummary(2, { testAccuracy: 0.75 })] }),
    );
    view.toggle(b.id);
    await settled();
    view.toggle(twin.id);
    await settled();
    // Two runs named alike are told apart by the end of their ids.
    expect(view.curves((epoch) => epoch.testAccuracy)).toEqual([
      { label: 'wide', color: RUN_COLORS[0], points: [{ x: 1, y: 0.625 }] },
      { label: 'baseline (9f9f)', color: RUN_COLORS[1], points: [{ x: 2, y: 0.75 }] },
    ]);
    expect(view.maxEpochs).toBe(4);
  });

  it('shows a warning about a history that could not be read', async () => {
    const { view, transport } = await listed([a]);
    transport.answer('get-run-history', {
      ok: true,
      runHistories: { histories: {}, warnings: [`${a.id}: the history file is damaged`] },
    });
    view.toggle(a.id);
    await settled();
    expect(view.message).toEqual({ tone: 'error', text: `${a.id}: the history file is damaged` });
  });

  it('spans the x axis over the longest selected run, or its history when that goes further', async () => {
    const short = { ...a, metrics: { ...a.metrics, epochs: 2 } };
    const long = { ...b, metrics: { ...b.metrics, epochs: 7 } };
    const longest = { ...c, metrics: { ...c.metrics, epochs: 30 } };
    const { view, transport } = await listed([short, long, longest]);
    expect(view.maxEpochs).toBeUndefined();
    transport.answer(
      'get-run-history',
      histories({ [short.id]: [epochSummary(1), epochSummary(2)] }),
      // Read while the run trains: its history already has an epoch its listed record has not.
      histories({ [long.id]: [1, 2, 3, 4, 5, 6, 7, 8].map((n) => epochSummary(n)) }),
    );
    view.toggle(short.id);
    await settled();
    expect(view.maxEpochs).toBe(2);
    view.toggle(long.id);
    await settled();
    // The 30-epoch run is not selected: the axis ends at 8, not 30.
    expect(view.maxEpochs).toBe(8);
  });

  it('cuts a long name in the legend', async () => {
    const long = { ...a, name: 'hidden 1024,512 · validation 0.1 · patience 3 · keep best' };
    const { view, transport } = await listed([long]);
    transport.answer('get-run-history', histories({ [long.id]: [] }));
    view.toggle(long.id);
    await settled();
    // The first 29 characters ("hidden 1024,512 · validation "), without the space they end with, and an ellipsis.
    expect(view.curves((epoch) => epoch.cost)[0].label).toBe('hidden 1024,512 · validation…');
  });

  // fmnist runs lists with the same sortRuns and default order (tests/unit/cli/runs.test.ts).
  it('sorts newest first until a column is clicked, as fmnist runs lists them', async () => {
    const { view } = await listed([a, c, b]);
    expect(view.sorted.map((run) => run.id)).toEqual([c.id, b.id, a.id]);
    expect(view.sorted).toEqual(sortRuns([a, c, b]));
  });

  it('sorts by the column clicked, turns the order around on a second click, and puts missing values last', async () => {
    const withTest = (run: RunRecord, accuracy: number | null): RunRecord => ({
      ...run,
      metrics: { ...run.metrics, finalTestAccuracy: accuracy },
    });
    const { view } = await listed([withTest(a, 0.8), withTest(b, null), withTest(c, 0.9)]);
    const order = (): string[] => view.sorted.map((run) => run.name);
    expect(order()).toEqual(['deep', 'wide', 'baseline']);
    view.sortBy('name');
    expect(order()).toEqual(['baseline', 'deep', 'wide']);
    view.sortBy('name');
    expect(order()).toEqual(['wide', 'deep', 'baseline']);
    view.sortBy('finalTest');
    expect(order()).toEqual(['deep', 'baseline', 'wide']);
    view.sortBy('finalTest');
    expect(order()).toEqual(['baseline', 'deep', 'wide']);
  });
});

describe('the settings that differ', () => {
  const quick = recordFor('20261206-210850-3f95', {
    name: 'quick preset',
    config: resolveRunConfig({ ...presetSettings('quick'), limit: 600 }),
  });
  const tuned = recordFor('20261206-211500-77aa', {
    name: 'lr 0.002 · dropout 0.2',
    config: resolveRunConfig({ learningRate: 0.002, dropout: 0.2, limit: 600 }),
  });
  const twin = recordFor('20261206-212000-0b0b', { name: 'again', config: quick.config });

  it('are none for fewer than two runs selected', async () => {
    const { view, transport } = await listed([quick, tuned]);
    expect(view.differences).toBeNull();
    transport.answer('get-run-history', histories({ [quick.id]: [] }));
    view.toggle(quick.id);
    await settled();
    expect(view.differences).toBeNull();
  });

  it('list only the settings whose values differ, named as in the form, runs in the order selected', async () => {
    const { view, transport } = await listed([quick, tuned, twin]);
    transport.answer('get-run-history', histories({ [tuned.id]: [] }), histories({ [quick.id]: [] }));
    view.toggle(tuned.id);
    await settled();
    view.toggle(quick.id);
    await settled();
    expect(view.differences).toEqual({
      runs: [tuned, quick],
      settings: [
        { key: 'epochs', label: 'Epochs', values: ['50', '8'] },
        { key: 'batchSize', label: 'Batch size', values: ['128', '256'] },
        // Both learn at 0.002 (the quick preset's rate and the one set) and on 600 images: no row for either.
        { key: 'schedule', label: 'Learning-rate schedule', values: ['constant', 'cosine'] },
        { key: 'dropout', label: 'Dropout', values: ['0.2', '0'] },
      ],
    });
  });

  it('are an empty list for runs of the same settings', async () => {
    const { view, transport } = await listed([quick, twin]);
    transport.answer('get-run-history', histories({ [quick.id]: [] }), histories({ [twin.id]: [] }));
    view.toggle(quick.id);
    await settled();
    view.toggle(twin.id);
    await settled();
    expect(view.differences).toEqual({ runs: [quick, twin], settings: [] });
  });
});

describe('the question before deleting', () => {
  const own = (id: string, bytes: number, best = false) => ({
    last: `/runs/${id}/last.safetensors`,
    best: best ? `/runs/${id}/best.safetensors` : null,
    bytes,
  });
  // 6 440 000 + 3 210 000 = 9 650 000 bytes: "9.65 MB".
  const withFiles = { ...a, files: own(a.id, 6_440_000) };
  const withBest = { ...b, files: own(b.id, 3_210_000, true) };
  const copied = { ...withFiles, copies: ['/home/user/model.safetensors'] };

  it('names one run, in quotes, and what goes with it', async () => {
    const { view } = await listed([withFiles, b]);
    expect(view.deleteQuestion([a.id], false)).toBe(
      'Delete the run “baseline”? Its record and its own checkpoint (6.44 MB) go.',
    );
    expect(view.deleteQuestion([b.id], false)).toBe('Delete the run “wide”? Its record goes.');
    expect(view.deleteQuestion([a.id], true)).toBe(
      'Delete the checkpoint (6.44 MB) of the run “baseline”? Its record and charts stay; it can no longer be ' +
        'opened or resumed.',
    );
  });

  it('says that copies saved elsewhere stay when the run has some', async () => {
    const { view } = await listed([copied]);
    expect(view.deleteQuestion([a.id], false)).toBe(
      'Delete the run “baseline”? Its record and its own checkpoint (6.44 MB) go; copies saved elsewhere stay.',
    );
  });

  it('speaks of several runs in the plural, naming up to three', async () => {
    const { view } = await listed([withFiles, withBest, c, { ...c, id: '20261128-000000-dddd', name: '' }]);
    expect(view.deleteQuestion([a.id, b.id, c.id], false)).toBe(
      'Delete 3 runs (“baseline”, “wide” and “deep”)? Their records and their own checkpoints (9.65 MB) go.',
    );
    expect(view.deleteQuestion([a.id, b.id], true)).toBe(
      'Delete the checkpoints (9.65 MB) of 2 runs (“baseline” and “wide”)? Their records and charts stay; they ' +
        'can no longer be opened or resumed.',
    );
    expect(view.deleteQuestion([c.id, '20261128-000000-dddd'], false)).toBe(
      'Delete 2 runs (“deep” and “20261128-000000-dddd”)? Their records go.',
    );
    expect(view.deleteQuestion([a.id, b.id, c.id, '20261128-000000-dddd'], false)).toBe(
      'Delete 4 runs (“baseline”, “wide” and 2 more)? Their records and their own checkpoints (9.65 MB) go.',
    );
  });

  it('names a damaged record by its id, and warns about a run training on another computer', async () => {
    const { view, transport } = await listed([]);
    const damaged = { id: '20261128-080000-0bad', file: '/runs/0bad.json', problem: 'not JSON', files: own('x', 900) };
    const elsewhere = { ...a, status: 'running' as const, host: 'other-computer' };
    transport.answer('list-runs', { ok: true, runs: listing([elsewhere], { damaged: [damaged] }) });
    await view.refresh();
    expect(view.deleteQuestion([damaged.id], false)).toBe(
      'Delete the run “20261128-080000-0bad”? Its record and its own checkpoint (900 bytes) go.',
    );
    expect(view.deleteQuestion([a.id], false)).toBe(
      'Delete the run “baseline”? Its record goes. It is recorded as training on other-computer, which this ' +
        'computer cannot check: delete it only if that is over.',
    );
  });
});

describe('editing', () => {
  it('renames a run and puts the edited record in place of the old one', async () => {
    const { view, transport } = await listed([a, b]);
    const renamed = { ...b, name: 'wide, lr 0.01', updatedAt: '2026-11-26T10:00:00.000Z' };
    transport.answer('rename-run', { ok: true, run: renamed });
    expect(await view.rename(b.id, 'wide, lr 0.01')).toBe(true);
    expect(transport.sent('rename-run')).toEqual([{ type: 'rename-run', id: b.id, name: 'wide, lr 0.01' }]);
    expect(view.runs).toEqual([a, renamed]);
    expect(view.message).toBeNull();
  });

  it("writes a run's note", async () => {
    const { view, transport } = await listed([a]);
    const noted = { ...a, note: 'flips help' };
    transport.answer('note-run', { ok: true, run: noted });
    expect(await view.note(a.id, 'flips help')).toBe(true);
    expect(transport.sent('note-run')).toEqual([{ type: 'note-run', id: a.id, note: 'flips help' }]);
    expect(view.runs).toEqual([noted]);
  });

  it('keeps the record and shows the error when a rename is refused', async () => {
    const { view, transport } = await listed([a]);
    transport.answer('rename-run', { ok: false, error: `${a.id}: the record is gone` });
    expect(await view.rename(a.id, 'x')).toBe(false);
    expect(view.runs).toEqual([a]);
    expect(view.message).toEqual({ tone: 'error', text: `${a.id}: the record is gone` });
  });
});

describe('deleting', () => {
  it('lists the runs left after deleting and says how many went', async () => {
    const { view, transport } = await listed([a, b, c]);
    transport.answer('get-run-history', histories({ [a.id]: [] }));
    view.toggle(a.id);
    await settled();
    transport.answer('delete-runs', { ok: true, runs: listing([c]) });
    await view.remove([a.id, b.id]);
    expect(transport.sent('delete-runs')).toEqual([{ type: 'delete-runs', ids: [a.id, b.id] }]);
    expect(view.runs).toEqual([c]);
    expect(view.selected).toEqual([]);
    expect(view.message).toEqual({ tone: 'info', text: '2 runs were deleted, with their own files.' });
  });

  it('sends force to delete a run recorded as training on another computer', async () => {
    const elsewhere = { ...a, status: 'running' as const, host: 'other-computer' };
    const { view, transport } = await listed([elsewhere, b]);
    expect(view.elsewhere(elsewhere)).toBe(true);
    expect(view.elsewhere(b)).toBe(false);
    transport.answer('delete-runs', { ok: true, runs: listing([b]) });
    await view.remove([a.id], true);
    expect(transport.sent('delete-runs')).toEqual([{ type: 'delete-runs', ids: [a.id], force: true }]);
    expect(view.message).toEqual({ tone: 'info', text: 'The run was deleted, with its own files.' });
  });

  it("deletes runs' own files and keeps their records", async () => {
    const { view, transport } = await listed([a, b]);
    transport.answer('delete-run-files', { ok: true, runs: listing([a, b]) }, { ok: true, runs: listing([a, b]) });
    await view.removeFiles([a.id]);
    expect(view.message).toEqual({ tone: 'info', text: 'The run’s files were deleted; its record stays.' });
    await view.removeFiles([a.id, b.id]);
    expect(view.message).toEqual({ tone: 'info', text: 'The files of 2 runs were deleted; their records stay.' });
    expect(transport.sent('delete-run-files').map((r) => r.ids)).toEqual([[a.id], [a.id, b.id]]);
  });

  it('keeps the runs and shows the error when a deletion is refused', async () => {
    const { view, transport } = await listed([a, b]);
    transport.answer('delete-runs', { ok: false, error: `${a.id} is training in another process` });
    await view.remove([a.id]);
    expect(view.runs).toEqual([a, b]);
    expect(view.message).toEqual({ tone: 'error', text: `${a.id} is training in another process` });
  });
});

describe('runs and the model', () => {
  it('resumes a run through the studio', async () => {
    const { view, transport } = await listed([a]);
    transport.answer('resume-run', { ok: true, state: studioState({ run: runInfo({ id: 1, status: 'running' }) }) });
    await view.resume(a.id);
    expect(transport.sent('resume-run')).toEqual([{ type: 'resume-run', id: a.id, autosave: true }]);
  });

  it("loads a run's checkpoint as the model and says so", async () => {
    const { view, studio, transport } = await listed([a]);
    const file = `/home/user/.fmnist/runs/${a.id}.safetensors`;
    transport.answer('open-run-checkpoint', {
      ok: true,
      state: studioState({ model: modelInfo({ file, savedAs: file }) }),
    });
    await view.openCheckpoint(a.id);
    expect(transport.sent('open-run-checkpoint')).toEqual([
      { type: 'open-run-checkpoint', id: a.id, replaceUnsaved: true },
    ]);
    expect(studio.state?.model?.file).toBe(file);
    expect(view.message).toEqual({
      tone: 'info',
      text: `Loaded ${file}: the model bar and the other views show it now.`,
    });
  });

  it("asks before a run's checkpoint replaces a model no file holds", async () => {
    const { view, studio, transport } = await listed([a]);
    studio.apply({ type: 'state', state: studioState({ model: modelInfo() }) });
    await view.openCheckpoint(a.id);
    expect(studio.confirmation?.title).toBe('Open the run’s checkpoint?');
    expect(transport.sent('open-run-checkpoint')).toEqual([]);
    transport.answer('open-run-checkpoint', { ok: true, state: studioState({ model: modelInfo({ savedAs: '/c' }) }) });
    await studio.answer(studio.confirmation!.choices.find((choice) => choice.label === 'Open anyway')!);
    expect(transport.sent('open-run-checkpoint')).toHaveLength(1);
  });

  it("shows the error when a run's checkpoint cannot be opened", async () => {
    const { view, transport } = await listed([a]);
    transport.answer('open-run-checkpoint', { ok: false, error: `${a.id}: its checkpoint was deleted` });
    await view.openCheckpoint(a.id);
    expect(view.message).toEqual({ tone: 'error', text: `${a.id}: its checkpoint was deleted` });
  });

  it("fills the form with a run's settings, and the defaults for settings its record lacks", async () => {
    const { view, studio } = await listed([a]);
    studio.apply({ type: 'state', state: studioState() });
    studio.form.fields.labelSmoothing = '0.2';
    // A record written before label smoothing existed.
    const config: Partial<RunConfig> = { ...a.config };
    delete config.labelSmoothing;
    view.newRunFrom({ ...a, config: config as RunConfig });
    expect(studio.form.fields).toMatchObject({
      epochs: '5',
      hiddenSizes: '32',
      learningRate: '0.002',
      labelSmoothing: '0',
    });
    expect(view.message).toEqual({
      tone: 'info',
      text: 'The settings of baseline are in the form: change what you like and press Start.',
    });
  });
});
