/**
 * The training loop: a seeded reshuffle every epoch, mini-batches (the last partial batch included), an
 * optional validation split held out from training, evaluation on the test set after each epoch, and
 * events per batch and per epoch. Pause, resume and stop take effect between batches. A non-finite cost
 * stops the run with a clear message and puts back the weights of the last good epoch.
 *
 * The recipes (recipes.ts, schedule.ts): the learning rate of each step follows the schedule; dropout and
 * augmentation draw their choices from (seed, step); early stopping ends the run when the validation cost
 * has not improved for `patience` epochs, and restoreBest then hands back the state of the best epoch.
 *
 * A run is fully determined by its RunConfig, the data and the state it starts from, so stopping after an
 * epoch and resuming from its TrainerState gives exactly the run that never stopped.
 */

import type { RunConfig } from '@core/shared/config';
import { type LabelledData, type LabelledDataset, readFirst } from '@core/shared/dataset';
import { defaultThreadCount, selectBackend } from '../engine/backends';
import {
  type Backend,
  Engine,
  type EngineOptions,
  type EvaluationResult,
  type KernelChoice,
  type SparsityReport,
  type StepRecipes,
} from '../engine/engine';
import { stepKey } from '../engine/recipes';
import { learningRateAt } from '../optimizer/schedule';
import { FmnistError } from '@core/shared/errors';
import { initParameters, mlpShape, type MlpParameters } from '@core/shared/mlp';
import { Random, type RandomState } from '@core/shared/random';
import type { BatchProgress, EpochSummary } from '@core/shared/events';

export type { BatchProgress, EpochSummary } from '@core/shared/events';

/** Everything needed to continue a run exactly: saved at the end of an epoch. */
export interface TrainerState {
  epochsDone: number;
  /** Adam steps taken so far. */
  step: number;
  shuffleState: RandomState;
  parameters: MlpParameters;
  moments: { m: MlpParameters; v: MlpParameters };
  history: EpochSummary[];
  /** Early stopping's memory (runs with a validation split): the epoch with the lowest validation cost so far. */
  best?: BestEpoch | null;
  /**
   * The run finished with fewer epochs than it was set to (early stopping ended it, or restoreBest handed back
   * an earlier epoch): it is done, not waiting to be continued.
   */
  finishedEarly?: boolean;
}

export interface BestEpoch {
  epoch: number;
  validationCost: number;
  /**
   * With restoreBest, that epoch's whole state, to hand back at the end; null when it is the current state
   * (the best epoch is the last one) or without restoreBest.
   */
  state: Pick<TrainerState, 'step' | 'shuffleState' | 'parameters' | 'moments'> | null;
}

/** Where the trainer itself is (the app's RunStatus adds 'stopping' for the time a stop takes). */
type TrainerStatus = 'idle' | 'running' | 'paused' | 'finished' | 'stopped' | 'failed';

export interface RunSummary {
  status: 'finished' | 'stopped';
  /** Epochs of the model handed back (the best one's, when restoreBest restored it). */
  epochsDone: number;
  /** Every epoch trained, including those after a restored best epoch. */
  history: EpochSummary[];
  trainingSeconds: number;
  /** The epoch with the lowest validation cost (with a validation split), else null. */
  bestEpoch: number | null;
  /** Early stopping ended the run before its last epoch. */
  stoppedEarly: boolean;
  /** restoreBest put back the best epoch's model (an earlier one than the last trained). */
  restoredBest: boolean;
}

export interface TrainerOptions {
  config: RunConfig;
  /** Unread data sets are read straight into the engine's memory. */
  train: LabelledData;
  test?: LabelledData | null;
  /** Start from this state (resume) instead of fresh He-normal weights. */
  resume?: TrainerState;
  /** Which kernels to use (default: the fastest available); the thread count is the config's. */
  kernels?: KernelChoice;
  /** A specific backend instead (tests, benchmarks). */
  backend?: Backend;
  /** Engine tuning for benchmarks. */
  engineOptions?: Pick<EngineOptions, 'maxChunkRows'>;
  /** Keep the test set's predictions and class probabilities of each epoch (the app's gallery). */
  keepTestOutputs?: boolean;
  onBatch?: (progress: BatchProgress) => void;
  /**
   * After every epoch, with the state after it (copied when asked for) and whether it is the run's last (the
   * configured epochs reached, or early stopping ends the run now), before a best epoch kept is put back.
   */
  onEpoch?: (summary: EpochSummary, state: () => TrainerState, last: boolean) => void | Promise<void>;
}

