/**
 * `fmnist runs`: the training runs recorded in the data folder's runs folder (by `fmnist train` and the app):
 * list them (with the disk space of each run's own checkpoints), show one, compare several, export their
 * per-epoch history as CSV, rename, annotate, and delete records or only their files. Ids may be shortened to
 * a prefix that names one run. A damaged record is named with what is wrong and can be deleted; a damaged
 * history leaves the rest readable.
 */

import { stat } from 'node:fs/promises';
import Papa from 'papaparse';
import { dirname, join } from 'node:path';
import { displayPath, FmnistError, userMessage } from '@core/shared/errors';
import { writeFileAtomic } from '@core/io';
import { appDataFolder, runsFolder } from '@core/app-folders';
import {
  differingSettings,
  displayName,
  elsewhereText,
  originText,
  type RunRecord,
  settingText,
  wallSeconds,
} from '@core/shared/run-record';
import { importRun } from '@core/records/import';
import { basisText, durationText, formatRunTime, sortRuns } from '@core/shared/run-display';
import { type DamagedRun, type RunList, RunStore } from '@core/records/store';
import type { EpochSummary } from '@core/shared/events';
import { type CommandSpec, parseOptions } from '../args';
import { type CliContext, writeLine } from '../context';
import { checkOutputFile } from '../output-target';
import { table } from '../table';
import { formatDuration, percent, plural } from '../progress';
import { formatBytes } from '@core/shared/format';

export const RUNS: CommandSpec = {
  name: 'runs',
  summary: 'list, show, compare, export, rename, annotate and delete the recorded training runs',
  usage: [
    'fmnist runs [list] [--json]               every run, newest first: id, name, status, start, epochs,',
    '                                          test accuracy, time from start to end',
    "fmnist runs show ID [--json]              a run's settings, data, result and per-epoch history",
    'fmnist runs compare ID ID... [--json]     the settings that differ and the results side by side',
    'fmnist runs export ID... --out FILE       the per-epoch history of the runs as one CSV file',
    'fmnist runs rename ID NAME                (an empty NAME removes the name)',
    'fmnist runs note ID TEXT                  (an empty TEXT removes the note)',
    "fmnist runs delete ID... [--files-only]   records and the runs' own checkpoints (copies saved elsewhere stay);",
    '                                          --files-only deletes the checkpoints and keeps the records',
    'fmnist runs import FILE [--name NAME]     record a run continued elsewhere (the checkpoint train.py of',
    '                                          fmnist export --format pytorch wrote), with its whole history',
    '',
    "fmnist train and the app record every run in the runs folder of the app's data folder (FMNIST_STUDIO_DATA",
    "sets the data folder), with the run's own checkpoint. An ID may be shortened to any prefix that names one run.",
  ],
  options: {
    json: { kind: 'boolean', help: 'list, show, compare: print one JSON object' },
    out: { kind: 'string', value: 'FILE', help: 'export: the CSV file to write' },
    name: {
      kind: 'string',
      value: 'NAME',
      help: "import: the run's name (default: its settings and where it trained)",
    },
    'files-only': { kind: 'boolean', help: "delete: only the runs' own checkpoints; the records stay" },
    force: {
      kind: 'boolean',
      help: 'delete: also a run recorded as training on another computer (which this one cannot check)',
    },
  },
  examples: [
    'fmnist runs',
    'fmnist runs show 20261125-143012',
    'fmnist runs compare 20261125-143012 20261125-150130',
    'fmnist runs export 20261125-143012 20261125-150130 --out curves.csv',
    'fmnist runs rename 20261125-143012 "wide, lr 0.002"',
    'fmnist runs delete 20261125-143012',
    'fmnist runs delete --files-only 20261125-143012',
    'fmnist runs import run-pytorch/run.safetensors',
  ],
};

const SUBCOMMANDS = ['list', 'show', 'compare', 'export', 'rename', 'note', 'delete', 'import'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];
/** The options each subcommand takes. */
const SUBCOMMAND_OPTIONS: Record<Subcommand, string[]> = {
  list: ['json'],
  show: ['json'],
  compare: ['json'],
  export: ['out'],
  rename: [],
  note: [],
  delete: ['files-only', 'force'],
  import: ['name'],
};

function usageError(problem: string): FmnistError {
  return new FmnistError('bad-option', `${problem} (see fmnist runs --help)`);
}

