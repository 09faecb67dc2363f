/** `fmnist train`: train the network on Fashion-MNIST, report per epoch, optionally save a checkpoint. */

import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  type Checkpoint,
  loadCheckpoint,
  resumeConfig,
  saveCheckpoint,
  trainerStateOf,
} from '@core/checkpoint/checkpoint';
import { describeRecipes, resolveFields, resolveRunConfig, type RunConfig, SCHEDULES } from '@core/shared/config';
import { PRESET_NAMES } from '@core/shared/presets';
import { type LabelledData, type LabelledDataset, limitCuts, readAll } from '@core/shared/dataset';
import { openDataset } from '@core/data/load';
import { type DataFiles, locateData } from '@core/data/locate';
import { asFileError, FmnistError } from '@core/shared/errors';
import { collectGarbage, peakMemoryMb } from '../memory';
import { checkOutputFile } from '../output-target';
import { describeShape, mlpShape } from '@core/shared/mlp';
import { AUTOSAVE_FILE, AUTOSAVE_INTERVAL_MS, autosavePath } from '@core/training/autosave';
import { appDataFolder, runsFolder } from '@core/app-folders';
import { continuedOn, describeData, type ModelData } from '@core/training/provenance';
import { TrainingRun } from '@core/training/training-run';
import { StoreRecorder } from '@core/records/recorder';
import { RunStore } from '@core/records/store';
import type { EpochSummary } from '@core/shared/events';
import { runOutcome } from '@core/training/trainer';
import { type CommandSpec, kernelChoice, KERNELS_OPTION, parseOptions, THREADS_OPTION } from '../args';
import { autosaveIntervalMs, givenWithPreset } from '../settings-options';
import { type CliContext, SIGNAL_EXIT_CODES, type StopSignal, writeLine } from '../context';
import { bar, formatDuration, percent, plural, trainingOutput } from '../progress';

export const TRAIN: CommandSpec = {
  name: 'train',
  summary: 'train the network and report cost and accuracy per epoch',
  options: {
    train: {
      kind: 'string',
      value: 'PATH',
      help: 'training data: a CSV, an IDX images file or a directory (default: search)',
    },
    test: {
      kind: 'string',
      value: 'PATH',
      help: 'test data (default: the test set found with the training data when --train is a folder or not given)',
    },
    epochs: { kind: 'integer', value: 'N', help: 'epochs to train (default 50)' },
    'batch-size': { kind: 'integer', value: 'N', help: 'samples per mini-batch (default 128)' },
    lr: { kind: 'number', value: 'RATE', help: "Adam's learning rate (default 0.001)" },
    hidden: { kind: 'string', value: 'SIZES', help: 'hidden layer sizes, comma-separated (default 512,256)' },
    seed: { kind: 'integer', value: 'N', help: 'random seed for weights and shuffling (default 1)' },
    validation: {
      kind: 'number',
      value: 'FRACTION',
      help: 'fraction of the training set held out for validation (default 0)',
    },
    limit: { kind: 'integer', value: 'N', help: 'train on the first N samples only (default: all)' },
    preset: {
      kind: 'string',
      value: 'NAME',
      help: `start from a preset: ${PRESET_NAMES.join(', ')} (the options given win)`,
    },
    schedule: {
      kind: 'string',
      value: 'KIND',
      help: `learning-rate schedule: ${SCHEDULES.join(', ')} (default constant)`,
    },
    warmup: { kind: 'integer', value: 'N', help: 'epochs of linear learning-rate warm-up (default 0)' },
    'step-epochs': { kind: 'integer', value: 'N', help: 'step schedule: epochs between rate drops (default 10)' },
    'step-factor': { kind: 'number', value: 'F', help: 'step schedule: factor of each drop (default 0.5)' },
    'weight-decay': { kind: 'number', value: 'L', help: 'AdamW decoupled weight decay of the weights (default 0)' },
    dropout: { kind: 'number', value: 'P', help: 'dropout probability of the hidden units (default 0)' },
    shift: { kind: 'integer', value: 'N', help: 'augmentation: shift images by up to N pixels each way (default 0)' },
    flip: { kind: 'boolean', help: 'augmentation: mirror half of the images left to right' },
    patience: {
      kind: 'integer',
      value: 'N',
      help: 'early stopping: stop after N epochs without a better validation cost',
    },
    'restore-best': { kind: 'boolean', help: 'end with the model of the epoch with the lowest validation cost' },
    'label-smoothing': { kind: 'number', value: 'E', help: 'label smoothing of the targets (default 0)' },
    threads: THREADS_OPTION,
    kernels: KERNELS_OPTION,
    out: { kind: 'string', value: 'FILE', help: 'save the trained model as a .safetensors checkpoint' },
    resume: { kind: 'string', value: 'FILE', help: 'continue from a checkpoint; --epochs is then the total to reach' },
    'allow-other-data': {
      kind: 'boolean',
      help: 'with --resume: train on data other than the checkpoint was trained on',
    },
    autosave: {
      kind: 'string',
      value: 'DIR',
      help: `also save the run's checkpoint to DIR as it trains (DIR/${AUTOSAVE_FILE})`,
    },
    'autosave-every': {
      kind: 'number',
      value: 'S',
      help:
        `the least seconds between two checkpoints while training (default ${AUTOSAVE_INTERVAL_MS / 1000}; ` +
        '0: after every epoch); the first and last epochs and a stop are always saved',
    },
    json: { kind: 'boolean', help: 'print one JSON object per epoch and a final summary object' },
    name: { kind: 'string', value: 'TEXT', help: 'a name for the run in its record (fmnist runs)' },
    'no-record': { kind: 'boolean', help: "leave no record of the run in the data folder's runs folder" },
  },
  examples: [
    'fmnist train',
    'fmnist train --epochs 5 --limit 10000 --out quick.safetensors',
    'fmnist train --train ~/data/fashion-mnist_train.csv --test ~/data/fashion-mnist_test.csv --json',
    'fmnist train --hidden 256 --lr 0.0005 --validation 0.1 --seed 7',
    'fmnist train --epochs 10 --out run.safetensors && fmnist train --resume run.safetensors --epochs 20 --out run.safetensors',
    'fmnist train --autosave ~/fmnist-runs',
    'fmnist train --epochs 10 --lr 0.002 --name "lr 0.002"',
    'fmnist train --preset best --out best.safetensors',
    'fmnist train --dropout 0.2 --shift 1 --flip --schedule cosine --warmup 2 --validation 0.1 --patience 5 --restore-best',
  ],
};