/** The model's outputs on the test set after an epoch: a by-product of the epoch's test evaluation. */
export interface EpochTestOutputs extends EvaluationResult {
  epoch: number;
  probabilities: Float32Array;
}

/** How often the loop yields to the event loop so pause/stop messages are seen, in milliseconds. */
const YIELD_INTERVAL_MS = 20;

const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/** The training/validation split of the first `count` samples: sorted index lists. */
export function splitValidation(
  count: number,
  fraction: number,
  seed: number,
): { train: Int32Array; validation: Int32Array } {
  const all = Int32Array.from({ length: count }, (_, i) => i);
  const held = fraction > 0 ? Math.min(count - 1, Math.max(1, Math.round(count * fraction))) : 0;
  if (held === 0) return { train: all, validation: new Int32Array(0) };
  Random.fromSeed(seed, 'split').shuffle(all);
  return { train: all.slice(held).sort(), validation: all.slice(0, held).sort() };
}

export class Trainer {
  readonly config: RunConfig;
  private readonly engine: Engine;
  private readonly trainIndices: Int32Array;
  private readonly validationIndices: Int32Array;
  private readonly hasTest: boolean;
  private readonly keepTestOutputs: boolean;
  private testOutputs: EpochTestOutputs | null = null;
  private readonly onBatch?: TrainerOptions['onBatch'];
  private readonly onEpoch?: TrainerOptions['onEpoch'];
  private shuffle: Random;
  private step: number;
  private epochsDone: number;
  private history: EpochSummary[];
  /** The last completed epoch, for rolling back a diverged step: raw engine memory and counters. */
  private lastGood: { snapshot: Float32Array; step: number; shuffleState: RandomState } | null = null;
  /** The best epoch so far (by validation cost), with its engine memory when restoreBest keeps it. */
  private best: {
    epoch: number;
    validationCost: number;
    snapshot: Float32Array | null;
    step: number;
    shuffleState: RandomState;
  } | null = null;
  private lastBatchRows = 0;
  private finishedEarly = false;
  private status: TrainerStatus = 'idle';
  private stopRequested = false;
  private pausedGate: { promise: Promise<void>; release: () => void } | null = null;
  /** Resolves the promises of pause() once the loop waits at the gate (or the run ended, or resumed first). */
  private parkedWaiters: (() => void)[] = [];
  /** The loop waits at the gate now. */
  private parked = false;

  private constructor(options: TrainerOptions, engine: Engine, split: { train: Int32Array; validation: Int32Array }) {
    this.config = options.config;
    this.engine = engine;
    this.trainIndices = split.train;
    this.validationIndices = split.validation;
    this.hasTest = !!options.test;
    this.keepTestOutputs = !!options.keepTestOutputs;
    this.onBatch = options.onBatch;
    this.onEpoch = options.onEpoch;
    const resume = options.resume;
    this.shuffle = resume ? Random.fromState(resume.shuffleState) : Random.fromSeed(options.config.seed, 'shuffle');
    this.step = resume?.step ?? 0;
    this.epochsDone = resume?.epochsDone ?? 0;
    this.history = resume ? [...resume.history] : [];
  }

  /** Early stopping's memory from a resumed state, as engine memory (the engine is loaded with it briefly). */
  private static bestOf(engine: Engine, state: TrainerState): Trainer['best'] {
    const best = state.best;
    if (!best) return null;
    if (!best.state)
      return {
        epoch: best.epoch,
        validationCost: best.validationCost,
        snapshot: null,
        step: state.step,
        shuffleState: state.shuffleState,
      };
    engine.setParameters(best.state.parameters);
    engine.setMoments(best.state.moments);
    return {
      epoch: best.epoch,
      validationCost: best.validationCost,
      snapshot: engine.snapshot(),
      step: best.state.step,
      shuffleState: best.state.shuffleState,
    };
  }

