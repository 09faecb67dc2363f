/** `fmnist predict`: classify the images of a file with a checkpoint. */

import { loadCheckpoint } from '@core/checkpoint/checkpoint';
import { CLASS_COUNT, CLASS_NAMES } from '@core/shared/dataset';
import { loadDataset } from '@core/data/load';
import { resolveDataPath } from '@core/data/locate';
import { openEngine } from '@core/engine/backends';
import { type CommandSpec, kernelChoice, KERNELS_OPTION, parseOptions, threadCount, THREADS_OPTION } from '../args';
import { type CliContext, writeLine } from '../context';
import { unusableOutputs } from './evaluate';
import { percent } from '../progress';

export const PREDICT: CommandSpec = {
  name: 'predict',
  summary: 'classify images (a CSV with or without labels, or an IDX images file) with a checkpoint',
  options: {
    model: { kind: 'string', value: 'CHECKPOINT', help: 'a .safetensors checkpoint', required: true },
    input: { kind: 'string', value: 'PATH', help: 'images to classify', required: true },
    threads: THREADS_OPTION,
    kernels: KERNELS_OPTION,
    json: { kind: 'boolean', help: 'print one JSON object per image with all ten probabilities' },
  },
  examples: [
    'fmnist predict --model model.safetensors --input my-images.csv',
    'fmnist predict --model model.safetensors --input t10k-images-idx3-ubyte.gz --json | head',
  ],
};

export async function runPredict(argv: string[], context: CliContext): Promise<number> {
  const options = parseOptions(PREDICT, argv);
  const threads = threadCount(options.threads);
  const kernels = kernelChoice(options.kernels);
  const checkpoint = await loadCheckpoint(options.model as string);
  const files = await resolveDataPath(options.input as string, 'test', false);
  const input = await loadDataset(files, { requireLabels: false });
  const engine = await openEngine({
    shape: checkpoint.parameters.shape,
    batchSize: 256,
    threads,
    kernels,
    datasets: [input],
  });
  try {
    engine.setParameters(checkpoint.parameters);
    const { predictions, probabilities } = engine.evaluate(0, null, { probabilities: true });
    // Checked before the first line is printed: a NaN must not reach the output at all.
    if (!probabilities!.every(Number.isFinite)) throw unusableOutputs(options.model as string, files.images);
    const labels = input.labels;
    let correct = 0;
    for (let i = 0; i < input.count; i++) {
      const predicted = predictions[i];
      const p = probabilities!.subarray(i * CLASS_COUNT, (i + 1) * CLASS_COUNT);
      const label = labels ? labels[i] : null;
      if (label === predicted) correct++;
      if (options.json) {
        writeLine(
          context.stdout,
          JSON.stringify({
            index: i,
            predicted,
            class: CLASS_NAMES[predicted],
            confidence: Number(p[predicted].toFixed(6)),
            label,
            probabilities: Array.from(p, (x) => Number(x.toFixed(6))),
          }),
        );
      } else {
        const truth = label === null ? '' : `  true: ${CLASS_NAMES[label]}${label === predicted ? '' : '  ✗ wrong'}`;
        writeLine(
          context.stdout,
          `${String(i).padStart(6)}  ${CLASS_NAMES[predicted].padEnd(11)}  ${percent(p[predicted], 1).padStart(6)}${truth}`,
        );
      }
    }
    if (labels && !options.json) {
      writeLine(context.stderr, `${correct} of ${input.count} correct (${percent(correct / input.count)}).`);
    }
    return 0;
  } finally {
    await engine.dispose();
  }
}
