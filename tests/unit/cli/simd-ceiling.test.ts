import { describe, expect, it, type TestContext } from 'vitest';
import { detectWasmFeatures } from '@core/engine/backends';
import { measureProductLoop } from '../../../bench/product-loop';
import { measureSimdCeilingGflops } from '../../../bench/simd-ceiling';

/** The ways to multiply-add this runtime has: plain, and fused where it has relaxed SIMD. Skips without SIMD. */
function multiplyAddModes(ctx: TestContext): boolean[] {
  const features = detectWasmFeatures();
  ctx.skip(!features.simd, 'this runtime has no WebAssembly SIMD');
  return features.relaxedSimd ? [false, true] : [false];
}

describe('the measured WebAssembly SIMD ceiling (bench:profile, bench:scale)', () => {
  it('times the multiply-add loop, fused where the runtime has relaxed SIMD, as GFLOP/s', (ctx) => {
    for (const fused of multiplyAddModes(ctx)) {
      for (const accumulators of [12, 7]) {
        const gflops = measureSimdCeilingGflops(fused, accumulators);
        // Any core that runs WebAssembly SIMD does billions of 4-lane multiply-adds a second; none does a trillion.
        expect(Number.isFinite(gflops)).toBe(true);
        expect(gflops).toBeGreaterThan(1);
        expect(gflops).toBeLessThan(1000);
      }
    }
  }, 30_000);
});

describe('the product loop alone (bench:profile)', () => {
  it('times the spmm kernel on pair lists of the given length, and its sums are right', (ctx) => {
    for (const fused of multiplyAddModes(ctx)) {
      const loop = measureProductLoop(97.6, fused);
      // Each output is a float32 sum of 98 products: its error against the float64 sum of the same products is at
      // most 98 roundings of 2⁻²⁴ of the sum of their sizes (one per product and addition, or per fused step).
      expect(loop.largestError).toBeLessThan(98 * 2 ** -24);
      expect(loop.largestError).toBeGreaterThan(0);
      expect(Number.isFinite(loop.gflops)).toBe(true);
      expect(loop.gflops).toBeGreaterThan(1);
      expect(loop.gflops).toBeLessThan(1000);
    }
  }, 30_000);
});
