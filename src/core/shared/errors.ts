/**
 * The one error type for problems a user can fix (a malformed file, a bad option, diverged training).
 * Its message is a single line that names the file and, where known, the row and column; hosts print it
 * as is, without a stack trace. Also here: how values and file names from outside are shown in messages.
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
  const prefix = [where.file === undefined ? '' : displayPath(where.file), place.join(', ')]
    .filter((s) => s)
    .join(': ');
  // Messages are one line: collapse any line break a lower layer put in, and show other controls escaped.
  const text = escapeControls(problem.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' '));
  return prefix ? `${prefix}: ${text}` : text;
}

/**
 * Characters that would break a one-line message or the terminal showing it: C0 and C1 controls (newline,
 * carriage return, escape sequences), DEL, the Unicode line separators and the bidirectional overrides
 * that can make a name read as something else.
 */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** A file name as messages show it: control characters escaped, so a newline in a name cannot split the line. */
export function displayPath(path: string): string {
  return escapeControls(path);
}

const MAX_QUOTED_CHARS = 40;

/**
 * A value read from a file or a request, described briefly for a message: strings quoted, escaped and cut
 * short, numbers as they are, lists and objects by their kind (never walked into, so a hostile nesting
 * depth cannot overflow the stack, and never "[object Object]").
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return Object.is(value, -0) ? '0' : String(value);
    case 'bigint': {
      const digits = value.toString();
      return digits.length > 24 ? `a ${digits.length}-digit whole number` : digits;
    }
    case 'boolean':
      return String(value);
    case 'undefined':
      return 'nothing';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      if (value === null) return 'null';
      if (Array.isArray(value)) return describeList(value);
      return 'an object';
  }
}

/** Short lists of plain values are shown ([512, "a"]); others by their length. */
function describeList(list: unknown[]): string {
  if (list.length === 0) return 'an empty list';
  if (
    list.length <= 4 &&
    list.every(
      (item) =>
        typeof item === 'number' ||
        typeof item === 'boolean' ||
        item === null ||
        (typeof item === 'string' && item.length <= 12),
    )
  ) {
    return `[${list.map(describeValue).join(', ')}]`;
  }
  return `a list of ${list.length} item${list.length === 1 ? '' : 's'}`;
}

/** A string in double quotes, control characters escaped, cut to MAX_QUOTED_CHARS characters. */
export function quote(text: string): string {
  const characters = Array.from(text.length > 4 * MAX_QUOTED_CHARS ? text.slice(0, 4 * MAX_QUOTED_CHARS) : text);
  const shown =
    characters.length > MAX_QUOTED_CHARS ? `${characters.slice(0, MAX_QUOTED_CHARS).join('')}…` : characters.join('');
  return `"${escapeControls(shown.replace(/\\/g, '\\\\').replace(/"/g, '\\"'))}"`;
}

/** The fields Node's file-system errors carry (declared here so this module stays free of Node types). */
interface SystemError extends Error {
  code?: unknown;
  path?: unknown;
}

/** The message to show for any thrown value: ours as is, anything else as one readable line. */
export function userMessage(error: unknown): string {
  if (error instanceof FmnistError) return error.message;
  if (error instanceof Error) {
    const { code, path } = error as SystemError;
    if (typeof code === 'string' && typeof path === 'string') return describeSystemError(code, path, error.message);
    // Node's raw "CODE: text, syscall" form, without a path: the code's sentence instead.
    if (typeof code === 'string' && String(error.message).startsWith(`${code}:`)) return errnoText(code);
    const first = escapeControls(String(error.message).split('\n')[0].trim());
    return first || `an unexpected error (${escapeControls(error.name) || 'Error'})`;
  }
  if (typeof error === 'string') return escapeControls(error.split('\n')[0]);
  return `an unexpected error (${describeValue(error)})`;
}

/** What each errno (and Node's own file codes) means, as the rest of a sentence that starts with the file. */
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, expected a file',
  ENOTDIR: 'a part of this path is not a directory',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
  ELOOP: 'too many levels of symbolic links (a link may point back to itself)',
  ENAMETOOLONG: 'the path, or a name in it, is too long',
  EMFILE: 'too many files are open; close some programs and try again',
  ENFILE: 'too many files are open; close some programs and try again',
  EBUSY: 'the file or device is busy (in use by another program)',
  ETXTBSY: 'the file is busy (it is a running program)',
  EEXIST: 'already exists',
  ENOTEMPTY: 'is a folder that is not empty',
  EIO: 'an input/output error occurred (the disk or network drive may be failing)',
  EFBIG: 'the file is too large for the file system',
  EDQUOT: 'the disk quota is used up',
  ENXIO: 'no such device or address (a device or socket that is not there)',
  ENODEV: 'no such device',
  EAGAIN: 'is temporarily unavailable; try again',
  EWOULDBLOCK: 'is temporarily unavailable; try again',
  EINTR: 'the operation was interrupted; try again',
  EINVAL: 'cannot be used this way (invalid argument)',
  EXDEV: 'cannot be moved to another file system this way',
  ESPIPE: 'cannot be read from a position (it is a pipe or socket)',
  EOVERFLOW: 'is too large to read',
  ENOMEM: 'not enough memory',
  ENOTSUP: 'the file system does not support this operation',
  EOPNOTSUPP: 'the file system does not support this operation',
  ESTALE: 'the network file handle is stale; open the folder again',
  ETIMEDOUT: 'the operation timed out (is it on a network drive?)',
  EHOSTDOWN: 'the network drive cannot be reached',
  EHOSTUNREACH: 'the network drive cannot be reached',
  ENETDOWN: 'the network drive cannot be reached',
  ENETUNREACH: 'the network drive cannot be reached',
  ECONNRESET: 'the connection to the network drive was lost',
  ECONNREFUSED: 'the connection was refused',
  EPIPE: 'the other end of the pipe was closed',
  EBADF: 'the file was closed while in use',
  ECANCELED: 'the operation was cancelled',
  ERR_FS_FILE_TOO_LARGE: 'is too large to read (over 2 GiB)',
  ERR_FS_EISDIR: 'is a directory, expected a file',
};

function errnoText(code: string): string {
  const known = Object.hasOwn(ERRNO_TEXT, code) ? ERRNO_TEXT[code] : undefined;
  if (known) return known;
  // Never Node's "CODE: text, syscall 'path'": the code alone says enough to look it up.
  return /^[A-Z][A-Z0-9_]{0,39}$/.test(code)
    ? `the system reported error ${code}`
    : 'the system reported an unknown error';
}

/** Turns Node's file-system errors (ENOENT, ELOOP, ...) into one readable line naming the file. */
export function describeSystemError(code: string, path: string, _nodeMessage = ''): string {
  return `${displayPath(path)}: ${errnoText(code)}`;
}

/** Wraps a Node file-system error as an FmnistError naming the file; passes our own errors through. */
export function asFileError(error: unknown, file: string): FmnistError {
  if (error instanceof FmnistError) return error;
  const code = (error as SystemError | null)?.code;
  const kind: ErrorKind = code === 'ENOENT' ? 'not-found' : 'io';
  if (typeof code === 'string') return new FmnistError(kind, errnoText(code), { file });
  return new FmnistError(kind, userMessage(error), { file });
}
