import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { encodeOnnx } from '@core/checkpoint/onnx';
import { resolveRunConfig } from '@core/shared/config';
import { IMAGE_SIZE, takeFirst } from '@core/shared/dataset';
import { Engine } from '@core/engine/engine';
import { Trainer } from '@core/training/trainer';
import { realDataset } from '../../../helpers/data';

describe('ONNX export', () => {
  it('runs in onnxruntime with the same predictions and probabilities as the engine', async () => {
    const train = takeFirst(await realDataset('train'), 4000);
    const test = takeFirst(await realDataset('test'), 300);
    const trainer = await Trainer.create({ config: resolveRunConfig({ epochs: 2, hiddenSizes: [64, 32] }), train });
    await trainer.run();
    const parameters = trainer.getParameters();
    await trainer.dispose();

    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(encodeOnnx(parameters));
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['probabilities']);

    const engine = await Engine.create({ shape: parameters.shape, batchSize: 64, threads: 1, datasets: [test] });
    engine.setParameters(parameters);
    const ours = engine.evaluate(0, null, { probabilities: true });
    await engine.dispose();

    let agree = 0;
    for (let i = 0; i < test.count; i++) {
      const x = Float32Array.from(test.images.subarray(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE), (b) => b / 255);
      const output = await session.run({ input: new ort.Tensor('float32', x, [1, IMAGE_SIZE]) });
      const p = output.probabilities.data as Float32Array;
      expect(output.probabilities.dims).toEqual([1, 10]);
      for (let c = 0; c < 10; c++) expect(Math.abs(p[c] - ours.probabilities![i * 10 + c])).toBeLessThan(1e-5);
      if (p.indexOf(Math.max(...p)) === ours.predictions[i]) agree++;
    }
    expect(agree).toBe(test.count);
    await session.release();
  });
});
