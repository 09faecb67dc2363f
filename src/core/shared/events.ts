/** What training reports: per batch and per epoch. Free of Node imports, so the renderer can use the types. */

export interface EpochSummary {
  epoch: number;
  epochs: number;
  /** Mean training cross-entropy over the epoch, measured on each batch before its update. */
  cost: number;
  trainAccuracy: number;
  validationCost: number | null;
  validationAccuracy: number | null;
  testCost: number | null;
  testAccuracy: number | null;
  /** Seconds spent training (forward, backward, update); evaluation not included. */
  seconds: number;
  evaluationSeconds: number;
  samplesPerSecond: number;
  /** The learning rate of the epoch's last step (absent in checkpoints from before schedules). */
  learningRate?: number;
}

export interface BatchProgress {
  epoch: number;
  epochs: number;
  /** 1-based batch within the epoch. */
  batch: number;
  batches: number;
  /** Mean cost of this batch. */
  cost: number;
  /** Mean cost and accuracy of the epoch so far. */
  epochCost: number;
  epochAccuracy: number;
  samplesPerSecond: number;
  /** Training time of the run so far and the estimated time left, in milliseconds. */
  elapsedMs: number;
  etaMs: number;
}