/** Splits the arguments into words (subcommand, ids, a name) and options with their values; `--` ends options. */
function splitArguments(argv: string[]): { words: string[]; options: string[] } {
  const words: string[] = [];
  const options: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg.length === 2) {
      words.push(arg);
      continue;
    }
    options.push(arg);
    const spec = RUNS.options[arg.slice(2).split('=')[0]];
    if (spec && spec.kind !== 'boolean' && !arg.includes('=') && i + 1 < argv.length) options.push(argv[++i]);
  }
  return { words, options };
}

export async function runRuns(argv: string[], context: CliContext): Promise<number> {
  const { words, options: optionArgs } = splitArguments(argv);
  const first = words[0];
  const subcommand: Subcommand | null =
    first === undefined ? 'list' : (SUBCOMMANDS as readonly string[]).includes(first) ? (first as Subcommand) : null;
  if (!subcommand) throw usageError(`unknown subcommand "${first}" (${SUBCOMMANDS.join(', ')})`);
  const args = words.slice(first === undefined ? 0 : 1);
  const options = parseOptions(RUNS, optionArgs);
  for (const name of Object.keys(options)) {
    if (!SUBCOMMAND_OPTIONS[subcommand].includes(name))
      throw usageError(`--${name} does not apply to fmnist runs ${subcommand}`);
  }
  const store = new RunStore(runsFolder(appDataFolder(context.env)));
  const out = (line = ''): void => writeLine(context.stdout, line);
  const json = options.json === true;
  switch (subcommand) {
    case 'list': {
      if (args.length > 0)
        throw usageError(`fmnist runs list takes no ids, got "${args[0]}" (fmnist runs show ID shows one)`);
      const { runs, damaged, warnings } = await store.list();
      for (const warning of warnings) writeLine(context.stderr, `Skipped ${warning.replace(/ \(skipped\)$/, '')}`);
      for (const run of damaged)
        writeLine(
          context.stderr,
          `Run ${run.id} is damaged: ${displayPath(run.file)}: ${run.problem} (fmnist runs delete ${run.id} removes it)`,
        );
      if (json) out(JSON.stringify({ type: 'runs', folder: store.folder, runs, damaged, warnings }));
      else listRuns(runs, damaged.length, store.folder, out);
      return 0;
    }
    case 'show': {
      if (args.length !== 1) throw usageError('fmnist runs show takes one run id');
      const run = await store.find(args[0]);
      // A damaged history leaves the summary to show, with one line saying what is wrong.
      let history: EpochSummary[] = [];
      let historyProblem: string | null = null;
      try {
        history = await store.history(run.id);
      } catch (error) {
        historyProblem = userMessage(error);
        writeLine(context.stderr, `The history of run ${run.id} cannot be read: ${historyProblem}`);
      }
      if (json) out(JSON.stringify({ type: 'run', ...run, history, historyProblem }));
      else await showRun(run, history, out);
      return 0;
    }
    case 'compare': {
      if (args.length < 2) throw usageError('fmnist runs compare takes two or more run ids');
      const runs = await findAll(store, args);
      if (json) {
        out(
          JSON.stringify({
            type: 'comparison',
            differingSettings: differingSettings(runs),
            runs: runs.map((run) => ({
              id: run.id,
              name: run.name,
              status: run.status,
              config: run.config,
              metrics: run.metrics,
            })),
          }),
        );
      } else {
        compareRuns(runs, out);
      }
      return 0;
    }
    case 'export': {
      if (args.length < 1) throw usageError('fmnist runs export takes one or more run ids');
      const file = options.out as string | undefined;
      if (!file) throw usageError('fmnist runs export needs --out FILE');
      await checkOutputFile(file);
      const runs = await findAll(store, args);
      const rows = await exportRows(store, runs, (problem) =>
        writeLine(context.stderr, `Skipped the history of ${problem}`),
      );
      // escapeFormulae: a name starting with = + - @ (or a tab or return) must not run as a formula in a spreadsheet.
      await writeFileAtomic(file, new TextEncoder().encode(`${Papa.unparse(rows, { escapeFormulae: true })}\r\n`));
      writeLine(
        context.stderr,
        `Wrote ${plural(rows.data.length, 'row')} (${plural(rows.runs, 'run')}) to ${displayPath(file)}.`,
      );
      return 0;
    }
    case 'rename':
    case 'note': {
      if (args.length < 1)
        throw usageError(
          `fmnist runs ${subcommand} takes a run id and the ${subcommand === 'rename' ? 'name' : 'text'}`,
        );
      const run = await store.find(args[0]);
      // The rest of the words are the text, so quoting is optional.
      const text = args.slice(1).join(' ');
      const edited = await store.edit(run.id, subcommand === 'rename' ? { name: text } : { note: text });
      if (subcommand === 'rename')
        out(
          edited.name ? `Run ${run.id} is now named "${displayPath(edited.name)}".` : `Run ${run.id} has no name now.`,
        );
      else out(edited.note ? `Run ${run.id} has a note now.` : `Run ${run.id} has no note now.`);
      return 0;
    }
    case 'import': {
      if (args.length !== 1) throw usageError('fmnist runs import takes one checkpoint file');
      const run = await importRun(store, args[0], { name: options.name as string | undefined });
      const elsewhere = run.trainedElsewhere;
      out(
        `Recorded run ${run.id} (${displayPath(run.name)}): ${plural(run.metrics.epochs, 'epoch')}` +
          (elsewhere ? ` (${elsewhere.fromEpoch}–${elsewhere.toEpoch} trained by ${elsewhereText(elsewhere)})` : '') +
          `, final test accuracy ${percent(run.metrics.finalTestAccuracy)}; its own copy of the model is ` +
          `${displayPath(run.checkpoint ?? '')}.`,
      );
      return 0;
    }
    case 'delete': {
      if (args.length < 1) throw usageError('fmnist runs delete takes one or more run ids');
      const listing = await store.list();
      const found: (RunRecord | DamagedRun)[] = [];
      for (const id of args) {
        const run = await store.resolve(id, listing);
        if (!found.some((f) => f.id === run.id)) found.push(run);
      }
      const ids = found.map((run) => run.id);
      if (options['files-only']) {
        await store.removeFiles(ids, { force: options.force === true });
        for (const run of found) {
          const bytes = run.files?.bytes ?? 0;
          out(
            bytes
              ? `Deleted the files of run ${run.id} (${formatBytes(bytes)}); its record stays.`
              : `Run ${run.id} had no files of its own; its record stays.`,
          );
        }
        return 0;
      }
      await store.remove(ids, { force: options.force === true });
      for (const run of found) {
        if ('problem' in run) {
          out(`Deleted the damaged run ${run.id}.`);
          continue;
        }
        const copies = run.copies?.length
          ? `; copies saved elsewhere are kept (${run.copies.map(displayPath).join(', ')})`
          : '';
        const bytes = run.files?.bytes ? ` and its files (${formatBytes(run.files.bytes)})` : '';
        out(`Deleted run ${run.id}${run.name ? ` (${displayPath(run.name)})` : ''}${bytes}${copies}.`);
      }
      return 0;
    }
  }
}

