import { describe, expect, it } from 'vitest';
import { detectWasmFeatures } from '@core/engine/backends';
import { measureSimdCeilingGflops } from '../../../bench/simd-ceiling';

describe('the measured WebAssembly SIMD ceiling (bench:profile, bench:scale)', () => {
  it('times the multiply-add loop, fused where the runtime has relaxed SIMD, as GFLOP/s', (ctx) => {
    const features = detectWasmFeatures();
    ctx.skip(!features.simd, 'this runtime has no WebAssembly SIMD');
    const modes = features.relaxedSimd ? [false, true] : [false];
    for (const fused of modes) {
      const gflops = measureSimdCeilingGflops(fused);
      // Any core that runs WebAssembly SIMD does billions of 4-lane multiply-adds a second; none does a trillion.
      expect(Number.isFinite(gflops)).toBe(true);
      expect(gflops).toBeGreaterThan(1);
      expect(gflops).toBeLessThan(1000);
    }
  }, 30_000);
});
