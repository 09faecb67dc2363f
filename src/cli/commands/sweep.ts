/**
 * `fmnist sweep`: train a grid of runs over one or two settings (each value × each other value × each seed), one
 * after another, each recorded in the run history as `fmnist train` records its runs, then print per combination
 * the mean and spread of the final and the best test accuracy. A sweep stopped (Ctrl-C, SIGTERM, SIGHUP) or
 * killed resumes with --resume; --list lists the sweeps. The plan, the record and the resuming are the core's
 * (src/core/sweep); this file parses the options, trains each run with a TrainingRun, and prints.
 */

import { resolve } from 'node:path';
import { appDataFolder, runsFolder } from '@core/app-folders';
import { StoreRecorder } from '@core/records/recorder';
import { RunStore } from '@core/records/store';
import { DEFAULT_CONFIG, describeRecipes, resolveFields, type RunConfig } from '@core/shared/config';
import { displayPath, FmnistError } from '@core/shared/errors';
import { fingerprint } from '@core/shared/dataset';
import { describeShape, mlpShape } from '@core/shared/mlp';
import { aggregateSweep, spreadText } from '@core/shared/sweep/aggregate';
import {
  checkSweepPlan,
  describeSettings,
  parseSweepList,
  SWEEP_FIELDS,
  SWEEP_SETTINGS,
  type SweepAxis,
  type SweepField,
  type SweepNames,
  type SweepValue,
  valueText,
} from '@core/shared/sweep/plan';
import { type SweepRecord, type SweepRunEntry, sweepDisplayName, sweepProgress } from '@core/shared/sweep/record';
import { type SweepEvent, type SweepJob, type SweepJobEnd, SweepRunner } from '@core/sweep/runner';
import type { SweepLock } from '@core/sweep/lock';
import { type ListedSweep, SweepStore, sweepsFolder } from '@core/sweep/store';
import { TrainingRun } from '@core/training/training-run';
import { type CommandSpec, kernelChoice, type OptionSpec, parseOptions, threadCount } from '../args';
import { type CliContext, SIGNAL_EXIT_CODES, type StopSignal, writeLine } from '../context';
import { table } from '../table';
import { collectGarbage } from '../memory';
import { bar, formatDuration, percent, plural, trainingOutput } from '../progress';
import { autosaveIntervalMs, givenWithPreset } from '../settings-options';
import { epochLine, loadTrainingData, TRAIN } from './train';

/** How the lists of the swept settings are explained in --help (each is also the plain option of `fmnist train`). */
const LIST_HELP: Record<SweepField, string> = {
  learningRate: "Adam's learning rate; a list such as 0.0005,0.001 sweeps it (default 0.001)",
  batchSize: 'samples per mini-batch; a list such as 64,128 sweeps it (default 128)',
  hiddenSizes: 'hidden layer sizes like 512,256; networks separated by / are swept: 512,256/256 (default 512,256)',
  dropout: 'dropout probability of the hidden units; a list such as 0,0.2 sweeps it (default 0)',
  weightDecay: 'AdamW decoupled weight decay; a list such as 0,0.01 sweeps it (default 0)',
  labelSmoothing: 'label smoothing of the targets; a list such as 0,0.1 sweeps it (default 0)',
  epochs: 'epochs to train; a list such as 10,20 sweeps it (default 50)',
  shiftPixels: 'augmentation: shift images by up to N pixels; a list such as 0,1 sweeps it (default 0)',
};

/** `fmnist train` options a sweep has no use for: each run has its own record and checkpoint, and --seeds. */
const TRAIN_ONLY = ['seed', 'out', 'resume', 'allow-other-data', 'autosave', 'no-record', 'json', 'name'];
/** The options that still apply when a sweep resumes with its own settings. */
const RESUME_OPTIONS = ['resume', 'json', 'threads', 'kernels', 'autosave-every'];

const FIELD_OF_OPTION = new Map<string, SweepField>(SWEEP_FIELDS.map((field) => [SWEEP_SETTINGS[field].option, field]));

