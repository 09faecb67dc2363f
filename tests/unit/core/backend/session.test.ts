import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type BackendEvent,
  DEFAULT_SETTINGS,
  type RunListing,
  type RunSettings,
  type StudioState,
} from '@core/shared/contract';
import { StudioSession } from '@core/backend/session';
import { RunStore } from '@core/records/store';
import { decodeCheckpoint, loadCheckpoint } from '@core/checkpoint/checkpoint';
import { decodeSafetensors } from '@core/checkpoint/safetensors';
import { fingerprint } from '@core/shared/dataset';
import { bareStateDict } from '../../../helpers/safetensors';
import { REAL_DATA_DIR, randomDataset, realDataset, tempDir, toKaggleCsv, writeTemp } from '../../../helpers/data';

const quick: RunSettings = { ...DEFAULT_SETTINGS, epochs: 2, limit: 2000, hiddenSizes: [64], validationFraction: 0.1 };

async function stateOf(session: StudioSession): Promise<StudioState> {
  const response = await session.handle({ type: 'get-state' });
  if (!response.ok) throw new Error(response.error);
  return response.state;
}

const start = (
  session: StudioSession,
  settings: RunSettings,
  extra: { autosave?: boolean; continue?: boolean; allowOtherData?: boolean } = {},
) =>
  session.handle({
    type: 'start',
    settings,
    autosave: extra.autosave ?? false,
    continue: extra.continue ?? false,
    allowOtherData: extra.allowOtherData ?? false,
  });

const epochsIn = (events: BackendEvent[]): number =>
  events.reduce((sum, e) => sum + (e.type === 'progress' ? e.progress.completedEpochs.length : 0), 0);

