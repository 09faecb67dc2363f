import { describe, expect, it } from 'vitest';
import { ProgressThrottle } from '@core/backend/progress';
import type { BatchProgress, EpochSummary } from '@core/shared/events';

function batch(epoch: number, index: number, batches: number, cost: number): BatchProgress {
  return {
    epoch,
    epochs: 3,
    batch: index,
    batches,
    cost,
    epochCost: cost,
    epochAccuracy: 0.5,
    samplesPerSecond: 1000,
    elapsedMs: 0,
    etaMs: 0,
  };
}

function summary(epoch: number): EpochSummary {
  return {
    epoch,
    epochs: 1000,
    cost: 1,
    trainAccuracy: 0.5,
    validationCost: null,
    validationAccuracy: null,
    testCost: null,
    testAccuracy: null,
    seconds: 0,
    evaluationSeconds: 0,
    samplesPerSecond: 1,
  };
}

describe('progress throttle', () => {
  it('sends at most one update per 500 ms whatever the batch rate', () => {
    const throttle = new ProgressThrottle();
    let updates = 0;
    let now = 0;
    for (let epoch = 1; epoch <= 3; epoch++) {
      for (let b = 1; b <= 2000; b++) {
        now += 0.5; // 2000 batches per second
        if (throttle.add(batch(epoch, b, 2000, 1), now)) updates++;
      }
    }
    // 3 s of training: 2 per second.
    expect(updates).toBeGreaterThanOrEqual(5);
    expect(updates).toBeLessThanOrEqual(3 * 2 + 1);
  });

  it('averages batches into 100 cost points per epoch, delivered exactly once across updates', () => {
    const throttle = new ProgressThrottle();
    const delivered: [number, number][] = [];
    let now = 0;
    for (let b = 1; b <= 469; b++) {
      now += 3;
      const update = throttle.add(batch(1, b, 469, b), now);
      if (update) delivered.push(...update.costPoints);
    }
    delivered.push(...(throttle.flush(now + 1)?.costPoints ?? []));
    // 469 batches in buckets of 5 (the fewest that give at most 100 points): 93 full buckets and one of 4.
    expect(delivered.length).toBe(94);
    expect(delivered).toEqual(throttle.curve);
    // Buckets of 5 batches: the first point is the mean of batches 1–5 at 5/469 of the epoch.
    expect(delivered[0][0]).toBeCloseTo(5 / 469);
    expect(delivered[0][1]).toBe(3);
    expect(delivered[delivered.length - 1][0]).toBe(1);
    const mean =
      delivered.reduce(
        (sum, [, c], i) => sum + c * (i === delivered.length - 1 ? 469 - 5 * (delivered.length - 1) : 5),
        0,
      ) / 469;
    expect(mean).toBeCloseTo(235, 6);
  });

  it('keeps the stored curve bounded by merging pairs', () => {
    const throttle = new ProgressThrottle(50, 100, 1000);
    for (let epoch = 1; epoch <= 50; epoch++) {
      for (let b = 1; b <= 100; b++) throttle.add({ ...batch(epoch, b, 100, epoch), epochs: 50 }, epoch * 1000 + b);
    }
    expect(throttle.curve.length).toBeLessThanOrEqual(1000);
    expect(throttle.curve.length).toBeGreaterThan(500);
    const xs = throttle.curve.map(([x]) => x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(throttle.curve[throttle.curve.length - 1][1]).toBe(50);
  });

  it('bounds updates when epochs are tiny too, delivering every epoch summary once', () => {
    const throttle = new ProgressThrottle();
    const delivered: number[] = [];
    let updates = 0;
    for (let epoch = 1; epoch <= 1000; epoch++) {
      const now = epoch * 0.1; // one-batch epochs, 10 000 per second
      for (const update of [
        throttle.add({ ...batch(epoch, 1, 1, 1), epochs: 1000 }, now),
        throttle.addEpoch(summary(epoch), now),
      ]) {
        if (!update) continue;
        updates++;
        delivered.push(...update.completedEpochs.map((s) => s.epoch));
      }
    }
    delivered.push(...(throttle.flush(1e6)?.completedEpochs.map((s) => s.epoch) ?? []));
    expect(updates).toBeLessThanOrEqual(3);
    expect(delivered).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it('drops the cost points of an abandoned epoch', () => {
    const throttle = new ProgressThrottle();
    for (let b = 1; b <= 10; b++) throttle.add(batch(1, b, 10, 1), b * 100);
    for (let b = 1; b <= 4; b++) throttle.add(batch(2, b, 10, 1), 2000 + b * 100);
    throttle.truncate(1);
    expect(throttle.curve.every(([x]) => x <= 1)).toBe(true);
    expect(throttle.curve[throttle.curve.length - 1][0]).toBe(1);
  });

  it('does not report the abandoned epoch’s points or summaries still waiting for the next update', () => {
    const throttle = new ProgressThrottle();
    const delivered: [number, number][] = [];
    for (let b = 1; b <= 10; b++) delivered.push(...(throttle.add(batch(1, b, 10, 1), 1000 * b)?.costPoints ?? []));
    // Epoch 2 starts: its points wait (less than 200 ms since the last update) when the run stops.
    for (let b = 1; b <= 4; b++) throttle.add(batch(2, b, 10, 2), 10_000 + b);
    throttle.addEpoch(summary(2), 10_005);
    throttle.truncate(1);
    const last = throttle.flush(20_000);
    delivered.push(...(last?.costPoints ?? []));
    expect(last?.completedEpochs).toEqual([]);
    expect(delivered.map(([x]) => x)).toEqual(
      [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1].map((x) => expect.closeTo(x, 12)),
    );
  });

  it('flushes what is pending (e.g. on pause) and nothing when there is nothing', () => {
    const throttle = new ProgressThrottle();
    expect(throttle.flush(0)).toBeNull();
    throttle.add(batch(1, 1, 1000, 2), 0);
    throttle.add(batch(1, 2, 1000, 2), 1);
    const update = throttle.flush(2);
    expect(update?.batch).toBe(2);
  });
});
