/**
 * `fmnist export`: the model of a checkpoint as ONNX or as a weights-only safetensors file; or, from a resumable
 * checkpoint, a folder that continues the run in PyTorch (train.py, the checkpoint, and a README with commands).
 */

import { chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type Checkpoint,
  decodeCheckpoint,
  encodeWeights,
  loadCheckpoint,
  MAX_CHECKPOINT_BYTES,
  resumeConfig,
  trainerStateOf,
} from '@core/checkpoint/checkpoint';
import { encodeOnnx } from '@core/checkpoint/onnx';
import { describeRecipes } from '@core/shared/config';
import { EXPORT_FORMATS, type ExportFormat } from '@core/shared/contract';
import { asFileError, displayPath, FmnistError } from '@core/shared/errors';
import { describeShape } from '@core/shared/mlp';
import { describeData } from '@core/training/provenance';
import { readRegularFile, writeFileAtomic } from '@core/io';
import TRAIN_SCRIPT from '../../export/pytorch/train.py?raw';
import { type CommandSpec, parseOptions } from '../args';
import { type CliContext, writeLine } from '../context';
import { checkOutputFile } from '../output-target';

/** The app's export formats, and the CLI's own: a folder that continues the run in PyTorch. */
type CliExportFormat = ExportFormat | 'pytorch';
const CLI_EXPORT_FORMATS: readonly CliExportFormat[] = [...EXPORT_FORMATS, 'pytorch'];

/** The names of the PyTorch folder's files: train.py continues the checkpoint beside it by default. */
export const PYTORCH_FILES = Object.freeze({
  script: 'train.py',
  checkpoint: 'checkpoint.safetensors',
  readme: 'README.txt',
});

export const EXPORT: CommandSpec = {
  name: 'export',
  summary:
    'export a model for other tools: ONNX, weights-only safetensors (PyTorch names), or a PyTorch training folder',
  options: {
    model: { kind: 'string', value: 'CHECKPOINT', help: 'a .safetensors checkpoint', required: true },
    format: { kind: 'string', value: 'FORMAT', help: 'onnx, safetensors or pytorch', required: true },
    out: { kind: 'string', value: 'FILE', help: 'the file to write; with pytorch, a folder', required: true },
  },
  examples: [
    'fmnist export --model run.safetensors --format onnx --out fashion-mnist.onnx',
    'fmnist export --model run.safetensors --format safetensors --out weights.safetensors',
    'fmnist export --model run.safetensors --format pytorch --out run-pytorch',
  ],
};

export function exportFormat(value: unknown): CliExportFormat {
  if (!CLI_EXPORT_FORMATS.includes(value as CliExportFormat)) {
    throw new FmnistError('bad-option', `--format must be onnx, safetensors or pytorch, got "${String(value)}"`);
  }
  return value as CliExportFormat;
}

export async function runExport(argv: string[], context: CliContext): Promise<number> {
  const options = parseOptions(EXPORT, argv);
  const format = exportFormat(options.format);
  const out = options.out as string;
  if (format === 'pytorch') return exportPytorch(options.model as string, out, context);
  await checkOutputFile(out);
  const checkpoint = await loadCheckpoint(options.model as string);
  const bytes = format === 'onnx' ? encodeOnnx(checkpoint.parameters) : encodeWeights(checkpoint);
  await writeFileAtomic(out, bytes);
  writeLine(
    context.stderr,
    format === 'onnx'
      ? `Wrote ${out}: ONNX, input "input" [1, 784] (pixels/255), output "probabilities" [1, 10].`
      : `Wrote ${out}: weights only, loadable with model.load_state_dict(safetensors.torch.load_file(path)).`,
  );
  return 0;
}

/** The folder to write into: created when missing; refused when it is a file. */
async function prepareFolder(folder: string): Promise<void> {
  const existing = await stat(folder).catch(() => null);
  if (existing && !existing.isDirectory())
    throw new FmnistError('bad-option', 'is a file; --format pytorch writes a folder', { file: folder });
  await mkdir(folder, { recursive: true }).catch((error: unknown) => {
    throw asFileError(error, folder);
  });
}

/** The checkpoint can continue: it holds Adam's state and settings, and its run has epochs left to train. */
function checkContinuable(checkpoint: Checkpoint, file: string): void {
  trainerStateOf(checkpoint, file);
  const config = checkpoint.config!;
  // A run that early stopping ended, or that kept its best epoch, is refused as `fmnist train --resume` refuses it.
  if (checkpoint.finishedEarly) resumeConfig(config, checkpoint.epochsDone, {}, file, true);
  if (config.schedule === 'cosine' && checkpoint.epochsDone >= config.epochs) {
    throw new FmnistError(
      'bad-option',
      `the run has reached the last epoch of its cosine schedule (${config.epochs}), so it has nothing left to train`,
      { file },
    );
  }
}