function sweepOptions(): Record<string, OptionSpec> {
  const options: Record<string, OptionSpec> = {};
  for (const [name, spec] of Object.entries(TRAIN.options)) {
    if (TRAIN_ONLY.includes(name)) continue;
    const field = FIELD_OF_OPTION.get(name);
    options[name] = field ? { kind: 'string', value: 'LIST', help: LIST_HELP[field] } : spec;
    if (name === 'hidden')
      options.seeds = {
        kind: 'string',
        value: 'LIST',
        help: 'random seeds, comma-separated: every combination is trained once per seed (default 1)',
      };
  }
  return {
    ...options,
    name: { kind: 'string', value: 'TEXT', help: 'a name for the sweep; its runs are named after it' },
    json: { kind: 'boolean', help: 'print one JSON object at the end: the plan, every run, every combination' },
    resume: { kind: 'string', value: 'ID', help: 'continue a sweep that was stopped (or show a finished one)' },
    list: { kind: 'boolean', help: 'list the sweeps: id, name, settings swept, runs done, status' },
  };
}

export const SWEEP: CommandSpec = {
  name: 'sweep',
  summary: 'train every combination of one or two settings (and seeds) and compare their test accuracy',
  usage: [
    'fmnist sweep [--lr LIST] [--dropout LIST] … [--seeds LIST] [other fmnist train options] [--name TEXT]',
    'fmnist sweep --resume ID [--json]     continue a stopped sweep (a finished one: its table again)',
    'fmnist sweep --list [--json]          every sweep: id, name, settings swept, runs done, status',
    '',
    'One or two settings get two or more values each; every combination is trained once per seed, one run after',
    'another, each recorded like a run of fmnist train. The other fmnist train options set what the runs share.',
    'The table gives the mean ± the sample standard deviation (n − 1) over the seeds; — for a single seed.',
  ],
  options: sweepOptions(),
  examples: [
    'fmnist sweep --lr 0.0005,0.001,0.002 --dropout 0,0.2 --seeds 1,2,3 --epochs 10',
    'fmnist sweep --hidden 512,256/256/128 --epochs 5 --limit 10000 --name widths',
    'fmnist sweep --preset quick --weight-decay 0,0.01,0.05 --json',
    'fmnist sweep --resume 20261207-101500-2a9c',
    'fmnist sweep --list',
  ],
};

/** Messages name the settings by their options here. */
const OPTION_NAMES: SweepNames = (field) => (field === 'seed' ? '--seeds' : `--${SWEEP_SETTINGS[field].option}`);

/**
 * What the stop signals do: before the first run exists one ends the command at once (nothing was trained);
 * then the first stops the sweep (its run after the current batch, resumable), and a second quits at once.
 */
class StopSignals {
  stoppedBy: StopSignal | null = null;
  private runner: SweepRunner | null = null;

  constructor(private readonly say: (text: string) => void) {}

  running(runner: SweepRunner): void {
    this.runner = runner;
  }

  receive(signal: StopSignal): void {
    if (!this.runner || this.stoppedBy) {
      if (!this.runner) this.say(`${signal}: stopped before training began; nothing was trained.`);
      process.exit(SIGNAL_EXIT_CODES[signal]);
    }
    this.stoppedBy = signal;
    this.runner.stop();
    const key = signal === 'SIGINT' ? 'Ctrl-C' : 'the signal';
    this.say(
      `${signal === 'SIGINT' ? 'Stopping' : `${signal}: stopping`} the sweep after this batch (${key} again to quit at once)…`,
    );
  }
}

export async function runSweep(argv: string[], context: CliContext): Promise<number> {
  if (argv.some((arg) => arg === '--seed' || arg.startsWith('--seed=')))
    throw new FmnistError(
      'bad-option',
      '--seed: a sweep takes --seeds LIST, one seed or several (see fmnist sweep --help)',
    );
  const options = parseOptions(SWEEP, argv);
  if (options.list) {
    const other = Object.keys(options).find((name) => name !== 'list' && name !== 'json');
    if (other) throw new FmnistError('bad-option', `--list takes no other option but --json, got --${other}`);
    return listSweeps(options.json === true, context);
  }
  const signals = new StopSignals((text) => writeLine(context.stderr, text));
  const removeHandler = context.onStopSignal((signal) => signals.receive(signal));
  try {
    return await sweep(options, context, signals);
  } finally {
    removeHandler();
  }
}

