/**
 * Executors run one program slot on every kernel thread and return when all are done. The local executor
 * is the single-threaded case: the calling thread runs thread 0's program itself.
 */

import type { Kernel } from './kernels';
import type { EngineLayout } from './layout';
import { programAddress, runProgram, type Slot } from './program';

export interface Executor {
  /** Runs `slot` on all threads; synchronous: returns when every thread has finished. */
  run(slot: Slot): void;
  dispose(): Promise<void>;
}

export class LocalExecutor implements Executor {
  constructor(
    private readonly i32: Int32Array,
    private readonly kernels: Kernel[],
    private readonly layout: EngineLayout,
  ) {}

  run(slot: Slot): void {
    runProgram(this.i32, this.kernels, programAddress(this.layout, 0, slot));
  }

  async dispose(): Promise<void> {}
}