/** `fmnist export --format pytorch`: train.py, the checkpoint it continues (copied as it is) and a README. */
async function exportPytorch(model: string, folder: string, context: CliContext): Promise<number> {
  const bytes = await readRegularFile(model, MAX_CHECKPOINT_BYTES, 'checkpoint');
  const checkpoint = decodeCheckpoint(bytes, model);
  checkContinuable(checkpoint, model);
  await prepareFolder(folder);
  const script = join(folder, PYTORCH_FILES.script);
  await writeFileAtomic(script, new TextEncoder().encode(TRAIN_SCRIPT));
  // Runnable as ./train.py too, where the file system has modes.
  await chmod(script, 0o755).catch(() => {});
  await writeFileAtomic(join(folder, PYTORCH_FILES.checkpoint), bytes);
  await writeFileAtomic(join(folder, PYTORCH_FILES.readme), new TextEncoder().encode(pytorchReadme(checkpoint)));
  const config = checkpoint.config!;
  const epochs = suggestedEpochs(checkpoint);
  const command = `python3 ${displayPath(script)} --train DATA --epochs ${epochs} --out run.safetensors`;
  writeLine(
    context.stderr,
    `Wrote ${displayPath(folder)}: ${PYTORCH_FILES.script}, ${PYTORCH_FILES.checkpoint} (after epoch ` +
      `${checkpoint.epochsDone} of ${config.epochs}) and ${PYTORCH_FILES.readme}. Continue the run with: ${command}`,
  );
  return 0;
}

/** The epochs to suggest training to: the run's own, or 10 more when it has done them (a cosine run keeps its own). */
function suggestedEpochs(checkpoint: Checkpoint): number {
  const config = checkpoint.config!;
  return config.schedule === 'cosine' ? config.epochs : Math.max(config.epochs, checkpoint.epochsDone + 10);
}

/** README.txt of the folder: what the checkpoint is, and the commands for one GPU, several, and the way back. */
export function pytorchReadme(checkpoint: Checkpoint): string {
  const config = checkpoint.config!;
  const epochs = suggestedEpochs(checkpoint);
  const recipes = describeRecipes(config);
  const sources = checkpoint.dataSources ?? null;
  const known = sources?.train[0];
  const run = `--train DATA --epochs ${epochs} --out run.safetensors`;
  return [
    'Continue a Fashion-MNIST Studio run in PyTorch',
    '',
    `${PYTORCH_FILES.checkpoint} holds the run after epoch ${checkpoint.epochsDone} of ${config.epochs}: a ` +
      `${describeShape(checkpoint.parameters.shape)} network, batch ${config.batchSize}, ` +
      `Adam lr ${config.learningRate}, seed ${config.seed}${recipes ? `; ${recipes}` : ''}.`,
    `It was trained on ${describeData({ fingerprint: checkpoint.datasetFingerprint, sources })}.`,
    '',
    `${PYTORCH_FILES.script} continues it as Fashion-MNIST Studio would (the same shuffles, dropout masks, shifts`,
    'and flips, learning-rate schedule, Adam state and early stopping) and writes a checkpoint in the',
    "app's format after every epoch. It needs Python 3 with PyTorch 1.13 or later and NumPy:",
    '  python3 -m pip install torch numpy',
    '',
    'DATA is the Fashion-MNIST the run was trained on: a folder with the four IDX files (gzipped or not) or',
    "Kaggle's two CSVs, or one such file (add --test PATH when DATA names a file). Other data is refused unless",
    `you add --allow-other-data.${known ? ` On the computer that saved the run it was ${dirname(known)}.` : ''}`,
    '--epochs is the total to reach (a cosine schedule keeps its own).',
    '',
    'On this computer, or one GPU:',
    `  python3 ${PYTORCH_FILES.script} ${run}`,
    `  python3 ${PYTORCH_FILES.script} ${run} --device cuda`,
    '',
    'On the 4 GPUs of one machine (each step is the same batch, split across them):',
    `  torchrun --nproc_per_node 4 ${PYTORCH_FILES.script} ${run}`,
    '',
    "On two machines with 4 GPUs each: run this on both, HOST being the first one's address:",
    '  torchrun --nnodes 2 --nproc_per_node 4 --rdzv_backend c10d --rdzv_endpoint HOST:29500 \\',
    `    --rdzv_id fmnist ${PYTORCH_FILES.script} ${run}`,
    '',
    'Bring the result back:',
    '  fmnist info run.safetensors',
    '  fmnist evaluate --model run.safetensors',
    // A cosine schedule ends at its own last epoch: there is nothing to continue to.
    ...(config.schedule === 'cosine' ? [] : [`  fmnist train --resume run.safetensors --epochs ${epochs + 10}`]),
    'or open run.safetensors in the app with Load checkpoint.',
    '',
    'On the CPU in float32 the epochs track the app closely. A GPU sums its products in its own order, so',
    "its run is close to the app's, not bit for bit the same.",
    '',
  ].join('\n');
}
