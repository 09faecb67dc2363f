/**
 * One core's WebAssembly SIMD ceiling, measured rather than worked out from a clock speed: a virtual machine's
 * nominal clock can be far below the one its cores run at (the benchmark machine reports 2.6 GHz and runs at about
 * 4.2). The loop keeps 12 independent float32×4 accumulators, enough to keep both FMA pipes of a modern x86 core
 * busy, and each turn does one fused multiply-add (relaxed SIMD) into each; without relaxed SIMD, a multiply and
 * an add. It is timed after V8 has compiled it with its optimising tier, and the best of three runs is kept.
 */

import { performance } from 'node:perf_hooks';
import { ModuleBuilder, Type } from '@core/engine/wasm/assembler';

/**
 * GFLOP/s of one thread's SIMD multiply-adds (2 FLOP per lane): fused where `fusedMultiplyAdd`, into `accumulators`
 * independent accumulators (12 for the ceiling; 7, the kernels' tile, for what a loop of theirs can reach).
 */
export function measureSimdCeilingGflops(fusedMultiplyAdd: boolean, accumulators = 12): number {
  const module = new ModuleBuilder({ pages: 1, maximumPages: 1, shared: false });
  const f = module.define('run', [Type.I32], [Type.F32]);
  const turns = 0;
  const turn = f.local(Type.I32);
  const locals = Array.from({ length: accumulators }, (_, k) => {
    const local = f.local(Type.V128);
    f.f32(k / 1000)
      .f32x4Splat()
      .set(local);
    return local;
  });
  const factor = f.local(Type.V128);
  const term = f.local(Type.V128);
  f.f32(0.999999).f32x4Splat().set(factor);
  f.f32(1e-7).f32x4Splat().set(term);
  f.forRange(
    turn,
    () => f.i32(0),
    () => f.get(turns),
    1,
    () => {
      for (const a of locals) {
        if (fusedMultiplyAdd) f.get(a).get(factor).get(term).f32x4RelaxedMadd().set(a);
        else f.get(a).get(factor).f32x4Mul().get(term).f32x4Add().set(a);
      }
    },
  );
  // The sum is returned so that no accumulator's work can be dropped.
  f.get(locals[0]);
  for (const a of locals.slice(1)) f.get(a).f32x4Add();
  f.f32x4ExtractLane(0);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(module.encode()), { env: { memory } });
  const run = instance.exports.run as (turns: number) => number;

  // Short calls until V8 has tiered the function up (a call already running stays in the baseline code).
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) run(100_000);
  const timedTurns = 20_000_000;
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    run(timedTurns);
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return (timedTurns * accumulators * 4 * 2) / best / 1e9;
}