describe('studio session', () => {
  let dir: string;
  const events: BackendEvent[] = [];
  const session = new StudioSession({ emit: (event) => events.push(event), env: { FMNIST_DATA: REAL_DATA_DIR } });
  const count = (type: BackendEvent['type']): number => events.filter((e) => e.type === type).length;

  beforeAll(async () => {
    dir = await tempDir('fmnist-session-');
  });

  it('finds the data on this machine and loads it', async () => {
    const state = await session.handle({ type: 'get-state' });
    expect(state.ok && state.state?.defaultData.directory).toBe(REAL_DATA_DIR);
    const loaded = await session.handle({ type: 'load-default-data' });
    expect(loaded.ok).toBe(true);
    const { train, test } = loaded.ok ? loaded.state.datasets : { train: null, test: null };
    expect(train?.count).toBe(60000);
    expect(test?.count).toBe(10000);
    expect(train?.classCounts).toEqual(new Array(10).fill(6000));
    expect(Buffer.from(train!.samples, 'base64').length).toBe(20 * 784);
    expect(train!.sampleLabels).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('refuses a bad file with a message naming it and keeps the loaded data', async () => {
    const bad = await writeTemp(dir, 'broken.csv', `label,${'0,'.repeat(783)}0\n12,${'0,'.repeat(783)}0\n`);
    const response = await session.handle({ type: 'load-dataset', role: 'train', paths: [bad] });
    expect(response).toEqual({ ok: false, error: `${bad}: line 2, column 1: label "12" is not a class number 0–9` });
    expect((await stateOf(session)).datasets.train?.count).toBe(60000);
  });

  it('loads an IDX images and labels pair picked together, under any names', async () => {
    const images = join(dir, 'pictures.gz');
    const labels = join(dir, 'answers.gz');
    await copyFile(join(REAL_DATA_DIR, 't10k-images-idx3-ubyte.gz'), images);
    await copyFile(join(REAL_DATA_DIR, 't10k-labels-idx1-ubyte.gz'), labels);
    const response = await session.handle({ type: 'load-dataset', role: 'test', paths: [labels, images] });
    expect(response.ok && response.state?.datasets.test).toMatchObject({ count: 10000, source: images });
    const lonely = await session.handle({ type: 'load-dataset', role: 'test', paths: [images] });
    expect(lonely).toMatchObject({
      ok: false,
      error: expect.stringMatching(/pictures\.gz: found no labels file beside it/),
    });
  });

  it('runs, refuses a second start and data loads meanwhile, pauses, resumes and finishes', async () => {
    events.length = 0;
    const started = await start(session, quick);
    expect(started.ok && started.state?.run).toMatchObject({
      status: 'running',
      id: 1,
      trainingSamples: 1800,
      validationSamples: 200,
    });
    expect(await start(session, quick)).toEqual({ ok: false, error: 'a run is already in progress: stop it first' });
    expect(await session.handle({ type: 'load-default-data' })).toEqual({
      ok: false,
      error: 'stop the training before loading data',
    });
    const paused = await session.handle({ type: 'pause' });
    expect(paused.ok && paused.state?.run.status).toBe('paused');
    const progressWhilePaused = count('progress');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(count('progress')).toBe(progressWhilePaused);
    expect(epochsIn(events)).toBeLessThan(2);
    expect((await session.handle({ type: 'resume' })).ok).toBe(true);
    await session.whenIdle();
    const run = (await stateOf(session)).run;
    expect(run.status).toBe('finished');
    expect(run.history).toHaveLength(2);
    expect(run.history![1].validationAccuracy).toBeGreaterThan(0.5);
    expect(run.history![1].testAccuracy).toBeGreaterThan(0.5);
    expect(epochsIn(events)).toBe(2);
    // 1 800 samples in batches of 128 make 15 batches: fewer than 100, so each batch is its own point.
    expect(run.costPoints).toHaveLength(30);
  });

  it('keeps state events small during a run: the epochs and curve are sent in full only once per run', async () => {
    events.length = 0;
    await start(session, { ...quick, epochs: 3 });
    await session.whenIdle();
    const states = events
      .filter((e): e is Extract<BackendEvent, { type: 'state' }> => e.type === 'state')
      .map((e) => e.state.run);
    expect(states.filter((run) => run.history !== null)).toHaveLength(1);
    expect(states.at(-1)).toMatchObject({ status: 'finished', epochsDone: 3, history: null, costPoints: null });
    // A page that connects gets everything.
    expect((await stateOf(session)).run.history).toHaveLength(3);
  });

  it('stops between batches at the last whole epoch: the curve ends there, and nothing later is reported', async () => {
    events.length = 0;
    await start(session, { ...quick, epochs: 200, limit: 20000, validationFraction: 0 });
    await new Promise<void>((resolve) => {
      const wait = setInterval(() => {
        const progress = events.filter((e): e is Extract<BackendEvent, { type: 'progress' }> => e.type === 'progress');
        // Stop in the middle of an epoch after the first.
        if (epochsIn(events) >= 1 && progress.at(-1)!.progress.batch > 20) {
          clearInterval(wait);
          resolve();
        }
      }, 5);
    });
    const stopping = await session.handle({ type: 'stop' });
    expect(stopping.ok && stopping.state?.run.status).toBe('stopping');
    await session.whenIdle();
    const stopped = await stateOf(session);
    const kept = stopped.run.epochsDone;
    expect(stopped.run.status).toBe('stopped');
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(stopped.run.history).toHaveLength(kept);
    expect(Math.max(...stopped.run.costPoints!.map(([x]) => x))).toBe(kept);
    // The progress reported after the stop was asked for brings no point of the abandoned epoch.
    const stopIndex = events.findIndex((e) => e.type === 'state' && e.state.run.status === 'stopping');
    const later = events.slice(stopIndex).flatMap((e) => (e.type === 'progress' ? e.progress.costPoints : []));
    expect(later.every(([x]) => x <= kept)).toBe(true);
    expect(stopped.model?.epochsDone).toBe(kept);
    expect(await session.handle({ type: 'resume' })).toEqual({
      ok: false,
      error: 'there is no paused training to resume',
    });
    const again = await start(session, quick);
    expect(again.ok && again.state?.run.epochsDone).toBe(0);
    // The new run's (empty) epochs went out in full with its first state.
    const first = events.find((e) => e.type === 'state' && e.state.run.id === (again.ok && again.state.run.id));
    expect(first?.type === 'state' && first.state.run.history).toEqual([]);
    await session.whenIdle();
  });

  it('shuts down cleanly', async () => {
    await start(session, { ...quick, epochs: 100 });
    await session.dispose();
    expect((await stateOf(session)).run.status).toBe('stopped');
  });
});

describe('studio session: models and checkpoints', () => {
  let dir: string;
  const events: BackendEvent[] = [];
  let session: StudioSession;
  let otherCsv: string;

  beforeAll(async () => {
    dir = await tempDir('fmnist-session-models-');
    session = new StudioSession({
      emit: (event) => events.push(event),
      env: { FMNIST_DATA: REAL_DATA_DIR },
      runsDirectory: join(dir, 'data', 'runs'),
    });
    await session.handle({ type: 'load-default-data' });
    otherCsv = await writeTemp(dir, 'other-train.csv', toKaggleCsv(randomDataset(500, 11)));
  });

  it('saves a checkpoint, loads it back with its settings and history, and evaluates to the same test accuracy', async () => {
    await start(session, quick);
    await session.whenIdle();
    const trained = await stateOf(session);
    expect(trained.model).toMatchObject({ architecture: '784-64-10', epochsDone: 2, resumable: true, file: null });
    const file = join(dir, 'saved.safetensors');
    expect((await session.handle({ type: 'save-checkpoint', path: file })).ok).toBe(true);
    expect((await stateOf(session)).model?.savedAs).toBe(file);

    const fresh = new StudioSession({ emit: () => {}, env: { FMNIST_DATA: REAL_DATA_DIR } });
    await fresh.handle({ type: 'load-default-data' });
    expect((await fresh.handle({ type: 'load-checkpoint', path: file })).ok).toBe(true);
    const state = await stateOf(fresh);
    expect(state.model).toMatchObject({
      file,
      savedAs: file,
      epochsDone: 2,
      resumable: true,
      settings: { ...quick, epochs: 2 },
    });
    expect(state.run.history!.map((h) => h.testAccuracy)).toEqual(trained.run.history!.map((h) => h.testAccuracy));
    expect(state.run.costPoints).toEqual(trained.run.costPoints);
    expect(state.run.status).toBe('idle');
    const evaluated = await fresh.handle({ type: 'evaluate' });
    expect(evaluated.ok && evaluated.state?.evaluation).toMatchObject({
      count: 10000,
      accuracy: trained.run.history![1].testAccuracy,
    });
  });

  it('saves the data a model was trained on, whatever is loaded now', async () => {
    const train = await realDataset('train');
    const trainedOn = {
      fingerprint: fingerprint(train),
      sources: [join(REAL_DATA_DIR, 'train-images-idx3-ubyte.gz'), join(REAL_DATA_DIR, 'train-labels-idx1-ubyte.gz')],
    };
    // Other training data is loaded after the run (and, below, after loading a checkpoint).
    expect((await session.handle({ type: 'load-dataset', role: 'train', paths: [otherCsv] })).ok).toBe(true);
    const saved = join(dir, 'after-other-data.safetensors');
    expect((await session.handle({ type: 'save-checkpoint', path: saved })).ok).toBe(true);
    const checkpoint = await loadCheckpoint(saved);
    expect(checkpoint.datasetFingerprint).toBe(trainedOn.fingerprint);
    expect(checkpoint.dataSources?.train).toEqual(trainedOn.sources);

    expect((await session.handle({ type: 'load-checkpoint', path: join(dir, 'saved.safetensors') })).ok).toBe(true);
    const again = join(dir, 'loaded-then-saved.safetensors');
    expect((await session.handle({ type: 'save-checkpoint', path: again })).ok).toBe(true);
    expect((await loadCheckpoint(again)).datasetFingerprint).toBe(trainedOn.fingerprint);
    expect((await stateOf(session)).model?.trainedOn).toBe(
      `${trainedOn.sources[0]} (fingerprint ${trainedOn.fingerprint})`,
    );
  });

  it('continues a model on other data only when allowed, and records both data sets', async () => {
    const otherFingerprint = fingerprint(randomDataset(500, 11));
    const refused = await start(session, { ...quick, epochs: 3 }, { continue: true });
    expect(refused).toMatchObject({ ok: false, confirm: 'train-on-other-data' });
    expect(!refused.ok && refused.error).toMatch(
      new RegExp(
        `^this model was trained on .*train-images-idx3-ubyte\\.gz \\(fingerprint \\w{16}\\), but the training data loaded now is ${otherCsv.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(fingerprint ${otherFingerprint}\\): continue only if`,
      ),
    );
    expect((await stateOf(session)).run.status).toBe('idle');

    const allowed = await start(session, { ...quick, epochs: 3 }, { continue: true, allowOtherData: true });
    expect(allowed.ok).toBe(true);
    await session.whenIdle();
    const file = join(dir, 'two-data-sets.safetensors');
    expect((await session.handle({ type: 'save-checkpoint', path: file })).ok).toBe(true);
    const checkpoint = await loadCheckpoint(file);
    expect(checkpoint.epochsDone).toBe(3);
    expect(checkpoint.datasetFingerprint).toBe(otherFingerprint);
    expect(checkpoint.dataHistory?.map((segment) => [segment.fromEpoch, segment.fingerprint])).toEqual([
      [1, fingerprint(await realDataset('train'))],
      [3, otherFingerprint],
    ]);
    expect(checkpoint.dataHistory?.[1].sources?.train).toEqual([otherCsv]);
    expect((await session.handle({ type: 'load-default-data' })).ok).toBe(true);
  });

  it('continues training the current model, refusing changed settings', async () => {
    expect((await session.handle({ type: 'load-checkpoint', path: join(dir, 'saved.safetensors') })).ok).toBe(true);
    const changed = await start(session, { ...quick, epochs: 3, seed: 9 }, { continue: true });
    expect(changed).toEqual({
      ok: false,
      error: 'seed cannot change when resuming: the model was trained with 1, got 9',
    });
    const response = await start(session, { ...quick, epochs: 3 }, { continue: true });
    expect(response.ok && response.state?.run).toMatchObject({ status: 'running', epochsDone: 2 });
    await session.whenIdle();
    const state = await stateOf(session);
    expect(state.run.history!.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(state.model?.epochsDone).toBe(3);
  });

  it('holds a bare PyTorch state dict with its settings and epochs unknown, and saves it without inventing them', async () => {
    const bare = await writeTemp(
      dir,
      'bare.safetensors',
      bareStateDict(16, (_layer, kind, i) => (kind === 'bias' ? 0 : ((i % 7) - 3) / 100)),
    );
    expect((await session.handle({ type: 'load-checkpoint', path: bare })).ok).toBe(true);
    const held = (await stateOf(session)).model;
    expect(held).toMatchObject({
      architecture: '784-16-10',
      epochsDone: null,
      settings: null,
      resumable: false,
      trainedOn: null,
    });
    const refused = await start(session, { ...quick, hiddenSizes: [16] }, { continue: true });
    expect(!refused.ok && refused.error).toBe('this model has no optimizer state: it cannot continue training');
    const again = join(dir, 'bare-saved.safetensors');
    expect((await session.handle({ type: 'save-checkpoint', path: again })).ok).toBe(true);
    const { metadata } = decodeSafetensors(await readFile(again), again);
    expect(JSON.parse(metadata.fmnist ?? '{}').config ?? null).toBeNull();
    expect((await loadCheckpoint(again)).config).toBeNull();
  });

  it('exports ONNX and weights of exactly the model held', async () => {
    const { readFile } = await import('node:fs/promises');
    const held = join(dir, 'held.safetensors');
    await session.handle({ type: 'save-checkpoint', path: held });
    const model = await loadCheckpoint(held);
    const weights = join(dir, 'w.safetensors');
    expect((await session.handle({ type: 'export-model', format: 'safetensors', path: weights })).ok).toBe(true);
    const exported = decodeCheckpoint(await readFile(weights), weights);
    expect(exported.parameters.weights).toEqual(model.parameters.weights);
    expect(exported.parameters.biases).toEqual(model.parameters.biases);
    expect(exported.optimizer).toBeNull();
    expect([...decodeSafetensors(await readFile(weights), weights).tensors.keys()].sort()).toEqual([
      '0.bias',
      '0.weight',
      '2.bias',
      '2.weight',
    ]);
    const onnx = join(dir, 'm.onnx');
    expect((await session.handle({ type: 'export-model', format: 'onnx', path: onnx })).ok).toBe(true);
    // The first layer's weights are in the file as ONNX initializer bytes (float32, [in, out] for Gemm).
    const bytes = await readFile(onnx);
    const w0 = Buffer.from(
      model.parameters.weights[0].buffer,
      model.parameters.weights[0].byteOffset,
      model.parameters.weights[0].byteLength,
    );
    expect(bytes.indexOf(w0)).toBeGreaterThan(0);
  });

  it('reports a failing autosave at once, keeps it after the run, and clears it when an autosave works again', async () => {
    const blocked = join(dir, 'blocked');
    await writeFile(blocked, 'a file where the data folder should be');
    const runs = join(blocked, 'runs');
    const failing = new StudioSession({
      emit: (event) => events.push(event),
      env: { FMNIST_DATA: REAL_DATA_DIR },
      runsDirectory: runs,
    });
    await failing.handle({ type: 'load-default-data' });
    events.length = 0;
    await start(failing, { ...quick, epochs: 60 }, { autosave: true });
    // Shown while the run goes on, with the file (the run's own checkpoint) and the reason.
    await expect
      .poll(() => events.some((e) => e.type === 'state' && e.state.autosave.failure !== null), { timeout: 30_000 })
      .toBe(true);
    const shown = events.find(
      (e): e is Extract<BackendEvent, { type: 'state' }> => e.type === 'state' && e.state.autosave.failure !== null,
    )!;
    expect(shown.state.run.status).toBe('running');
    const own = new RegExp(
      `^${escapeRegExp(runs + sep)}\\d{8}-\\d{6}-[0-9a-f]{4}${escapeRegExp(sep + 'last.safetensors')}$`,
    );
    expect(shown.state.autosave.failure).toEqual({
      file: expect.stringMatching(own),
      reason: expect.stringMatching(/not a directory/),
      epoch: 1,
    });
    // The folder becomes writable: a later epoch's autosave works and the failure goes.
    await rm(blocked);
    await mkdir(runs, { recursive: true });
    await expect
      .poll(() => events.filter((e) => e.type === 'state').at(-1), { timeout: 30_000 })
      .toMatchObject({ state: { autosave: { failure: null } } });
    await failing.handle({ type: 'stop' });
    await failing.whenIdle();
    const after = await stateOf(failing);
    expect(after.autosave.failure).toBeNull();
    expect(after.model?.savedAs).toBe(shown.state.autosave.failure!.file);
    expect((await loadCheckpoint(after.model!.savedAs!)).epochsDone).toBe(after.run.epochsDone);
  });

  it('keeps a failure shown after the run ends, and the model it could not write is in no file', async () => {
    const blocked = join(dir, 'blocked-too');
    await writeFile(blocked, 'x');
    const failing = new StudioSession({
      emit: () => {},
      env: { FMNIST_DATA: REAL_DATA_DIR },
      runsDirectory: join(blocked, 'runs'),
    });
    await failing.handle({ type: 'load-default-data' });
    await start(failing, quick, { autosave: true });
    await failing.whenIdle();
    const state = await stateOf(failing);
    expect(state.run.status).toBe('finished');
    expect(state.autosave.failure).toMatchObject({ epoch: 2 });
    expect(state.model?.savedAs).toBeNull();
    // Loading a checkpoint over it is refused unless the user agreed (the page asks first).
    const other = join(dir, 'saved.safetensors');
    const refused = await failing.handle({ type: 'load-checkpoint', path: other });
    expect(refused).toEqual({
      ok: false,
      error: `${other}: not opened: the model held (784-64-10, 2 epochs) is not saved in any file; save it first, or open the checkpoint with Load checkpoint, which asks`,
    });
    expect((await stateOf(failing)).model).toMatchObject({ epochsDone: 2, file: null });
    expect((await failing.handle({ type: 'load-checkpoint', path: other, replaceUnsaved: true })).ok).toBe(true);
    expect((await stateOf(failing)).model?.file).toBe(other);
  });

  it('autosaves to the run’s own checkpoint, writes it when stopped, and offers the unfinished run at the next start, with its data reloaded', async () => {
    const folder = join(dir, 'offer');
    const seen: BackendEvent[] = [];
    const first = new StudioSession({
      emit: (event) => seen.push(event),
      env: { FMNIST_DATA: REAL_DATA_DIR },
      runsDirectory: join(folder, 'runs'),
    });
    await first.handle({ type: 'load-default-data' });
    // Long enough that neither it nor its continuation finishes before the stops below land.
    await start(first, { ...quick, epochs: 5000 }, { autosave: true });
    await expect.poll(() => epochsIn(seen), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    await first.handle({ type: 'stop' });
    await first.whenIdle();
    const stoppedAt = (await stateOf(first)).run.epochsDone;
    const [run] = (await listRuns(first)).runs;

    // A new session, as after a restart, with other data loaded.
    const restartedSeen: BackendEvent[] = [];
    const restarted = new StudioSession({
      emit: (event) => restartedSeen.push(event),
      env: { FMNIST_DATA: REAL_DATA_DIR },
      runsDirectory: join(folder, 'runs'),
    });
    const offered = await stateOf(restarted);
    expect(offered.autosave.pending).toMatchObject({
      id: run.id,
      // Named when it started after the settings it changed from the defaults.
      name: 'hidden 64 · 5000 epochs · validation 0.1 · limit 2000',
      epochsDone: stoppedAt,
      epochs: 5000,
      architecture: '784-64-10',
      dataSources: {
        train: [join(REAL_DATA_DIR, 'train-images-idx3-ubyte.gz'), join(REAL_DATA_DIR, 'train-labels-idx1-ubyte.gz')],
      },
    });
    expect(offered.autosave.pending!.bytes).toBe(run.files!.bytes);
    await restarted.handle({ type: 'load-dataset', role: 'train', paths: [otherCsv] });
    const resumed = await restarted.handle({ type: 'resume-run', id: run.id, autosave: true });
    expect(resumed.ok && resumed.state?.run).toMatchObject({ status: 'running', epochsDoneAtStart: stoppedAt });
    expect(resumed.ok && resumed.state?.datasets.train?.count).toBe(60000);
    // Stopped once the continuation has trained an epoch, so it has a checkpoint of its own (see the next test
    // for one stopped sooner).
    await expect.poll(() => epochsIn(restartedSeen), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    await restarted.handle({ type: 'stop' });
    await restarted.whenIdle();
    expect((await stateOf(restarted)).autosave.pending).toBeNull();
    // The continuation is a run of its own; the first one says so and is offered no more.
    const listed = (await listRuns(restarted)).runs;
    expect(listed).toHaveLength(2);
    expect(listed[0]).toMatchObject({ id: run.id, continuedBy: listed[1].id, status: 'stopped' });
    expect(listed[1].resumedFrom).toEqual({ epochsDone: stoppedAt, file: run.files!.last });

    // The next start offers the continuation (the newest run); discarding deletes its files, not its record.
    const third = new StudioSession({ emit: () => {}, env: {}, runsDirectory: join(folder, 'runs') });
    expect((await stateOf(third)).autosave.pending?.id).toBe(listed[1].id);
    expect((await third.handle({ type: 'delete-run-files', ids: [listed[1].id] })).ok).toBe(true);
    expect((await stateOf(third)).autosave.pending).toBeNull();
    const fourth = new StudioSession({ emit: () => {}, env: {}, runsDirectory: join(folder, 'runs') });
    expect((await stateOf(fourth)).autosave.pending).toBeNull();
    const after = (await listRuns(fourth)).runs;
    expect(after.map((r) => r.id)).toEqual([run.id, listed[1].id]);
    expect(after[1].files).toBeNull();
    // The first run still opens: its own file holds its model.
    expect((await fourth.handle({ type: 'open-run-checkpoint', id: run.id })).ok).toBe(true);
    expect((await stateOf(fourth)).model).toMatchObject({ epochsDone: stoppedAt, file: run.files!.last });
  });

  it('a continuation stopped before its first epoch hands the offer to resume back to the run it continued', async () => {
    const folder = join(dir, 'continued-nothing');
    const runs = join(folder, 'runs');
    const first = new StudioSession({ emit: () => {}, env: { FMNIST_DATA: REAL_DATA_DIR }, runsDirectory: runs });
    await first.handle({ type: 'load-default-data' });
    await start(first, { ...quick, epochs: 5000 }, { autosave: true });
    await expect.poll(async () => (await stateOf(first)).run.epochsDone, { timeout: 30_000 }).toBeGreaterThan(1);
    await first.handle({ type: 'stop' });
    await first.whenIdle();
    const [parent] = (await listRuns(first)).runs;
    // What a continuation stopped before its first epoch leaves: a record of its own, no checkpoint, the
    // first run marked as continued by it. (Through the session this happens only when the stop wins the race
    // with the first epoch, so the records are written here as the recorder writes them.)
    const store = new RunStore(runs);
    const startedAt = new Date(Date.parse(parent.startedAt) + 60_000);
    const continuation = {
      ...(await store.get(parent.id)),
      id: '29991231-235959-c0de',
      startedAt: startedAt.toISOString(),
    };
    continuation.resumedFrom = { epochsDone: parent.metrics.epochs, file: parent.files!.last };
    continuation.files = null;
    // First as it is while it trains its first epoch (in another window): nothing is offered.
    await store.create({ ...continuation, status: 'running' });
    await store.edit(parent.id, { continuedBy: continuation.id });
    const meanwhile = new StudioSession({ emit: () => {}, env: {}, runsDirectory: runs });
    expect((await stateOf(meanwhile)).autosave.pending).toBeNull();
    // Then stopped.
    expect(await store.save(continuation, null)).toBe(true);

    const next = new StudioSession({ emit: () => {}, env: {}, runsDirectory: runs });
    expect((await stateOf(next)).autosave.pending).toMatchObject({ id: parent.id, epochsDone: parent.metrics.epochs });
    await next.handle({ type: 'load-default-data' });
    const resumed = await next.handle({ type: 'resume-run', id: parent.id, autosave: false });
    expect(resumed.ok && resumed.state?.run).toMatchObject({
      status: 'running',
      epochsDoneAtStart: parent.metrics.epochs,
    });
    await next.handle({ type: 'stop' });
    await next.whenIdle();
  });

  it('on shutdown, a run without autosave writes its last whole epoch to its own checkpoint, offered at the next start', async () => {
    const folder = join(dir, 'shutdown');
    const seen: BackendEvent[] = [];
    const quitting = new StudioSession({
      emit: (event) => seen.push(event),
      env: { FMNIST_DATA: REAL_DATA_DIR },
      runsDirectory: join(folder, 'runs'),
    });
    await quitting.handle({ type: 'load-default-data' });
    await start(quitting, { ...quick, epochs: 40 }, { autosave: false });
    await expect.poll(() => epochsIn(seen), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    expect(await quitting.handle({ type: 'shutdown' })).toMatchObject({ ok: true });
    const state = await stateOf(quitting);
    expect(state.run.status).toBe('stopped');
    const [run] = (await listRuns(quitting)).runs;
    expect(run.checkpoint).toBe(run.files!.last);
    const kept = await loadCheckpoint(run.files!.last!);
    expect(kept.epochsDone).toBe(state.run.epochsDone);
    expect(kept.epochsDone).toBeGreaterThanOrEqual(1);
    expect(kept.datasetFingerprint).toBe(fingerprint(await realDataset('train')));
    const next = new StudioSession({ emit: () => {}, env: {}, runsDirectory: join(folder, 'runs') });
    expect((await stateOf(next)).autosave.pending).toMatchObject({
      id: run.id,
      epochsDone: kept.epochsDone,
      epochs: 40,
    });
  });

  it('keeps every run’s model: a new run never overwrites the last one’s, and both open from their records', async () => {
    const folder = join(dir, 'two-runs');
    const twice = new StudioSession({
      emit: () => {},
      env: { FMNIST_DATA: REAL_DATA_DIR },
      runsDirectory: join(folder, 'runs'),
    });
    await twice.handle({ type: 'load-default-data' });
    await start(twice, { ...quick, epochs: 3 }, { autosave: true });
    await twice.whenIdle();
    await start(twice, { ...quick, epochs: 2, seed: 5 }, { autosave: false });
    await twice.whenIdle();
    const [older, newer] = (await listRuns(twice)).runs;
    expect(older.files!.last).not.toBe(newer.files!.last);
    expect(older.checkpoint).toBe(older.files!.last);
    expect(newer.checkpoint).toBe(newer.files!.last);
    expect((await twice.handle({ type: 'open-run-checkpoint', id: older.id })).ok).toBe(true);
    expect((await stateOf(twice)).model).toMatchObject({ epochsDone: 3, settings: { seed: 1 } });
    expect((await twice.handle({ type: 'open-run-checkpoint', id: newer.id })).ok).toBe(true);
    expect((await stateOf(twice)).model).toMatchObject({ epochsDone: 2, settings: { seed: 5 } });
    // A finished run is no unfinished run to offer.
    expect(
      (await stateOf(new StudioSession({ emit: () => {}, env: {}, runsDirectory: join(folder, 'runs') }))).autosave
        .pending,
    ).toBeNull();
  });

  it('asks (refuses without the user’s yes) before a run’s checkpoint replaces a model in no file; a download keeps it in none', async () => {
    const folder = join(dir, 'unsaved');
    const runs = join(folder, 'runs');
    const asking = new StudioSession({ emit: () => {}, env: { FMNIST_DATA: REAL_DATA_DIR }, runsDirectory: runs });
    await asking.handle({ type: 'load-default-data' });
    await start(asking, { ...quick, epochs: 1 }, { autosave: true });
    await asking.whenIdle();
    const [first] = (await listRuns(asking)).runs;
    await start(asking, { ...quick, epochs: 2, seed: 4 }, { autosave: true });
    await asking.whenIdle();
    const second = (await listRuns(asking)).runs[1];
    // Its files deleted by another process (fmnist runs delete --files-only): the model held is in no file now.
    await rm(join(runs, second.id), { recursive: true });
    expect((await stateOf(asking)).model?.savedAs).toBeNull();
    // A download of it is a temporary file, gone after the download: still in no file.
    expect(
      (await asking.handle({ type: 'save-checkpoint', path: join(folder, 'download.safetensors'), download: true })).ok,
    ).toBe(true);
    expect((await stateOf(asking)).model?.savedAs).toBeNull();
    const refused = await asking.handle({ type: 'open-run-checkpoint', id: first.id });
    expect(!refused.ok && refused.error).toBe(
      `${first.files!.last}: not opened: the model held (784-64-10, 2 epochs) is not saved in any file; save it first, or open the checkpoint with Load checkpoint, which asks`,
    );
    expect((await stateOf(asking)).model?.epochsDone).toBe(2);
    expect((await asking.handle({ type: 'open-run-checkpoint', id: first.id, replaceUnsaved: true })).ok).toBe(true);
    expect((await stateOf(asking)).model).toMatchObject({ epochsDone: 1, file: first.files!.last });
  });

  it('refuses to resume a run that finished or was continued; the parent can be resumed again once its continuation keeps no files', async () => {
    const folder = join(dir, 'continuations');
    const runs = join(folder, 'runs');
    const first = new StudioSession({ emit: () => {}, env: { FMNIST_DATA: REAL_DATA_DIR }, runsDirectory: runs });
    await first.handle({ type: 'load-default-data' });
    await start(first, { ...quick, epochs: 1 }, { autosave: true });
    await first.whenIdle();
    const [finished] = (await listRuns(first)).runs;
    // The run is named after the settings it changed from the defaults.
    expect(await first.handle({ type: 'resume-run', id: finished.id, autosave: true })).toEqual({
      ok: false,
      error: 'run "hidden 64 · 1 epoch · validation 0.1 · limit 2000" has nothing left to train (it finished)',
    });
    // A run stopped part-way, resumed, and the resumption stopped before its first epoch: no files of its own.
    await start(first, { ...quick, epochs: 500 }, { autosave: true });
    await expect.poll(() => first.state().run.epochsDone, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    await first.handle({ type: 'stop' });
    await first.whenIdle();
    const parent = (await listRuns(first)).runs[1];
    const second = new StudioSession({ emit: () => {}, env: { FMNIST_DATA: REAL_DATA_DIR }, runsDirectory: runs });
    expect((await stateOf(second)).autosave.pending?.id).toBe(parent.id);
    expect((await second.handle({ type: 'resume-run', id: parent.id, autosave: true })).ok).toBe(true);
    await second.handle({ type: 'stop' });
    await second.whenIdle();
    const listed = (await listRuns(second)).runs;
    const continuation = listed.find((run) => run.resumedFrom)!;
    expect(listed.find((run) => run.id === parent.id)!.continuedBy).toBe(continuation.id);
    // While the continuation keeps its own files, the parent is resumed no more; once it keeps none (stopped
    // before its first epoch, or its files deleted), the parent can be resumed again.
    if (continuation.files) {
      expect(await second.handle({ type: 'resume-run', id: parent.id, autosave: false })).toEqual({
        ok: false,
        error:
          'run "hidden 64 · 500 epochs · validation 0.1 · limit 2000" ' +
          `was continued as run ${continuation.id}: resume that one`,
      });
      await rm(join(runs, continuation.id), { recursive: true, force: true });
    }
    const third = new StudioSession({ emit: () => {}, env: {}, runsDirectory: runs });
    await third.handle({
      type: 'load-dataset',
      role: 'train',
      paths: [join(REAL_DATA_DIR, 'train-images-idx3-ubyte.gz')],
    });
    expect((await third.handle({ type: 'resume-run', id: parent.id, autosave: false })).ok).toBe(true);
    await third.handle({ type: 'stop' });
    await third.whenIdle();
  });

  it('shows an evaluation only beside the test set it was made on, and evaluates after the loads asked before it', async () => {
    const evaluating = new StudioSession({ emit: () => {}, env: { FMNIST_DATA: REAL_DATA_DIR } });
    await evaluating.handle({ type: 'load-default-data' });
    await start(evaluating, { ...quick, epochs: 1 });
    await evaluating.whenIdle();
    expect((await evaluating.handle({ type: 'evaluate' })).ok).toBe(true);
    const onReal = (await stateOf(evaluating)).evaluation!;
    expect(onReal.count).toBe(10000);
    // Another test set: the old figure leaves the screen.
    const small = await writeTemp(dir, 'small-test.csv', toKaggleCsv(randomDataset(300, 5)));
    expect((await evaluating.handle({ type: 'load-dataset', role: 'test', paths: [small] })).ok).toBe(true);
    expect((await stateOf(evaluating)).evaluation).toBeNull();
    // A load and an evaluation asked at once: the evaluation waits for the load and measures the new set.
    const [, evaluated] = await Promise.all([
      evaluating.handle({
        type: 'load-dataset',
        role: 'test',
        paths: [join(REAL_DATA_DIR, 't10k-images-idx3-ubyte.gz')],
      }),
      evaluating.handle({ type: 'evaluate' }),
    ]);
    expect(evaluated.ok && evaluated.state?.evaluation).toEqual(onReal);
  });
});

async function listRuns(session: StudioSession): Promise<RunListing> {
  const response = await session.handle({ type: 'list-runs' });
  if (!response.ok || !response.runs) throw new Error(response.ok ? 'no listing' : response.error);
  return response.runs;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
