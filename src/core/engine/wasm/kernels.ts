/**
 * The engine's kernels as WebAssembly SIMD, emitted at run time with the assembler. Each kernel mirrors
 * its TypeScript twin in kernels.ts operation for operation (same order, f32 rounding at the same places),
 * so without fused multiply-add the two produce identical bits; tests check that on random shapes.
 *
 * The SPMM inner loop keeps a 28-float tile in 7 f32x4 accumulators: the most V8 keeps in xmm registers
 * without spilling (8 spill and run at half speed), with the pair's value broadcast once per pair.
 */

import { IMAGE_SIZE, IMAGE_WIDTH } from '@core/shared/dataset';
import { Epilogue, GATHER, MASKED, SOFTMAX, SPARSE_FIELDS, type SparseFields, SPARSIFY, SPMM } from '../kernels';
import { ADAM, AUGMENT_ROW_BYTES, DROPOUT, PAIR_BYTES, TILE, TILE_BYTES } from '../layout';
import { ROW_SPREAD, UNIT_SPREAD } from '../recipes';
import { type FunctionBuilder, type MemoryImport, ModuleBuilder, Type } from './assembler';

const ACCUMULATORS = TILE / 4;

export interface KernelModuleOptions {
  memory: MemoryImport;
  /** Use relaxed-SIMD multiply-add in the SPMM inner loop (needs the relaxed-SIMD feature). */
  fusedMultiplyAdd: boolean;
}

/** Loads argument word `index` of the block at local `args` into a new i32 local. */
function argument(f: FunctionBuilder, args: number, index: number): number {
  const local = f.local(Type.I32);
  f.get(args)
    .i32Load(index * 4)
    .set(local);
  return local;
}

/** recipes.ts mix32 on the i32 in `x` (the local is updated). */
function mix32Scalar(f: FunctionBuilder, x: number): void {
  f.get(x).get(x).i32(16).i32ShrU().i32Xor().set(x);
  f.get(x).i32(0x7feb352d).i32Mul().set(x);
  f.get(x).get(x).i32(15).i32ShrU().i32Xor().set(x);
  f.get(x).i32(0x846ca68b).i32Mul().set(x);
  f.get(x).get(x).i32(16).i32ShrU().i32Xor().set(x);
}

/** mix32 on each i32 lane of the v128 in `x` (the local is updated). */
function mix32Lanes(f: FunctionBuilder, x: number): void {
  f.get(x).get(x).i32(16).i32x4ShrU().v128Xor().set(x);
  f.get(x).i32(0x7feb352d).i32x4Splat().i32x4Mul().set(x);
  f.get(x).get(x).i32(15).i32x4ShrU().v128Xor().set(x);
  f.get(x).i32(0x846ca68b).i32x4Splat().i32x4Mul().set(x);
  f.get(x).get(x).i32(16).i32x4ShrU().v128Xor().set(x);
}

