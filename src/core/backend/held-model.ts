/**
 * The model the app holds (the last run's, or one loaded from a checkpoint) with everything that describes
 * it: its settings (null when unknown), its history and cost curve, Adam's state when training can continue
 * exactly, the data it was trained on, and the file that holds exactly it, if any. Saving, exporting and
 * evaluating work on it alone, never on whatever else is loaded now.
 */

import { basename } from 'node:path';
import {
  type Checkpoint,
  encodeCheckpoint,
  encodeWeights,
  saveCheckpoint,
  trainerStateOf,
} from '../checkpoint/checkpoint';
import { pytorchFiles, pytorchZip, writePytorchFolder } from '../checkpoint/pytorch-export';
import { encodeOnnx } from '../checkpoint/onnx';
import type { RunConfig } from '@core/shared/config';
import type { LabelledDataset } from '@core/shared/dataset';
import { openEngine } from '../engine/backends';
import type { EvaluationResult, KernelChoice } from '../engine/engine';
import { FmnistError } from '@core/shared/errors';
import { writeFileAtomic } from '../io';
import { describeShape, type MlpParameters } from '@core/shared/mlp';
import { describeData, type ModelData } from '../training/provenance';
import type { EpochSummary } from '@core/shared/events';
import type { TrainerState } from '../training/trainer';
import type { CostPoint, EvaluationInfo, ExportFormat, ModelInfo } from '@core/shared/contract';
import { settingsOf } from './settings';

/** An evaluation on the test set that kept the class probabilities. */
export type TestEvaluation = EvaluationResult & { probabilities: Float32Array };

export interface HeldModel {
  parameters: MlpParameters;
  /** The run's settings; null when unknown (a bare state dict). */
  config: RunConfig | null;
  history: EpochSummary[];
  costCurve: CostPoint[];
  /** Adam's state after the last epoch: present when training can continue exactly. */
  state: TrainerState | null;
  /** The checkpoint it was loaded from; null for a model trained since the app started. */
  file: string | null;
  /** A file that holds exactly this model (where it was loaded from or saved to, or its autosave), if any. */
  savedAs: string | null;
  data: ModelData;
}

export function modelFromCheckpoint(checkpoint: Checkpoint, file: string): HeldModel {
  return {
    parameters: checkpoint.parameters,
    config: checkpoint.config,
    history: checkpoint.history,
    costCurve: checkpoint.costCurve ?? [],
    state: checkpoint.optimizer && checkpoint.config ? trainerStateOf(checkpoint, file) : null,
    file,
    savedAs: file,
    data: {
      fingerprint: checkpoint.datasetFingerprint,
      sources: checkpoint.dataSources ?? null,
      history: checkpoint.dataHistory ?? null,
    },
  };
}

export function describeModel(model: HeldModel): ModelInfo {
  return {
    file: model.file,
    architecture: describeShape(model.parameters.shape),
    hiddenSizes: [...model.parameters.shape.hiddenSizes],
    epochsDone:
      model.state?.epochsDone ?? (model.config === null && model.history.length === 0 ? null : model.history.length),
    // A run that finished early (early stopping, best epoch kept) has nothing left to train.
    resumable: model.state !== null && model.config !== null && !model.state.finishedEarly,
    settings: model.config ? settingsOf(model.config) : null,
    savedAs: model.savedAs,
    trainedOn: model.data.fingerprint ? describeData(model.data) : null,
  };
}

/** A resumable checkpoint when the model has Adam's state, else its weights and description. */
export function checkpointOfModel(model: HeldModel): Checkpoint {
  return {
    parameters: model.parameters,
    config: model.config,
    epochsDone: model.state?.epochsDone ?? model.history.length,
    history: model.history,
    datasetFingerprint: model.data.fingerprint,
    dataSources: model.data.sources,
    dataHistory: model.data.history,
    appVersion: null,
    createdAt: null,
    optimizer: model.state
      ? {
          step: model.state.step,
          m: model.state.moments.m,
          v: model.state.moments.v,
          shuffleState: model.state.shuffleState,
          best: model.state.best ?? null,
        }
      : null,
    costCurve: model.state ? model.costCurve : undefined,
    finishedEarly: model.state?.finishedEarly ?? false,
  };
}

export async function saveModel(model: HeldModel, path: string): Promise<void> {
  const checkpoint = checkpointOfModel(model);
  await saveCheckpoint(path, checkpoint);
  model.savedAs = path;
}

/**
 * Writes the model as `format`. For PyTorch, `path` is the folder to write (made when missing), or, ending in .zip,
 * one zip file holding that folder (the browser host's download).
 */
export async function exportModel(model: HeldModel, path: string, format: ExportFormat): Promise<void> {
  if (format === 'pytorch') {
    const checkpoint = checkpointOfModel(model);
    const files = pytorchFiles(encodeCheckpoint(checkpoint), checkpoint, 'the model');
    if (path.toLowerCase().endsWith('.zip')) await writeFileAtomic(path, pytorchZip(basename(path, '.zip'), files));
    else await writePytorchFolder(path, files);
    return;
  }
  await writeFileAtomic(
    path,
    format === 'onnx' ? encodeOnnx(model.parameters) : encodeWeights(checkpointOfModel(model)),
  );
}

/** The model's predictions and class probabilities on a test set, with its accuracy and cost there. */
export async function evaluateModel(
  model: HeldModel,
  test: LabelledDataset,
  kernels: KernelChoice,
): Promise<TestEvaluation> {
  const engine = await openEngine({ shape: model.parameters.shape, batchSize: 256, datasets: [test], kernels });
  try {
    engine.setParameters(model.parameters);
    const result = engine.evaluate(0, null, { probabilities: true });
    if (!Number.isFinite(result.costSum))
      throw new FmnistError(
        'bad-input',
        "the model's outputs are not finite numbers: its weights are not those of a trained model",
      );
    return { ...result, probabilities: result.probabilities! };
  } finally {
    await engine.dispose();
  }
}

/** Accuracy and cost of an evaluation, as the model bar shows them. */
export function summarize(evaluation: TestEvaluation): EvaluationInfo {
  return {
    count: evaluation.count,
    accuracy: evaluation.correct / evaluation.count,
    cost: evaluation.costSum / evaluation.count,
  };
}