/** The plan and the shared settings of a new sweep, from the options; refused in one line before any work. */
function planFromOptions(options: Record<string, unknown>): { axes: SweepAxis[]; seeds: number[]; base: RunConfig } {
  const axes: SweepAxis[] = [];
  const single: Partial<Record<SweepField, SweepValue>> = {};
  const plain: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    const field = FIELD_OF_OPTION.get(name);
    if (!field) {
      if (name !== 'seeds') plain[name] = value;
      continue;
    }
    const values = parseSweepList(field, value as string, OPTION_NAMES);
    if (values.length > 1) axes.push({ field, values });
    else single[field] = values[0];
  }
  // The settings the runs share, each checked on its own as fmnist train checks it (how they combine is checked
  // per run, with its swept values).
  const base = resolveFields({ ...givenWithPreset(plain), ...single });
  const seeds =
    options.seeds === undefined
      ? [base.seed]
      : (parseSweepList('seed', options.seeds as string, OPTION_NAMES) as number[]);
  const plan = checkSweepPlan({ axes, seeds }, base, OPTION_NAMES);
  return { ...plan, base };
}

async function sweep(options: Record<string, unknown>, context: CliContext, signals: StopSignals): Promise<number> {
  const json = options.json === true;
  const { stdout } = context;
  const { status, info, warn, out } = trainingOutput(context, json);
  const autosaveEveryMs = autosaveIntervalMs(options['autosave-every']);
  const runStore = new RunStore(runsFolder(appDataFolder(context.env)));
  const store = new SweepStore(sweepsFolder(runStore.folder));
  const resumeId = options.resume as string | undefined;

  let record: SweepRecord;
  let lock: SweepLock;
  let data: Awaited<ReturnType<typeof loadTrainingData>>;
  if (resumeId !== undefined) {
    const other = Object.keys(options).find((name) => !RESUME_OPTIONS.includes(name));
    if (other)
      throw new FmnistError(
        'bad-option',
        `--${other} does not apply with --resume: a sweep resumes with the settings it began with`,
      );
    const found = await store.find(resumeId);
    lock = await store.claim(found.id);
    try {
      // As it is now that this process holds it.
      record = await store.read(found.id);
      if (options.threads !== undefined) record.base.threads = threadCount(options.threads);
      if (options.kernels !== undefined) record.kernels = kernelChoice(options.kernels);
      kernelChoice(record.kernels);
      data = await loadTrainingData(record.data.train[0], record.data.test?.[0], context.env);
      const now = fingerprint(data.train);
      if (record.data.fingerprint && record.data.fingerprint !== now)
        throw new FmnistError(
          'bad-input',
          `is not the training data sweep ${record.id} began with (fingerprint ${record.data.fingerprint}, now ${now}): ` +
            'put the files back as they were to resume it',
          { file: record.data.train[0] },
        );
    } catch (error) {
      await lock.release();
      throw error;
    }
    info(`Resuming sweep ${record.id}, ${sweepDisplayName(record)}: ${describeProgress(record)}.`);
  } else {
    const kernels = kernelChoice(options.kernels);
    const { axes, seeds, base } = planFromOptions(options);
    data = await loadTrainingData(options.train as string | undefined, options.test as string | undefined, context.env);
    const sources = {
      train: (data.sources?.train ?? []).map((file) => resolve(file)),
      test: data.sources?.test?.map((file) => resolve(file)) ?? null,
    };
    const created = await store.begin({
      name: (options.name as string | undefined) ?? '',
      origin: 'cli',
      plan: { axes, seeds },
      base,
      kernels,
      data: sources,
    });
    record = created.record;
    lock = created.lock;
    info(`Sweep ${record.id}, ${sweepDisplayName(record)}: ${describePlan(record)}.`);
  }
  info(`Loaded ${data.description}.`);
  if (!data.test) info('No test set found beside the training data: pass --test PATH to compare test accuracy.');
  info(`The runs share ${describeShared(record)}; fmnist sweep --resume ${record.id} continues the sweep if it stops.`);

  const train = async (job: SweepJob): Promise<SweepJobEnd> => {
    // Stopped before this run began: none is recorded (an empty run folder would be listed as damaged).
    if (job.stopRequested()) return { runId: null, status: 'stopped', summary: null };
    collectGarbage();
    const recorder = new StoreRecorder(runStore, {
      origin: 'cli',
      name: job.name,
      checkpoint: null,
      resumedFile: job.resume?.file ?? null,
      sweep: job.sweep,
      onProblem: (problem) =>
        warn(
          problem
            ? `Cannot record the run: ${problem} (training goes on; each epoch tries again)`
            : 'Recording the run works again.',
        ),
    });
    recorder.startWithCheckpoint(recorder.checkpointFiles.last);
    const run = await TrainingRun.create({
      config: job.config,
      train: data.train,
      test: data.test,
      kernels: kernelChoice(record.kernels),
      resume: job.resume ? { state: job.resume.state, costCurve: job.resume.costCurve } : null,
      data: (trainedOn) => job.data({ fingerprint: trainedOn, sources: data.sources }),
      autosaveFiles: [recorder.checkpointFiles.last],
      autosaveIntervalMs: autosaveEveryMs,
      runFiles: recorder.checkpointFiles,
      record: recorder,
      onBatch: (p) =>
        status.update(
          `run ${job.position}/${job.total}  epoch ${p.epoch}/${p.epochs} ${bar(p.batch / p.batches, 20)} ` +
            `batch ${p.batch}/${p.batches}  cost ${p.epochCost.toFixed(4)}  ETA ${formatDuration(p.etaMs)}`,
          p.batch === p.batches,
        ),
      onEpoch: (summary) => out(`  ${epochLine(summary)}`),
      onAutosave: (failure, changed) => {
        if (!changed) return;
        warn(
          failure
            ? `Autosave failed after epoch ${failure.epoch}: ${failure.file}: ${failure.reason} (training goes on; the next autosave tries again)`
            : 'Autosave works again.',
        );
      },
    });
    try {
      if (job.stopRequested()) return { runId: null, status: 'stopped', summary: null };
      job.onStop(() => {
        status.clear();
        run.stop();
      });
      await job.started(recorder.id);
      const summary = await run.run();
      return { runId: recorder.id, status: summary.status, summary };
    } finally {
      status.clear();
      await run.dispose();
    }
  };

  const runner = new SweepRunner({
    sweeps: store,
    runs: runStore,
    record,
    lock,
    train,
    onEvent: (event) => report(event, out, warn),
  });
  signals.running(runner);
  const started = Date.now();
  try {
    await runner.run();
  } catch (error) {
    if (error instanceof FmnistError)
      throw new FmnistError(
        error.kind,
        `${error.message} (sweep ${record.id} stopped there; fmnist sweep --resume ${record.id} continues it)`,
      );
    throw error;
  }
  if (json) writeLine(stdout, JSON.stringify(sweepJson(record, store)));
  else {
    writeLine(stdout);
    for (const line of resultTable(record)) writeLine(stdout, line);
  }
  const { done, total } = sweepProgress(record);
  if (record.status === 'finished') {
    info(
      `Sweep ${record.id} finished: ${done} of ${plural(total, 'run')} done in ${formatDuration(Date.now() - started)}.`,
    );
    return 0;
  }
  // Said with --json too: it is how the work goes on.
  warn(
    `Sweep ${record.id} stopped with ${done} of ${plural(total, 'run')} done: fmnist sweep --resume ${record.id} continues it.`,
  );
  return SIGNAL_EXIT_CODES[signals.stoppedBy ?? 'SIGINT'];
}