function emitSpmm(module: ModuleBuilder, fusedMultiplyAdd: boolean): void {
  const f = module.define('spmm', [Type.I32]);
  const args = 0;
  const descriptors = argument(f, args, SPMM.descriptors);
  const segmentStride = argument(f, args, SPMM.segmentStride);
  const segments = argument(f, args, SPMM.segments);
  const rows = argument(f, args, SPMM.rows);
  const matrix = argument(f, args, SPMM.matrix);
  const out = argument(f, args, SPMM.out);
  const accumulate = argument(f, args, SPMM.accumulate);
  const epilogue = argument(f, args, SPMM.epilogue);
  const aux0 = argument(f, args, SPMM.aux0);
  const aux1 = argument(f, args, SPMM.aux1);
  const aux2 = argument(f, args, SPMM.aux2);
  const adam = argument(f, args, SPMM.adam);
  const vectors = argument(f, args, SPMM.vectors);
  const i = f.local(Type.I32);
  const o = f.local(Type.I32);
  const seg = f.local(Type.I32);
  const d = f.local(Type.I32);
  const p = f.local(Type.I32);
  const end = f.local(Type.I32);
  const m = f.local(Type.I32);
  const next = f.local(Type.I32);
  const nextP = f.local(Type.I32);
  const nextEnd = f.local(Type.I32);
  const nextM = f.local(Type.I32);
  const t = f.local(Type.I32);
  const momentOffset = f.local(Type.I32);
  const group = f.local(Type.I32);
  const value = f.local(Type.V128);
  const acc = Array.from({ length: ACCUMULATORS }, () => f.local(Type.V128));
  const constants = Array.from({ length: 4 }, () => f.local(Type.V128));
  const firstMoments = f.local(Type.I32);
  const secondMoments = f.local(Type.I32);
  const rowHash = f.local(Type.I32);
  const hash = f.local(Type.V128);
  const threshold = f.local(Type.V128);
  const scale = f.local(Type.V128);

  f.get(adam).i32Load(ADAM.momentOffset).set(momentOffset);
  // Reads are started early, since a list's loads depend on one another (its descriptor, then a pair, then the
  // pair's matrix row) and many lists are short (a weight gradient's hold about 20 pairs): each list's start, end
  // and first matrix row are read while the list before it runs, and each pair's matrix row one turn ahead. So
  // the kernel reads the 4 bytes after every list, which the layout keeps in memory (a list's room is followed
  // by the next room or by its descriptors).
  const listAddress = (row: () => void, segment: () => void): void => {
    f.get(descriptors);
    segment();
    f.get(segmentStride).i32Mul().i32Add();
    row();
    f.i32(8).i32Mul().i32Add().set(d);
  };
  const readList = (): void => {
    f.get(d).i32Load(0).set(nextP);
    f.get(d).i32Load(4).set(nextEnd);
    f.get(matrix).get(nextP).i32Load(0).i32Add().set(nextM);
  };
  // The row loop for n accumulators (the tile's first 4n columns), emitted for each n and chosen by the
  // call's vector count: a layer's last tile computes only its real units' columns.
  const rowLoop = (n: number): void => {
    const used = acc.slice(0, n);
    // The first list (a call of no rows need not point at descriptors).
    f.get(rows)
      .i32(0)
      .i32Ne()
      .get(segments)
      .i32(0)
      .i32Ne()
      .i32And()
      .if(() => {
        listAddress(
          () => f.i32(0),
          () => f.i32(0),
        );
        readList();
      });
    f.forRange(
      i,
      () => f.i32(0),
      () => f.get(rows),
      1,
      () => {
        f.get(out).get(i).i32(TILE_BYTES).i32Mul().i32Add().set(o);
        f.get(accumulate).if(
          () =>
            used.forEach((a, k) =>
              f
                .get(o)
                .v128Load(16 * k)
                .set(a),
            ),
          () => used.forEach((a) => f.v128Zero().set(a)),
        );
        f.forRange(
          seg,
          () => f.i32(0),
          () => f.get(segments),
          1,
          () => {
            f.get(nextP).set(p);
            f.get(nextEnd).set(end);
            f.get(nextM).set(m);
            // The next list: the row's next segment, else the next row's first, else this one again.
            f.get(seg)
              .i32(1)
              .i32Add()
              .get(segments)
              .i32LtU()
              .if(
                () =>
                  listAddress(
                    () => f.get(i),
                    () => f.get(seg).i32(1).i32Add(),
                  ),
                () =>
                  f
                    .get(i)
                    .i32(1)
                    .i32Add()
                    .get(rows)
                    .i32LtU()
                    .if(
                      () =>
                        listAddress(
                          () => f.get(i).i32(1).i32Add(),
                          () => f.i32(0),
                        ),
                      () =>
                        listAddress(
                          () => f.get(i),
                          () => f.get(seg),
                        ),
                    ),
              );
            readList();
            f.get(p)
              .get(end)
              .i32LtU()
              .if(() =>
                f.loop(() => {
                  f.get(p).v128Load32Splat(4).set(value);
                  f.get(p).i32Load(PAIR_BYTES).set(next);
                  used.forEach((a, k) => {
                    if (fusedMultiplyAdd) {
                      f.get(value)
                        .get(m)
                        .v128Load(16 * k)
                        .get(a)
                        .f32x4RelaxedMadd()
                        .set(a);
                    } else {
                      f.get(a)
                        .get(value)
                        .get(m)
                        .v128Load(16 * k)
                        .f32x4Mul()
                        .f32x4Add()
                        .set(a);
                    }
                  });
                  f.get(matrix).get(next).i32Add().set(m);
                  f.get(p).i32(PAIR_BYTES).i32Add().tee(p).get(end).i32LtU().brIf(0);
                }),
              );
          },
        );

        const when = (kind: Epilogue, body: () => void): void => {
          f.get(epilogue).i32(kind).i32Eq().if(body);
        };
        when(Epilogue.Store, () =>
          used.forEach((a, k) =>
            f
              .get(o)
              .get(a)
              .v128Store(16 * k),
          ),
        );
        when(Epilogue.BiasRelu, () =>
          used.forEach((a, k) =>
            f
              .get(o)
              .get(a)
              .get(aux0)
              .v128Load(16 * k)
              .f32x4Add()
              .v128Zero()
              .f32x4Max()
              .v128Store(16 * k),
          ),
        );
        when(Epilogue.Bias, () =>
          used.forEach((a, k) =>
            f
              .get(o)
              .get(a)
              .get(aux0)
              .v128Load(16 * k)
              .f32x4Add()
              .v128Store(16 * k),
          ),
        );
        when(Epilogue.Mask, () => {
          f.get(aux0).get(i).i32(TILE_BYTES).i32Mul().i32Add().set(t);
          used.forEach((a, k) =>
            f
              .get(o)
              .get(a)
              .get(t)
              .v128Load(16 * k)
              .v128Zero()
              .f32x4Gt()
              .v128And()
              .v128Store(16 * k),
          );
        });
        when(Epilogue.MaskScaled, () => {
          f.get(aux0).get(i).i32(TILE_BYTES).i32Mul().i32Add().set(t);
          f.get(args)
            .v128Load32Splat(SPMM.aux1 * 4)
            .set(scale);
          used.forEach((a, k) =>
            f
              .get(o)
              .get(a)
              .get(scale)
              .f32x4Mul()
              .get(t)
              .v128Load(16 * k)
              .v128Zero()
              .f32x4Gt()
              .v128And()
              .v128Store(16 * k),
          );
        });
        when(Epilogue.BiasReluDropout, () => {
          // The row's hash: mix32(key ^ row·ROW_SPREAD), row = aux1 + i.
          f.get(adam).i32Load(DROPOUT.key).get(aux1).get(i).i32Add().i32(ROW_SPREAD).i32Mul().i32Xor().set(rowHash);
          mix32Scalar(f, rowHash);
          f.get(adam).v128Load32Splat(DROPOUT.threshold).set(threshold);
          f.get(adam).v128Load32Splat(DROPOUT.scale).set(scale);
          used.forEach((a, k) => {
            // Units aux2 + 4k + lane: hash = mix32(rowHash + unit·UNIT_SPREAD); kept when hash ≥ threshold (unsigned).
            f.get(aux2)
              .i32x4Splat()
              .i32x4Const([4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3])
              .i32x4Add();
            f.i32(UNIT_SPREAD).i32x4Splat().i32x4Mul().get(rowHash).i32x4Splat().i32x4Add().set(hash);
            mix32Lanes(f, hash);
            f.get(o);
            f.get(a)
              .get(aux0)
              .v128Load(16 * k)
              .f32x4Add()
              .v128Zero()
              .f32x4Max()
              .get(scale)
              .f32x4Mul();
            f.get(hash)
              .get(threshold)
              .i32x4GeU()
              .v128And()
              .v128Store(16 * k);
          });
        });
        // Adam in two passes over the row's vectors, each with its step's constants splatted once into locals: the
        // moments, while the gradients are in the accumulators; then the parameters, from the moments just stored.
        // (Splatted for each vector, the constants were most of the row's vector loads, which the core does two a
        // cycle.) Each value is computed as before, operation for operation.
        const adamUpdate = (): void => {
          const splat = (offset: number, local: number): void => {
            f.get(adam).v128Load32Splat(offset).set(local);
          };
          f.get(o).get(momentOffset).i32Add().set(firstMoments);
          f.get(firstMoments).get(momentOffset).i32Add().set(secondMoments);
          splat(ADAM.beta1, constants[0]);
          splat(ADAM.oneMinusBeta1, constants[1]);
          splat(ADAM.beta2, constants[2]);
          splat(ADAM.oneMinusBeta2, constants[3]);
          used.forEach((g, k) => {
            // m = β1·m + (1−β1)·g
            f.get(firstMoments);
            f.get(constants[0])
              .get(firstMoments)
              .v128Load(16 * k)
              .f32x4Mul();
            f.get(constants[1])
              .get(g)
              .f32x4Mul()
              .f32x4Add()
              .v128Store(16 * k);
            // v = β2·v + ((1−β2)·g)·g
            f.get(secondMoments);
            f.get(constants[2])
              .get(secondMoments)
              .v128Load(16 * k)
              .f32x4Mul();
            f.get(constants[3])
              .get(g)
              .f32x4Mul()
              .get(g)
              .f32x4Mul()
              .f32x4Add()
              .v128Store(16 * k);
          });
          splat(ADAM.decay, constants[0]);
          splat(ADAM.stepSize, constants[1]);
          splat(ADAM.epsilonHat, constants[2]);
          used.forEach((_, k) => {
            // θ = θ·decay − (αₜ·m) / (√v + ε̂)   (decay: AdamW's 1 − lr·λ, or 1)
            f.get(o);
            f.get(o)
              .v128Load(16 * k)
              .get(constants[0])
              .f32x4Mul();
            f.get(constants[1])
              .get(firstMoments)
              .v128Load(16 * k)
              .f32x4Mul();
            f.get(secondMoments)
              .v128Load(16 * k)
              .f32x4Sqrt()
              .get(constants[2])
              .f32x4Add()
              .f32x4Div()
              .f32x4Sub()
              .v128Store(16 * k);
          });
        };
        when(Epilogue.Adam, adamUpdate);
        when(Epilogue.AdamTransposed, () => {
          adamUpdate();
          // The updated row k = aux2 + i also goes to the copy: copy[c, k] for its 28 columns c is at
          // aux0 + ⌊k/TILE⌋·aux1 + (k mod TILE)·4 + c·TILE_BYTES. Rows in whole groups of four (k = 4g…4g+3, all
          // in this call) are written together once the fourth is done, as 4×4 transposes with vector stores;
          // other rows one float at a time.
          const target = (row: () => void): void => {
            row();
            f.set(m);
            f.get(aux0)
              .get(m)
              .i32(TILE)
              .i32DivU()
              .get(aux1)
              .i32Mul()
              .i32Add()
              .get(m)
              .i32(TILE)
              .i32RemU()
              .i32(4)
              .i32Mul()
              .i32Add()
              .set(t);
          };
          // m = group start 4⌊k/4⌋; whole when aux2 ≤ m and m + 4 ≤ aux2 + rows.
          f.get(aux2).get(i).i32Add().i32(-4).i32And().set(m);
          f.get(m).get(aux2).i32GeU().get(m).i32(4).i32Add().get(aux2).get(rows).i32Add().i32LeU().i32And();
          f.if(
            () => {
              f.get(aux2).get(i).i32Add().i32(3).i32And().i32(3).i32Eq();
              f.if(() => {
                target(() => f.get(m));
                f.get(o)
                  .i32(3 * TILE_BYTES)
                  .i32Sub()
                  .set(group);
                const [r0, r1, r2, r3, t0, t1, t2] = acc;
                // The eighth register: the pair's value, free once the row's lists are done.
                const t3 = value;
                for (let q = 0; q < n; q++) {
                  [r0, r1, r2, r3].forEach((r, j) =>
                    f
                      .get(group)
                      .v128Load(16 * q + j * TILE_BYTES)
                      .set(r),
                  );
                  f.get(r0).get(r1).f32x4Shuffle([0, 4, 1, 5]).set(t0);
                  f.get(r0).get(r1).f32x4Shuffle([2, 6, 3, 7]).set(t1);
                  f.get(r2).get(r3).f32x4Shuffle([0, 4, 1, 5]).set(t2);
                  f.get(r2).get(r3).f32x4Shuffle([2, 6, 3, 7]).set(t3);
                  f.get(t)
                    .get(t0)
                    .get(t2)
                    .f32x4Shuffle([0, 1, 4, 5])
                    .v128Store(4 * q * TILE_BYTES);
                  f.get(t)
                    .get(t0)
                    .get(t2)
                    .f32x4Shuffle([2, 3, 6, 7])
                    .v128Store((4 * q + 1) * TILE_BYTES);
                  f.get(t)
                    .get(t1)
                    .get(t3)
                    .f32x4Shuffle([0, 1, 4, 5])
                    .v128Store((4 * q + 2) * TILE_BYTES);
                  f.get(t)
                    .get(t1)
                    .get(t3)
                    .f32x4Shuffle([2, 3, 6, 7])
                    .v128Store((4 * q + 3) * TILE_BYTES);
                }
              });
            },
            () => {
              target(() => f.get(aux2).get(i).i32Add());
              for (let k = 0; k < n; k++) {
                for (let lane = 0; lane < 4; lane++) {
                  f.get(t)
                    .get(o)
                    .v128Load(16 * k)
                    .f32x4ExtractLane(lane)
                    .f32Store((4 * k + lane) * TILE_BYTES);
                }
              }
            },
          );
        });
      },
    );
  };
  for (let n = ACCUMULATORS; n >= 1; n--)
    f.get(vectors)
      .i32(n)
      .i32Eq()
      .if(() => rowLoop(n));
}

