/**
 * Faults injected under the session, each as a user would meet it: a full disk, a refused permission or a
 * read-only file system while saving, exporting or autosaving; a data file deleted between a run and its
 * resume; a kernel thread that dies mid-epoch. Nothing the user had is lost or misdescribed, and every
 * failure is one line naming the file.
 */

import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'vite';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BackendEvent, DEFAULT_SETTINGS, type RunSettings, type StudioState } from '@core/shared/contract';
import { StudioSession } from '@core/backend/session';
import { loadCheckpoint } from '@core/checkpoint/checkpoint';
import { atomicWriteHooks } from '@core/io';
import { REAL_DATA_DIR, randomDataset, tempDir, toKaggleCsv, writeTemp } from '../../../helpers/data';

const quick: RunSettings = { ...DEFAULT_SETTINGS, epochs: 2, limit: 2000, hiddenSizes: [32] };
const SYSTEM_ERRORS: [code: string, says: string][] = [
  ['ENOSPC', 'no space left on the device'],
  ['EACCES', 'permission denied'],
  ['EROFS', 'the file system is read-only'],
];

async function stateOf(session: StudioSession): Promise<StudioState> {
  const response = await session.handle({ type: 'get-state' });
  if (!response.ok) throw new Error(response.error);
  return response.state;
}

const start = (session: StudioSession, settings: RunSettings, autosave = false) =>
  session.handle({ type: 'start', settings, autosave, continue: false, allowOtherData: false });

/** Makes every atomic write fail with `code` just before its rename (the moment a full disk shows). */
function failWrites(code: string): void {
  atomicWriteHooks.beforeRename = () => {
    throw Object.assign(new Error(`${code}: simulated`), { code });
  };
}

afterEach(() => {
  atomicWriteHooks.beforeRename = undefined;
});