/** "lr 0.0005, 0.001 × dropout 0, 0.2 × seeds 1, 2: 8 runs". */
function describePlan(record: SweepRecord): string {
  const axes = record.plan.axes.map(
    (axis) => `${SWEEP_SETTINGS[axis.field].short} ${axis.values.map(valueText).join(', ')}`,
  );
  const seeds = `${record.plan.seeds.length === 1 ? 'seed' : 'seeds'} ${record.plan.seeds.join(', ')}`;
  return `${[...axes, seeds].join(' × ')}: ${plural(record.runs.length, 'run')}`;
}

/** The network, epochs, batch size and learning rate the runs share (those swept left out), and any recipes. */
function describeShared(record: SweepRecord): string {
  const swept = new Set<string>(record.plan.axes.map((axis) => axis.field));
  const { base } = record;
  const parts = [
    swept.has('hiddenSizes') ? null : `the network ${describeShape(mlpShape(base.hiddenSizes))}`,
    swept.has('epochs') ? null : plural(base.epochs, 'epoch'),
    swept.has('batchSize') ? null : `batch ${base.batchSize}`,
    swept.has('learningRate') ? null : `Adam lr ${base.learningRate}`,
    base.limit ? `the first ${base.limit} training images` : null,
  ];
  // The recipes swept are each run's own: left out as they are by default.
  const shared: Record<string, unknown> = { ...base };
  for (const field of swept) shared[field] = DEFAULT_CONFIG[field as keyof RunConfig];
  const recipes = describeRecipes(shared as unknown as RunConfig);
  return [...parts.filter((part) => part !== null), recipes].filter((part) => part).join(', ');
}