type SparseArgs = SparseFields<number>;

/** Loads the shared sparse-output arguments into locals. */
function sparseArguments(f: FunctionBuilder, offsets: typeof GATHER | typeof SPARSIFY): SparseArgs {
  return Object.fromEntries(SPARSE_FIELDS.map((field) => [field, argument(f, 0, offsets[field])])) as SparseArgs;
}

/**
 * The shared skeleton of GATHER and SPARSIFY: resets this thread's CSC segment, then for each row and each
 * chunk records the non-zero columns as CSR pairs and/or appends them to the CSC. `scanChunk` emits the column loop of
 * one chunk and
 * calls `emitPair` for each non-zero, given the locals holding its f32 value and its column.
 */
function emitSparseRows(
  f: FunctionBuilder,
  a: SparseArgs,
  first: number,
  rows: number,
  columns: number,
  beginRow: (s: number) => void,
  scanChunk: (
    k: number,
    chunkEnd: number,
    s: number,
    emitPair: (value: number, column: number, keep: number) => void,
  ) => void,
): void {
  const k = f.local(Type.I32);
  const s = f.local(Type.I32);
  const chunk = f.local(Type.I32);
  const chunkEnd = f.local(Type.I32);
  const d = f.local(Type.I32);
  const p = f.local(Type.I32);
  const q = f.local(Type.I32);
  const cd = f.local(Type.I32);
  const rowOffset = f.local(Type.I32);

  f.get(a.cscPairs).if(() =>
    f.forRange(
      k,
      () => f.i32(0),
      () => f.get(columns),
      1,
      () => {
        f.get(a.cscPairs)
          .get(k)
          .get(a.cscPairStride)
          .i32Mul()
          .i32Add()
          .get(first)
          .i32(PAIR_BYTES)
          .i32Mul()
          .i32Add()
          .set(q);
        f.get(a.cscDescriptors).get(k).i32(8).i32Mul().i32Add().tee(cd).get(q).i32Store(0);
        f.get(cd).get(q).i32Store(4);
      },
    ),
  );

  // Branch-free: the pair is written in any case and kept by advancing the list ends by `keep` (0 or 1)
  // pairs. A pair not kept lies past its list's end, within its row's or segment's room (the list can only
  // be shorter than the columns or rows scanned so far), and is overwritten or never read. The row loop is
  // emitted once for each combination of outputs, so the scan itself tests nothing.
  const rowLoop = (csr: boolean, csc: boolean): void => {
    const emitPair = (value: number, column: number, keep: number): void => {
      if (csr) {
        f.get(p).get(column).i32(TILE_BYTES).i32Mul().i32Store(0);
        f.get(p).get(value).f32Store(4);
        f.get(p).get(keep).i32(3).i32Shl().i32Add().set(p);
      }
      if (csc) {
        f.get(a.cscDescriptors).get(column).i32(8).i32Mul().i32Add().tee(cd).i32Load(4).set(q);
        f.get(q).get(rowOffset).i32Store(0);
        f.get(q).get(value).f32Store(4);
        f.get(cd).get(q).get(keep).i32(3).i32Shl().i32Add().i32Store(4);
      }
    };
    f.forRange(
      s,
      () => f.get(first),
      () => f.get(first).get(rows).i32Add(),
      1,
      () => {
        f.get(s).i32(TILE_BYTES).i32Mul().set(rowOffset);
        if (csr) f.get(a.csrPairs).get(s).get(a.csrPairStride).i32Mul().i32Add().set(p);
        beginRow(s);
        f.i32(0).set(k);
        f.forRange(
          chunk,
          () => f.i32(0),
          () => f.get(a.chunks),
          1,
          () => {
            if (csr) {
              f.get(a.csrDescriptors)
                .get(chunk)
                .get(a.csrDescriptorStride)
                .i32Mul()
                .i32Add()
                .get(s)
                .i32(8)
                .i32Mul()
                .i32Add()
                .tee(d);
              f.get(p).i32Store(0);
            }
            // chunkEnd = min(columns, (chunk + 1)·chunkRows)
            f.get(chunk).i32(1).i32Add().get(a.chunkRows).i32Mul().set(chunkEnd);
            f.get(columns).get(chunkEnd).get(chunkEnd).get(columns).i32GtU().select().set(chunkEnd);
            scanChunk(k, chunkEnd, s, emitPair);
            if (csr) f.get(d).get(p).i32Store(4);
          },
        );
      },
    );
  };
  f.get(a.csrPairs).if(
    () =>
      f.get(a.cscPairs).if(
        () => rowLoop(true, true),
        () => rowLoop(true, false),
      ),
    () => rowLoop(false, true),
  );
}

