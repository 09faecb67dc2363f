/** `fmnist evaluate`: accuracy, cost, confusion matrix and per-class metrics of a checkpoint on test data. */

import { loadCheckpoint } from '@core/checkpoint/checkpoint';
import { CLASS_NAMES } from '@core/shared/dataset';
import { loadDataset } from '@core/data/load';
import { locateTestData } from '@core/data/locate';
import { openEngine } from '@core/engine/backends';
import { displayPath, FmnistError } from '@core/shared/errors';
import { classMetrics, confusionMatrix } from '@core/shared/classification';
import { describeShape } from '@core/shared/mlp';
import { type CommandSpec, kernelChoice, KERNELS_OPTION, parseOptions, threadCount, THREADS_OPTION } from '../args';
import { type CliContext, writeLine } from '../context';
import { percent } from '../progress';

export const EVALUATE: CommandSpec = {
  name: 'evaluate',
  summary: "measure a checkpoint's accuracy, cost and per-class metrics on test data",
  options: {
    model: { kind: 'string', value: 'CHECKPOINT', help: 'a .safetensors checkpoint', required: true },
    test: {
      kind: 'string',
      value: 'PATH',
      help: 'test data: a CSV, an IDX images file or a directory (default: search)',
    },
    threads: THREADS_OPTION,
    kernels: KERNELS_OPTION,
    json: { kind: 'boolean', help: 'print the results as one JSON object' },
  },
  examples: [
    'fmnist evaluate --model model.safetensors',
    'fmnist evaluate --model model.safetensors --test fashion-mnist_test.csv --json',
  ],
};

export async function runEvaluate(argv: string[], context: CliContext): Promise<number> {
  const options = parseOptions(EVALUATE, argv);
  const threads = threadCount(options.threads);
  const kernels = kernelChoice(options.kernels);
  const checkpoint = await loadCheckpoint(options.model as string);
  const files = await locateTestData(options.test as string | undefined, context.env);
  const test = await loadDataset(files, { requireLabels: true });
  const engine = await openEngine({
    shape: checkpoint.parameters.shape,
    batchSize: 256,
    threads,
    kernels,
    datasets: [test],
  });
  try {
    engine.setParameters(checkpoint.parameters);
    const started = performance.now();
    const result = engine.evaluate(0, null);
    const seconds = (performance.now() - started) / 1000;
    if (!Number.isFinite(result.costSum)) throw unusableOutputs(options.model as string, files.images);
    const confusion = confusionMatrix(result.predictions, test.labels);
    const perClass = classMetrics(confusion);
    const accuracy = result.correct / result.count;
    const cost = result.costSum / result.count;
    if (options.json) {
      writeLine(
        context.stdout,
        JSON.stringify({
          type: 'evaluation',
          model: options.model,
          data: files.images,
          count: result.count,
          accuracy,
          cost,
          seconds: Number(seconds.toFixed(4)),
          imagesPerSecond: Math.round(result.count / seconds),
          threads: engine.threads,
          confusionMatrix: confusion,
          classes: perClass.map((m, c) => ({ name: CLASS_NAMES[c], ...m })),
        }),
      );
      return 0;
    }
    const out = (line = ''): void => writeLine(context.stdout, line);
    out(
      `Model ${displayPath(options.model as string)} (${describeShape(checkpoint.parameters.shape)}, ${checkpoint.epochsDone} epochs)`,
    );
    out(`Data  ${displayPath(files.images)} (${result.count} images)`);
    out(
      `Time  ${(seconds * 1000).toFixed(0)} ms to evaluate them (${Math.round(result.count / seconds).toLocaleString('en-US')} images/s, ${engine.threads} threads)`,
    );
    out(`Accuracy ${percent(accuracy)}   cost ${cost.toFixed(4)}`);
    out();
    out('Confusion matrix (rows: true class, columns: predicted class)');
    const nameWidth = Math.max(...CLASS_NAMES.map((n) => n.length));
    out(`${''.padEnd(nameWidth)} ${CLASS_NAMES.map((_, c) => String(c).padStart(5)).join('')}`);
    confusion.forEach((row, c) =>
      out(`${CLASS_NAMES[c].padEnd(nameWidth)} ${row.map((n) => String(n).padStart(5)).join('')}`),
    );
    out();
    out(`${'class'.padEnd(nameWidth)}  precision  recall      F1  support`);
    perClass.forEach((m, c) =>
      out(
        `${CLASS_NAMES[c].padEnd(nameWidth)}  ${percent(m.precision, 1).padStart(9)}  ${percent(m.recall, 1).padStart(6)}  ` +
          `${percent(m.f1, 1).padStart(6)}  ${String(m.support).padStart(7)}`,
      ),
    );
    return 0;
  } finally {
    await engine.dispose();
  }
}

/**
 * Loading refuses weights too large to compute with; should outputs still be NaN or infinite, say so, never print them.
 */
export function unusableOutputs(model: string, data: string): FmnistError {
  return new FmnistError(
    'bad-input',
    `its outputs on ${displayPath(data)} are not finite numbers (NaN or infinity): the weights are unusable`,
    {
      file: model,
    },
  );
}
