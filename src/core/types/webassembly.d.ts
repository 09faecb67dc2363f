/**
 * The part of the WebAssembly JavaScript API the core uses. TypeScript declares it only in its DOM and
 * web-worker libraries, which the Node-side projects do not load; Node and Electron provide it at run time.
 */
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(delta: number): number;
  }
  class Module {
    constructor(bytes: BufferSource);
  }
  type ImportValue = Memory | ((...args: number[]) => number);
  type Imports = Record<string, Record<string, ImportValue>>;
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
  function validate(bytes: BufferSource): boolean;
  class CompileError extends Error {}
}
type BufferSource = ArrayBufferView | ArrayBuffer;
