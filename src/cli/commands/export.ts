/**
 * `fmnist export`: the model of a checkpoint as ONNX or as a weights-only safetensors file; or, from a resumable
 * checkpoint, a folder that continues the run in PyTorch (train.py, the checkpoint, and a README with commands).
 */

import { join } from 'node:path';
import { decodeCheckpoint, encodeWeights, loadCheckpoint, MAX_CHECKPOINT_BYTES } from '@core/checkpoint/checkpoint';
import { PYTORCH_FILES, pytorchFiles, suggestedEpochs, writePytorchFolder } from '@core/checkpoint/pytorch-export';
import { encodeOnnx } from '@core/checkpoint/onnx';
import { EXPORT_FORMATS, type ExportFormat } from '@core/shared/contract';
import { displayPath, FmnistError } from '@core/shared/errors';
import { readRegularFile, writeFileAtomic } from '@core/io';
import { type CommandSpec, parseOptions } from '../args';
import { type CliContext, writeLine } from '../context';
import { checkOutputFile } from '../output-target';

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

export function exportFormat(value: unknown): ExportFormat {
  if (!EXPORT_FORMATS.includes(value as ExportFormat)) {
    throw new FmnistError('bad-option', `--format must be onnx, safetensors or pytorch, got "${String(value)}"`);
  }
  return value as ExportFormat;
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

/** `fmnist export --format pytorch`: train.py, the checkpoint it continues (copied as it is) and a README. */
async function exportPytorch(model: string, folder: string, context: CliContext): Promise<number> {
  const bytes = await readRegularFile(model, MAX_CHECKPOINT_BYTES, 'checkpoint');
  const checkpoint = decodeCheckpoint(bytes, model);
  const files = pytorchFiles(bytes, checkpoint, model);
  await writePytorchFolder(folder, files).catch((error: unknown) => {
    // The CLI's option names the folder.
    if (error instanceof FmnistError && /a PyTorch export is a folder/.test(error.message))
      throw new FmnistError('bad-option', 'is a file; --format pytorch writes a folder', { file: folder });
    throw error;
  });
  const script = join(folder, PYTORCH_FILES.script);
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