describe('faults under the session', () => {
  let dir: string;
  let session: StudioSession;
  beforeAll(async () => {
    dir = await tempDir('fmnist-faults-');
    session = new StudioSession({ emit: () => {}, env: { FMNIST_DATA: REAL_DATA_DIR } });
    await session.handle({ type: 'load-default-data' });
    await start(session, quick);
    await session.whenIdle();
  });

  it.each(SYSTEM_ERRORS)(
    'saving and exporting on %s fail in one line naming the file, and the old file stays',
    async (code, says) => {
      const target = join(dir, `model-${code}.safetensors`);
      expect((await session.handle({ type: 'save-checkpoint', path: target })).ok).toBe(true);
      const before = await readFile(target);
      failWrites(code);
      expect(await session.handle({ type: 'save-checkpoint', path: target })).toEqual({
        ok: false,
        error: `${target}: ${says}`,
      });
      const onnx = join(dir, `model-${code}.onnx`);
      expect(await session.handle({ type: 'export-model', format: 'onnx', path: onnx })).toEqual({
        ok: false,
        error: `${onnx}: ${says}`,
      });
      atomicWriteHooks.beforeRename = undefined;
      expect((await readFile(target)).equals(before)).toBe(true);
      // The model is the same, and still says it is saved where it was saved before.
      expect((await stateOf(session)).model).toMatchObject({ epochsDone: 2, savedAs: target });
    },
  );

  it.each(SYSTEM_ERRORS)(
    'an autosave failing on %s is reported with the reason, and training goes on',
    async (code, says) => {
      const folder = await tempDir('fmnist-faults-autosave-');
      const events: BackendEvent[] = [];
      const autosaving = new StudioSession({
        emit: (e) => events.push(e),
        env: { FMNIST_DATA: REAL_DATA_DIR },
        runsDirectory: join(folder, 'runs'),
      });
      await autosaving.handle({ type: 'load-default-data' });
      failWrites(code);
      await start(autosaving, { ...quick, epochs: 3 }, true);
      await autosaving.whenIdle();
      const state = await stateOf(autosaving);
      expect(state.run.status).toBe('finished');
      expect(state.autosave.failure).toEqual({
        file: expect.stringMatching(/[/\\]last\.safetensors$/),
        reason: says,
        epoch: 3,
      });
      expect(state.autosave.failure!.file.startsWith(join(folder, 'runs'))).toBe(true);
      expect(state.model?.savedAs).toBeNull();
    },
  );

  it('resuming after the data file was deleted fails in one line naming it, and keeps the offer', async () => {
    const folder = await tempDir('fmnist-faults-resume-');
    const csv = await writeTemp(folder, 'train.csv', toKaggleCsv(randomDataset(600, 9)));
    const runs = join(folder, 'runs');
    const first = new StudioSession({ emit: () => {}, env: { FMNIST_DATA: REAL_DATA_DIR }, runsDirectory: runs });
    await first.handle({ type: 'load-dataset', role: 'train', paths: [csv] });
    // Epochs of 600 images take milliseconds: enough of them that the stop always lands before the last one.
    await start(first, { ...quick, epochs: 100_000, limit: 0 }, true);
    await expect.poll(() => first.state().run.epochsDone, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    await first.handle({ type: 'stop' });
    await first.whenIdle();
    await rm(csv);

    const restarted = new StudioSession({ emit: () => {}, env: {}, runsDirectory: runs });
    const offered = (await stateOf(restarted)).autosave.pending;
    expect(offered).not.toBeNull();
    expect(await restarted.handle({ type: 'resume-run', id: offered!.id, autosave: true })).toEqual({
      ok: false,
      error: `${csv}: no such file or directory`,
    });
    const after = await stateOf(restarted);
    expect(after.autosave.pending).not.toBeNull();
    expect(after.model).toBeNull();
    expect(after.run.status).toBe('idle');
  });

  it('a kernel thread killed mid-epoch fails the run within seconds, keeps the last whole epoch, and the session answers throughout', async () => {
    const events: BackendEvent[] = [];
    const threaded = new StudioSession({ emit: (e) => events.push(e), env: { FMNIST_DATA: REAL_DATA_DIR } });
    await threaded.handle({ type: 'load-default-data' });
    await start(threaded, { ...quick, epochs: 500, limit: 20000, hiddenSizes: [256], threads: 2 });
    const epochs = (): number =>
      events.reduce((sum, e) => sum + (e.type === 'progress' ? e.progress.completedEpochs.length : 0), 0);
    await expect.poll(epochs, { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
    // Reach the engine's kernel threads (a test seam of the threaded executor).
    type Seam = {
      run: { run: { trainer: { engine: { executor: { workers: { terminate(): Promise<number> }[] } } } } };
    };
    const workers = (threaded as unknown as Seam).run.run.trainer.engine.executor.workers;
    const killedAt = performance.now();
    await workers[0].terminate();
    const asked = await threaded.handle({ type: 'get-state' });
    expect(asked.ok).toBe(true);
    await threaded.whenIdle();
    const seconds = (performance.now() - killedAt) / 1000;
    const state = await stateOf(threaded);
    expect(state.run.status).toBe('failed');
    expect(state.run.error).toMatch(/^kernel thread 1 (stopped \(exit code 1\)|stopped responding)/);
    expect(seconds).toBeLessThan(5);
    expect(state.model?.epochsDone).toBe(state.run.epochsDone);
    expect(state.run.epochsDone).toBeGreaterThanOrEqual(1);
    console.info(`faults: a killed kernel thread failed the run after ${seconds.toFixed(2)} s`);
  });
});

describe('the process killed during a checkpoint save', () => {
  it('leaves the previous checkpoint or the new one whole, never a damaged file, however often it is killed', async () => {
    const dir = await tempDir('fmnist-kill-save-');
    const target = join(dir, 'model.safetensors');
    // A child process that saves checkpoints, one seed after another, into one file as fast as it can: the
    // project's own saveCheckpoint, bundled for plain Node by Vite.
    const script = join(dir, 'saver.ts');
    const src = (path: string): string => JSON.stringify(join(__dirname, '../../../../src', path));
    await writeFile(
      script,
      `import { saveCheckpoint } from ${src('core/checkpoint/checkpoint')};
import { resolveRunConfig } from ${src('core/shared/config')};
import { initParameters, mlpShape } from ${src('core/shared/mlp')};
const shape = mlpShape([512, 256]);
async function main() {
  for (let seed = 1; ; seed++) {
    await saveCheckpoint(${JSON.stringify(target)}, { parameters: initParameters(shape, seed), config: resolveRunConfig({ seed }), epochsDone: 0, history: [], datasetFingerprint: null, appVersion: null, createdAt: null, optimizer: null });
    process.stdout.write(seed + '\\n');
  }
}
void main();
`,
    );
    await build({
      configFile: false,
      logLevel: 'silent',
      build: {
        ssr: script,
        outDir: join(dir, 'out'),
        rolldownOptions: { output: { format: 'cjs', entryFileNames: 'saver.cjs' } },
      },
      ssr: { noExternal: true },
    });
    const saver = join(dir, 'out', 'saver.cjs');
    const kills = 8;
    const seeds: number[] = [];
    for (let i = 0; i < kills; i++) {
      const child = spawn(process.execPath, [saver], { stdio: ['ignore', 'pipe', 'inherit'] });
      let written = 0;
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk) => {
          written += String(chunk).split('\\n').length;
          // Kill it after a varying number of saves, mid-write more often than not.
          if (written > 2 + i) {
            child.kill('SIGKILL');
            resolve();
          }
        });
        child.on('exit', () => resolve());
      });
      await new Promise((resolve) => child.on('exit', resolve));
      const survivor = await loadCheckpoint(target);
      seeds.push(survivor.config!.seed);
    }
    expect(seeds).toHaveLength(kills);
    expect(seeds.every((seed) => Number.isInteger(seed) && seed >= 1)).toBe(true);
  }, 120_000);
});