/** A run's configuration and the checkpoint it continues, if any. */
async function plan(options: Record<string, unknown>): Promise<{ config: RunConfig; resumed: Checkpoint | null }> {
  const file = options.resume as string | undefined;
  if (!file) return { config: resolveRunConfig(givenWithPreset(options)), resumed: null };
  const checkpoint = await loadCheckpoint(file);
  // Only the settings given on the command line are compared with the checkpoint's (each checked on its own:
  // how they combine is the checkpoint's business, since the ones that matter cannot change).
  const given = givenWithPreset(options);
  const validated = resolveFields(given);
  const wanted = Object.fromEntries(Object.keys(given).map((key) => [key, validated[key as keyof RunConfig]]));
  trainerStateOf(checkpoint, file);
  return {
    config: resumeConfig(checkpoint.config, checkpoint.epochsDone, wanted, file, checkpoint.finishedEarly),
    resumed: checkpoint,
  };
}

export function epochRecord(summary: EpochSummary): Record<string, unknown> {
  const round = (x: number | null, digits = 6): number | null => (x === null ? null : Number(x.toFixed(digits)));
  return {
    type: 'epoch',
    epoch: summary.epoch,
    cost: round(summary.cost),
    trainAccuracy: round(summary.trainAccuracy),
    validationCost: round(summary.validationCost),
    validationAccuracy: round(summary.validationAccuracy),
    testCost: round(summary.testCost),
    testAccuracy: round(summary.testAccuracy),
    seconds: round(summary.seconds, 3),
    samplesPerSecond: Math.round(summary.samplesPerSecond),
  };
}

export function epochLine(summary: EpochSummary): string {
  const width = String(summary.epochs).length;
  const parts = [
    `epoch ${String(summary.epoch).padStart(width)}/${summary.epochs}`,
    `cost ${summary.cost.toFixed(4)}`,
    `train ${percent(summary.trainAccuracy)}`,
  ];
  if (summary.validationAccuracy !== null) parts.push(`validation ${percent(summary.validationAccuracy)}`);
  if (summary.testAccuracy !== null) parts.push(`test ${percent(summary.testAccuracy)}`);
  parts.push(`${summary.seconds.toFixed(2)} s`);
  return parts.join('  ');
}