function describeProgress(record: SweepRecord): string {
  return `${describePlan(record)}, ${sweepProgress(record).done} done`;
}

/** What the sweep says as it goes, on stdout (as `fmnist train` prints its epochs) and notices on stderr. */
function report(event: SweepEvent, out: (text: string) => void, warn: (text: string) => void): void {
  if (event.type === 'notice') {
    warn(event.message);
    return;
  }
  const { entry, position, total } = event;
  const head = `run ${position} of ${total}: ${describeSettings(entry.settings, entry.seed)}`;
  if (event.type === 'skipped') {
    out(`${head}: ${entry.status === 'diverged' ? 'diverged' : 'finished'} before (run ${entry.runId ?? '—'})`);
  } else if (event.type === 'run-started') {
    const how = event.continuing
      ? ` (continuing run ${event.continuing.runId} after epoch ${event.continuing.epochsDone})`
      : event.restartedFrom
        ? ` (started again: run ${event.restartedFrom} has no epoch to continue from)`
        : '';
    out(`${head}${how}`);
  } else if (entry.status === 'finished' && entry.result) {
    const { finalTestAccuracy, bestTestAccuracy, bestTestEpoch } = entry.result;
    out(
      `  finished: test ${percent(finalTestAccuracy)}` +
        (bestTestEpoch === null ? '' : `, best ${percent(bestTestAccuracy)} at epoch ${bestTestEpoch}`) +
        ` (run ${entry.runId})`,
    );
  } else if (entry.status === 'diverged') {
    out(`  diverged: ${entry.error} (run ${entry.runId})`);
  } else {
    out(`  stopped after ${plural(entry.result?.epochs ?? 0, 'epoch')} (run ${entry.runId})`);
  }
}

/** One row per combination: its values, the runs with a result, final and best test mean ± spread, the run ids. */
function resultTable(record: SweepRecord): string[] {
  const fields = record.plan.axes.map((axis) => axis.field);
  const rows = [[...fields.map((f) => SWEEP_SETTINGS[f].short), 'seeds', 'final test', 'best test', 'runs']];
  for (const combination of aggregateSweep(record)) {
    const n = combination.finalTestAccuracy.n;
    rows.push([
      ...fields.map((field) => valueText(combination.settings[field]!)),
      n === combination.planned ? String(n) : `${n} of ${combination.planned}`,
      spreadText(combination.finalTestAccuracy),
      spreadText(combination.bestTestAccuracy),
      combination.runIds.map((id) => id ?? '—').join(', '),
    ]);
  }
  const lines = table(rows, [...fields.map(() => true), true, true, true, false]);
  lines.push(
    '',
    'final test: the test accuracy of the model each run ended with; best test: its best epoch. Mean ± spread over',
    'the seeds; the spread is the sample standard deviation (n − 1), — for a single seed.',
  );
  for (const entry of record.runs.filter((run) => run.status === 'diverged'))
    lines.push(`Diverged: ${describeSettings(entry.settings, entry.seed)} (run ${entry.runId}): ${entry.error}`);
  return lines;
}

