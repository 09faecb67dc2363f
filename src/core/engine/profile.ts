/**
 * Where an epoch's time goes, kernel by kernel. The profiler wraps the calling thread's kernels (thread 0)
 * with timers and names each call from its operation and arguments: which layer's forward product, input
 * gradient or weight gradient, which sparsification, and so on. Thread 0 does its even share of every phase
 * (samples in phase A, weight rows in phase B), so its times are the per-thread times of the phases; the
 * time it then waits for the other threads is the cost of synchronisation and imbalance.
 *
 * Multiply-adds are counted from the pair lists of one call in SAMPLE_EVERY, chosen at random (the mean of
 * the counted calls stands for the rest), so counting costs thread 0 little.
 */

import { Epilogue, type Kernel, MASKED, Op, SPARSIFY, SPMM } from './kernels';
import { type EngineLayout, PAIR_BYTES, type Region, TILE } from './layout';

const SAMPLE_EVERY = 16;

export interface PhaseTiming {
  phase: string;
  calls: number;
  milliseconds: number;
  /** Multiply-adds thread 0 did in this phase (estimated from the counted calls; 0 where none). */
  multiplyAdds: number;
  /**
   * Of a product (SPMM) phase: the mean length of the pair lists its calls ran through, one per row and thread
   * segment (0 for other phases).
   */
  pairsPerRow: number;
}

interface Tally {
  calls: number;
  milliseconds: number;
  countedCalls: number;
  countedMultiplyAdds: number;
  /** Of the counted SPMM calls: their pairs and their rows (times their segments). */
  countedPairs: number;
  countedRows: number;
}

/** Whether an address read from an argument block (an i32, negative above 2 GiB) lies in a region. */
const within = (address: number, region: Region | null): boolean =>
  region !== null && address >>> 0 >= region.address && address >>> 0 < region.address + region.bytes;

export class KernelProfiler {
  /** When set, calls are tallied under this name instead (e.g. the test evaluation). */
  context: string | null = null;
  /** By phase, in the order first seen (a Map keeps insertion order). */
  private readonly tallies = new Map<string, Tally>();
  private installed = false;

  constructor(
    private readonly layout: EngineLayout,
    private readonly i32: Int32Array,
    private readonly kernels: Kernel[],
    /** Count the multiply-adds of one SPMM call in this many, at random (1: every call). */
    private readonly sampleEvery = SAMPLE_EVERY,
  ) {}

  install(): void {
    if (this.installed) return;
    this.installed = true;
    [...this.kernels].forEach((kernel, op) => {
      this.kernels[op] = (args: number): void => {
        const started = performance.now();
        kernel(args);
        const milliseconds = performance.now() - started;
        this.tally(op, args, milliseconds);
      };
    });
  }

  reset(): void {
    this.tallies.clear();
  }

  /** Phases in the order first seen, with their totals since the last reset. */
  phases(): PhaseTiming[] {
    return [...this.tallies.entries()].map(([phase, t]) => ({
      phase,
      calls: t.calls,
      milliseconds: t.milliseconds,
      multiplyAdds: t.countedCalls ? (t.countedMultiplyAdds / t.countedCalls) * t.calls : 0,
      pairsPerRow: t.countedRows ? t.countedPairs / t.countedRows : 0,
    }));
  }

  private tally(op: number, args: number, milliseconds: number): void {
    const phase = this.context ?? this.name(op, args);
    let tally = this.tallies.get(phase);
    if (!tally) {
      tally = { calls: 0, milliseconds: 0, countedCalls: 0, countedMultiplyAdds: 0, countedPairs: 0, countedRows: 0 };
      this.tallies.set(phase, tally);
    }
    tally.calls++;
    tally.milliseconds += milliseconds;
    // Calls are counted at random: a fixed stride would keep landing on the same tiles and chunks.
    if ((op === Op.Spmm || op === Op.Masked) && Math.random() * this.sampleEvery < 1) {
      tally.countedCalls++;
      if (op === Op.Spmm) {
        const w = args >>> 2;
        const pairs = this.pairs(args);
        tally.countedMultiplyAdds += pairs * 4 * this.i32[w + SPMM.vectors];
        tally.countedPairs += pairs;
        tally.countedRows += this.i32[w + SPMM.rows] * this.i32[w + SPMM.segments];
      } else tally.countedMultiplyAdds += this.maskedMultiplyAdds(args);
    }
  }

