/** `fmnist info`: what a checkpoint holds: architecture, settings, epochs, history and final metrics. */

import { loadCheckpoint } from '@core/checkpoint/checkpoint';
import { describeRecipes } from '@core/shared/config';
import { displayPath } from '@core/shared/errors';
import { percent } from '@core/shared/format';
import { describeShape, parameterCount } from '@core/shared/mlp';
import { type CommandSpec, parseOptions } from '../args';
import { type CliContext, writeLine } from '../context';

export const INFO: CommandSpec = {
  name: 'info',
  summary: "show a checkpoint's architecture, settings, epochs, history and metrics",
  options: {
    model: { kind: 'string', value: 'CHECKPOINT', help: 'a .safetensors checkpoint (or give it as the only argument)' },
    json: { kind: 'boolean', help: 'print one JSON object' },
  },
  examples: ['fmnist info run.safetensors', 'fmnist info --model run.safetensors --json'],
};

export async function runInfo(argv: string[], context: CliContext): Promise<number> {
  // `fmnist info FILE` reads better than --model FILE; both work.
  const args = argv.length > 0 && !argv[0].startsWith('--') ? ['--model', ...argv] : argv;
  const options = parseOptions(
    { ...INFO, options: { ...INFO.options, model: { ...INFO.options.model, required: true } } },
    args,
  );
  const file = options.model as string;
  const checkpoint = await loadCheckpoint(file);
  const { parameters, config, history } = checkpoint;
  const last = history[history.length - 1] ?? null;
  if (options.json) {
    writeLine(
      context.stdout,
      JSON.stringify({
        type: 'checkpoint',
        file,
        architecture: describeShape(parameters.shape),
        parameters: parameterCount(parameters.shape),
        epochsDone: checkpoint.epochsDone,
        resumable: checkpoint.optimizer !== null && !checkpoint.finishedEarly,
        adamSteps: checkpoint.optimizer?.step ?? null,
        config,
        settingsKnown: config !== null,
        datasetFingerprint: checkpoint.datasetFingerprint,
        appVersion: checkpoint.appVersion,
        createdAt: checkpoint.createdAt,
        history,
      }),
    );
    return 0;
  }
  const out = (line = ''): void => writeLine(context.stdout, line);
  out(`Checkpoint   ${displayPath(file)}`);
  out(
    `Network      ${describeShape(parameters.shape)} (ReLU, softmax), ${parameterCount(parameters.shape).toLocaleString('en-US')} parameters`,
  );
  // A bare state dict records neither its settings nor its training: say so rather than show defaults.
  const epochs =
    !config && checkpoint.epochsDone === 0
      ? 'unknown'
      : `${checkpoint.epochsDone} epochs${config ? ` of ${config.epochs}` : ''}`;
  const state = !checkpoint.optimizer
    ? ' (weights only)'
    : checkpoint.finishedEarly
      ? `, ${checkpoint.optimizer.step} Adam steps (finished early: ${config?.restoreBest ? 'the best epoch kept' : 'early stopping'})`
      : `, ${checkpoint.optimizer.step} Adam steps (resumable)`;
  out(`Trained      ${epochs}${state}`);
  if (config) {
    out(
      `Settings     batch ${config.batchSize}, learning rate ${config.learningRate}, seed ${config.seed}, ` +
        `validation ${config.validationFraction}, subset ${config.limit || 'all'}`,
    );
    out(`Recipes      ${describeRecipes(config) || 'none'}`);
    const best = checkpoint.optimizer?.best;
    if (best) out(`Best epoch   ${best.epoch} (validation cost ${best.validationCost.toFixed(4)})`);
  } else {
    out('Settings     unknown (the file does not record how the model was trained)');
  }
  if (checkpoint.createdAt || checkpoint.appVersion)
    out(`Saved        ${checkpoint.createdAt ?? '?'} by Fashion-MNIST Studio ${checkpoint.appVersion ?? '?'}`);
  if (checkpoint.datasetFingerprint) out(`Data         fingerprint ${checkpoint.datasetFingerprint}`);
  if (last) {
    out(
      `Final        cost ${last.cost.toFixed(4)}, train ${percent(last.trainAccuracy)}, validation ${percent(last.validationAccuracy)}, test ${percent(last.testAccuracy)}`,
    );
    out();
    out('epoch    cost    train  validation     test  seconds');
    for (const h of history) {
      out(
        `${String(h.epoch).padStart(5)}  ${h.cost.toFixed(4)}  ${percent(h.trainAccuracy).padStart(7)}  ${percent(h.validationAccuracy).padStart(10)}  ` +
          `${percent(h.testAccuracy).padStart(7)}  ${h.seconds.toFixed(2).padStart(7)}`,
      );
    }
  }
  return 0;
}
