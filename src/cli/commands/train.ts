/** `fmnist train`: train the network on Fashion-MNIST, report per epoch, optionally save a checkpoint. */

import { access, constants, mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { checkpointOf, loadCheckpoint, resumeConfig, saveCheckpoint, trainerStateOf } from '../../core/checkpoint/checkpoint';
import { parseHiddenSizes, resolveRunConfig, type RunConfig } from '../../core/config';
import { fingerprint, type LabelledDataset } from '../../core/data/dataset';
import { describeFiles, loadDataset } from '../../core/data/load';
import { locateData } from '../../core/data/locate';
import { asFileError, FmnistError } from '../../core/errors';
import { describeShape, mlpShape } from '../../core/model/mlp';
import { type EpochSummary, Trainer, type TrainerState } from '../../core/train/trainer';
import { type CommandSpec, kernelChoice, KERNELS_OPTION, parseOptions, threadCount, THREADS_OPTION } from '../args';
import { type CliContext, writeLine } from '../context';
import { bar, formatDuration, percent, plural, StatusLine } from '../progress';

export const TRAIN: CommandSpec = {
  name: 'train',
  summary: 'train the network and report cost and accuracy per epoch',
  options: {
    train: { kind: 'string', value: 'PATH', help: 'training data: a CSV, an IDX images file or a directory (default: search)' },
    test: { kind: 'string', value: 'PATH', help: 'test data (default: the test set beside the training data)' },
    epochs: { kind: 'integer', value: 'N', help: 'epochs to train (default 50)' },
    'batch-size': { kind: 'integer', value: 'N', help: 'samples per mini-batch (default 128)' },
    lr: { kind: 'number', value: 'RATE', help: "Adam's learning rate (default 0.001)" },
    hidden: { kind: 'string', value: 'SIZES', help: 'hidden layer sizes, comma-separated (default 512,256)' },
    seed: { kind: 'integer', value: 'N', help: 'random seed for weights and shuffling (default 1)' },
    validation: { kind: 'number', value: 'FRACTION', help: 'fraction of the training set held out for validation (default 0)' },
    limit: { kind: 'integer', value: 'N', help: 'train on the first N samples only (default: all)' },
    threads: THREADS_OPTION,
    kernels: KERNELS_OPTION,
    out: { kind: 'string', value: 'FILE', help: 'save the trained model as a .safetensors checkpoint' },
    resume: { kind: 'string', value: 'FILE', help: 'continue from a checkpoint; --epochs is then the total to reach' },
    autosave: { kind: 'string', value: 'DIR', help: 'save a checkpoint to DIR after every epoch (DIR/fmnist-autosave.safetensors)' },
    json: { kind: 'boolean', help: 'print one JSON object per epoch and a final summary object' },
  },
  examples: [
    'fmnist train',
    'fmnist train --epochs 5 --limit 10000 --out quick.safetensors',
    'fmnist train --train ~/data/fashion-mnist_train.csv --test ~/data/fashion-mnist_test.csv --json',
    'fmnist train --hidden 256 --lr 0.0005 --validation 0.1 --seed 7',
    'fmnist train --epochs 10 --out run.safetensors && fmnist train --resume run.safetensors --epochs 20 --out run.safetensors',
    'fmnist train --autosave ~/fmnist-runs',
  ],
};

/** Checks before training that a checkpoint can be written there, so a long run does not fail at the end. */
export async function checkWritableTarget(path: string): Promise<void> {
  const directory = dirname(resolve(path));
  try {
    const info = await stat(path).catch(() => null);
    if (info?.isDirectory()) throw new FmnistError('bad-option', 'is a directory, expected a file name', { file: path });
    await access(directory, constants.W_OK);
  } catch (error) {
    if (error instanceof FmnistError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FmnistError('not-found', `the folder ${directory} does not exist`, { file: path });
    throw asFileError(error, path);
  }
}

/** The settings given on the command line (absent ones stay undefined). */
function givenSettings(options: Record<string, unknown>): Partial<Record<keyof RunConfig, unknown>> {
  return {
    epochs: options.epochs,
    batchSize: options['batch-size'],
    learningRate: options.lr,
    hiddenSizes: typeof options.hidden === 'string' ? parseHiddenSizes(options.hidden) : undefined,
    seed: options.seed,
    validationFraction: options.validation,
    limit: options.limit,
    threads: threadCount(options.threads),
  };
}

export function configFromOptions(options: Record<string, unknown>): RunConfig {
  return resolveRunConfig(givenSettings(options));
}

export const AUTOSAVE_NAME = 'fmnist-autosave.safetensors';

/** A run's configuration and starting state: fresh, or continued from a checkpoint. */
async function plan(options: Record<string, unknown>): Promise<{ config: RunConfig; resume: TrainerState | null; checkpointFingerprint: string | null }> {
  const file = options.resume as string | undefined;
  if (!file) return { config: configFromOptions(options), resume: null, checkpointFingerprint: null };
  const checkpoint = await loadCheckpoint(file);
  // Only the settings given on the command line are compared with the checkpoint's (after validation).
  const given = Object.fromEntries(Object.entries(givenSettings(options)).filter(([, value]) => value !== undefined));
  const validated = resolveRunConfig(given);
  const wanted = Object.fromEntries(Object.keys(given).map((key) => [key, validated[key as keyof RunConfig]]));
  return {
    config: resumeConfig(checkpoint.config, checkpoint.epochsDone, wanted, file),
    resume: trainerStateOf(checkpoint, file),
    checkpointFingerprint: checkpoint.datasetFingerprint,
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

export async function loadTrainingData(
  trainPath: string | undefined,
  testPath: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<{ train: LabelledDataset; test: LabelledDataset | null; description: string; directory: string | null }> {
  const located = await locateData(trainPath, testPath, env);
  const [train, test] = await Promise.all([
    loadDataset(located.train, { requireLabels: true }),
    located.test ? loadDataset(located.test, { requireLabels: true }) : Promise.resolve(null),
  ]);
  const description =
    `${train.count} training images from ${describeFiles(located.train)}` +
    (test && located.test ? ` and ${test.count} test images from ${describeFiles(located.test)}` : '');
  return { train, test, description, directory: located.directory };
}

export async function runTrain(argv: string[], context: CliContext): Promise<number> {
  const options = parseOptions(TRAIN, argv);
  const kernels = kernelChoice(options.kernels);
  const { config, resume, checkpointFingerprint } = await plan(options);
  const json = options.json === true;
  const out = options.out as string | undefined;
  if (out) await checkWritableTarget(out);
  const autosaveDirectory = options.autosave as string | undefined;
  const autosave = autosaveDirectory ? join(autosaveDirectory, AUTOSAVE_NAME) : undefined;
  if (autosaveDirectory) {
    await mkdir(autosaveDirectory, { recursive: true }).catch((error: unknown) => {
      throw asFileError(error, autosaveDirectory);
    });
    await checkWritableTarget(autosave!);
  }
  const { stdout, stderr } = context;
  const status = new StatusLine(stderr);
  const info = (text: string): void => {
    if (json) return;
    status.clear();
    writeLine(stderr, text);
  };

  // The data sets are copied into the engine's memory: keep no other reference, so they can be freed.
  const { trainer, datasetFingerprint, description, hasTest } = await (async () => {
    const { train, test, description } = await loadTrainingData(
      options.train as string | undefined,
      options.test as string | undefined,
      context.env,
    );
    const fingerprintOfTrain = fingerprint(train);
    const created = await Trainer.create({
      config,
      train,
      test,
      kernels,
      resume: resume ?? undefined,
      onBatch: (p) => {
        const runFraction = ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches);
        status.update(
          `epoch ${p.epoch}/${p.epochs} ${bar(p.batch / p.batches, 20)} batch ${p.batch}/${p.batches}  ` +
            `cost ${p.epochCost.toFixed(4)}  ${Math.round(p.samplesPerSecond)} samples/s  ` +
            `run ${percent(runFraction, 0)}  ETA ${formatDuration(p.etaMs)}`,
          p.batch === p.batches,
        );
      },
      onEpoch: async (summary, state) => {
        status.clear();
        writeLine(stdout, json ? JSON.stringify(epochRecord(summary)) : epochLine(summary));
        if (autosave) await saveCheckpoint(autosave, checkpointOf(state(), config, { datasetFingerprint: fingerprintOfTrain }));
      },
    });
    return { trainer: created, datasetFingerprint: fingerprintOfTrain, description, hasTest: test !== null };
  })();
  if (resume) {
    info(`Resuming from ${options.resume} after epoch ${resume.epochsDone}, training to epoch ${config.epochs}.`);
    if (checkpointFingerprint && checkpointFingerprint !== datasetFingerprint) {
      info('Warning: this training data differs from the data the checkpoint was trained on.');
    }
  }
  if (!out && !autosave) info('Nothing will be saved: pass --out FILE (or --autosave DIR) to keep the model.');
  info(`Loaded ${description}.`);
  if (!hasTest) info('No test set found beside the training data: pass --test PATH to report test accuracy.');
  info(
    `Training ${describeShape(mlpShape(config.hiddenSizes))} on ${trainer.trainingSamples} samples` +
      (trainer.validationSamples ? ` (${trainer.validationSamples} held out for validation)` : '') +
      `: ${plural(config.epochs, 'epoch')}, batch ${config.batchSize}, Adam lr ${config.learningRate}, seed ${config.seed}, ` +
      `${plural(trainer.threads, 'thread')} (${trainer.kernelBackend} kernels).`,
  );

  let interrupts = 0;
  const removeInterrupt = context.onInterrupt(() => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    status.clear();
    writeLine(stderr, 'Stopping after this batch (Ctrl-C again to quit at once)…');
    trainer.stop();
  });

  const save = async (state: TrainerState): Promise<void> => {
    if (!out) return;
    await saveCheckpoint(out, checkpointOf(state, config, { datasetFingerprint }));
    info(`Saved the model after ${plural(state.epochsDone, 'epoch')} to ${out}.`);
  };

  try {
    const summary = await trainer.run();
    status.clear();
    const state = trainer.getState();
    if (state.epochsDone > 0) await save(state);
    const last = summary.history[summary.history.length - 1];
    if (json) {
      writeLine(
        stdout,
        JSON.stringify({
          type: 'summary',
          status: summary.status,
          epochs: summary.epochsDone,
          cost: last?.cost ?? null,
          trainAccuracy: last?.trainAccuracy ?? null,
          validationAccuracy: last?.validationAccuracy ?? null,
          testAccuracy: last?.testAccuracy ?? null,
          trainingSeconds: Number(summary.trainingSeconds.toFixed(3)),
          checkpoint: out && state.epochsDone > 0 ? out : null,
        }),
      );
    } else if (last) {
      writeLine(
        stderr,
        `${summary.status === 'stopped' ? 'Stopped' : 'Finished'} after ${plural(summary.epochsDone, 'epoch')} in ` +
          `${formatDuration(summary.trainingSeconds * 1000)} of training: train ${percent(last.trainAccuracy)}` +
          (last.testAccuracy !== null ? `, test ${percent(last.testAccuracy)}` : '') +
          '.',
      );
    }
    return summary.status === 'stopped' ? 130 : 0;
  } catch (error) {
    status.clear();
    // A diverged run is put back to its last good epoch: save that rather than lose the work.
    if (error instanceof FmnistError && error.kind === 'diverged') {
      const good = trainer.getState();
      if (good.epochsDone > 0) await save(good);
    }
    throw error;
  } finally {
    removeInterrupt();
    await trainer.dispose();
  }
}
