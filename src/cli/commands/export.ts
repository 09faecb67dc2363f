/** `fmnist export`: the model of a checkpoint as ONNX or as a weights-only safetensors file. */

import { encodeWeights, loadCheckpoint } from '@core/checkpoint/checkpoint';
import { encodeOnnx } from '@core/checkpoint/onnx';
import { EXPORT_FORMATS, type ExportFormat } from '@core/shared/contract';
import { FmnistError } from '@core/shared/errors';
import { writeFileAtomic } from '@core/io';
import { type CommandSpec, parseOptions } from '../args';
import { type CliContext, writeLine } from '../context';
import { checkOutputFile } from '../output-target';

export const EXPORT: CommandSpec = {
  name: 'export',
  summary: 'export a model for other tools: ONNX, or weights-only safetensors (PyTorch names)',
  options: {
    model: { kind: 'string', value: 'CHECKPOINT', help: 'a .safetensors checkpoint', required: true },
    format: { kind: 'string', value: 'FORMAT', help: 'onnx or safetensors', required: true },
    out: { kind: 'string', value: 'FILE', help: 'the file to write', required: true },
  },
  examples: [
    'fmnist export --model run.safetensors --format onnx --out fashion-mnist.onnx',
    'fmnist export --model run.safetensors --format safetensors --out weights.safetensors',
  ],
};

export function exportFormat(value: unknown): ExportFormat {
  if (!EXPORT_FORMATS.includes(value as ExportFormat)) {
    throw new FmnistError('bad-option', `--format must be onnx or safetensors, got "${String(value)}"`);
  }
  return value as ExportFormat;
}

export async function runExport(argv: string[], context: CliContext): Promise<number> {
  const options = parseOptions(EXPORT, argv);
  const format = exportFormat(options.format);
  const out = options.out as string;
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