function emitGather(module: ModuleBuilder): void {
  const f = module.define('gather', [Type.I32]);
  const images = argument(f, 0, GATHER.images);
  const labels = argument(f, 0, GATHER.labels);
  const indices = argument(f, 0, GATHER.indices);
  const first = argument(f, 0, GATHER.first);
  const rows = argument(f, 0, GATHER.rows);
  const labelsOut = argument(f, 0, GATHER.labelsOut);
  const scale = argument(f, 0, GATHER.scaleTable);
  const augment = argument(f, 0, GATHER.augment);
  const scratch = argument(f, 0, GATHER.scratch);
  const sparse = sparseArguments(f, GATHER);
  const columns = f.local(Type.I32);
  const index = f.local(Type.I32);
  const image = f.local(Type.I32);
  const pixel = f.local(Type.I32);
  const value = f.local(Type.F32);
  const params = f.local(Type.I32);
  const dx = f.local(Type.I32);
  const dy = f.local(Type.I32);
  const flip = f.local(Type.I32);
  const x = f.local(Type.I32);
  const y = f.local(Type.I32);
  const sx = f.local(Type.I32);
  const sy = f.local(Type.I32);
  const keep = f.local(Type.I32);
  const next = f.local(Type.I32);
  const dense = argument(f, 0, GATHER.dense);
  const denseTileStride = argument(f, 0, GATHER.denseTileStride);
  const c = f.local(Type.I32);
  const target = f.local(Type.I32);
  f.i32(IMAGE_SIZE).set(columns);

  /**
   * Row s as pixel/255 into the dense tiled matrix: pixel k at tile ⌊k/TILE⌋, column k mod TILE. A tile is
   * one image row (TILE = IMAGE_WIDTH); a row of zeros is 7 vector stores, any other 28 table look-ups.
   */
  const denseRow = (s: number): void => {
    f.get(dense).get(s).i32(TILE_BYTES).i32Mul().i32Add().set(target);
    f.forRange(
      c,
      () => f.get(image),
      () => f.get(image).i32(IMAGE_SIZE).i32Add(),
      IMAGE_WIDTH,
      () => {
        f.get(c)
          .v128Load(0)
          .v128AnyTrue()
          .get(c)
          .v128Load(IMAGE_WIDTH - 16)
          .v128AnyTrue()
          .i32Add()
          .if(
            () => {
              for (let x = 0; x < IMAGE_WIDTH; x++) {
                f.get(target)
                  .get(scale)
                  .get(c)
                  .i32Load8u(x)
                  .i32(4)
                  .i32Mul()
                  .i32Add()
                  .f32Load(0)
                  .f32Store(4 * x);
              }
            },
            () => {
              for (let q = 0; q < TILE / 4; q++)
                f.get(target)
                  .v128Zero()
                  .v128Store(16 * q);
            },
          );
        f.get(target).get(denseTileStride).i32Add().set(target);
      },
    );
  };

  /** The image at `image`, mirrored when flip is set, then shifted by (dx, dy), into the scratch image. */
  const augmentRow = (s: number): void => {
    f.get(augment).get(s).i32(AUGMENT_ROW_BYTES).i32Mul().i32Add().set(params);
    f.get(params).i32Load(0).set(dx);
    f.get(params).i32Load(4).set(dy);
    f.get(params).i32Load(8).set(flip);
    f.forRange(
      y,
      () => f.i32(0),
      () => f.i32(IMAGE_WIDTH),
      1,
      () => {
        f.get(y).get(dy).i32Sub().set(sy);
        f.forRange(
          x,
          () => f.i32(0),
          () => f.i32(IMAGE_WIDTH),
          1,
          () => {
            f.get(x).get(dx).i32Sub().set(sx);
            f.i32(0).set(pixel);
            // Unsigned compares: a negative coordinate is outside too.
            f.get(sy).i32(IMAGE_WIDTH).i32LtU().get(sx).i32(IMAGE_WIDTH).i32LtU().i32And();
            f.if(() => {
              // image[sy·28 + (flip ? 27 − sx : sx)]
              f.get(image).get(sy).i32(IMAGE_WIDTH).i32Mul().i32Add();
              f.i32(IMAGE_WIDTH - 1)
                .get(sx)
                .i32Sub()
                .get(sx)
                .get(flip)
                .select()
                .i32Add();
              f.i32Load8u(0).set(pixel);
            });
            f.get(scratch).get(y).i32(IMAGE_WIDTH).i32Mul().i32Add().get(x).i32Add().get(pixel).i32Store8(0);
          },
        );
      },
    );
    f.get(scratch).set(image);
  };

  emitSparseRows(
    f,
    sparse,
    first,
    rows,
    columns,
    (s) => {
      // The next row's image is touched now, a byte of each cache line: the data set is read in shuffled order,
      // which no prefetcher foresees, and its lines then come from memory while this row is gathered.
      f.get(s)
        .i32(1)
        .i32Add()
        .get(first)
        .get(rows)
        .i32Add()
        .i32LtU()
        .if(() => {
          f.get(images)
            .get(indices)
            .get(s)
            .i32(4)
            .i32Mul()
            .i32Add()
            .i32Load(4)
            .i32(IMAGE_SIZE)
            .i32Mul()
            .i32Add()
            .set(next);
          for (let line = 0; line < IMAGE_SIZE; line += 64) f.get(next).i32Load8u(line).drop();
          f.get(next)
            .i32Load8u(IMAGE_SIZE - 1)
            .drop();
        });
      f.get(indices).get(s).i32(4).i32Mul().i32Add().i32Load(0).set(index);
      f.get(labelsOut).get(s).i32(4).i32Mul().i32Add().get(labels).get(index).i32Add().i32Load8u(0).i32Store(0);
      f.get(images).get(index).i32(IMAGE_SIZE).i32Mul().i32Add().set(image);
      f.get(augment).if(() => augmentRow(s));
      f.get(dense).if(() => denseRow(s));
    },
    (k, chunkEnd, _s, emitPair) => {
      const scanPixel = (): void => {
        f.get(image).get(k).i32Add().i32Load8u(0).set(pixel);
        f.get(scale).get(pixel).i32(4).i32Mul().i32Add().f32Load(0).set(value);
        f.get(pixel).i32(0).i32Ne().set(keep);
        emitPair(value, k, keep);
        f.get(k).i32(1).i32Add().set(k);
      };
      // Groups of 16 pixels: skipped when zero (image borders and backgrounds mostly are), else scanned whole;
      // then the chunk's last few one by one.
      f.block(() =>
        f.loop(() => {
          f.get(k).i32(16).i32Add().get(chunkEnd).i32GtU().brIf(1);
          f.get(image)
            .get(k)
            .i32Add()
            .v128Load(0)
            .v128AnyTrue()
            .if(
              () => {
                for (let j = 0; j < 16; j++) scanPixel();
              },
              () => f.get(k).i32(16).i32Add().set(k),
            );
          f.br(0);
        }),
      );
      f.block(() =>
        f.loop(() => {
          f.get(k).get(chunkEnd).i32LtU().i32Eqz().brIf(1);
          scanPixel();
          f.br(0);
        }),
      );
    },
  );
}