  static async create(options: TrainerOptions): Promise<Trainer> {
    const { config } = options;
    const train = await readFirst(options.train, config.limit);
    const split = splitValidation(train.count, config.validationFraction, config.seed);
    if (split.train.length === 0)
      throw new FmnistError('bad-option', 'no training samples are left after the validation split');
    const shape = mlpShape(config.hiddenSizes);
    const requested = config.threads || defaultThreadCount();
    const chosen = options.backend
      ? { backend: options.backend, threads: requested }
      : selectBackend(options.kernels ?? 'auto', requested);
    const engine = await Engine.create({
      shape,
      batchSize: Math.min(config.batchSize, split.train.length),
      threads: chosen.threads,
      datasets: options.test ? [train, options.test] : [train],
      backend: chosen.backend,
      ...options.engineOptions,
    });
    let best: Trainer['best'] = null;
    try {
      if (options.resume) {
        best = Trainer.bestOf(engine, options.resume);
        engine.setParameters(options.resume.parameters);
        engine.setMoments(options.resume.moments);
        // The best epoch is the current one: restoreBest keeps it from here.
        if (best && !best.snapshot && config.restoreBest && best.epoch === options.resume.epochsDone)
          best.snapshot = engine.snapshot();
      } else {
        engine.setParameters(initParameters(shape, config.seed));
      }
    } catch (error) {
      await engine.dispose();
      throw error;
    }
    const trainer = new Trainer(options, engine, split);
    trainer.best = best;
    return trainer;
  }

  get runStatus(): TrainerStatus {
    return this.status;
  }

  get kernelBackend(): string {
    return this.engine.backendName;
  }

  get threads(): number {
    return this.engine.threads;
  }

  /** The training set (before the validation split, after the limit) as the engine holds it: its memory, no copy. */
  get trainingSet(): LabelledDataset {
    return this.engine.dataset(0) as LabelledDataset;
  }

  get trainingSamples(): number {
    return this.trainIndices.length;
  }

  get validationSamples(): number {
    return this.validationIndices.length;
  }

  /**
   * Pauses before the next batch. Resolves once the trainer waits there, so nothing of the run changes any more
   * (or once the run has ended, or was resumed, before reaching it).
   */
  pause(): Promise<void> {
    if (this.status === 'paused')
      return this.parked ? Promise.resolve() : new Promise((resolve) => this.parkedWaiters.push(resolve));
    if (this.status !== 'running') return Promise.resolve();
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.pausedGate = { promise, release };
    this.status = 'paused';
    return new Promise((resolve) => this.parkedWaiters.push(resolve));
  }

  resume(): void {
    this.settleParked();
    if (!this.pausedGate) return;
    const gate = this.pausedGate;
    this.pausedGate = null;
    this.status = 'running';
    gate.release();
  }

  private settleParked(): void {
    for (const resolve of this.parkedWaiters.splice(0)) resolve();
  }

  /** Stops before the next batch; the current epoch is abandoned, the state stays at the last whole epoch. */
  stop(): void {
    this.stopRequested = true;
    this.resume();
  }

  /**
   * The state after the last completed epoch, also while the next one is under way (paused in its middle): from
   * the copy of the engine kept at the epoch's end, which a stop or a divergence would put back.
   */
  lastEpochState(): TrainerState {
    const good = this.lastGood;
    if (!good) return this.getState();
    const { parameters, moments } = this.engine.canonicalOf(good.snapshot);
    return {
      epochsDone: this.epochsDone,
      step: good.step,
      shuffleState: good.shuffleState,
      parameters,
      moments,
      history: [...this.history],
      best: this.bestState(),
      finishedEarly: this.finishedEarly,
    };
  }

  /** The state after the last completed epoch (the engine's own: between epochs, or once the run has ended). */
  getState(): TrainerState {
    return {
      epochsDone: this.epochsDone,
      step: this.step,
      shuffleState: this.shuffle.getState(),
      parameters: this.engine.getParameters(),
      moments: this.engine.getMoments(),
      history: [...this.history],
      best: this.bestState(),
      finishedEarly: this.finishedEarly,
    };
  }

  private bestState(): BestEpoch | null {
    const best = this.best;
    if (!best) return null;
    if (!best.snapshot || best.epoch === this.epochsDone)
      return { epoch: best.epoch, validationCost: best.validationCost, state: null };
    const { parameters, moments } = this.engine.canonicalOf(best.snapshot);
    return {
      epoch: best.epoch,
      validationCost: best.validationCost,
      state: { step: best.step, shuffleState: best.shuffleState, parameters, moments },
    };
  }

  /** Non-zeros per sample in the last batch trained (how much sparsity the kernels exploit). */
  sparsityReport(): SparsityReport {
    return this.engine.sparsityReport(this.lastBatchRows);
  }

  /** Times the engine's kernels from now on (benchmarks; see engine/profile.ts). */
  profile(): ReturnType<Engine['profile']> {
    return this.engine.profile();
  }

  getParameters(): MlpParameters {
    return this.engine.getParameters();
  }

  /** The test set's outputs after the last whole epoch (with keepTestOutputs and a test set), else null. */
  get lastTestOutputs(): EpochTestOutputs | null {
    return this.testOutputs;
  }

