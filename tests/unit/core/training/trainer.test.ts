import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '@core/shared/config';
import { takeFirst } from '@core/shared/dataset';
import { FmnistError } from '@core/shared/errors';
import { type BatchProgress, splitValidation, Trainer } from '@core/training/trainer';
import { randomDataset, realDataset } from '../../../helpers/data';

describe('trainer', () => {
  it('learns on a real subset', async () => {
    const train = takeFirst(await realDataset('train'), 3000);
    const test = takeFirst(await realDataset('test'), 1000);
    const trainer = await Trainer.create({ config: resolveRunConfig({ epochs: 3, hiddenSizes: [128] }), train, test });
    const summary = await trainer.run();
    await trainer.dispose();
    expect(summary.status).toBe('finished');
    expect(summary.history).toHaveLength(3);
    const [first, , last] = summary.history;
    expect(last.cost).toBeLessThan(0.7 * first.cost);
    expect(last.trainAccuracy).toBeGreaterThan(0.75); // chance is 0.1
    expect(last.testAccuracy).toBeGreaterThan(0.75);
  });

  it('gives identical runs for the same seed and different runs for another seed', async () => {
    const data = randomDataset(200, 21);
    const run = async (seed: number) => {
      const trainer = await Trainer.create({
        config: resolveRunConfig({ epochs: 2, batchSize: 32, hiddenSizes: [24], seed, validationFraction: 0.2 }),
        train: data,
        test: randomDataset(50, 22),
      });
      const summary = await trainer.run();
      const params = trainer.getParameters();
      await trainer.dispose();
      return {
        history: summary.history.map(({ seconds, evaluationSeconds, samplesPerSecond, ...rest }) => rest),
        params,
      };
    };
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    expect(b.history).toEqual(a.history);
    expect(b.params.weights).toEqual(a.params.weights);
    expect(c.params.weights[0]).not.toEqual(a.params.weights[0]);
    expect(a.history[1].validationAccuracy).not.toBeNull();
  });

  it('holds out a disjoint validation split', () => {
    const { train, validation } = splitValidation(1000, 0.1, 3);
    expect(validation.length).toBe(100);
    expect(train.length).toBe(900);
    const all = new Set([...train, ...validation]);
    expect(all.size).toBe(1000);
    expect(splitValidation(10, 0, 1).validation.length).toBe(0);
  });

  it('includes the last partial batch and reports per-batch progress', async () => {
    const batches: BatchProgress[] = [];
    const trainer = await Trainer.create({
      config: resolveRunConfig({ epochs: 1, batchSize: 64, hiddenSizes: [16] }),
      train: randomDataset(150),
      onBatch: (p) => batches.push(p),
    });
    await trainer.run();
    await trainer.dispose();
    expect(batches.map((b) => b.batch)).toEqual([1, 2, 3]);
    expect(batches[2].batches).toBe(3);
    expect(batches[2].etaMs).toBe(0);
  });

  it('pauses, resumes and stops between batches', async () => {
    let pausedAt = -1;
    let batchesSeen = 0;
    let resumed = false;
    const trainer: Trainer = await Trainer.create({
      config: resolveRunConfig({ epochs: 50, batchSize: 10, hiddenSizes: [8] }),
      train: randomDataset(100),
      onBatch: (p) => {
        batchesSeen++;
        if (p.epoch === 1 && p.batch === 3) {
          trainer.pause();
          pausedAt = batchesSeen;
        }
        // Stopped a few batches after it resumed (asked between batches, as a click would be).
        if (resumed && batchesSeen === pausedAt + 15) trainer.stop();
      },
    });
    const running = trainer.run();
    await new Promise((r) => setTimeout(r, 50));
    expect(trainer.runStatus).toBe('paused');
    expect(batchesSeen).toBe(pausedAt);
    resumed = true;
    trainer.resume();
    const summary = await running;
    await trainer.dispose();
    expect(summary.status).toBe('stopped');
    expect(batchesSeen).toBeGreaterThan(pausedAt);
    expect(summary.epochsDone).toBeLessThan(50);
    expect(trainer.getState().epochsDone).toBe(summary.epochsDone);
  });

  it('stops a diverging run with a clear message and keeps the last good epoch', async () => {
    const config = resolveRunConfig({ epochs: 3, batchSize: 20, hiddenSizes: [32, 32] });
    const data = randomDataset(100, 3);
    const first = await Trainer.create({ config: { ...config, epochs: 1 }, train: data });
    await first.run();
    const good = first.getState();
    await first.dispose();
    // Weights this large overflow float32 in the forward pass: the cost of the next batch is not finite.
    const blownUp = structuredClone(good);
    blownUp.parameters.weights.forEach((w) => w.forEach((x, i) => (w[i] = x * 1e20)));
    const trainer = await Trainer.create({ config, train: data, resume: blownUp });
    const error = await trainer.run().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FmnistError);
    expect((error as FmnistError).kind).toBe('diverged');
    expect((error as Error).message).toBe(
      'training diverged at epoch 2, batch 1 (the cost became NaN); the weights of epoch 1 were kept. Try a lower learning rate than 0.001',
    );
    const kept = trainer.getState();
    expect(kept.epochsDone).toBe(1);
    expect(kept.step).toBe(good.step);
    expect(kept.parameters.weights).toEqual(blownUp.parameters.weights);
    expect(kept.moments.m.weights).toEqual(good.moments.m.weights);
    expect(trainer.runStatus).toBe('failed');
    await trainer.dispose();
  });
});