/** The runs the ids (or prefixes) name, each once, in the order given; the folder is listed once. */
async function findAll(store: RunStore, ids: string[]): Promise<RunRecord[]> {
  const listing: RunList = await store.list();
  const found: RunRecord[] = [];
  for (const id of ids) {
    const run = await store.find(id, listing);
    if (!found.includes(run)) found.push(run);
  }
  return found;
}

/** The run's name cut to `max` characters, the last an ellipsis (no space before it). */
function shortName(run: RunRecord, max = 32): string {
  const name = Array.from(displayPath(run.name));
  return name.length > max
    ? `${name
        .slice(0, max - 1)
        .join('')
        .trimEnd()}…`
    : name.join('');
}

function listRuns(runs: RunRecord[], damaged: number, folder: string, out: (line?: string) => void): void {
  if (runs.length === 0) {
    out(
      damaged
        ? `No intact runs in ${displayPath(folder)}; ${plural(damaged, 'damaged record')} (named above).`
        : `No runs recorded yet in ${displayPath(folder)}: fmnist train and the app record every run there.`,
    );
    return;
  }
  const rows = [['id', 'name', 'status', 'started', 'epochs', 'final test', 'best test', 'time', 'files']];
  // In the app's order (its Runs table before a column is clicked), with its date format.
  for (const run of sortRuns(runs)) {
    rows.push([
      run.id,
      shortName(run),
      run.status,
      formatRunTime(run.startedAt),
      String(run.metrics.epochs),
      percent(run.metrics.finalTestAccuracy),
      percent(run.metrics.bestTestAccuracy),
      formatDuration(wallSeconds(run) * 1000),
      run.files?.bytes ? formatBytes(run.files.bytes) : '—',
    ]);
  }
  for (const line of table(rows, [false, false, false, false, true, true, true, true, true])) out(line);
  out();
  const bytes = runs.reduce((sum, run) => sum + (run.files?.bytes ?? 0), 0);
  out(
    `${plural(runs.length, 'run')}${damaged ? ` and ${plural(damaged, 'damaged record')}` : ''} in ${displayPath(folder)}; their own files take ${formatBytes(bytes)}`,
  );
  out('Time is from start to end; fmnist runs show ID says how much of it was training.');
}

