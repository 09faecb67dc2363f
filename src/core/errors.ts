/**
 * The one error type for problems a user can fix (a malformed file, a bad option, diverged training).
 * Its message is a single line that names the file and, where known, the row and column; hosts print it
 * as is, without a stack trace.
 */

export type ErrorKind = 'bad-input' | 'not-found' | 'bad-option' | 'diverged' | 'io' | 'stopped';

export interface ErrorLocation {
  file?: string;
  /** 1-based line (CSV) or record (IDX) number. */
  row?: number;
  /** What a row is called in this file: "line" (the default) or "record". */
  rowName?: string;
  /** 1-based column number. */
  column?: number;
}

export class FmnistError extends Error {
  readonly kind: ErrorKind;
  readonly file?: string;
  readonly row?: number;
  readonly column?: number;

  constructor(kind: ErrorKind, problem: string, where: ErrorLocation = {}) {
    super(formatMessage(problem, where));
    this.name = 'FmnistError';
    this.kind = kind;
    this.file = where.file;
    this.row = where.row;
    this.column = where.column;
  }
}

function formatMessage(problem: string, where: ErrorLocation): string {
  const place: string[] = [];
  if (where.row !== undefined) place.push(`${where.rowName ?? 'line'} ${where.row}`);
  if (where.column !== undefined) place.push(`column ${where.column}`);
  const prefix = [where.file, place.join(', ')].filter((s) => s).join(': ');
  // Messages are one line: collapse any newline a lower layer put in.
  const text = problem.replace(/\s*\n\s*/g, ' ');
  return prefix ? `${prefix}: ${text}` : text;
}

/** The fields Node's file-system errors carry (declared here so this module stays free of Node types). */
interface SystemError extends Error {
  code?: string;
  path?: string;
}

/** The message to show for any thrown value: ours as is, anything else as its first line. */
export function userMessage(error: unknown): string {
  if (error instanceof FmnistError) return error.message;
  if (error instanceof Error) {
    const code = (error as SystemError).code;
    const path = (error as SystemError).path;
    if (code && path) return describeSystemError(code, path, error.message);
    return error.message.split('\n')[0];
  }
  return String(error).split('\n')[0];
}

/** Turns Node's file-system errors (ENOENT, EACCES, ...) into one readable line naming the file. */
export function describeSystemError(code: string, path: string, fallback = ''): string {
  switch (code) {
    case 'ENOENT':
      return `${path}: no such file or directory`;
    case 'EACCES':
    case 'EPERM':
      return `${path}: permission denied`;
    case 'EISDIR':
      return `${path}: is a directory, expected a file`;
    case 'ENOTDIR':
      return `${path}: a part of this path is not a directory`;
    case 'ENOSPC':
      return `${path}: no space left on the device`;
    case 'EROFS':
      return `${path}: the file system is read-only`;
    default:
      return `${path}: ${fallback.split('\n')[0] || code}`;
  }
}

/** Wraps a Node file-system error as an FmnistError naming the file; passes our own errors through. */
export function asFileError(error: unknown, file: string): FmnistError {
  if (error instanceof FmnistError) return error;
  const code = (error as SystemError)?.code;
  const kind: ErrorKind = code === 'ENOENT' ? 'not-found' : 'io';
  const message = code ? describeSystemError(code, file, (error as Error).message) : `${file}: ${userMessage(error)}`;
  return new FmnistError(kind, message);
}
