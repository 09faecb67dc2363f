/**
 * Command-line parsing for `fmnist`: `--name value`, `--name=value` and boolean `--flag`s, each command
 * with its own table of options, tokenized by Node's util.parseArgs. Every mistake is one FmnistError line
 * naming the option.
 */

import { parseArgs } from 'node:util';
import { KERNEL_CHOICES, type KernelChoice } from '@core/engine/engine';
import { LIMITS } from '@core/shared/config';
import { FmnistError } from '@core/shared/errors';

export type OptionKind = 'string' | 'number' | 'integer' | 'boolean';

export interface OptionSpec {
  kind: OptionKind;
  /** Placeholder for the help text, e.g. "PATH". */
  value?: string;
  help: string;
  required?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  options: Record<string, OptionSpec>;
  examples: string[];
  /** Forms of a command with subcommands, shown before its options. */
  usage?: string[];
}

export type ParsedOptions = Record<string, string | number | boolean | undefined>;

export function parseOptions(command: CommandSpec, argv: string[]): ParsedOptions {
  // Node's tokenizer, not strict: the checks below word each mistake in our terms.
  const { tokens } = parseArgs({
    args: argv,
    options: Object.fromEntries(
      Object.entries(command.options).map(([name, spec]) => [
        name,
        { type: spec.kind === 'boolean' ? ('boolean' as const) : ('string' as const) },
      ]),
    ),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const parsed: ParsedOptions = {};
  for (const token of tokens) {
    if (token.kind === 'positional') throw usage(command, `unexpected argument "${token.value}"`);
    if (token.kind === 'option-terminator' || !token.rawName.startsWith('--'))
      throw usage(command, `unexpected argument "${argv[token.index]}"`);
    const { name } = token;
    const spec = command.options[name];
    if (!spec) throw usage(command, `unknown option --${name}`);
    if (name in parsed) throw usage(command, `--${name} is given twice`);
    if (spec.kind === 'boolean') {
      if (token.inlineValue && token.value !== 'true' && token.value !== 'false')
        throw usage(command, `--${name} takes no value (or =true/=false)`);
      parsed[name] = !token.inlineValue || token.value === 'true';
      continue;
    }
    const text = token.value;
    if (text === undefined || (!token.inlineValue && text.startsWith('--') && text.length > 2))
      throw usage(command, `--${name} needs a value (${spec.value ?? spec.kind})`);
    parsed[name] = convert(command, name, spec, text);
  }
  for (const [name, spec] of Object.entries(command.options)) {
    if (spec.required && parsed[name] === undefined)
      throw usage(command, `--${name} ${spec.value ?? ''} is required`.replace(/ +is/, ' is'));
  }
  return parsed;
}

function convert(command: CommandSpec, name: string, spec: OptionSpec, text: string): string | number {
  if (spec.kind === 'string') {
    if (text === '') throw usage(command, `--${name} needs a non-empty value`);
    return text;
  }
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw usage(command, `--${name} must be a number, got "${text}"`);
  if (spec.kind === 'integer' && !Number.isInteger(value))
    throw usage(command, `--${name} must be a whole number, got "${text}"`);
  return value;
}

function usage(command: CommandSpec, problem: string): FmnistError {
  return new FmnistError('bad-option', `${problem} (see fmnist ${command.name} --help)`);
}

export function formatHelp(command: CommandSpec): string {
  const lines = [`fmnist ${command.name} — ${command.summary}`, ''];
  if (command.usage) lines.push('Usage:', ...command.usage.map((u) => `  ${u}`), '');
  lines.push('Options:');
  const entries = Object.entries(command.options);
  const width = Math.max(...entries.map(([name, spec]) => `--${name} ${spec.value ?? ''}`.length), 10);
  for (const [name, spec] of entries) {
    lines.push(`  ${`--${name} ${spec.value ?? ''}`.padEnd(width)}  ${spec.help}${spec.required ? ' (required)' : ''}`);
  }
  lines.push(`  ${'--help'.padEnd(width)}  show this help`);
  if (command.examples.length) lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

export const THREADS_OPTION: OptionSpec = {
  kind: 'integer',
  value: 'N',
  help: 'kernel threads, 0 for one per CPU core (the default)',
};
export const KERNELS_OPTION: OptionSpec = {
  kind: 'string',
  value: 'KIND',
  help: `kernels: ${KERNEL_CHOICES.join(', ')} (default auto: the fastest available)`,
};

/** Checks a --kernels value. */
export function kernelChoice(value: unknown): KernelChoice {
  if (value === undefined) return 'auto';
  if (!KERNEL_CHOICES.includes(value as KernelChoice)) {
    throw new FmnistError(
      'bad-option',
      `--kernels must be one of ${KERNEL_CHOICES.join(', ')}, got "${String(value)}"`,
    );
  }
  return value as KernelChoice;
}

/** Checks a --threads value (0 or absent: one per core), with the app's rule (RunConfig's). */
export function threadCount(value: unknown): number {
  if (value === undefined) return 0;
  const n = value as number;
  if (n < 0 || n > LIMITS.maxThreads)
    throw new FmnistError(
      'bad-option',
      `--threads must be between 0 (one per core) and ${LIMITS.maxThreads}, got ${n}`,
    );
  return n;
}