function filesOf(files: DataFiles): string[] {
  return files.format === 'idx' && files.labels ? [files.images, files.labels] : [files.images];
}

/**
 * Opens the training data and the test data (found beside it when not given) and checks them; IDX images are
 * left unread, for the engine to read straight into its own memory — unless `readAll`, or a `limit` cuts the
 * training set short (its fingerprint is of the whole set): then they are read here, before the loaders'
 * leftovers are collected.
 */
export async function openTrainingData(
  trainPath: string | undefined,
  testPath: string | undefined,
  env: NodeJS.ProcessEnv,
  options: { limit?: number; readAll?: boolean } = {},
): Promise<{ train: LabelledData; test: LabelledData | null; description: string; sources: ModelData['sources'] }> {
  const located = await locateData(trainPath, testPath, env);
  const open = (files: DataFiles): Promise<LabelledData> => openDataset(files, { requireLabels: true });
  const [train, test] = await Promise.all([
    open(located.train).then((data) =>
      options.readAll || limitCuts(options.limit ?? 0, data.count) ? readAll(data) : data,
    ),
    located.test ? open(located.test).then((data) => (options.readAll ? readAll(data) : data)) : Promise.resolve(null),
  ]);
  // The loaders' leftovers go before the engine takes its memory (see memory.ts).
  collectGarbage();
  const description =
    `${train.count} training images from ${located.train.images}` +
    (test && located.test ? ` and ${test.count} test images from ${located.test.images}` : '');
  return {
    train,
    test,
    description,
    sources: { train: filesOf(located.train), test: located.test ? filesOf(located.test) : null },
  };
}

