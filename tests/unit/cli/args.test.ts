/**
 * The CLI's option parsing: each form a user types, and each mistake worded as one line naming the option.
 */

import { describe, expect, it } from 'vitest';
import { type CommandSpec, parseOptions } from '../../../src/cli/args';

const COMMAND: CommandSpec = {
  name: 'try',
  summary: 'a command for the tests',
  examples: [],
  options: {
    epochs: { kind: 'integer', value: 'N', help: 'epochs' },
    rate: { kind: 'number', value: 'R', help: 'rate' },
    out: { kind: 'string', value: 'PATH', help: 'where', required: true },
    flip: { kind: 'boolean', help: 'flip' },
  },
};

function problem(argv: string[]): string {
  try {
    parseOptions(COMMAND, argv);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

describe('fmnist option parsing', () => {
  it('reads --name value, --name=value, flags, =true/=false and values that start with one dash', () => {
    expect(parseOptions(COMMAND, ['--epochs', '3', '--rate=-0.5', '--out', 'a b', '--flip'])).toEqual({
      epochs: 3,
      rate: -0.5,
      out: 'a b',
      flip: true,
    });
    expect(parseOptions(COMMAND, ['--out=--x', '--flip=false', '--rate', '-1e-3'])).toEqual({
      out: '--x',
      flip: false,
      rate: -0.001,
    });
    expect(parseOptions(COMMAND, ['--out', '-'])).toEqual({ out: '-' });
  });

  it('names the option in each mistake', () => {
    const see = ' (see fmnist try --help)';
    expect(problem(['--out', 'x', 'extra'])).toBe(`unexpected argument "extra"${see}`);
    expect(problem(['--out', 'x', '-e', '3'])).toBe(`unexpected argument "-e"${see}`);
    expect(problem(['--out', 'x', '--', '--flip'])).toBe(`unexpected argument "--"${see}`);
    expect(problem(['--out', 'x', '--seed', '1'])).toBe(`unknown option --seed${see}`);
    expect(problem(['--out', 'x', '--flip', '--flip'])).toBe(`--flip is given twice${see}`);
    expect(problem(['--out', 'x', '--flip=yes'])).toBe(`--flip takes no value (or =true/=false)${see}`);
    expect(problem(['--out', 'x', '--epochs'])).toBe(`--epochs needs a value (N)${see}`);
    expect(problem(['--epochs', '--out', 'x'])).toBe(`--epochs needs a value (N)${see}`);
    expect(problem(['--out', 'x', '--epochs', '2.5'])).toBe(`--epochs must be a whole number, got "2.5"${see}`);
    expect(problem(['--out', 'x', '--rate', 'fast'])).toBe(`--rate must be a number, got "fast"${see}`);
    expect(problem(['--out', 'x', '--rate='])).toBe(`--rate must be a number, got ""${see}`);
    expect(problem(['--out='])).toBe(`--out needs a non-empty value${see}`);
    expect(problem(['--flip'])).toBe(`--out PATH is required${see}`);
  });
});
