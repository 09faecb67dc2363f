/**
 * Throttling training progress for the user interface: batch and epoch reports go in, at most one update
 * per interval (500 ms: 2 per second) comes out, whatever the batch size or epoch length, carrying what
 * happened since the last one. The per-batch cost is averaged into a fixed number of points per epoch, so
 * the charts are exact without any per-batch event; the stored curve is merged pairwise when it grows past
 * a bound, so long runs use bounded memory.
 */

import type { BatchProgress, EpochSummary } from '@core/shared/events';
import type { CostPoint, ProgressUpdate } from '@core/shared/contract';

export const UPDATE_INTERVAL_MS = 500;
export const COST_POINTS_PER_EPOCH = 100;
export const MAX_STORED_COST_POINTS = 20_000;

export class ProgressThrottle {
  private lastEmit = -Infinity;
  private pending: CostPoint[] = [];
  private pendingEpochs: EpochSummary[] = [];
  private bucketSum = 0;
  private bucketCount = 0;
  private latest: BatchProgress | null = null;
  /** Every cost point of the run, bounded. */
  readonly curve: CostPoint[] = [];

  constructor(
    private readonly intervalMs = UPDATE_INTERVAL_MS,
    private readonly pointsPerEpoch = COST_POINTS_PER_EPOCH,
    private readonly maxStored = MAX_STORED_COST_POINTS,
  ) {}

  /** Takes one batch report; returns an update when one is due. */
  add(progress: BatchProgress, now: number): ProgressUpdate | null {
    this.latest = progress;
    const perBucket = Math.max(1, Math.ceil(progress.batches / this.pointsPerEpoch));
    this.bucketSum += progress.cost;
    this.bucketCount++;
    if (this.bucketCount === perBucket || progress.batch === progress.batches) {
      const point: CostPoint = [
        progress.epoch - 1 + progress.batch / progress.batches,
        this.bucketSum / this.bucketCount,
      ];
      this.pending.push(point);
      this.store(point);
      this.bucketSum = 0;
      this.bucketCount = 0;
    }
    return this.due(now) ? this.flush(now) : null;
  }

  /** Takes an epoch's summary; returns an update when one is due. */
  addEpoch(summary: EpochSummary, now: number): ProgressUpdate | null {
    this.pendingEpochs.push(summary);
    return this.due(now) ? this.flush(now) : null;
  }

  private due(now: number): boolean {
    return now - this.lastEmit >= this.intervalMs;
  }

  /**
   * Drops the points after the last whole epoch (a stopped or failed run abandons the epoch in progress),
   * from the stored curve and from what is still to be reported, and the partial bucket.
   */
  truncate(epochsDone: number): void {
    const kept = (points: CostPoint[]): CostPoint[] => points.filter(([x]) => x <= epochsDone + 1e-9);
    this.curve.splice(0, this.curve.length, ...kept(this.curve));
    this.pending = kept(this.pending);
    this.pendingEpochs = this.pendingEpochs.filter((summary) => summary.epoch <= epochsDone);
    this.bucketSum = 0;
    this.bucketCount = 0;
  }

  /** The update for everything seen so far (e.g. when pausing), or null if nothing is new. */
  flush(now: number): ProgressUpdate | null {
    if (!this.latest) return null;
    this.lastEmit = now;
    const p = this.latest;
    const update: ProgressUpdate = {
      epoch: p.epoch,
      epochs: p.epochs,
      batch: p.batch,
      batches: p.batches,
      epochCost: p.epochCost,
      epochAccuracy: p.epochAccuracy,
      samplesPerSecond: p.samplesPerSecond,
      elapsedMs: p.elapsedMs,
      etaMs: p.etaMs,
      costPoints: this.pending,
      completedEpochs: this.pendingEpochs,
    };
    this.pending = [];
    this.pendingEpochs = [];
    return update;
  }

  private store(point: CostPoint): void {
    this.curve.push(point);
    if (this.curve.length <= this.maxStored) return;
    // Halve the resolution of the stored curve: each pair becomes its midpoint.
    const merged: CostPoint[] = [];
    for (let i = 0; i + 1 < this.curve.length; i += 2) {
      merged.push([(this.curve[i][0] + this.curve[i + 1][0]) / 2, (this.curve[i][1] + this.curve[i + 1][1]) / 2]);
    }
    if (this.curve.length % 2) merged.push(this.curve[this.curve.length - 1]);
    this.curve.splice(0, this.curve.length, ...merged);
  }
}
