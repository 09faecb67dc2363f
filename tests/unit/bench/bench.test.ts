import { describe, expect, it } from 'vitest';
import { denseFlopsPerSample, median } from '../../../bench/bench';

describe('bench arithmetic', () => {
  it('counts the dense FLOPs of one training sample: forward, weight gradients, input gradients of layers 2+', () => {
    // 784·512 + 512·256 + 256·10 = 535 040 multiply-adds forward and again for dW; 131 072 + 2 560 for dA.
    expect(denseFlopsPerSample([512, 256])).toBe(2 * 535_040 * 2 + 2 * (131_072 + 2_560));
    // One epoch of the real training set is the ~144 GFLOP quoted for this network.
    expect(denseFlopsPerSample([512, 256]) * 60_000 / 1e9).toBeCloseTo(144.4, 1);
    expect(denseFlopsPerSample([])).toBe(2 * 7840 * 2);
  });

  it('takes medians of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
