/**
 * Property-based tests of the readers: mutations of valid files (byte flips, truncations, insertions,
 * deletions, overwrites) and the check every outcome must pass: accepted, or refused with the project's own
 * FmnistError in one line naming the file, within a time bound.
 */

import fc from 'fast-check';
import { expect } from 'vitest';
import { displayPath, FmnistError } from '@core/shared/errors';
import { oneLineProblems } from './failure';

export type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'overwrite'; at: number; bytes: Uint8Array };

/** Positions are fractions of the length, so one mutation fits files of any size. */
const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

export function mutationArb(interesting: Uint8Array[] = []): fc.Arbitrary<Mutation> {
  const bytes = interesting.length
    ? fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.constantFrom(...interesting))
    : fc.uint8Array({ minLength: 1, maxLength: 16 });
  return fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: position, mask: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: position }),
    fc.record({ kind: fc.constant('insert' as const), at: position, bytes }),
    fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant('overwrite' as const), at: position, bytes }),
  );
}

/** Where in the bytes a mutation lands: mutations may be aimed at the first `focus` bytes (a header). */
export function applyMutations(original: Uint8Array, mutations: Mutation[], focus = original.length): Uint8Array {
  let bytes: Uint8Array = Uint8Array.from(original);
  for (const m of mutations) {
    const span = Math.max(1, Math.min(focus, bytes.length));
    const at = Math.floor(m.at * span);
    switch (m.kind) {
      case 'flip':
        if (at < bytes.length) bytes[at] ^= m.mask;
        break;
      case 'truncate':
        bytes = bytes.slice(0, at);
        break;
      case 'insert':
        bytes = concat(bytes.subarray(0, at), m.bytes, bytes.subarray(at));
        break;
      case 'delete':
        bytes = concat(bytes.subarray(0, at), bytes.subarray(at + m.length));
        break;
      case 'overwrite':
        bytes = concat(bytes.subarray(0, at), m.bytes, bytes.subarray(at + m.bytes.length));
        break;
    }
  }
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export interface FuzzTally {
  cases: number;
  accepted: number;
  refused: number;
  slowestMs: number;
}

export const newTally = (): FuzzTally => ({ cases: 0, accepted: 0, refused: 0, slowestMs: 0 });

/**
 * Runs one case: `read` must resolve (then `check` its result) or reject with an FmnistError whose one-line
 * message names one of `files`, all within `limitMs`.
 */
export async function expectAcceptedOrRefused<T>(
  tally: FuzzTally,
  files: string[],
  limitMs: number,
  read: () => Promise<T> | T,
  check: (value: T) => void = () => {},
): Promise<void> {
  const started = performance.now();
  let value: T | undefined;
  let error: unknown = null;
  try {
    value = await read();
  } catch (e) {
    error = e;
  }
  const elapsed = performance.now() - started;
  tally.cases++;
  tally.slowestMs = Math.max(tally.slowestMs, elapsed);
  expect(elapsed, `took ${elapsed.toFixed(0)} ms`).toBeLessThan(limitMs);
  if (error === null) {
    tally.accepted++;
    check(value as T);
    return;
  }
  tally.refused++;
  if (!(error instanceof FmnistError))
    throw new Error(`not an FmnistError: ${String((error as Error)?.stack ?? error)}`);
  const message = error.message;
  expect(oneLineProblems(message), message).toEqual([]);
  expect(
    files.some((file) => message.startsWith(`${displayPath(file)}: `)),
    `"${message}" names none of ${files.join(', ')}`,
  ).toBe(true);
}

export function describeTally(name: string, tally: FuzzTally, elapsedMs: number): string {
  return `${name}: ${tally.cases} cases (${tally.refused} refused, ${tally.accepted} accepted) in ${(elapsedMs / 1000).toFixed(1)} s, slowest ${tally.slowestMs.toFixed(0)} ms`;
}
