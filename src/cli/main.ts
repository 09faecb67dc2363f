/**
 * The `fmnist` command line: dispatches to a command and turns any failure into one line on stderr with
 * exit code 2 (user errors) or 1 (internal errors; FMNIST_DEBUG=1 shows the stack).
 */

import { FmnistError, userMessage } from '@core/shared/errors';
import { APP_VERSION } from '@core/version';
import { type CommandSpec, formatHelp } from './args';
import { type CliContext, writeLine } from './context';
import { BENCH, runBench } from './commands/bench';
import { EVALUATE, runEvaluate } from './commands/evaluate';
import { EXPORT, runExport } from './commands/export';
import { INFO, runInfo } from './commands/info';
import { PREDICT, runPredict } from './commands/predict';
import { REPORT, runReport } from './commands/report';
import { RUNS, runRuns } from './commands/runs';
import { runSweep, SWEEP } from './commands/sweep';
import { runTrain, TRAIN } from './commands/train';

interface Command {
  spec: CommandSpec;
  run: (argv: string[], context: CliContext) => Promise<number>;
}

const COMMANDS: Command[] = [
  { spec: TRAIN, run: runTrain },
  { spec: SWEEP, run: runSweep },
  { spec: EVALUATE, run: runEvaluate },
  { spec: PREDICT, run: runPredict },
  { spec: EXPORT, run: runExport },
  { spec: REPORT, run: runReport },
  { spec: INFO, run: runInfo },
  { spec: RUNS, run: runRuns },
  { spec: BENCH, run: runBench },
];

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length));
  return [
    `fmnist ${APP_VERSION} — train and evaluate a neural network on Fashion-MNIST`,
    '',
    'Usage: fmnist <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}  ${c.spec.summary}`),
    '',
    "Run 'fmnist <command> --help' for a command's options.",
    'Data: Kaggle CSVs (label,pixel1..pixel784) or the original IDX files, gzipped or not; without --train the',
    "usual places are searched: $FMNIST_DATA, /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist),",
    '~/.keras/datasets/fashion-mnist ($FMNIST_DATA_PATH, a list like PATH, replaces these two).',
  ].join('\n');
}

export async function main(argv: string[], context: CliContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    writeLine(context.stdout, mainHelp());
    return 0;
  }
  // No command (or an empty one) is a mistake: the usage goes to stderr, stdout stays empty.
  if (!name) {
    writeLine(
      context.stderr,
      `fmnist: ${name === undefined ? 'no command given' : 'the command is empty'}\n\n${mainHelp()}`,
    );
    return 2;
  }
  if (name === '--version' || name === '-v') {
    writeLine(context.stdout, APP_VERSION);
    return 0;
  }
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (!command) {
    writeLine(
      context.stderr,
      `fmnist: unknown command "${name}" (commands: ${COMMANDS.map((c) => c.spec.name).join(', ')}; see fmnist --help)`,
    );
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    writeLine(context.stdout, formatHelp(command.spec));
    return 0;
  }
  try {
    return await command.run(rest, context);
  } catch (error) {
    if (error instanceof FmnistError) {
      writeLine(context.stderr, `fmnist ${name}: ${error.message}`);
      return 2;
    }
    if (context.env.FMNIST_DEBUG) writeLine(context.stderr, (error as Error)?.stack ?? String(error));
    writeLine(context.stderr, `fmnist ${name}: internal error: ${userMessage(error)} (set FMNIST_DEBUG=1 for details)`);
    return 1;
  }
}