function filesText(files: readonly string[] | null | undefined): string {
  return files && files.length ? files.map(displayPath).join(', ') : 'none';
}

async function showRun(run: RunRecord, history: EpochSummary[], out: (line?: string) => void): Promise<void> {
  const field = (label: string, text: string): void => out(`${label.padEnd(12)} ${text}`);
  field('Run', `${run.id}${run.name ? `  "${displayPath(run.name)}"` : ''}`);
  field('Status', `${run.status}${run.error ? `: ${displayPath(run.error)}` : ''}`);
  field('Trained by', `${originText(run)} ${run.appVersion} (process ${run.pid} on ${displayPath(run.host)})`);
  if (run.trainedElsewhere)
    field(
      'Elsewhere',
      `epochs ${run.trainedElsewhere.fromEpoch}–${run.trainedElsewhere.toEpoch} by ${elsewhereText(run.trainedElsewhere)}`,
    );
  field(
    'Started',
    `${formatRunTime(run.startedAt, true)}${run.endedAt ? `, ended ${formatRunTime(run.endedAt, true)}` : ''}`,
  );
  field('Time', durationText(run));
  if (run.note) {
    const [head, ...rest] = run.note.split('\n');
    field('Note', displayPath(head));
    for (const line of rest) field('', displayPath(line));
  }
  const config = run.config as unknown as Record<string, unknown>;
  field('Preset', basisText(run.config));
  field(
    'Settings',
    Object.keys(config)
      .map((key) => `${key} ${settingText(config[key])}`)
      .join(', '),
  );
  field(
    'Data',
    `${filesText(run.data.sources?.train)}${run.data.fingerprint ? ` (fingerprint ${run.data.fingerprint})` : ''}`,
  );
  field('Test data', filesText(run.data.sources?.test));
  if (run.data.history) {
    for (const segment of run.data.history)
      field(
        '',
        `from epoch ${segment.fromEpoch}: ${filesText(segment.sources?.train)} (fingerprint ${segment.fingerprint})`,
      );
  }
  if (run.resumedFrom)
    field(
      'Continued',
      `a model of ${plural(run.resumedFrom.epochsDone, 'epoch')}${run.resumedFrom.file ? ` from ${displayPath(run.resumedFrom.file)}` : ''}`,
    );
  const exists = async (file: string): Promise<boolean> =>
    stat(file).then(
      (info) => info.isFile(),
      () => false,
    );
  if (run.checkpoint)
    field('Checkpoint', `${displayPath(run.checkpoint)}${(await exists(run.checkpoint)) ? '' : ' (missing)'}`);
  else field('Checkpoint', 'none saved');
  if (run.files) {
    const own = [run.files.last && 'last epoch', run.files.best && 'best epoch'].filter(Boolean).join(' and ');
    field(
      'Files',
      `${formatBytes(run.files.bytes)}${own ? ` (${own})` : ''} in ${displayPath(dirname(run.files.last ?? run.files.best ?? join(run.id, 'x')))}`,
    );
  }
  for (const copy of run.copies ?? [])
    field('Saved to', `${displayPath(copy)}${(await exists(copy)) ? '' : ' (missing)'}`);
  if (run.continuedBy) field('Continued', `as run ${run.continuedBy}`);
  field(
    'Engine',
    `${run.kernels ?? '?'} kernels, ${run.threads === null ? '?' : plural(run.threads, 'thread')}; ${run.trainingSamples} training samples` +
      (run.validationSamples ? `, ${run.validationSamples} held out for validation` : ''),
  );
  const m = run.metrics;
  field(
    'Result',
    `${plural(m.epochs, 'epoch')}: test ${percent(m.finalTestAccuracy)} (best ${percent(m.bestTestAccuracy)}` +
      `${m.bestTestEpoch !== null ? ` at epoch ${m.bestTestEpoch}` : ''}), cost ${m.finalCost === null ? '—' : m.finalCost.toFixed(4)}, ` +
      `train ${percent(m.finalTrainAccuracy)}`,
  );
  if (history.length === 0) return;
  out();
  const rows = [['epoch', 'cost', 'train', 'validation', 'test', 'test cost', 'seconds']];
  for (const h of history) {
    rows.push([
      String(h.epoch),
      h.cost.toFixed(4),
      percent(h.trainAccuracy),
      percent(h.validationAccuracy),
      percent(h.testAccuracy),
      h.testCost === null ? '—' : h.testCost.toFixed(4),
      h.seconds.toFixed(2),
    ]);
  }
  for (const line of table(
    rows,
    rows[0].map(() => true),
  ))
    out(line);
}

