import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '@core/checkpoint/checkpoint';
import { DEFAULT_CONFIG } from '@core/shared/config';
import { PRESETS } from '@core/shared/presets';
import { runCliInProcess } from '../../helpers/cli';
import { REAL_DATA_DIR, tempDir } from '../../helpers/data';

const run = (args: string[]) => runCliInProcess(args, { FMNIST_DATA: REAL_DATA_DIR });
const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('fmnist train with recipes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('fmnist-cli-recipes-');
  });

  it.each([
    [
      ['train', '--schedule', 'linear'],
      /^fmnist train: learning-rate schedule must be one of constant, step, cosine, got "linear"\n$/,
    ],
    [['train', '--dropout', '1'], /^fmnist train: dropout must be at most 0.9, got 1\n$/],
    [['train', '--shift', '9'], /^fmnist train: shift pixels must be between 0 and 4, got 9\n$/],
    [
      ['train', '--patience', '3'],
      /^fmnist train: patience needs a validation split \(its cost decides\): set the validation split above 0\n$/,
    ],
    [
      ['train', '--preset', 'fastest'],
      /^fmnist train: --preset must be one of notebook, quick, best, got "fastest"\n$/,
    ],
    [['train', '--flip=maybe'], /^fmnist train: --flip takes no value \(or =true\/=false\)/],
    [['train', '--lr', '0.5', '--weight-decay', '2'], /^fmnist train: weight decay must be at most 1, got 2\n$/],
    [
      ['train', '--lr', '2', '--weight-decay', '0.5'],
      /^fmnist train: weight decay times the learning rate must stay below 1 \(each step multiplies the weights by 1 − 2 × 0.5\)\n$/,
    ],
  ])('%j exits with 2 and one line', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('trains with every recipe flag, stores them in the checkpoint and names them in fmnist info', async () => {
    const out = join(dir, 'recipes.safetensors');
    const args = [
      '--limit',
      '1500',
      '--hidden',
      '32',
      '--epochs',
      '3',
      '--schedule',
      'step',
      '--step-epochs',
      '1',
      '--step-factor',
      '0.1',
    ];
    const flags = [
      '--weight-decay',
      '0.01',
      '--dropout',
      '0.25',
      '--shift',
      '2',
      '--flip',
      '--label-smoothing',
      '0.05',
      '--warmup',
      '1',
    ];
    const trained = await run([
      'train',
      ...args,
      ...flags,
      '--validation',
      '0.2',
      '--patience',
      '2',
      '--restore-best',
      '--json',
      '--out',
      out,
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    const epochs = jsonLines(trained.stdout).filter((line) => line.type === 'epoch');
    expect(epochs).toHaveLength(3);
    const checkpoint = await loadCheckpoint(out);
    expect(checkpoint.config).toMatchObject({
      schedule: 'step',
      stepEpochs: 1,
      stepFactor: 0.1,
      warmupEpochs: 1,
      weightDecay: 0.01,
      dropout: 0.25,
      shiftPixels: 2,
      flip: true,
      labelSmoothing: 0.05,
      patience: 2,
      restoreBest: true,
    });
    // Warm-up over epoch 1 to 0.001, then ×0.1 at each epoch: the last step of each epoch, by hand.
    expect(checkpoint.history.length).toBeGreaterThan(0);
    checkpoint.history.forEach((h, i) => expect(h.learningRate).toBeCloseTo([0.001, 0.0001, 0.00001][i], 15));
    const info = await run(['info', out]);
    expect(info.stdout).toMatch(
      /^Recipes {6}rate ×0\.1 every 1 epochs after 1 warm-up epoch, weight decay 0\.01, dropout 0\.25, shifts of up to 2 px, flips, label smoothing 0\.05, early stopping after 2 epochs without progress, best epoch kept$/m,
    );
    // Resuming keeps the recipes: changing one is refused, naming it.
    const changed = await run(['train', '--resume', out, '--epochs', '5', '--dropout', '0.5']);
    expect(changed.stderr).toBe(
      'fmnist train: dropout cannot change when resuming: the model was trained with 0.25, got 0.5\n',
    );
  });

  it('starts from a preset, the options given winning, and says which recipes it uses', async () => {
    const out = join(dir, 'quick.safetensors');
    const trained = await run([
      'train',
      '--preset',
      'quick',
      '--epochs',
      '2',
      '--limit',
      '1000',
      '--hidden',
      '16',
      '--out',
      out,
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toMatch(/^Recipes: cosine schedule\.$/m);
    const { config } = await loadCheckpoint(out);
    expect(config).toMatchObject({
      ...PRESETS.quick.settings,
      epochs: 2,
      limit: 1000,
      hiddenSizes: [16],
      dropout: DEFAULT_CONFIG.dropout,
    });
  });

  it('refuses to change the epochs of a cosine run when resuming', async () => {
    const out = join(dir, 'cosine.safetensors');
    expect(
      (await run(['train', '--limit', '500', '--hidden', '8', '--epochs', '2', '--schedule', 'cosine', '--out', out]))
        .code,
    ).toBe(0);
    expect((await run(['train', '--resume', out, '--epochs', '4'])).stderr).toBe(
      'fmnist train: the cosine schedule decays the learning rate to 0 at epoch 2, so a run with it keeps its 2 epochs; got 4\n',
    );
  });

  it('reports an early stop and the best epoch kept, in text and in JSON', async () => {
    // 300 samples and a high rate: the validation cost turns up within a few epochs.
    const args = [
      '--limit',
      '400',
      '--hidden',
      '64',
      '--lr',
      '0.01',
      '--validation',
      '0.25',
      '--epochs',
      '60',
      '--patience',
      '2',
      '--restore-best',
    ];
    const out = join(dir, 'early.safetensors');
    const text = await run(['train', ...args, '--out', out]);
    expect(text.code, text.stderr).toBe(0);
    const match =
      /^Stopped early after epoch (\d+): the validation cost had not improved for 2 epochs since epoch (\d+)\. Kept the model of epoch (\d+), the one with the lowest validation cost\.$/m.exec(
        text.stderr,
      );
    expect(match, text.stderr).not.toBeNull();
    const [last, best, kept] = match!.slice(1).map(Number);
    expect(last).toBe(best + 2);
    expect(kept).toBe(best);
    expect(text.stderr).toMatch(new RegExp(`^Finished after ${last} epochs \\(keeping epoch ${best}\\) in `, 'm'));
    // The model is finished: info says so, and continuing it (which would replay the same epochs) is refused.
    expect((await run(['info', out])).stdout).toMatch(
      new RegExp(`^Trained {6}${best} epochs of 60, \\d+ Adam steps \\(finished early: the best epoch kept\\)$`, 'm'),
    );
    expect((await run(['train', '--resume', out, '--epochs', '80', '--patience', '2'])).stderr).toBe(
      `fmnist train: ${out}: the run finished after epoch ${best} (its best epoch was kept), so it has nothing left to train: start a new run\n`,
    );
    const json = jsonLines((await run(['train', ...args, '--json'])).stdout);
    const epochs = json.filter((line) => line.type === 'epoch');
    const costs = epochs.map((line) => line.validationCost as number);
    const summary = json.find((line) => line.type === 'summary')!;
    expect(summary).toMatchObject({ stoppedEarly: true, restoredBest: true, bestEpoch: best, epochs: best });
    expect(costs.indexOf(Math.min(...costs)) + 1).toBe(best);
    expect(summary.validationAccuracy).toBe(epochs[best - 1].validationAccuracy);
    // The run's record keeps every epoch trained, and the kept epoch's figures as its result.
    const record = JSON.parse((await run(['runs', 'show', summary.run as string, '--json'])).stdout);
    expect(record.history).toHaveLength(best + 2);
    expect(record.config).toMatchObject({ patience: 2, restoreBest: true, validationFraction: 0.25 });
    expect(record.metrics.epochs).toBe(best + 2);
    expect(record.metrics.finalTestAccuracy).toBeCloseTo(epochs[best - 1].testAccuracy as number, 6);
    expect(record.summary).toMatchObject({ stoppedEarly: true, restoredBest: true, bestEpoch: best, epochsDone: best });
  });
});