function runJson(entry: SweepRunEntry): Record<string, unknown> {
  return {
    index: entry.index,
    settings: entry.settings,
    seed: entry.seed,
    status: entry.status,
    run: entry.runId,
    earlierRuns: entry.earlierRunIds,
    epochs: entry.result?.epochs ?? null,
    finalTestAccuracy: entry.result?.finalTestAccuracy ?? null,
    bestTestAccuracy: entry.result?.bestTestAccuracy ?? null,
    bestTestEpoch: entry.result?.bestTestEpoch ?? null,
    error: entry.error,
  };
}

function sweepJson(record: SweepRecord, store: SweepStore): Record<string, unknown> {
  return {
    type: 'sweep',
    id: record.id,
    name: record.name,
    status: record.status,
    file: store.file(record.id),
    plan: {
      settings: record.plan.axes.map((axis) => ({
        setting: axis.field,
        option: SWEEP_SETTINGS[axis.field].option,
        values: axis.values,
      })),
      seeds: record.plan.seeds,
    },
    base: record.base,
    data: record.data,
    kernels: record.kernels,
    runs: record.runs.map(runJson),
    combinations: aggregateSweep(record).map((combination) => ({
      settings: combination.settings,
      cell: combination.cell,
      planned: combination.planned,
      finished: combination.finished,
      diverged: combination.diverged,
      runs: combination.runIds,
      finalTestAccuracy: combination.finalTestAccuracy,
      bestTestAccuracy: combination.bestTestAccuracy,
    })),
    spread: 'the sample standard deviation over the seeds (n - 1); null for a single seed',
  };
}

/** Local date and time to the minute, as people read it. */
function localTime(iso: string): string {
  const date = new Date(iso);
  if (!Number.isFinite(date.getTime())) return '—';
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

async function listSweeps(json: boolean, context: CliContext): Promise<number> {
  const store = new SweepStore(sweepsFolder(runsFolder(appDataFolder(context.env))));
  const { sweeps, damaged, warnings } = await store.list();
  for (const warning of warnings) writeLine(context.stderr, `Skipped ${warning.replace(/ \(skipped\)$/, '')}`);
  for (const sweep of damaged)
    writeLine(context.stderr, `Sweep ${sweep.id} is damaged: ${displayPath(sweep.file)}: ${sweep.problem}`);
  const listed = sweeps.map(({ listedStatus, ...record }: ListedSweep) => ({ ...record, status: listedStatus }));
  if (json) {
    writeLine(
      context.stdout,
      JSON.stringify({ type: 'sweeps', folder: store.folder, sweeps: listed, damaged, warnings }),
    );
    return 0;
  }
  if (listed.length === 0) {
    writeLine(context.stdout, `No sweeps recorded yet in ${displayPath(store.folder)}.`);
    return 0;
  }
  const rows = [['id', 'name', 'swept', 'seeds', 'runs', 'status', 'started']];
  for (const sweep of listed) {
    const { done, total } = sweepProgress(sweep);
    const name = Array.from(displayPath(sweepDisplayName(sweep)));
    rows.push([
      sweep.id,
      name.length > 28 ? `${name.slice(0, 27).join('')}…` : name.join(''),
      sweep.plan.axes.map((axis) => SWEEP_SETTINGS[axis.field].short).join(' × '),
      String(sweep.plan.seeds.length),
      `${done}/${total}`,
      sweep.status,
      localTime(sweep.createdAt),
    ]);
  }
  for (const line of table(rows, [false, false, false, true, true, false, false])) writeLine(context.stdout, line);
  writeLine(context.stdout);
  writeLine(context.stdout, `${plural(listed.length, 'sweep')} in ${displayPath(store.folder)}`);
  return 0;
}
