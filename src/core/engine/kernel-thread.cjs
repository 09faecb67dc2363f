// @ts-check
/**
 * A kernel thread (a helper of threads.ts): it shares the engine's WebAssembly memory and module, waits on
 * the generation counter in the memory's control block, runs its own program for the slot asked for, counts
 * its progress in the shared status block, and counts `pending` down when done. Its text is passed to a
 * Worker with `eval: true` (threads.ts imports it as text), so it needs no bundler entry of its own and runs the
 * same from the CLI, the app's worker, a packaged app and the tests; it may therefore use nothing but Node's
 * own modules, and everything it needs comes in workerData.
 */
'use strict';

const { workerData, parentPort } = require('node:worker_threads');

/**
 * @typedef {object} KernelThreadData
 * @property {WebAssembly.Module} module the engine's kernels
 * @property {WebAssembly.Memory} memory the engine's memory, shared with every thread
 * @property {number} control byte address of the control block
 * @property {SharedArrayBuffer} status the status block: progress and busy time of each thread
 * @property {number} busyAt Float64 index of this thread's busy milliseconds in the status block
 * @property {number} programBase byte address of the program region
 * @property {number} programWordsPerThread words of program space per thread
 * @property {number[]} slotOffsets word offset of each program slot in a thread's space
 * @property {number} thread this thread's number (1 and up; the calling thread is 0)
 * @property {number} spin busy-wait iterations before sleeping
 * @property {string[]} opNames the kernels' export names, by op code
 * @property {{ generation: number, slot: number, pending: number, failed: number, shutdown: number }} words
 *   word indices in the control block
 * @property {{ stride: number, beats: number, done: number }} statusWords words per thread in the status block,
 *   and the indices of its progress count and of the generation it last finished
 */

const data = /** @type {KernelThreadData} */ (workerData);
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
const instance = new WebAssembly.Instance(data.module, { env: { memory: data.memory, exp: Math.exp, log: Math.log } });
const kernels = data.opNames.map((name) => /** @type {(args: number) => void} */ (instance.exports[name]));
const i32 = new Int32Array(data.memory.buffer);
const c = data.control >>> 2;
const { generation, slot, pending, failed, shutdown } = data.words;
const progress = new Int32Array(data.status);
const busy = new Float64Array(data.status);
const beats = data.thread * data.statusWords.stride + data.statusWords.beats;
const done = data.thread * data.statusWords.stride + data.statusWords.done;

let seen = Atomics.load(i32, c + generation);
port.postMessage('ready');
for (;;) {
  for (let n = 0; Atomics.load(i32, c + generation) === seen; n++) {
    if (n > data.spin) Atomics.wait(i32, c + generation, seen);
  }
  seen = Atomics.load(i32, c + generation);
  if (Atomics.load(i32, c + shutdown)) break;
  Atomics.add(progress, beats, 1);
  const started = performance.now();
  try {
    const base =
      (data.programBase +
        (data.thread * data.programWordsPerThread + data.slotOffsets[Atomics.load(i32, c + slot)]) * 4) >>>
      2;
    const count = i32[base];
    for (let i = 0; i < count; i++) {
      kernels[i32[base + 1 + 2 * i]](i32[base + 2 + 2 * i]);
      Atomics.add(progress, beats, 1);
    }
  } catch (error) {
    Atomics.store(i32, c + failed, data.thread);
    port.postMessage(String((error instanceof Error && error.message) || error));
  }
  busy[data.busyAt] += performance.now() - started;
  Atomics.store(progress, done, seen);
  if (Atomics.sub(i32, c + pending, 1) === 1) Atomics.notify(i32, c + pending);
}
