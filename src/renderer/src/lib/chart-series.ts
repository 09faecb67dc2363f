/**
 * The chart series of the run shown: the per-batch cost curve, each epoch's train, validation and test cost,
 * its accuracies and its seconds, as plain arrays (Chart.js must not see Svelte's proxies). Built from a full
 * copy of the run, extended by progress updates, and cut back to the last whole epoch when a run ends there.
 */

import type { CostPoint, EpochSummary } from '@core/shared/contract';

export type Point = { x: number; y: number };

export class ChartSeries {
  /** Mean cost of groups of batches, at their position in epochs. */
  readonly batchCost: Point[] = [];
  /** Mean training cost of each epoch, at its end. */
  readonly epochCost: Point[] = [];
  readonly validationCost: Point[] = [];
  readonly testCost: Point[] = [];
  readonly trainAccuracy: Point[] = [];
  readonly validationAccuracy: Point[] = [];
  readonly testAccuracy: Point[] = [];
  /** Seconds of training of each whole epoch (the first for epoch 1), for the charts' time axis. */
  readonly epochSeconds: number[] = [];

  /** Replaces everything with a run's full epochs and cost curve. */
  replace(history: readonly EpochSummary[], costPoints: readonly CostPoint[]): void {
    for (const series of this.all()) series.length = 0;
    this.epochSeconds.length = 0;
    this.addCost(costPoints);
    for (const summary of history) this.addEpoch(summary);
  }

  addCost(points: readonly CostPoint[]): void {
    for (const [x, y] of points) this.batchCost.push({ x, y });
  }

  addEpoch(summary: EpochSummary): void {
    if (this.epochCost.some((p) => p.x === summary.epoch)) return;
    this.epochCost.push({ x: summary.epoch, y: summary.cost });
    this.trainAccuracy.push({ x: summary.epoch, y: summary.trainAccuracy * 100 });
    if (summary.validationCost !== null) this.validationCost.push({ x: summary.epoch, y: summary.validationCost });
    if (summary.testCost !== null) this.testCost.push({ x: summary.epoch, y: summary.testCost });
    if (summary.validationAccuracy !== null)
      this.validationAccuracy.push({ x: summary.epoch, y: summary.validationAccuracy * 100 });
    if (summary.testAccuracy !== null) this.testAccuracy.push({ x: summary.epoch, y: summary.testAccuracy * 100 });
    this.epochSeconds[summary.epoch - 1] = summary.seconds;
  }

  /** Drops what lies after `epochs` (the epoch a stopped or failed run abandoned). */
  truncate(epochs: number): void {
    for (const series of this.all()) {
      const kept = series.filter((p) => p.x <= epochs + 1e-9);
      series.splice(0, series.length, ...kept);
    }
    this.epochSeconds.length = Math.min(this.epochSeconds.length, Math.max(0, Math.floor(epochs)));
  }

  /** The largest x of any point (0 when empty): how far the charts reach. */
  get lastX(): number {
    return Math.max(0, ...this.all().map((series) => series.at(-1)?.x ?? 0));
  }

  private all(): Point[][] {
    return [
      this.batchCost,
      this.epochCost,
      this.validationCost,
      this.testCost,
      this.trainAccuracy,
      this.validationAccuracy,
      this.testAccuracy,
    ];
  }
}
