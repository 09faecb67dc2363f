/**
 * Choosing the kernels: WebAssembly SIMD (multi-threaded, optionally with relaxed-SIMD fused multiply-add)
 * where the runtime supports it, otherwise the TypeScript kernels on one thread.
 */

import { availableParallelism, cpus } from 'node:os';
import { type Backend, Engine, type EngineOptions, type KernelChoice, typeScriptBackend } from './engine';
import { LocalExecutor } from './executor';
import { type Kernel, OP_NAMES } from './kernels';
import { ThreadedExecutor } from './threads';
import { type FunctionBuilder, ModuleBuilder, Type } from './wasm/assembler';
import { buildKernelModule } from './wasm/kernels';
import { FmnistError } from '@core/shared/errors';
import { MAX_ENGINE_PAGES, PAGE_BYTES } from './memory';

/** A tiny module using one v128 instruction: it validates only where that feature is supported. */
function probe(body: (f: FunctionBuilder) => void): Uint8Array {
  const module = new ModuleBuilder({ pages: 1, maximumPages: 1, shared: false });
  body(module.define('probe', [], [Type.V128]));
  return module.encode();
}
const SIMD_PROBE = probe((f) => f.v128Zero());
const RELAXED_SIMD_PROBE = probe((f) => f.v128Zero().v128Zero().v128Zero().f32x4RelaxedMadd());

export interface WasmFeatures {
  simd: boolean;
  relaxedSimd: boolean;
  threads: boolean;
}

export function detectWasmFeatures(): WasmFeatures {
  const validate = (bytes: Uint8Array): boolean => {
    try {
      return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
    } catch {
      return false;
    }
  };
  let threads: boolean;
  try {
    threads = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    threads = false;
  }
  return { simd: validate(SIMD_PROBE), relaxedSimd: validate(RELAXED_SIMD_PROBE), threads };
}

export function wasmBackend(options: { fusedMultiplyAdd: boolean }): Backend {
  return {
    name: options.fusedMultiplyAdd ? 'wasm-simd-fma' : 'wasm-simd',
    createMemory(bytes, shared) {
      const pages = Math.ceil(bytes / PAGE_BYTES);
      // Engine.create refuses, with what to change, any layout larger than this before it asks for memory.
      if (pages > MAX_ENGINE_PAGES)
        throw new Error(`an engine memory of ${pages} pages is more than ${MAX_ENGINE_PAGES}`);
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
      return { buffer: memory.buffer, memory };
    },
    async createExecutor(layout, { buffer, memory }) {
      const shared = layout.threads > 1;
      const { module, kernels } = createWasmKernels(memory!, shared, options.fusedMultiplyAdd);
      if (!shared) return new LocalExecutor(new Int32Array(buffer), kernels, layout);
      return ThreadedExecutor.create(module, memory!, kernels, layout);
    },
  };
}

/** Compiles the kernel module for a memory and instantiates it on the calling thread. */
export function createWasmKernels(
  memory: WebAssembly.Memory,
  shared: boolean,
  fusedMultiplyAdd: boolean,
): { module: WebAssembly.Module; kernels: Kernel[] } {
  const pages = memory.buffer.byteLength / PAGE_BYTES;
  const module = new WebAssembly.Module(
    buildKernelModule({ memory: { pages, maximumPages: pages, shared }, fusedMultiplyAdd }),
  );
  const instance = new WebAssembly.Instance(module, { env: { memory, exp: Math.exp, log: Math.log } });
  const exports = instance.exports as Record<string, Kernel>;
  return { module, kernels: OP_NAMES.map((name) => exports[name]) };
}

export interface BackendChoice {
  backend: Backend;
  /** Threads the backend will use (the TypeScript kernels run on one). */
  threads: number;
}

/**
 * The backend for a kernel choice and a requested thread count. 'auto' takes WebAssembly SIMD with fused
 * multiply-add where available, then plain SIMD, then TypeScript.
 */
export function selectBackend(choice: KernelChoice, threads: number, features = detectWasmFeatures()): BackendChoice {
  const wanted = Math.max(1, Math.floor(threads));
  if (choice === 'typescript' || (choice === 'auto' && !features.simd))
    return { backend: typeScriptBackend, threads: 1 };
  if (!features.simd)
    throw new FmnistError('bad-option', 'this runtime has no WebAssembly SIMD: use --kernels typescript');
  if (choice === 'wasm-fma' && !features.relaxedSimd) {
    throw new FmnistError('bad-option', 'this runtime has no relaxed-SIMD fused multiply-add: use --kernels wasm');
  }
  const fusedMultiplyAdd = choice === 'wasm-fma' || (choice === 'auto' && features.relaxedSimd);
  return { backend: wasmBackend({ fusedMultiplyAdd }), threads: features.threads ? wanted : 1 };
}

/** One kernel thread per CPU core. */
export function defaultThreadCount(): number {
  return typeof availableParallelism === 'function' ? availableParallelism() : Math.max(1, cpus().length);
}

/** An engine on the chosen kernels and threads (0 threads: one per core). */
export function openEngine(
  options: Omit<EngineOptions, 'backend' | 'threads'> & { kernels?: KernelChoice; threads?: number },
): Promise<Engine> {
  const { backend, threads } = selectBackend(options.kernels ?? 'auto', options.threads || defaultThreadCount());
  return Engine.create({ ...options, backend, threads });
}
