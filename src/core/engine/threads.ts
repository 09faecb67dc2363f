/**
 * Kernel threads: helper workers that share the engine's WebAssembly memory and module. Each helper waits
 * on a generation counter in the memory's control block, runs its own program for the requested slot,
 * and counts down `pending`; the calling thread runs thread 0's program meanwhile, then waits for the count
 * to reach zero. Waiting spins briefly before sleeping, since a training step's two phases are only
 * milliseconds apart.
 *
 * A helper can die (killed, out of memory) while the calling thread waits for it, and that wait blocks the
 * event loop that would deliver the helper's 'exit' event. So each helper also counts its finished kernel
 * calls in a small shared status block, and the wait gives up on a helper that has made no progress for a
 * second, or for many times the calling thread's own time on the same program when steps are that long.
 * Once a helper is lost, every later run fails at once with the same one-line message.
 *
 * The helper's code (kernel-thread.cjs, a type-checked script of its own) is imported as text and run with
 * `eval: true`, so it needs no bundler entry of its own and works the same from the CLI, the app's worker, a
 * packaged app and the tests.
 */

import { Worker } from 'node:worker_threads';
import { FmnistError } from '@core/shared/errors';
import type { Executor } from './executor';
import { type Kernel, OP_NAMES } from './kernels';
import type { EngineLayout } from './layout';
import { programAddress, runProgram, type Slot } from './program';
import HELPER_SOURCE from './kernel-thread.cjs?raw';

/** Word indices in the control block. */
const GENERATION = 0;
const SLOT = 1;
const PENDING = 2;
const FAILED = 3;
const SHUTDOWN = 4;

/** Words per thread in the status block: a cache line each, so helpers never write to a shared line. */
const STATUS_STRIDE = 16;
/** Word indices in a thread's status: kernel calls finished (plus one per program picked up)… */
const BEATS = 0;
/** …and the generation of the last program it finished. */
const DONE = 1;
/** Float64 index (of the status block seen as Float64Array) of a thread's milliseconds spent in programs. */
const busyIndex = (thread: number): number => (thread * STATUS_STRIDE + 2) / 2;

/** Busy-wait iterations before sleeping (tens of microseconds). */
const SPIN = 20_000;
/** A helper silent for this long is lost, however short the step (a dead one would otherwise hang the run). */
const MIN_STALL_MS = 1000;
/**
 * A helper is given this many times the calling thread's own time on the same program between two signs
 * of progress: huge batches or layers make steps long, and the threads' shares are about equal.
 */
const STALL_FACTOR = 20;
/** How often the sleeping calling thread looks at the helpers' progress. */
const CHECK_MS = 20;
/** How long dispose waits for a helper to finish its program before stopping it. */
const DISPOSE_WAIT_MS = 2000;

export interface ThreadOptions {
  /** Least time without progress before a helper counts as lost; tests shorten it. */
  minStallMs?: number;
}

/** A lost helper: the first one lost names the failure of every later run. */
interface LostThread {
  thread: number;
  /** Its 'exit' event has arrived (otherwise it only stopped responding). */
  exited: boolean;
  error: FmnistError;
}

export class ThreadedExecutor implements Executor {
  private readonly base: number;
  private readonly helpers: Worker[] = [];
  /** Resolves when helper h (thread h + 1) has exited, for whatever reason. */
  private readonly exits: Promise<void>[] = [];
  private readonly status: Int32Array;
  /** Per helper during a wait: its progress count last seen and when it last changed. */
  private readonly beatsSeen: Int32Array;
  private readonly progressAt: Float64Array;
  private readonly minStallMs: number;
  private helperErrors: string[] = [];
  /** Per thread: why it crashed, from its 'error' event (which comes before its 'exit'). */
  private readonly crashes: string[] = [];
  private lostThread: LostThread | null = null;
  private disposing = false;
  private waitedMs = 0;

  private constructor(
    private readonly i32: Int32Array,
    readonly kernels: Kernel[],
    private readonly layout: EngineLayout,
    options: ThreadOptions,
  ) {
    this.base = layout.control.address >>> 2;
    this.status = new Int32Array(new SharedArrayBuffer(layout.threads * STATUS_STRIDE * 4));
    this.beatsSeen = new Int32Array(layout.threads - 1);
    this.progressAt = new Float64Array(layout.threads - 1);
    this.minStallMs = options.minStallMs ?? MIN_STALL_MS;
  }

  static async create(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    kernels: Kernel[],
    layout: EngineLayout,
    options: ThreadOptions = {},
  ): Promise<ThreadedExecutor> {
    const executor = new ThreadedExecutor(new Int32Array(memory.buffer), kernels, layout, options);
    try {
      for (let thread = 1; thread < layout.threads; thread++) await executor.start(thread, module, memory);
    } catch (error) {
      executor.disposing = true;
      await Promise.all(executor.helpers.map((h) => h.terminate()));
      throw error;
    }
    return executor;
  }

  /** The helper workers, thread 1 first: tests stop one to check that losing it is reported. */
  get workers(): readonly Worker[] {
    return this.helpers;
  }