function emitSparsify(module: ModuleBuilder): void {
  const f = module.define('sparsify', [Type.I32]);
  const source = argument(f, 0, SPARSIFY.source);
  const tileStride = argument(f, 0, SPARSIFY.sourceTileStride);
  const columns = argument(f, 0, SPARSIFY.columns);
  const first = argument(f, 0, SPARSIFY.first);
  const rows = argument(f, 0, SPARSIFY.rows);
  const sparse = sparseArguments(f, SPARSIFY);
  const address = f.local(Type.I32);
  const lane = f.local(Type.I32);
  const column = f.local(Type.I32);
  const values = f.local(Type.V128);
  const value = f.local(Type.F32);
  const keep = f.local(Type.I32);

  emitSparseRows(
    f,
    sparse,
    first,
    rows,
    columns,
    () => {},
    (k, chunkEnd, s, emitPair) => {
      // Chunks and tiles are multiples of 4 columns: load 4 values at once and emit each lane (branch-free).
      // The element address advances by 16 bytes, and jumps to the next tile every TILE columns.
      f.get(k).i32(TILE).i32RemU().set(lane);
      f.get(source).get(k).i32(TILE).i32DivU().get(tileStride).i32Mul().i32Add();
      f.get(s).i32(TILE_BYTES).i32Mul().i32Add().get(lane).i32(4).i32Mul().i32Add().set(address);
      f.block(() =>
        f.loop(() => {
          f.get(k).get(chunkEnd).i32LtU().i32Eqz().brIf(1);
          f.get(address).v128Load(0).set(values);
          for (let l = 0; l < 4; l++) {
            f.get(values).f32x4ExtractLane(l).tee(value).f32(0).f32Ne().set(keep);
            f.get(k).i32(l).i32Add().set(column);
            emitPair(value, column, keep);
          }
          f.get(k).i32(4).i32Add().set(k);
          f.get(address).i32(16).i32Add().set(address);
          f.get(lane).i32(4).i32Add().tee(lane).i32(TILE).i32Eq();
          f.if(() => {
            f.i32(0).set(lane);
            f.get(address).get(tileStride).i32(TILE_BYTES).i32Sub().i32Add().set(address);
          });
          f.br(0);
        }),
      );
    },
  );
}

