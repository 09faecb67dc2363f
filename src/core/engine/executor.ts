/**
 * Executors run one program slot on every kernel thread and return when all are done. The local executor
 * is the single-threaded case: the calling thread runs thread 0's program itself.
 */

import type { Kernel } from './kernels';
import type { EngineLayout } from './layout';
import { programAddress, runProgram, type Slot } from './program';

export interface Executor {
  /** The calling thread's kernels, by Op (a profiler may wrap them in place). */
  readonly kernels: Kernel[];
  /** Runs `slot` on all threads; synchronous: returns when every thread has finished. */
  run(slot: Slot): void;
  /** Milliseconds the calling thread has waited for the others, and each helper's busy milliseconds. */
  timing(): { waitedMs: number; helperBusyMs: number[] };
  dispose(): Promise<void>;
}

export class LocalExecutor implements Executor {
  constructor(
    private readonly i32: Int32Array,
    readonly kernels: Kernel[],
    private readonly layout: EngineLayout,
  ) {}

  run(slot: Slot): void {
    runProgram(this.i32, this.kernels, programAddress(this.layout, 0, slot));
  }

  timing(): { waitedMs: number; helperBusyMs: number[] } {
    return { waitedMs: 0, helperBusyMs: [] };
  }

  async dispose(): Promise<void> {}
}