/** The same, every image read. */
export async function loadTrainingData(
  trainPath: string | undefined,
  testPath: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<{
  train: LabelledDataset;
  test: LabelledDataset | null;
  description: string;
  sources: ModelData['sources'];
}> {
  return (await openTrainingData(trainPath, testPath, env, { readAll: true })) as Awaited<
    ReturnType<typeof loadTrainingData>
  >;
}

/**
 * What the stop signals do: before the run exists one ends the command at once (nothing was trained, nothing
 * needs saving); once it trains, the first stops it after the current batch and a second quits at once.
 */
class StopSignals {
  stoppedBy: StopSignal | null = null;
  private stopRun: (() => void) | null = null;

  constructor(private readonly say: (text: string) => void) {}

  /** The run exists: a signal stops it from now on. */
  training(stop: () => void): void {
    this.stopRun = stop;
  }

  receive(signal: StopSignal): void {
    if (!this.stopRun || this.stoppedBy) {
      if (!this.stopRun) this.say(`${signal}: stopped before training began; nothing was trained.`);
      process.exit(SIGNAL_EXIT_CODES[signal]);
    }
    this.stoppedBy = signal;
    this.stopRun();
    this.say(
      `${signal === 'SIGINT' ? 'Stopping' : `${signal}: stopping`} after this batch (${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again to quit at once)…`,
    );
  }
}

export async function runTrain(argv: string[], context: CliContext): Promise<number> {
  // Ctrl-C, a closed terminal (SIGHUP; on Windows, the console window closed) and SIGTERM (kill, timeout, a
  // scheduler) are handled from the start, so none ends the command half-way through writing something.
  const signals = new StopSignals((text) => writeLine(context.stderr, text));
  const removeHandler = context.onStopSignal((signal) => signals.receive(signal));
  try {
    return await train(argv, context, signals);
  } finally {
    removeHandler();
  }
}

async function train(argv: string[], context: CliContext, signals: StopSignals): Promise<number> {
  const options = parseOptions(TRAIN, argv);
  const kernels = kernelChoice(options.kernels);
  const json = options.json === true;
  // Every place something will be written is checked before any work, so a long run never fails at its end.
  const out = options.out as string | undefined;
  if (out) await checkOutputFile(out);
  const autosaveFolder = options.autosave as string | undefined;
  if (autosaveFolder) {
    await mkdir(autosaveFolder, { recursive: true }).catch((error: unknown) => {
      throw asFileError(error, autosaveFolder);
    });
    await checkOutputFile(autosavePath(autosaveFolder));
  }
  const autosaveEveryMs = autosaveIntervalMs(options['autosave-every']);
  if (options['allow-other-data'] && !options.resume)
    throw new FmnistError('bad-option', '--allow-other-data only applies with --resume');
  if (options.name !== undefined && options['no-record'])
    throw new FmnistError('bad-option', '--name names the run record, which --no-record turns off');
  const { config, resumed } = await plan(options);
  const { stdout, stderr } = context;
  const { status, info, warn } = trainingOutput(context, json);

  const recorder = options['no-record']
    ? null
    : new StoreRecorder(new RunStore(runsFolder(appDataFolder(context.env))), {
        origin: 'cli',
        name: options.name as string | undefined,
        checkpoint: null,
        // Absolute, so the app finds the file whatever folder it starts in.
        resumedFile: options.resume === undefined ? null : resolve(options.resume as string),
        onProblem: (problem) =>
          warn(
            problem
              ? `Cannot record the run: ${problem} (training goes on; each epoch tries again)`
              : 'Recording the run works again.',
          ),
      });
  // Its own checkpoint holds the run's last whole epoch from the first epoch on.
  recorder?.startWithCheckpoint(recorder.checkpointFiles.last);

  // The engine reads the data sets into its memory (or copies them there): keep no other reference, so any
  // copies can be freed.
  const { run, description, hasTest } = await (async () => {
    const { train, test, description, sources } = await openTrainingData(
      options.train as string | undefined,
      options.test as string | undefined,
      context.env,
      {
        limit: config.limit,
      },
    );
    const dataOf = (trainedOn: string): ModelData => {
      const loaded = { fingerprint: trainedOn, sources };
      if (!resumed) return { ...loaded, history: null };
      const model = {
        fingerprint: resumed.datasetFingerprint,
        sources: resumed.dataSources ?? null,
        history: resumed.dataHistory ?? null,
      };
      if (model.fingerprint && model.fingerprint !== loaded.fingerprint && !options['allow-other-data']) {
        throw new FmnistError(
          'bad-option',
          `${options.resume} was trained on ${describeData(model)}, but the training data given now is ${describeData(loaded)}: ` +
            'add --allow-other-data to train it on different data',
        );
      }
      return continuedOn(model, loaded, resumed.epochsDone + 1);
    };
    const created = await TrainingRun.create({
      config,
      train,
      test,
      kernels,
      resume: resumed
        ? { state: trainerStateOf(resumed, options.resume as string), costCurve: resumed.costCurve ?? [] }
        : null,
      data: dataOf,
      // To the run's own checkpoint (so a run killed at any moment keeps an epoch at most --autosave-every
      // seconds old), and to the --autosave file when one is asked for.
      autosaveFiles: [
        ...(recorder ? [recorder.checkpointFiles.last] : []),
        ...(autosaveFolder ? [autosavePath(autosaveFolder)] : []),
      ],
      autosaveIntervalMs: autosaveEveryMs,
      runFiles: recorder?.checkpointFiles ?? null,
      record: recorder,
      onBatch: (p) => {
        const runFraction = ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches);
        status.update(
          `epoch ${p.epoch}/${p.epochs} ${bar(p.batch / p.batches, 20)} batch ${p.batch}/${p.batches}  ` +
            `cost ${p.epochCost.toFixed(4)}  ${Math.round(p.samplesPerSecond)} samples/s  ` +
            `run ${percent(runFraction, 0)}  ETA ${formatDuration(p.etaMs)}`,
          p.batch === p.batches,
        );
      },
      onEpoch: (summary) => {
        // Each epoch's leftovers (evaluation results, records) go now, not in a heap grown to hold many.
        collectGarbage();
        status.clear();
        writeLine(stdout, json ? JSON.stringify(epochRecord(summary)) : epochLine(summary));
      },
      onAutosave: (failure, changed) => {
        if (!changed) return;
        warn(
          failure
            ? `Autosave failed after epoch ${failure.epoch}: ${failure.file}: ${failure.reason} (training goes on; the next autosave tries again)`
            : `Autosave works again: ${autosavePath(autosaveFolder!)}`,
        );
      },
    });
    return { run: created, description, hasTest: test !== null };
  })();
  // The engine holds the data sets now; their JS copies go before training starts.
  collectGarbage();
  if (resumed) {
    info(`Resuming from ${options.resume} after epoch ${resumed.epochsDone}, training to epoch ${config.epochs}.`);
    if (run.data.history && run.data.history.length > (resumed.dataHistory?.length ?? 1))
      info('Training goes on with other data than before, as --allow-other-data allows.');
  }
  if (!out && !autosaveFolder && !recorder)
    info('Nothing will be saved: pass --out FILE (or --autosave DIR) to keep the model.');
  info(`Loaded ${description}.`);
  if (!hasTest) info('No test set found beside the training data: pass --test PATH to report test accuracy.');
  info(
    `Training ${describeShape(mlpShape(config.hiddenSizes))} on ${run.trainingSamples} samples` +
      (run.validationSamples ? ` (${run.validationSamples} held out for validation)` : '') +
      `: ${plural(config.epochs, 'epoch')}, batch ${config.batchSize}, Adam lr ${config.learningRate}, seed ${config.seed}, ` +
      `${plural(run.threads, 'thread')} (${run.kernelBackend} kernels).`,
  );
  const recipes = describeRecipes(config);
  if (recipes) info(`Recipes: ${recipes}.`);

  // From now on a stop signal stops the run after the current batch and keeps the last whole epoch.
  signals.training(() => {
    status.clear();
    run.stop();
  });

  /** Saves the last whole epoch to --out (nothing when no epoch was completed). */
  const save = async (): Promise<boolean> => {
    const state = run.state();
    if (!out || state.epochsDone === (resumed?.epochsDone ?? 0)) return false;
    await saveCheckpoint(out, run.checkpoint(state));
    info(`Saved the model after ${plural(state.epochsDone, 'epoch')} to ${out}.`);
    return true;
  };

  /** The run's record names its own checkpoint (TrainingRun writes it); --out is noted as a copy. */
  const recordCopy = async (saved: boolean): Promise<void> => {
    if (saved && out) await recorder?.addCopy(resolve(out));
  };

  try {
    const summary = await run.run();
    status.clear();
    // What the epochs left behind goes before the checkpoint is built (see memory.ts).
    collectGarbage();
    const saved = await save();
    await recordCopy(saved);
    if (recorder?.recorded) {
      info(
        `Recorded as run ${recorder.id} (fmnist runs show ${recorder.id})${run.modelFile ? `; its model is kept in ${run.modelFile}` : ''}.`,
      );
    }
    const last = summary.history[summary.history.length - 1];
    // The model handed back: the last epoch's, or the best one's when restoreBest restored it.
    const kept = summary.history[summary.epochsDone - 1];
    if (json) {
      writeLine(
        stdout,
        JSON.stringify({
          type: 'summary',
          status: summary.status,
          epochs: summary.epochsDone,
          cost: kept?.cost ?? null,
          trainAccuracy: kept?.trainAccuracy ?? null,
          validationAccuracy: kept?.validationAccuracy ?? null,
          testAccuracy: kept?.testAccuracy ?? null,
          bestEpoch: summary.bestEpoch,
          stoppedEarly: summary.stoppedEarly,
          restoredBest: summary.restoredBest,
          trainingSeconds: Number(summary.trainingSeconds.toFixed(3)),
          peakMemoryMb: peakMemoryMb(),
          checkpoint: saved ? out : null,
          run: recorder?.recorded ? recorder.id : null,
          runCheckpoint: run.modelFile,
        }),
      );
    } else if (last && kept) {
      const outcome = runOutcome(summary, config);
      if (outcome) info(outcome);
      writeLine(
        stderr,
        `${summary.status === 'stopped' ? 'Stopped' : 'Finished'} after ${plural(summary.restoredBest ? last.epoch : summary.epochsDone, 'epoch')}` +
          `${summary.restoredBest ? ` (keeping epoch ${kept.epoch})` : ''} in ` +
          `${formatDuration(summary.trainingSeconds * 1000)} of training: train ${percent(kept.trainAccuracy)}` +
          (kept.testAccuracy !== null ? `, test ${percent(kept.testAccuracy)}` : '') +
          `; peak memory ${peakMemoryMb()} MB.`,
      );
    }
    return summary.status === 'stopped' ? SIGNAL_EXIT_CODES[signals.stoppedBy ?? 'SIGINT'] : 0;
  } catch (error) {
    status.clear();
    // A diverged (or otherwise failed) run is back at its last good epoch: save that rather than lose the work.
    await recordCopy(await save().catch(() => false));
    throw error;
  } finally {
    await run.dispose();
  }
}
