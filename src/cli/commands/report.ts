/** `fmnist report`: one self-contained HTML file describing a checkpoint and how it does on test data. */

import { stat } from 'node:fs/promises';
import { loadCheckpoint } from '@core/checkpoint/checkpoint';
import { loadDataset } from '@core/data/load';
import { locateTestData } from '@core/data/locate';
import { openEngine } from '@core/engine/backends';
import { displayPath, FmnistError } from '@core/shared/errors';
import { formatBytes } from '@core/shared/format';
import { writeFileAtomic } from '@core/io';
import { reportContents } from '@core/report/contents';
import { reportHtml } from '@core/report/html';
import { APP_VERSION } from '@core/version';
import { type CommandSpec, kernelChoice, KERNELS_OPTION, parseOptions, threadCount, THREADS_OPTION } from '../args';
import { type CliContext, writeLine } from '../context';
import { checkOutputFile } from '../output-target';
import { percent, plural } from '../progress';
import { unusableOutputs } from './evaluate';

export const REPORT: CommandSpec = {
  name: 'report',
  summary:
    'write an offline HTML report of a checkpoint: settings, history charts, test results, confusion matrix, mistakes',
  options: {
    model: { kind: 'string', value: 'CHECKPOINT', help: 'a .safetensors checkpoint', required: true },
    test: {
      kind: 'string',
      value: 'PATH',
      help: 'test data: a CSV, an IDX images file or a directory (default: search)',
    },
    out: { kind: 'string', value: 'FILE', help: 'the HTML file to write', required: true },
    threads: THREADS_OPTION,
    kernels: KERNELS_OPTION,
  },
  examples: [
    'fmnist report --model model.safetensors --out report.html',
    'fmnist report --model model.safetensors --test fashion-mnist_test.csv --out report.html',
  ],
};

/** The report must not replace the file it describes, nor its data (the same file under another name included). */
async function refuseOverwritingInputs(out: string, inputs: string[]): Promise<void> {
  const target = await stat(out).catch(() => null);
  if (!target) return;
  for (const input of inputs) {
    const source = await stat(input).catch(() => null);
    if (source && source.dev === target.dev && source.ino === target.ino) {
      throw new FmnistError('bad-option', `is ${displayPath(input)}, an input of the report: give another file name`, {
        file: out,
      });
    }
  }
}

export async function runReport(argv: string[], context: CliContext): Promise<number> {
  const options = parseOptions(REPORT, argv);
  const threads = threadCount(options.threads);
  const kernels = kernelChoice(options.kernels);
  const out = options.out as string;
  const file = options.model as string;
  await checkOutputFile(out);
  await refuseOverwritingInputs(out, [file]);
  const checkpoint = await loadCheckpoint(file);
  const files = await locateTestData(options.test as string | undefined, context.env);
  const testFiles = files.format === 'idx' && files.labels ? [files.images, files.labels] : [files.images];
  await refuseOverwritingInputs(out, testFiles);
  const test = await loadDataset(files, { requireLabels: true });
  const engine = await openEngine({
    shape: checkpoint.parameters.shape,
    batchSize: 256,
    threads,
    kernels,
    datasets: [test],
  });
  let result;
  try {
    engine.setParameters(checkpoint.parameters);
    result = engine.evaluate(0, null, { probabilities: true });
  } finally {
    await engine.dispose();
  }
  if (!Number.isFinite(result.costSum) || !result.probabilities) throw unusableOutputs(file, files.images);
  const contents = reportContents({
    file,
    checkpoint,
    test,
    testFiles,
    outputs: { labels: test.labels, predictions: result.predictions, probabilities: result.probabilities },
    costSum: result.costSum,
    generator: `fmnist report (Fashion-MNIST Studio ${APP_VERSION})`,
    generatedAt: new Date(),
  });
  const bytes = new TextEncoder().encode(reportHtml(contents));
  await writeFileAtomic(out, bytes);
  writeLine(
    context.stderr,
    `Wrote ${displayPath(out)} (${formatBytes(bytes.length)}): accuracy ${percent(contents.evaluation.accuracy)} on ${plural(test.count, 'test image')}, ` +
      `${plural(contents.mistakes.length, 'misclassified image')} shown.`,
  );
  return 0;
}
