/**
 * A run made ready to continue in PyTorch: train.py (the repository's src/export/pytorch/train.py, built in), the
 * checkpoint it continues and a README with the commands; written as a folder (`fmnist export --format pytorch`,
 * the desktop app) or as one zip file (the browser host, which offers it as a download).
 */

import { chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { type Checkpoint, resumeConfig, trainerStateOf } from './checkpoint';
import { concatBytes } from './safetensors';
import { describeRecipes } from '@core/shared/config';
import { asFileError, FmnistError } from '@core/shared/errors';
import { describeShape } from '@core/shared/mlp';
import { describeData } from '../training/provenance';
import { writeFileAtomic } from '../io';
import TRAIN_SCRIPT from '../../export/pytorch/train.py?raw';

/** The names of the PyTorch folder's files: train.py continues the checkpoint beside it by default. */
export const PYTORCH_FILES = Object.freeze({
  script: 'train.py',
  checkpoint: 'checkpoint.safetensors',
  readme: 'README.txt',
});

/** One file of the folder: its name, its bytes, and whether it is a program to run. */
export interface ExportedFile {
  name: string;
  bytes: Uint8Array;
  executable: boolean;
}

/** The folder's files for a checkpoint (its bytes as they are); refused in one line when it cannot continue. */
export function pytorchFiles(bytes: Uint8Array, checkpoint: Checkpoint, file: string): ExportedFile[] {
  checkContinuable(checkpoint, file);
  const text = (content: string): Uint8Array => new TextEncoder().encode(content);
  return [
    { name: PYTORCH_FILES.script, bytes: text(TRAIN_SCRIPT), executable: true },
    { name: PYTORCH_FILES.checkpoint, bytes, executable: false },
    { name: PYTORCH_FILES.readme, bytes: text(pytorchReadme(checkpoint)), executable: false },
  ];
}

/** Writes the files into `folder` (made when missing; refused when it is a file), each atomically. */
export async function writePytorchFolder(folder: string, files: readonly ExportedFile[]): Promise<void> {
  const existing = await stat(folder).catch(() => null);
  if (existing && !existing.isDirectory())
    throw new FmnistError('bad-option', 'is a file; a PyTorch export is a folder', { file: folder });
  await mkdir(folder, { recursive: true }).catch((error: unknown) => {
    throw asFileError(error, folder);
  });
  for (const file of files) {
    const path = join(folder, file.name);
    await writeFileAtomic(path, file.bytes);
    // Runnable as ./train.py too, where the file system has modes.
    if (file.executable) await chmod(path, 0o755).catch(() => {});
  }
}

/**
 * The files as one zip archive inside a folder named `folder` (stored, not compressed: the checkpoint's floats
 * hardly compress), which every system's file manager opens.
 */
/** 1980-01-01, the first date a zip can hold (a date of 0 is month 0, which some tools show oddly). */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

export function pytorchZip(folder: string, files: readonly ExportedFile[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const encoder = new TextEncoder();
  for (const file of files) {
    const name = encoder.encode(`${folder}/${file.name}`);
    const crc = crc32(file.bytes);
    const size = file.bytes.length;
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true); // local file header
    local.setUint16(4, 20, true); // version needed: 2.0
    local.setUint16(6, 0x0800, true); // names in UTF-8
    local.setUint16(8, 0, true); // stored
    local.setUint16(12, DOS_DATE, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, size, true);
    local.setUint32(22, size, true);
    local.setUint16(26, name.length, true);
    parts.push(new Uint8Array(local.buffer), name, file.bytes);
    const entry = new DataView(new ArrayBuffer(46));
    entry.setUint32(0, 0x02014b50, true); // central directory header
    entry.setUint16(4, (3 << 8) | 20, true); // made by: Unix, 2.0 (so the mode below counts)
    entry.setUint16(6, 20, true);
    entry.setUint16(8, 0x0800, true);
    entry.setUint16(14, DOS_DATE, true);
    entry.setUint32(16, crc, true);
    entry.setUint32(20, size, true);
    entry.setUint32(24, size, true);
    entry.setUint16(28, name.length, true);
    entry.setUint32(38, ((file.executable ? 0o100755 : 0o100644) << 16) >>> 0, true);
    entry.setUint32(42, offset, true);
    central.push(new Uint8Array(entry.buffer), name);
    offset += 30 + name.length + size;
  }
  const centralSize = central.reduce((sum, part) => sum + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true); // end of central directory
  end.setUint16(8, files.length, true);
  end.setUint16(10, files.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  return concatBytes([...parts, ...central, new Uint8Array(end.buffer)]);
}

/** The checkpoint can continue: it holds Adam's state and settings, and its run has epochs left to train. */
export function checkContinuable(checkpoint: Checkpoint, file: string): void {
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

/** The epochs to suggest training to: the run's own, or 10 more when it has done them (a cosine run keeps its own). */
export function suggestedEpochs(checkpoint: Checkpoint): number {
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
