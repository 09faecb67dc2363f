/**
 * A small WebAssembly assembler: builds a module's bytes from TypeScript at run time, so the engine's SIMD
 * kernels are written in this repository's TypeScript and need no other toolchain. It covers what the
 * kernels use: an imported (optionally shared) memory, imported f64 functions, i32/f32/f64/v128 locals and
 * arithmetic, structured control flow, and exports. Instructions are appended in stack-machine order.
 */

export const enum Type {
  I32 = 0x7f,
  I64 = 0x7e,
  F32 = 0x7d,
  F64 = 0x7c,
  V128 = 0x7b,
}

function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  let n = value >>> 0;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}

function signedLeb(value: number): number[] {
  const out: number[] = [];
  let n = value | 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(byte & 0x40)) || (n === -1 && byte & 0x40)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const vector = (items: number[][]): number[] => [...unsignedLeb(items.length), ...items.flat()];
const name = (text: string): number[] => vector([...new TextEncoder().encode(text)].map((b) => [b]));
const section = (id: number, body: number[]): number[] => [id, ...unsignedLeb(body.length), ...body];

/** Alignment exponents of memory accesses. */
const ALIGN = { b8: 0, b32: 2, b64: 3, b128: 4 } as const;

export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly localTypes: Type[] = [];
  private readonly paramCount: number;

  constructor(
    readonly params: Type[],
    readonly results: Type[],
  ) {
    this.paramCount = params.length;
  }

  /** Declares a local and returns its index. */
  local(type: Type): number {
    this.localTypes.push(type);
    return this.paramCount + this.localTypes.length - 1;
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  private simd(opcode: number, ...immediates: number[]): this {
    return this.op(0xfd, ...unsignedLeb(opcode), ...immediates);
  }

  // Variables and constants
  get(index: number): this {
    return this.op(0x20, ...unsignedLeb(index));
  }
  set(index: number): this {
    return this.op(0x21, ...unsignedLeb(index));
  }
  tee(index: number): this {
    return this.op(0x22, ...unsignedLeb(index));
  }
  i32(value: number): this {
    return this.op(0x41, ...signedLeb(value));
  }
  f32(value: number): this {
    const bytes = new Uint8Array(new Float32Array([value]).buffer);
    return this.op(0x43, ...bytes);
  }
  f64(value: number): this {
    const bytes = new Uint8Array(new Float64Array([value]).buffer);
    return this.op(0x44, ...bytes);
  }
  call(functionIndex: number): this {
    return this.op(0x10, ...unsignedLeb(functionIndex));
  }
  drop(): this {
    return this.op(0x1a);
  }
  select(): this {
    return this.op(0x1b);
  }

  // Memory (offset is a constant byte offset added to the address on the stack)
  i32Load(offset = 0): this {
    return this.op(0x28, ALIGN.b32, ...unsignedLeb(offset));
  }
  f32Load(offset = 0): this {
    return this.op(0x2a, ALIGN.b32, ...unsignedLeb(offset));
  }
  f64Load(offset = 0): this {
    return this.op(0x2b, ALIGN.b64, ...unsignedLeb(offset));
  }
  i32Load8u(offset = 0): this {
    return this.op(0x2d, ALIGN.b8, ...unsignedLeb(offset));
  }
  i32Store(offset = 0): this {
    return this.op(0x36, ALIGN.b32, ...unsignedLeb(offset));
  }
  i32Store8(offset = 0): this {
    return this.op(0x3a, ALIGN.b8, ...unsignedLeb(offset));
  }
  f32Store(offset = 0): this {
    return this.op(0x38, ALIGN.b32, ...unsignedLeb(offset));
  }
  f64Store(offset = 0): this {
    return this.op(0x39, ALIGN.b64, ...unsignedLeb(offset));
  }
  v128Load(offset = 0): this {
    return this.simd(0x00, ALIGN.b128, ...unsignedLeb(offset));
  }
  v128Store(offset = 0): this {
    return this.simd(0x0b, ALIGN.b128, ...unsignedLeb(offset));
  }
  v128Load32Splat(offset = 0): this {
    return this.simd(0x09, ALIGN.b32, ...unsignedLeb(offset));
  }

  // i32
  i32Eqz(): this {
    return this.op(0x45);
  }
  i32Eq(): this {
    return this.op(0x46);
  }
  i32Ne(): this {
    return this.op(0x47);
  }
  i32LtU(): this {
    return this.op(0x49);
  }
  i32GeU(): this {
    return this.op(0x4f);
  }
  i32GtU(): this {
    return this.op(0x4b);
  }
  i32LeU(): this {
    return this.op(0x4d);
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Sub(): this {
    return this.op(0x6b);
  }
  i32Mul(): this {
    return this.op(0x6c);
  }
  i32DivU(): this {
    return this.op(0x6e);
  }
  i32RemU(): this {
    return this.op(0x70);
  }
  i32Shl(): this {
    return this.op(0x74);
  }
  i32And(): this {
    return this.op(0x71);
  }
  i32Xor(): this {
    return this.op(0x73);
  }
  i32ShrU(): this {
    return this.op(0x76);
  }

  // f32 / f64 scalars
  f32Gt(): this {
    return this.op(0x5e);
  }
  f32Ne(): this {
    return this.op(0x5c);
  }
  f64Add(): this {
    return this.op(0xa0);
  }
  f64Sub(): this {
    return this.op(0xa1);
  }
  f64Mul(): this {
    return this.op(0xa2);
  }
  f64Div(): this {
    return this.op(0xa3);
  }
  f64PromoteF32(): this {
    return this.op(0xbb);
  }
  f32DemoteF64(): this {
    return this.op(0xb6);
  }
  f64ConvertI32U(): this {
    return this.op(0xb8);
  }

  // v128
  v128Zero(): this {
    return this.simd(0x0c, ...new Array(16).fill(0));
  }
  /** A constant vector of four i32 lanes. */
  i32x4Const(lanes: [number, number, number, number]): this {
    return this.simd(0x0c, ...new Uint8Array(Int32Array.from(lanes).buffer));
  }
  i32x4Splat(): this {
    return this.simd(0x11);
  }
  i32x4Add(): this {
    return this.simd(0xae);
  }
  i32x4Mul(): this {
    return this.simd(0xb5);
  }
  /** Shifts each lane right, unsigned, by the i32 on top of the stack. */
  i32x4ShrU(): this {
    return this.simd(0xad);
  }
  i32x4GeU(): this {
    return this.simd(0x40);
  }
  v128Xor(): this {
    return this.simd(0x51);
  }
  f32x4Splat(): this {
    return this.simd(0x13);
  }
  /** i8x16.shuffle: byte i of the result is byte lanes[i] of a‖b (0–15 from a, 16–31 from b). */
  i8x16Shuffle(lanes: number[]): this {
    if (lanes.length !== 16 || lanes.some((l) => l < 0 || l > 31))
      throw new RangeError('i8x16.shuffle needs 16 lanes in 0..31');
    return this.simd(0x0d, ...lanes);
  }
  /** i8x16.shuffle of f32 lanes: lane i of the result is f32 lane lanes[i] of a‖b (0–3 from a, 4–7 from b). */
  f32x4Shuffle(lanes: [number, number, number, number]): this {
    return this.i8x16Shuffle(lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(0x1f, lane);
  }
  v128AnyTrue(): this {
    return this.simd(0x53);
  }
  v128And(): this {
    return this.simd(0x4e);
  }
  f32x4Gt(): this {
    return this.simd(0x44);
  }
  f32x4Ne(): this {
    return this.simd(0x42);
  }
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  f32x4Sub(): this {
    return this.simd(0xe5);
  }
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  f32x4Div(): this {
    return this.simd(0xe7);
  }
  f32x4Max(): this {
    return this.simd(0xe9);
  }
  f32x4Sqrt(): this {
    return this.simd(0xe3);
  }
  /** Relaxed SIMD: a·b + c, fused or not depending on the hardware. */
  f32x4RelaxedMadd(): this {
    return this.simd(0x105);
  }

  // Structured control flow. Depth 0 is the innermost enclosing block or loop.
  block(body: () => void): this {
    this.op(0x02, 0x40);
    body();
    return this.op(0x0b);
  }
  loop(body: () => void): this {
    this.op(0x03, 0x40);
    body();
    return this.op(0x0b);
  }
  /** Pops an i32 condition; runs `then` when it is non-zero, else `otherwise`. */
  if(then: () => void, otherwise?: () => void): this {
    this.op(0x04, 0x40);
    then();
    if (otherwise) {
      this.op(0x05);
      otherwise();
    }
    return this.op(0x0b);
  }
  br(depth: number): this {
    return this.op(0x0c, ...unsignedLeb(depth));
  }
  brIf(depth: number): this {
    return this.op(0x0d, ...unsignedLeb(depth));
  }
  return(): this {
    return this.op(0x0f);
  }

  /**
   * for (counter = from; counter < to; counter += step) body — `from` and `to` push i32 values; `to` is
   * re-evaluated each iteration. The body must leave the stack balanced and may not branch out of the loop.
   */
  forRange(counter: number, from: () => void, to: () => void, step: number, body: () => void): this {
    from();
    this.set(counter);
    return this.block(() =>
      this.loop(() => {
        this.get(counter);
        to();
        this.i32LtU().i32Eqz().brIf(1);
        body();
        this.get(counter).i32(step).i32Add().set(counter).br(0);
      }),
    );
  }

  /** The function's body bytes: locals declaration, code and the closing `end`. */
  encode(): number[] {
    const groups: number[][] = [];
    for (const type of this.localTypes) groups.push([...unsignedLeb(1), type]);
    const body = [...vector(groups), ...this.code, 0x0b];
    return [...unsignedLeb(body.length), ...body];
  }
}

export interface MemoryImport {
  pages: number;
  maximumPages: number;
  shared: boolean;
}

/** A module with one imported memory (env.memory), imported functions, and exported functions. */
export class ModuleBuilder {
  private readonly imports: { name: string; params: Type[]; results: Type[] }[] = [];
  private readonly functions: { name: string; builder: FunctionBuilder }[] = [];

  constructor(private readonly memory: MemoryImport) {}

  /** Imports env.<name>; returns its function index (imports come before defined functions). */
  importFunction(name: string, params: Type[], results: Type[]): number {
    if (this.functions.length) throw new Error('import functions before defining any');
    this.imports.push({ name, params, results });
    return this.imports.length - 1;
  }

  /** Defines an exported function and returns its builder. */
  define(name: string, params: Type[], results: Type[] = []): FunctionBuilder {
    const builder = new FunctionBuilder(params, results);
    this.functions.push({ name, builder });
    return builder;
  }

  encode(): Uint8Array {
    const signatures = [...this.imports, ...this.functions.map((f) => f.builder)].map((s) => [
      0x60,
      ...vector(s.params.map((t) => [t])),
      ...vector(s.results.map((t) => [t])),
    ]);
    const memoryLimits = this.memory.shared ? 0x03 : 0x01;
    const importEntries = [
      [
        ...name('env'),
        ...name('memory'),
        0x02,
        memoryLimits,
        ...unsignedLeb(this.memory.pages),
        ...unsignedLeb(this.memory.maximumPages),
      ],
      ...this.imports.map((imp, i) => [...name('env'), ...name(imp.name), 0x00, ...unsignedLeb(i)]),
    ];
    const first = this.imports.length;
    const bytes = [
      0x00,
      0x61,
      0x73,
      0x6d,
      0x01,
      0x00,
      0x00,
      0x00,
      ...section(1, vector(signatures)),
      ...section(2, vector(importEntries)),
      ...section(3, vector(this.functions.map((_, i) => unsignedLeb(first + i)))),
      ...section(7, vector(this.functions.map((f, i) => [...name(f.name), 0x00, ...unsignedLeb(first + i)]))),
      ...section(10, vector(this.functions.map((f) => f.builder.encode()))),
    ];
    return new Uint8Array(bytes);
  }
}
