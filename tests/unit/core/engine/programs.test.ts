/**
 * Kernel programs as long as the network needs: each slot is sized from the layout's own programs, so wide
 * networks, whose programs outgrew the old fixed slots of 16384 words ("kernel program exceeds its slot"),
 * train, evaluate and predict; and a program's length depends only on what the slot sizing assumes it does.
 */

import { describe, expect, it } from 'vitest';
import { detectWasmFeatures, selectBackend } from '@core/engine/backends';
import { Engine } from '@core/engine/engine';
import { planEngine } from '@core/engine/memory';
import { forwardProgram, programSlotWords, Slot, splitRows, splitSamples, updateProgram } from '@core/engine/program';
import { initParameters, mlpShape } from '@core/shared/mlp';
import { forward, costAndGradients, softmax } from '@core/model/reference';
import { denseInputs, randomDataset } from '../../../helpers/data';
import { maxRelativeError } from '../../../helpers/numeric';

const settings = { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

describe('kernel program slots', () => {
  it('hold the programs of hidden 2048,2048 (18032 words, more than the old 16384): gradients, a step and predictions as the reference', async () => {
    const shape = mlpShape([2048, 2048]);
    const data = randomDataset(8, 11);
    const { backend, threads } = selectBackend('auto', 2, detectWasmFeatures());
    const engine = await Engine.create({ shape, batchSize: 8, threads, datasets: [data], backend });
    try {
      expect(engine.layout.programSlots.words[Slot.TrainForwardBackward]).toBeGreaterThan(16384);
      const params = initParameters(shape, 3);
      engine.setParameters(params);
      const indices = Int32Array.from([5, 1, 7, 2]);
      const got = engine.gradients(0, indices);
      const want = costAndGradients(
        params,
        denseInputs(data, indices),
        Array.from(indices, (i) => data.labels[i]),
        indices.length,
      );
      expect(got.cost).toBeCloseTo(want.cost, 4);
      for (let l = 0; l < 3; l++) {
        expect(maxRelativeError(got.weights[l], want.gradients.weights[l])).toBeLessThan(1e-4);
        expect(maxRelativeError(got.biases[l], want.gradients.biases[l])).toBeLessThan(1e-4);
      }
      expect(
        Number.isFinite(
          engine.trainBatch(
            0,
            Int32Array.from({ length: 8 }, (_, i) => i),
            1,
            settings,
          ).costSum,
        ),
      ).toBe(true);
      const evaluation = engine.evaluate(0, Int32Array.from([0, 3, 6]), { probabilities: true });
      const trained = engine.getParameters();
      const logits = forward(trained, denseInputs(data, Int32Array.from([0, 3, 6])), 3).at(-1)!;
      for (let r = 0; r < 3; r++) {
        const expected = softmax(logits.subarray(r * 10, (r + 1) * 10));
        expect(maxRelativeError(evaluation.probabilities!.subarray(r * 10, (r + 1) * 10), expected)).toBeLessThan(1e-4);
      }
    } finally {
      await engine.dispose();
    }
  });

  it.each([
    [[512, 256], 128, 2],
    [[4096, 4096], 7, 3],
    [[29, 1, 4096, 28], 33, 3],
    [[], 1, 1],
  ])(
    'are each as long as the longest program of their kind: hidden %j, batch %i, %i threads',
    (hidden, batchSize, threads) => {
      const layout = planEngine(mlpShape(hidden), batchSize, threads, [50, 9]).layout!;
      const slotWords = programSlotWords(layout);
      const rowSplits = splitRows(layout);
      const forwardWords = new Set<number>();
      const evaluateWords = new Set<number>();
      // Every thread, row range (a full and a partial batch), data set and recipe: the length never changes.
      for (const rows of [batchSize, Math.ceil(batchSize / 2)]) {
        const split = splitSamples(rows, threads);
        for (let thread = 0; thread < threads; thread++) {
          for (const dataset of layout.datasets) {
            const plan = { dataset, ...split[thread], batchRows: rows, thread, probabilities: false };
            for (const recipes of [
              { dropoutScale: null, augment: false, labelSmoothing: 0 },
              { dropoutScale: 1.25, augment: true, labelSmoothing: 0.1 },
            ]) {
              forwardWords.add(forwardProgram(layout, { ...plan, training: true, recipes }).words);
            }
            evaluateWords.add(forwardProgram(layout, { ...plan, training: false }).words);
            evaluateWords.add(forwardProgram(layout, { ...plan, training: false, probabilities: true }).words);
          }
        }
      }
      expect([...forwardWords]).toEqual([slotWords[Slot.TrainForwardBackward]]);
      expect([...evaluateWords]).toEqual([slotWords[Slot.Evaluate]]);
      const updates = Array.from({ length: threads }, (_, t) => updateProgram(layout, t, rowSplits, 'adam').words);
      expect(Math.max(...updates)).toBe(slotWords[Slot.TrainUpdate]);
      expect(
        Math.max(...Array.from({ length: threads }, (_, t) => updateProgram(layout, t, rowSplits, 'gradients').words)),
      ).toBe(slotWords[Slot.Gradients]);
      // The layout's slots hold them, in whole cache lines, one after the other without overlapping.
      const slots = layout.programSlots;
      for (let s = 0; s < slotWords.length; s++) {
        expect(slots.words[s]).toBeGreaterThanOrEqual(slotWords[s]);
        expect(slots.words[s] % 16).toBe(0);
        expect(slots.offsets[s]).toBe(slots.words.slice(0, s).reduce((a, b) => a + b, 0));
      }
      expect(layout.programs.bytes).toBe(threads * slots.wordsPerThread * 4);
    },
  );
});