  /** A MASKED call's multiply-adds: a dot product over the layer's outputs (to whole vectors) for each input pair. */
  private maskedMultiplyAdds(args: number): number {
    const w = args >>> 2;
    const a = this.i32;
    const pairs = this.countPairs(
      a[w + MASKED.descriptors],
      a[w + MASKED.descriptorStride],
      a[w + MASKED.chunks],
      a[w + MASKED.first],
      a[w + MASKED.rows],
    );
    return pairs * ((a[w + MASKED.tiles] - 1) * TILE + a[w + MASKED.lastTileBytes] / 4);
  }

  /** The pairs an SPMM call went through, read from its descriptors. */
  private pairs(args: number): number {
    const w = args >>> 2;
    const a = this.i32;
    return this.countPairs(
      a[w + SPMM.descriptors],
      a[w + SPMM.segmentStride],
      a[w + SPMM.segments],
      0,
      a[w + SPMM.rows],
    );
  }

  /** Pairs listed for rows first…first+rows in `arrays` descriptor arrays, `stride` bytes apart from `base`. */
  private countPairs(base: number, stride: number, arrays: number, first: number, rows: number): number {
    const a = this.i32;
    let pairs = 0;
    for (let k = 0; k < arrays; k++) {
      const descriptors = (base + k * stride) >>> 2;
      for (let i = first; i < first + rows; i++)
        pairs += ((a[descriptors + 2 * i + 1] - a[descriptors + 2 * i]) | 0) / PAIR_BYTES;
    }
    return pairs;
  }

  private name(op: number, args: number): string {
    const w = args >>> 2;
    const a = this.i32;
    const layers = this.layout.layers;
    if (op === Op.Gather) return 'gather the batch (pixels to pairs)';
    if (op === Op.Softmax) return 'softmax, cost and dZ of the output';
    if (op === Op.Masked) {
      const l = layers.findIndex((layer) => within(a[w + MASKED.weights], layer.weights));
      return `layer ${l + 1} input gradient (masked dot products)`;
    }
    if (op === Op.Sparsify) {
      const source = a[w + SPARSIFY.source];
      const l = layers.findIndex((layer) => within(source, layer.activations));
      if (l >= 0) return `layer ${l + 1} activations to pairs`;
      return `layer ${layers.findIndex((layer) => within(source, layer.deltas)) + 1} dZ to pairs`;
    }
    const matrix = a[w + SPMM.matrix];
    const epilogue = a[w + SPMM.epilogue];
    const forward = layers.findIndex((layer) => within(matrix, layer.weights));
    if (forward >= 0) return `layer ${forward + 1} forward`;
    const backward = layers.findIndex((layer) => within(matrix, layer.transposed));
    if (backward >= 0) return `layer ${backward + 1} input gradient (dZ·Wᵀ)`;
    const update = layers.findIndex(
      (layer) => within(matrix, layer.deltas) || (layer.inputDense !== null && within(matrix, layer.inputDense)),
    );
    const adam = epilogue === Epilogue.Adam || epilogue === Epilogue.AdamTransposed ? ' + Adam' : '';
    if (a[w + SPMM.rows] === 1 && a[w + SPMM.descriptors] >>> 0 === this.layout.onesDescriptor.address)
      return `layer ${update + 1} bias gradient${adam}`;
    return `layer ${update + 1} weight gradient${adam}`;
  }
}
