/**
 * Runtime set-up for the WebAssembly kernels. Node 20 ships relaxed SIMD (fused multiply-add) behind a V8
 * flag; Electron enables it by default. Hosts call this once at start-up, before the first kernel module
 * is compiled; flags are process-wide, so worker threads inherit them.
 */

import { setFlagsFromString } from 'node:v8';

export function enableWasmFeatures(): void {
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // An unknown flag only means the runtime has it on already, or not at all: detection decides.
  }
}
