/**
 * What goes into the report, from a loaded checkpoint and the model's outputs on a labelled test set: the
 * model's description, the metrics, and every misclassified image (most confident first) as a PNG.
 */

import type { Checkpoint } from '../checkpoint/checkpoint';
import { IMAGE_HEIGHT, IMAGE_SIZE, IMAGE_WIDTH, type LabelledDataset } from '@core/shared/dataset';
import { encodeGreyPng } from '../image/png';
import { confidenceOf, selectImages, type TestOutputs } from '@core/shared/insight/selection';
import { classMetrics, confusionMatrix } from '@core/shared/classification';
import type { ReportData, ReportEvaluation, ReportMistake, ReportModel } from './html';

export interface ReportInputs {
  file: string;
  checkpoint: Checkpoint;
  test: LabelledDataset;
  /** The test data's files, images first. */
  testFiles: string[];
  /** The model's outputs on `test`, with probabilities. */
  outputs: TestOutputs;
  /** Sum of the per-image cross-entropies. */
  costSum: number;
  generator: string;
  generatedAt: Date;
}

export function describeModel(file: string, checkpoint: Checkpoint): ReportModel {
  return {
    file,
    shape: checkpoint.parameters.shape,
    config: checkpoint.config,
    epochsDone: checkpoint.epochsDone,
    history: checkpoint.history,
    datasetFingerprint: checkpoint.datasetFingerprint,
    dataSources: checkpoint.dataSources ?? null,
    dataHistory: checkpoint.dataHistory ?? null,
    appVersion: checkpoint.appVersion,
    createdAt: checkpoint.createdAt,
    resumable: checkpoint.optimizer !== null,
  };
}

/** Dark on white (the data set stores light garments on black, as the app shows them): kinder to paper and ink. */
export function thumbnailPng(test: LabelledDataset, index: number): Uint8Array {
  const pixels = test.images.subarray(index * IMAGE_SIZE, (index + 1) * IMAGE_SIZE).map((value) => 255 - value);
  return encodeGreyPng(pixels, IMAGE_WIDTH, IMAGE_HEIGHT);
}

export function misclassified(test: LabelledDataset, outputs: TestOutputs): ReportMistake[] {
  const order = selectImages(outputs, {
    show: 'misclassified',
    trueClass: null,
    predictedClass: null,
    sort: 'confidence-desc',
  });
  return Array.from(order, (index) => ({
    index,
    predicted: outputs.predictions[index],
    actual: outputs.labels[index],
    confidence: confidenceOf(outputs, index),
    png: thumbnailPng(test, index),
  }));
}

export function reportContents(inputs: ReportInputs): ReportData {
  const { test, outputs } = inputs;
  const confusion = confusionMatrix(outputs.predictions, outputs.labels);
  const correct = confusion.reduce((sum, row, c) => sum + row[c], 0);
  const evaluation: ReportEvaluation = {
    files: inputs.testFiles,
    count: test.count,
    accuracy: correct / test.count,
    cost: inputs.costSum / test.count,
    confusion,
    perClass: classMetrics(confusion),
  };
  return {
    model: describeModel(inputs.file, inputs.checkpoint),
    evaluation,
    mistakes: misclassified(test, outputs),
    generator: inputs.generator,
    generatedAt: inputs.generatedAt.toISOString(),
  };
}