function emitSoftmax(module: ModuleBuilder, exp: number, log: number): void {
  const f = module.define('softmax', [Type.I32]);
  const logits = argument(f, 0, SOFTMAX.logits);
  const first = argument(f, 0, SOFTMAX.first);
  const rows = argument(f, 0, SOFTMAX.rows);
  const classes = argument(f, 0, SOFTMAX.classes);
  const labels = argument(f, 0, SOFTMAX.labels);
  const deltas = argument(f, 0, SOFTMAX.deltas);
  const costs = argument(f, 0, SOFTMAX.costs);
  const correct = argument(f, 0, SOFTMAX.correct);
  const probabilities = argument(f, 0, SOFTMAX.probabilities);
  const predicted = argument(f, 0, SOFTMAX.predicted);
  const inverseBatch = f.local(Type.F64);
  f.get(0)
    .f32Load(SOFTMAX.inverseBatch * 4)
    .f64PromoteF32()
    .set(inverseBatch);
  // Targets as in TypeScript: ε/classes for the others, (1 − ε) + ε/classes for the label.
  const otherTarget = f.local(Type.F64);
  const labelTarget = f.local(Type.F64);
  const target = f.local(Type.F64);
  f.get(0)
    .f32Load(SOFTMAX.smoothing * 4)
    .f64PromoteF32()
    .get(classes)
    .f64ConvertI32U()
    .f64Div()
    .set(otherTarget);
  f.f64(1)
    .get(0)
    .f32Load(SOFTMAX.smoothing * 4)
    .f64PromoteF32()
    .f64Sub()
    .get(otherTarget)
    .f64Add()
    .set(labelTarget);
  const s = f.local(Type.I32);
  const c = f.local(Type.I32);
  const z = f.local(Type.I32);
  const label = f.local(Type.I32);
  const best = f.local(Type.I32);
  const max = f.local(Type.F32);
  const sum = f.local(Type.F64);
  const p = f.local(Type.F64);
  const logit = (index: number): void => {
    f.get(z).get(index).i32(4).i32Mul().i32Add().f32Load(0);
  };
  const shiftedExp = (): void => {
    logit(c);
    f.f64PromoteF32().get(max).f64PromoteF32().f64Sub().call(exp);
  };

  f.forRange(
    s,
    () => f.get(first),
    () => f.get(first).get(rows).i32Add(),
    1,
    () => {
      f.get(logits).get(s).i32(TILE_BYTES).i32Mul().i32Add().set(z);
      f.get(labels).get(s).i32(4).i32Mul().i32Add().i32Load(0).set(label);
      f.get(z).f32Load(0).set(max);
      f.i32(0).set(best);
      f.forRange(
        c,
        () => f.i32(1),
        () => f.get(classes),
        1,
        () => {
          logit(c);
          f.get(max)
            .f32Gt()
            .if(() => {
              logit(c);
              f.set(max);
              f.get(c).set(best);
            });
        },
      );
      f.f64(0).set(sum);
      f.forRange(
        c,
        () => f.i32(0),
        () => f.get(classes),
        1,
        () => {
          f.get(sum);
          shiftedExp();
          f.f64Add().set(sum);
        },
      );
      // target = Σ q_c·z_c; cost = max + log(sum) − target, left to right in f64 as in TypeScript
      f.f64(0).set(target);
      f.forRange(
        c,
        () => f.i32(0),
        () => f.get(classes),
        1,
        () => {
          f.get(target).get(labelTarget).get(otherTarget).get(c).get(label).i32Eq().select();
          logit(c);
          f.f64PromoteF32().f64Mul().f64Add().set(target);
        },
      );
      f.get(costs).get(s).i32(8).i32Mul().i32Add();
      f.get(max).f64PromoteF32().get(sum).call(log).f64Add();
      f.get(target).f64Sub().f64Store(0);
      f.get(correct).get(s).i32(4).i32Mul().i32Add().get(best).get(label).i32Eq().i32Store(0);
      f.get(predicted).get(s).i32(4).i32Mul().i32Add().get(best).i32Store(0);
      f.get(deltas).if(() =>
        f.forRange(
          c,
          () => f.i32(0),
          () => f.get(classes),
          1,
          () => {
            shiftedExp();
            f.get(sum).f64Div().set(p);
            f.get(deltas).get(s).i32(TILE_BYTES).i32Mul().i32Add().get(c).i32(4).i32Mul().i32Add();
            f.get(p)
              .get(labelTarget)
              .get(otherTarget)
              .get(c)
              .get(label)
              .i32Eq()
              .select()
              .f64Sub()
              .get(inverseBatch)
              .f64Mul()
              .f32DemoteF64()
              .f32Store(0);
          },
        ),
      );
      f.get(probabilities).if(() =>
        f.forRange(
          c,
          () => f.i32(0),
          () => f.get(classes),
          1,
          () => {
            f.get(probabilities).get(s).get(classes).i32Mul().get(c).i32Add().i32(4).i32Mul().i32Add();
            shiftedExp();
            f.get(sum).f64Div().f32DemoteF64().f32Store(0);
          },
        ),
      );
    },
  );
}

