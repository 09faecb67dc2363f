/**
 * The network view's model graph: each layer's shapes and parameter count and the total, for the default
 * network and for other hidden sizes, every count worked out by hand in the comments.
 */

import { describe, expect, it } from 'vitest';
import { describeLayer, layerChain, summarizeModel } from '@core/shared/insight/model-summary';
import { mlpShape } from '@core/shared/mlp';

describe('the model summary', () => {
  it('784-512-256-10 has 535,818 parameters, layer by layer', () => {
    const summary = summarizeModel(mlpShape([512, 256]));
    expect(summary.layers.map((layer) => [layer.name, layer.units, layer.activation])).toEqual([
      ['Input', 784, null],
      ['Hidden layer 1', 512, 'ReLU'],
      ['Hidden layer 2', 256, 'ReLU'],
      ['Output', 10, 'softmax'],
    ]);
    expect(summary.layers.map((layer) => layer.weights)).toEqual([null, [784, 512], [512, 256], [256, 10]]);
    expect(summary.layers.map((layer) => layer.biases)).toEqual([null, 512, 256, 10]);
    // 784·512 + 512 = 401,408 + 512; 512·256 + 256 = 131,072 + 256; 256·10 + 10 = 2,560 + 10.
    expect(summary.layers.map((layer) => layer.parameters)).toEqual([0, 401_920, 131_328, 2_570]);
    // 401,920 + 131,328 + 2,570.
    expect(summary.parameters).toBe(535_818);
    expect(layerChain(summary)).toBe('784 → 512 → 256 → 10');
  });

  it('counts one hidden layer, three, and none', () => {
    // 784·128 + 128 = 100,480; 128·10 + 10 = 1,290.
    expect(summarizeModel(mlpShape([128])).parameters).toBe(101_770);
    // 784·64 + 64 = 50,240; 64·32 + 32 = 2,080; 32·16 + 16 = 528; 16·10 + 10 = 170.
    const deep = summarizeModel(mlpShape([64, 32, 16]));
    expect(deep.layers.map((layer) => layer.parameters)).toEqual([0, 50_240, 2_080, 528, 170]);
    expect(deep.parameters).toBe(53_018);
    expect(deep.layers.map((layer) => layer.name)).toEqual([
      'Input',
      'Hidden layer 1',
      'Hidden layer 2',
      'Hidden layer 3',
      'Output',
    ]);
    // No hidden layer: 784·10 + 10, and the output is the only layer that computes.
    const flat = summarizeModel(mlpShape([]));
    expect(flat.parameters).toBe(7_850);
    expect(flat.layers.map((layer) => layer.activation)).toEqual([null, 'softmax']);
  });

  it('says each layer in one line', () => {
    const [input, first, , output] = summarizeModel(mlpShape([512, 256])).layers;
    expect(describeLayer(input)).toBe('Input: 784 pixels (28×28)');
    expect(describeLayer(first)).toBe(
      'Hidden layer 1: 512 units, ReLU; weights 784×512, biases 512; 401,920 parameters',
    );
    expect(describeLayer(output)).toBe('Output: 10 classes, softmax; weights 256×10, biases 10; 2,570 parameters');
  });
});