function compareRuns(runs: RunRecord[], out: (line?: string) => void): void {
  const rows: string[][] = [['', ...runs.map((run) => run.id)]];
  rows.push(['name', ...runs.map((run) => shortName(run) || '—')]);
  rows.push(['status', ...runs.map((run) => run.status)]);
  const differing = differingSettings(runs);
  for (const key of differing)
    rows.push([key, ...runs.map((run) => settingText((run.config as unknown as Record<string, unknown>)[key]))]);
  if (differing.length === 0) rows.push(['settings', ...runs.map(() => 'the same')]);
  const metric = (label: string, value: (run: RunRecord) => string): void =>
    void rows.push([label, ...runs.map(value)]);
  // Beside an `epochs` setting row when the runs were set to train different numbers of epochs.
  metric('epochs trained', (run) => String(run.metrics.epochs));
  metric('final cost', (run) => (run.metrics.finalCost === null ? '—' : run.metrics.finalCost.toFixed(4)));
  metric('final train', (run) => percent(run.metrics.finalTrainAccuracy));
  if (runs.some((run) => run.metrics.finalValidationAccuracy !== null))
    metric('final validation', (run) => percent(run.metrics.finalValidationAccuracy));
  metric('final test', (run) => percent(run.metrics.finalTestAccuracy));
  metric('best test', (run) =>
    run.metrics.bestTestEpoch === null
      ? '—'
      : `${percent(run.metrics.bestTestAccuracy)} (epoch ${run.metrics.bestTestEpoch})`,
  );
  metric(
    'time',
    (run) =>
      `${formatDuration(wallSeconds(run) * 1000)}, ${formatDuration(run.metrics.trainingSeconds * 1000)} training`,
  );
  for (const line of table(
    rows,
    rows[0].map((_, c) => c > 0),
  ))
    out(line);
}

/** The CSV's columns: the run, then each field of an epoch's summary as the history file has it. */
export const EXPORT_FIELDS = [
  'run',
  'name',
  'epoch',
  'cost',
  'trainAccuracy',
  'validationCost',
  'validationAccuracy',
  'testCost',
  'testAccuracy',
  'seconds',
  'evaluationSeconds',
  'samplesPerSecond',
] as const;

async function exportRows(
  store: RunStore,
  runs: RunRecord[],
  skipped: (problem: string) => void,
): Promise<{ fields: string[]; data: (string | number)[][]; runs: number }> {
  const data: (string | number)[][] = [];
  let exported = 0;
  for (const run of runs) {
    let history: Record<string, unknown>[];
    try {
      history = (await store.history(run.id)) as unknown as Record<string, unknown>[];
    } catch (error) {
      skipped(`run ${run.id}: ${userMessage(error)}`);
      continue;
    }
    exported++;
    for (const epoch of history) {
      data.push(
        EXPORT_FIELDS.map((field) => {
          if (field === 'run') return run.id;
          if (field === 'name') return displayName(run) === run.id ? '' : run.name;
          const value = epoch[field];
          return typeof value === 'number' ? value : '';
        }),
      );
    }
  }
  return { fields: [...EXPORT_FIELDS], data, runs: exported };
}