/**
 * Units MASKED sums at once, one accumulator each: 7 independent multiply-add chains. With 8, the accumulators,
 * the dZ vector and the 8 loads of W need more than the 15 xmm registers V8 allocates, and one spills.
 */
const MASKED_GROUP = 7;

function emitMasked(module: ModuleBuilder, fusedMultiplyAdd: boolean): void {
  const f = module.define('masked', [Type.I32]);
  const arg = (index: number): number => argument(f, 0, index);
  const descriptors = arg(MASKED.descriptors);
  const descriptorStride = arg(MASKED.descriptorStride);
  const chunks = arg(MASKED.chunks);
  const first = arg(MASKED.first);
  const rows = arg(MASKED.rows);
  const deltas = arg(MASKED.deltas);
  const deltaTileStride = arg(MASKED.deltaTileStride);
  const tiles = arg(MASKED.tiles);
  const weights = arg(MASKED.weights);
  const weightTileStride = arg(MASKED.weightTileStride);
  const out = arg(MASKED.out);
  const outTileStride = arg(MASKED.outTileStride);
  const outTiles = arg(MASKED.outTiles);
  const cscPairs = arg(MASKED.cscPairs);
  const cscDescriptors = arg(MASKED.cscDescriptors);
  const cscPairStride = arg(MASKED.cscPairStride);
  const cscColumns = arg(MASKED.cscColumns);
  const lastTileBytes = arg(MASKED.lastTileBytes);
  const tileBytes = f.local(Type.I32);
  const scale = f.local(Type.V128);
  const s = f.local(Type.I32);
  const u = f.local(Type.I32);
  const t = f.local(Type.I32);
  const chunk = f.local(Type.I32);
  const d = f.local(Type.I32);
  const p = f.local(Type.I32);
  const end = f.local(Type.I32);
  const last = f.local(Type.I32);
  const x = f.local(Type.I32);
  const q = f.local(Type.I32);
  const cd = f.local(Type.I32);
  const offset = f.local(Type.I32);
  const row = f.local(Type.I32);
  const value = f.local(Type.F32);
  const dz = f.local(Type.V128);
  const h = f.local(Type.V128);
  const w = Array.from({ length: MASKED_GROUP }, () => f.local(Type.I32));
  const acc = Array.from({ length: MASKED_GROUP }, () => f.local(Type.V128));

  f.get(0)
    .v128Load32Splat(MASKED.scale * 4)
    .set(scale);
  f.get(cscPairs).if(() =>
    f.forRange(
      u,
      () => f.i32(0),
      () => f.get(cscColumns),
      1,
      () => {
        f.get(cscPairs).get(u).get(cscPairStride).i32Mul().i32Add().get(first).i32(PAIR_BYTES).i32Mul().i32Add().set(q);
        f.get(cscDescriptors).get(u).i32(8).i32Mul().i32Add().tee(cd).get(q).i32Store(0);
        f.get(cd).get(q).i32Store(4);
      },
    ),
  );
  f.forRange(
    s,
    () => f.get(first),
    () => f.get(first).get(rows).i32Add(),
    1,
    () => {
      f.get(s).i32(TILE_BYTES).i32Mul().set(row);
      f.get(out).get(row).i32Add().set(x);
      f.forRange(
        t,
        () => f.i32(0),
        () => f.get(outTiles),
        1,
        () => {
          for (let k = 0; k < ACCUMULATORS; k++)
            f.get(x)
              .v128Zero()
              .v128Store(16 * k);
          f.get(x).get(outTileStride).i32Add().set(x);
        },
      );
      f.forRange(
        chunk,
        () => f.i32(0),
        () => f.get(chunks),
        1,
        () => {
          f.get(descriptors).get(chunk).get(descriptorStride).i32Mul().i32Add().get(s).i32(8).i32Mul().i32Add().set(d);
          f.get(d).i32Load(0).set(p);
          f.get(d).i32Load(4).set(end);
          f.get(end).i32(PAIR_BYTES).i32Sub().set(last);
          // Groups of up to MASKED_GROUP pairs; places past the list's end repeat its last pair and are not written.
          f.get(p)
            .get(end)
            .i32LtU()
            .if(() =>
              f.loop(() => {
                w.forEach((wj, j) => {
                  f.get(p)
                    .i32(j * PAIR_BYTES)
                    .i32Add()
                    .tee(q)
                    .get(last)
                    .get(q)
                    .get(last)
                    .i32LtU()
                    .select()
                    .i32Load(0)
                    .get(weights)
                    .i32Add()
                    .set(wj);
                });
                acc.forEach((a) => f.v128Zero().set(a));
                f.get(deltas).get(row).i32Add().set(x);
                // The tile's 7 vectors one after the other, each but the first behind a test of the tile's width (the
                // last tile may be narrower). The tests also keep the compiler from hoisting all 49 loads of W ahead
                // of the multiply-adds, which would spill them; and each load takes its vector's offset as a constant.
                f.forRange(
                  t,
                  () => f.i32(0),
                  () => f.get(tiles),
                  1,
                  () => {
                    f.get(lastTileBytes)
                      .i32(TILE_BYTES)
                      .get(t)
                      .i32(1)
                      .i32Add()
                      .get(tiles)
                      .i32Eq()
                      .select()
                      .set(tileBytes);
                    f.block(() => {
                      for (let k = 0; k < ACCUMULATORS; k++) {
                        if (k > 0)
                          f.i32(16 * k)
                            .get(tileBytes)
                            .i32GeU()
                            .brIf(0);
                        f.get(x)
                          .v128Load(16 * k)
                          .set(dz);
                        acc.forEach((a, j) => {
                          if (fusedMultiplyAdd) {
                            f.get(dz)
                              .get(w[j])
                              .v128Load(16 * k)
                              .get(a)
                              .f32x4RelaxedMadd()
                              .set(a);
                          } else {
                            f.get(a)
                              .get(dz)
                              .get(w[j])
                              .v128Load(16 * k)
                              .f32x4Mul()
                              .f32x4Add()
                              .set(a);
                          }
                        });
                      }
                    });
                    f.get(x).get(deltaTileStride).i32Add().set(x);
                    w.forEach((wj) => f.get(wj).get(weightTileStride).i32Add().set(wj));
                  },
                );
                acc.forEach((a, j) => {
                  f.get(p)
                    .i32(j * PAIR_BYTES)
                    .i32Add()
                    .get(end)
                    .i32LtU()
                    .if(() => {
                      // (lane 0 + lane 2) + (lane 1 + lane 3), times the scale.
                      f.get(a).get(a).get(a).f32x4Shuffle([2, 3, 0, 1]).f32x4Add().set(h);
                      f.get(h)
                        .get(h)
                        .get(h)
                        .f32x4Shuffle([1, 0, 3, 2])
                        .f32x4Add()
                        .get(scale)
                        .f32x4Mul()
                        .f32x4ExtractLane(0)
                        .set(value);
                      // dZ below at (s, u), u = offset / TILE_BYTES: tile ⌊u/TILE⌋, column u mod TILE.
                      f.get(p)
                        .i32Load(j * PAIR_BYTES)
                        .set(offset);
                      f.get(out).get(row).i32Add();
                      f.get(offset)
                        .i32(TILE * TILE_BYTES)
                        .i32DivU()
                        .get(outTileStride)
                        .i32Mul()
                        .i32Add();
                      f.get(offset)
                        .i32(TILE * TILE_BYTES)
                        .i32RemU()
                        .i32(TILE)
                        .i32DivU()
                        .i32Add();
                      f.get(value).f32Store(0);
                      f.get(cscPairs).if(() => {
                        f.get(cscDescriptors)
                          .get(offset)
                          .i32(TILE_BYTES / 8)
                          .i32DivU()
                          .i32Add()
                          .tee(cd)
                          .i32Load(4)
                          .set(q);
                        f.get(q).get(row).i32Store(0);
                        f.get(q).get(value).f32Store(4);
                        f.get(cd).get(q).get(value).f32(0).f32Ne().i32(3).i32Shl().i32Add().i32Store(4);
                      });
                    });
                });
                f.get(p)
                  .i32(MASKED_GROUP * PAIR_BYTES)
                  .i32Add()
                  .tee(p)
                  .get(end)
                  .i32LtU()
                  .brIf(0);
              }),
            );
        },
      );
    },
  );
}

/** The kernel module's bytes; its exports are spmm, gather, sparsify, softmax and masked, in Op order. */
export function buildKernelModule(options: KernelModuleOptions): Uint8Array {
  // The gather writes the dense batch one image row per tile.
  if (TILE !== IMAGE_WIDTH) throw new Error('the kernels assume tiles as wide as an image row');
  const module = new ModuleBuilder(options.memory);
  const exp = module.importFunction('exp', [Type.F64], [Type.F64]);
  const log = module.importFunction('log', [Type.F64], [Type.F64]);
  emitSpmm(module, options.fusedMultiplyAdd);
  emitGather(module);
  emitSparsify(module);
  emitSoftmax(module, exp, log);
  emitMasked(module, options.fusedMultiplyAdd);
  return module.encode();
}