  run(slot: Slot): void {
    if (this.lostThread) throw this.lostThread.error;
    const c = this.i32;
    const b = this.base;
    for (let h = 0; h < this.helpers.length; h++)
      this.beatsSeen[h] = Atomics.load(this.status, (h + 1) * STATUS_STRIDE + BEATS);
    Atomics.store(c, b + SLOT, slot);
    Atomics.store(c, b + PENDING, this.helpers.length);
    const generation = (Atomics.add(c, b + GENERATION, 1) + 1) | 0;
    Atomics.notify(c, b + GENERATION);
    const startedMs = performance.now();
    let failure: unknown = null;
    try {
      runProgram(this.i32, this.kernels, programAddress(this.layout, 0, slot));
    } catch (error) {
      failure = error;
    }
    const ownEndMs = performance.now();
    this.waitForHelpers(generation, startedMs, ownEndMs - startedMs);
    this.waitedMs += performance.now() - ownEndMs;
    if (failure) throw failure;
    const failed = Atomics.exchange(c, b + FAILED, 0);
    if (failed)
      throw new Error(
        `kernel thread ${failed} failed${this.helperErrors.length ? `: ${this.helperErrors.join('; ')}` : ''}`,
      );
  }

  timing(): { waitedMs: number; helperBusyMs: number[] } {
    const busy = new Float64Array(this.status.buffer);
    return { waitedMs: this.waitedMs, helperBusyMs: this.helpers.map((_, h) => busy[busyIndex(h + 1)]) };
  }

  async dispose(): Promise<void> {
    this.disposing = true;
    const c = this.i32;
    Atomics.store(c, this.base + SHUTDOWN, 1);
    Atomics.add(c, this.base + GENERATION, 1);
    Atomics.notify(c, this.base + GENERATION);
    // Helpers that already exited resolve at once; one stuck in a long program is stopped after a while.
    await Promise.all(
      this.helpers.map(async (helper, h) => {
        const timer = setTimeout(() => void helper.terminate(), DISPOSE_WAIT_MS);
        await this.exits[h];
        clearTimeout(timer);
      }),
    );
  }

  private async start(thread: number, module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<void> {
    const helper = new Worker(HELPER_SOURCE, {
      eval: true,
      workerData: {
        module,
        memory,
        control: this.layout.control.address,
        status: this.status.buffer,
        busyAt: busyIndex(thread),
        programBase: this.layout.programs.address,
        // Sized from this layout's programs (program.ts programSlotWords), so the helper is told where they are.
        programWordsPerThread: this.layout.programSlots.wordsPerThread,
        slotOffsets: this.layout.programSlots.offsets,
        thread,
        spin: SPIN,
        opNames: OP_NAMES,
        words: { generation: GENERATION, slot: SLOT, pending: PENDING, failed: FAILED, shutdown: SHUTDOWN },
        statusWords: { stride: STATUS_STRIDE, beats: BEATS, done: DONE },
      },
      // Helpers allocate nothing large: everything lives in the shared memory.
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
      stdout: false,
      stderr: false,
    });
    this.helpers.push(helper);
    // Watched for the executor's whole life: a helper may die at any time, and dispose must know it has.
    this.exits.push(
      new Promise((resolve) =>
        helper.once('exit', (code) => {
          this.lost(thread, code);
          resolve();
        }),
      ),
    );
    helper.on('error', (error) => (this.crashes[thread] = String(error?.message ?? error)));
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: Error): void => {
        helper.off('message', ready);
        helper.off('error', crashed);
        helper.off('exit', exited);
        if (error) reject(error);
        else resolve();
      };
      const ready = (): void => settle();
      const crashed = (error: Error): void => settle(error);
      const exited = (code: number): void =>
        settle(new Error(`kernel thread ${thread} exited during start-up (code ${code})`));
      helper.on('message', ready);
      helper.on('error', crashed);
      helper.on('exit', exited);
    });
    helper.on('message', (message) => this.helperErrors.push(String(message)));
  }

  private waitForHelpers(generation: number, startedMs: number, ownMs: number): void {
    const c = this.i32;
    const index = this.base + PENDING;
    for (let n = 0; n < SPIN; n++) if (Atomics.load(c, index) === 0) return;
    const stallMs = Math.max(this.minStallMs, STALL_FACTOR * ownMs);
    this.progressAt.fill(startedMs);
    for (;;) {
      const pending = Atomics.load(c, index);
      if (pending === 0) return;
      Atomics.wait(c, index, pending, CHECK_MS);
      const now = performance.now();
      for (let h = 0; h < this.helpers.length; h++) {
        const at = (h + 1) * STATUS_STRIDE;
        if (Atomics.load(this.status, at + DONE) === generation) continue;
        const beats = Atomics.load(this.status, at + BEATS);
        if (beats !== this.beatsSeen[h]) {
          this.beatsSeen[h] = beats;
          this.progressAt[h] = now;
        } else if (now - this.progressAt[h] > stallMs) {
          this.stalled(h + 1);
        }
      }
    }
  }

  /**
   * Gives up on a silent helper: this run and every later one fail. The errors are of kind 'io', the
   * closest kind to a failure of the machine rather than of the user's files or options.
   */
  private stalled(thread: number): never {
    const error = new FmnistError('io', `kernel thread ${thread} stopped responding`);
    this.lostThread = { thread, exited: false, error };
    // It may only be stuck: stop it, so it cannot write into memory the trainer is about to restore.
    void this.helpers[thread - 1].terminate();
    throw error;
  }

  /** A helper's 'exit': outside dispose, a lost thread; it names the failure unless another thread was lost first. */
  private lost(thread: number, code: number): void {
    if (this.disposing) return;
    if (this.lostThread && (this.lostThread.thread !== thread || this.lostThread.exited)) return;
    const why = this.crashes[thread];
    this.lostThread = {
      thread,
      exited: true,
      error: new FmnistError('io', `kernel thread ${thread} stopped (exit code ${code})${why ? `: ${why}` : ''}`),
    };
  }
}