  /** Trains until the configured number of epochs (counting resumed ones) or a stop. */
  async run(): Promise<RunSummary> {
    if (this.status !== 'idle') throw new Error('a trainer runs once');
    this.status = 'running';
    let trainingMs = 0;
    const { epochs, batchSize } = this.config;
    const adam = {
      learningRate: this.config.learningRate,
      beta1: this.config.beta1,
      beta2: this.config.beta2,
      epsilon: this.config.epsilon,
    };
    const n = this.trainIndices.length;
    const batches = Math.ceil(n / batchSize);
    const recipes = this.recipesOf();
    const epochsToRun = epochs - this.epochsDone;
    // Yield before the first batch too, so whoever started the run hears back at once.
    let lastYield = -Infinity;
    this.keepGoodState();
    // One buffer for every epoch's order (a fresh copy each epoch would leave 240 kB of garbage per epoch).
    const order = new Int32Array(this.trainIndices.length);

    try {
      while (this.epochsDone < epochs) {
        const epoch = this.epochsDone + 1;
        order.set(this.trainIndices);
        this.shuffle.shuffle(order);
        let costSum = 0;
        let correct = 0;
        let seen = 0;
        let epochMs = 0;
        for (let b = 0; b < batches; b++) {
          if (performance.now() - lastYield > YIELD_INTERVAL_MS) {
            await yieldToEventLoop();
            lastYield = performance.now();
          }
          if (this.pausedGate) {
            const gate = this.pausedGate.promise;
            this.parked = true;
            this.settleParked();
            await gate;
            this.parked = false;
          }
          if (this.stopRequested) {
            // The epoch in progress is abandoned: the state is exactly that of the last whole epoch.
            this.rollBack();
            return this.finish('stopped', trainingMs);
          }

          const batch = order.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize));
          const t0 = performance.now();
          const step = this.step + 1;
          adam.learningRate = learningRateAt(this.config, epoch, b + 1, batches);
          recipes.update(step);
          const result = this.engine.trainBatch(0, batch, step, adam, recipes.current);
          this.lastBatchRows = batch.length;
          const batchMs = performance.now() - t0;
          this.step++;
          epochMs += batchMs;
          trainingMs += batchMs;
          if (!Number.isFinite(result.costSum)) this.diverged(epoch, b + 1, result.costSum);
          costSum += result.costSum;
          correct += result.correct;
          seen += batch.length;
          if (this.onBatch) {
            const done = (epoch - 1 - (epochs - epochsToRun)) * batches + b + 1;
            const total = epochsToRun * batches;
            this.onBatch({
              epoch,
              epochs,
              batch: b + 1,
              batches,
              cost: result.costSum / batch.length,
              epochCost: costSum / seen,
              epochAccuracy: correct / seen,
              samplesPerSecond: seen / (epochMs / 1000),
              elapsedMs: trainingMs,
              etaMs: (trainingMs / done) * (total - done),
            });
          }
        }

        const e0 = performance.now();
        const validation = this.validationIndices.length ? this.engine.evaluate(0, this.validationIndices) : null;
        const test = this.hasTest ? this.engine.evaluate(1, null, { probabilities: this.keepTestOutputs }) : null;
        const summary: EpochSummary = {
          epoch,
          epochs,
          cost: costSum / n,
          trainAccuracy: correct / n,
          validationCost: validation ? validation.costSum / validation.count : null,
          validationAccuracy: validation ? validation.correct / validation.count : null,
          testCost: test ? test.costSum / test.count : null,
          testAccuracy: test ? test.correct / test.count : null,
          seconds: epochMs / 1000,
          evaluationSeconds: (performance.now() - e0) / 1000,
          samplesPerSecond: n / (epochMs / 1000),
          learningRate: adam.learningRate,
        };
        this.epochsDone = epoch;
        this.history.push(summary);
        if (test?.probabilities) this.testOutputs = { ...test, probabilities: test.probabilities, epoch };
        this.keepGoodState();
        this.keepBest(summary);
        const stopsEarly =
          this.config.patience > 0 &&
          this.best !== null &&
          this.epochsDone - this.best.epoch >= this.config.patience &&
          this.epochsDone < epochs;
        if (this.onEpoch) await this.onEpoch(summary, () => this.getState(), stopsEarly || this.epochsDone === epochs);
        if (stopsEarly) return this.finish('finished', trainingMs, true);
      }
      return this.finish('finished', trainingMs);
    } catch (error) {
      this.status = 'failed';
      try {
        this.rollBack();
      } catch {
        // An engine that failed this way cannot be restored; the error says what happened.
      }
      throw error;
    } finally {
      this.settleParked();
    }
  }

  async dispose(): Promise<void> {
    this.stop();
    await this.engine.dispose();
  }

  private finish(status: 'finished' | 'stopped', trainingMs: number, stoppedEarly = false): RunSummary {
    this.status = status;
    const history = [...this.history];
    // A finished run with restoreBest hands back its best epoch; a stopped one stays resumable where it is.
    const restoredBest = status === 'finished' && this.restoreBest();
    this.finishedEarly = status === 'finished' && this.epochsDone < this.config.epochs;
    return {
      status,
      epochsDone: this.epochsDone,
      history,
      trainingSeconds: trainingMs / 1000,
      bestEpoch: this.best?.epoch ?? null,
      stoppedEarly,
      restoredBest,
    };
  }

  /** The step's recipes: their settings are the run's, their random keys the step's. */
  private recipesOf(): { current: StepRecipes; update(step: number): void } {
    const { seed, dropout, shiftPixels, flip, weightDecay, labelSmoothing } = this.config;
    const current: StepRecipes = {
      weightDecay,
      labelSmoothing,
      dropout: dropout > 0 ? { probability: dropout, key: 0 } : null,
      augment: shiftPixels > 0 || flip ? { shift: shiftPixels, flip, key: 0 } : null,
    };
    return {
      current,
      update(step: number): void {
        if (current.dropout) current.dropout.key = stepKey(seed, 'dropout', step);
        if (current.augment) current.augment.key = stepKey(seed, 'augment', step);
      },
    };
  }

  /** After an epoch: remembers it when its validation cost is the lowest so far. */
  private keepBest(summary: EpochSummary): void {
    if (summary.validationCost === null || !(summary.validationCost < (this.best?.validationCost ?? Infinity))) return;
    const reuse = this.best?.snapshot ?? undefined;
    this.best = {
      epoch: summary.epoch,
      validationCost: summary.validationCost,
      snapshot: this.config.restoreBest ? this.engine.snapshot(reuse) : null,
      step: this.step,
      shuffleState: this.shuffle.getState(),
    };
  }

  /** Puts back the best epoch's state and history (restoreBest); whether that changed anything. */
  private restoreBest(): boolean {
    const best = this.best;
    if (!this.config.restoreBest || !best?.snapshot || best.epoch === this.epochsDone) return false;
    this.engine.restore(best.snapshot);
    this.step = best.step;
    this.shuffle = Random.fromState(best.shuffleState);
    this.epochsDone = best.epoch;
    this.history = this.history.slice(0, best.epoch);
    this.keepGoodState();
    return true;
  }

  private keepGoodState(): void {
    this.lastGood = {
      snapshot: this.engine.snapshot(this.lastGood?.snapshot),
      step: this.step,
      shuffleState: this.shuffle.getState(),
    };
  }

  /** Puts the engine, the step count and the shuffle stream back to the end of the last whole epoch. */
  private rollBack(): void {
    const good = this.lastGood;
    if (!good) return;
    this.engine.restore(good.snapshot);
    this.step = good.step;
    this.shuffle = Random.fromState(good.shuffleState);
  }

  /** Puts back the last good epoch's weights and stops with a message the user can act on. */
  private diverged(epoch: number, batch: number, costSum: number): never {
    this.rollBack();
    const what = Number.isNaN(costSum) ? 'NaN' : 'infinite';
    throw new FmnistError(
      'diverged',
      `training diverged at epoch ${epoch}, batch ${batch} (the cost became ${what}); ` +
        `the weights of epoch ${this.epochsDone} were kept. Try a lower learning rate than ${this.config.learningRate}`,
    );
  }
}

/** How a run ended beyond finished/stopped, as one line for people (early stopping, the best epoch kept); else null. */
export function runOutcome(summary: RunSummary, config: Pick<RunConfig, 'patience'>): string | null {
  const parts: string[] = [];
  const last = summary.history[summary.history.length - 1];
  if (summary.stoppedEarly && last) {
    const epochs = config.patience === 1 ? '1 epoch' : `${config.patience} epochs`;
    parts.push(
      `Stopped early after epoch ${last.epoch}: the validation cost had not improved for ${epochs} since epoch ${summary.bestEpoch}.`,
    );
  }
  if (summary.restoredBest)
    parts.push(`Kept the model of epoch ${summary.bestEpoch}, the one with the lowest validation cost.`);
  return parts.length ? parts.join(' ') : null;
}
