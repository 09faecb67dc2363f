/** Numbers as people read them: probabilities that tell 99.97% from certainty. */

import { describe, expect, it } from 'vitest';
import { fileName, probability } from '@core/shared/format';

describe('probability', () => {
  it.each([
    [0.873, '87.3%'],
    [0.9996, '99.96%'],
    [0.99994, '99.99%'],
    [0.999996, '>99.99%'],
    [1, '100%'],
    [0.0003, '0.03%'],
    [0.00004, '<0.01%'],
    [0, '0%'],
    [0.5, '50.0%'],
    [0.9994, '99.9%'],
  ])('%f reads %s', (p, text) => {
    expect(probability(p)).toBe(text);
  });
});

describe('fileName', () => {
  it('takes the last part of a path with either separator', () => {
    expect(fileName('/home/a/model.safetensors')).toBe('model.safetensors');
    expect(fileName('C:\\Users\\a\\model.onnx')).toBe('model.onnx');
    expect(fileName('model')).toBe('model');
  });
});
