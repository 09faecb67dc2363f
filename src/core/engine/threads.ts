/**
 * Kernel threads: helper workers that share the engine's WebAssembly memory and module. Each helper waits
 * on a generation counter in the memory's control block, runs its own program for the requested slot,
 * and counts down `pending`; the calling thread runs thread 0's program meanwhile, then waits for the count
 * to reach zero. Waiting spins briefly before sleeping, since a training step's two phases are only
 * milliseconds apart.
 *
 * The helper's code is a short self-contained script passed with `eval: true`, so it needs no bundler
 * entry of its own and works the same from the CLI, the app's worker, a packaged app and the tests.
 */

import { Worker } from 'node:worker_threads';
import type { Executor } from './executor';
import type { Kernel } from './kernels';
import { type EngineLayout, PROGRAM_WORDS_PER_THREAD } from './layout';
import { programAddress, runProgram, type Slot, SLOT_WORDS } from './program';

/** Word indices in the control block. */
const GENERATION = 0;
const SLOT = 1;
const PENDING = 2;
const FAILED = 3;
const SHUTDOWN = 4;

/** Busy-wait iterations before sleeping (tens of microseconds). */
const SPIN = 20_000;
/** A step that takes longer than this means a helper died. */
const HELPER_TIMEOUT_MS = 120_000;

const HELPER_SOURCE = `
'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, control, programBase, programWords, slotWords, thread, spin } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory, exp: Math.exp, log: Math.log } });
const kernels = [instance.exports.spmm, instance.exports.gather, instance.exports.sparsify, instance.exports.softmax];
const i32 = new Int32Array(memory.buffer);
const c = control >> 2;
let seen = Atomics.load(i32, c + ${GENERATION});
parentPort.postMessage('ready');
for (;;) {
  for (let n = 0; Atomics.load(i32, c + ${GENERATION}) === seen; n++) {
    if (n > spin) Atomics.wait(i32, c + ${GENERATION}, seen);
  }
  seen = Atomics.load(i32, c + ${GENERATION});
  if (Atomics.load(i32, c + ${SHUTDOWN})) break;
  try {
    const base = (programBase + (thread * programWords + Atomics.load(i32, c + ${SLOT}) * slotWords) * 4) >> 2;
    const count = i32[base];
    for (let i = 0; i < count; i++) kernels[i32[base + 1 + 2 * i]](i32[base + 2 + 2 * i]);
  } catch (error) {
    Atomics.store(i32, c + ${FAILED}, thread);
    parentPort.postMessage(String(error && error.message || error));
  }
  if (Atomics.sub(i32, c + ${PENDING}, 1) === 1) Atomics.notify(i32, c + ${PENDING});
}
`;

export class ThreadedExecutor implements Executor {
  private readonly base: number;
  private helperErrors: string[] = [];

  private constructor(
    private readonly i32: Int32Array,
    private readonly kernels: Kernel[],
    private readonly layout: EngineLayout,
    private readonly helpers: Worker[],
  ) {
    this.base = layout.control.address >> 2;
    for (const helper of helpers) helper.on('message', (message) => this.helperErrors.push(String(message)));
  }

  static async create(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    kernels: Kernel[],
    layout: EngineLayout,
  ): Promise<ThreadedExecutor> {
    const helpers: Worker[] = [];
    try {
      for (let thread = 1; thread < layout.threads; thread++) {
        const helper = new Worker(HELPER_SOURCE, {
          eval: true,
          workerData: {
            module,
            memory,
            control: layout.control.address,
            programBase: layout.programs.address,
            programWords: PROGRAM_WORDS_PER_THREAD,
            slotWords: SLOT_WORDS,
            thread,
            spin: SPIN,
          },
          // Helpers allocate nothing large: everything lives in the shared memory.
          resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
          stdout: false,
          stderr: false,
        });
        helpers.push(helper);
        await new Promise<void>((resolve, reject) => {
          helper.once('message', () => resolve());
          helper.once('error', reject);
          helper.once('exit', (code) => reject(new Error(`kernel thread ${thread} exited during start-up (code ${code})`)));
        });
        helper.removeAllListeners('error');
        helper.removeAllListeners('exit');
        helper.on('error', () => {});
      }
    } catch (error) {
      await Promise.all(helpers.map((h) => h.terminate()));
      throw error;
    }
    return new ThreadedExecutor(new Int32Array(memory.buffer), kernels, layout, helpers);
  }

  run(slot: Slot): void {
    const c = this.i32;
    const b = this.base;
    Atomics.store(c, b + SLOT, slot);
    Atomics.store(c, b + PENDING, this.helpers.length);
    Atomics.add(c, b + GENERATION, 1);
    Atomics.notify(c, b + GENERATION);
    let failure: unknown = null;
    try {
      runProgram(this.i32, this.kernels, programAddress(this.layout, 0, slot));
    } catch (error) {
      failure = error;
    }
    this.waitForHelpers();
    if (failure) throw failure;
    const failed = Atomics.exchange(c, b + FAILED, 0);
    if (failed) throw new Error(`kernel thread ${failed} failed${this.helperErrors.length ? `: ${this.helperErrors.join('; ')}` : ''}`);
  }

  private waitForHelpers(): void {
    const c = this.i32;
    const index = this.base + PENDING;
    let deadline = 0;
    for (let n = 0; ; n++) {
      const pending = Atomics.load(c, index);
      if (pending === 0) return;
      if (n < SPIN) continue;
      if (!deadline) deadline = Date.now() + HELPER_TIMEOUT_MS;
      Atomics.wait(c, index, pending, 100);
      if (Date.now() > deadline) throw new Error('a kernel thread stopped responding');
    }
  }

  async dispose(): Promise<void> {
    const c = this.i32;
    Atomics.store(c, this.base + SHUTDOWN, 1);
    Atomics.add(c, this.base + GENERATION, 1);
    Atomics.notify(c, this.base + GENERATION);
    await Promise.all(
      this.helpers.map(
        (helper) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void helper.terminate().then(() => resolve()), 2000);
            helper.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }
}
