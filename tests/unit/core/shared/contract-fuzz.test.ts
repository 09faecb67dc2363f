/**
 * Property-based tests of the request validators the hosts apply to everything the user interface sends:
 * arbitrary values (what a compromised renderer could send through structured clone, or a page through
 * JSON) and mutations of valid requests are either accepted as a well-formed request or refused with a
 * one-line FmnistError. Fixed seeds: every run tries the same cases.
 */

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, validateOpenFiles, validateRequest } from '@core/shared/contract';
import { FmnistError } from '@core/shared/errors';
import { oneLineProblems, thrownBy } from '../../../helpers/failure';

const UPLOAD = '0123456789abcdef0123456789abcdef';
const settings = { ...DEFAULT_SETTINGS, hiddenSizes: [64], epochs: 2 };
const VALID_REQUESTS: Record<string, unknown>[] = [
  { type: 'get-state' },
  { type: 'load-default-data' },
  { type: 'open-dataset', role: 'test' },
  { type: 'load-uploaded', role: 'train', uploads: [UPLOAD] },
  { type: 'start', settings, autosave: true, continue: false },
  { type: 'pause' },
  { type: 'resume' },
  { type: 'stop' },
  { type: 'evaluate' },
  { type: 'save-checkpoint' },
  { type: 'load-checkpoint' },
  { type: 'load-uploaded-checkpoint', upload: UPLOAD },
  { type: 'export-model', format: 'onnx' },
  { type: 'resume-autosave', autosave: true },
  { type: 'discard-autosave' },
  { type: 'download-data' },
  { type: 'cancel-download' },
  { type: 'save-file', name: 'cost.png', data: 'iVBORw0KGgo=' },
  { type: 'list-runs' },
  { type: 'get-run-history', ids: ['20261125-143012-ab12', '20261125-150000-0f0f'] },
  { type: 'rename-run', id: '20261125-143012-ab12', name: 'wide, lr 0.002' },
  { type: 'note-run', id: '20261125-143012-ab12', note: 'two\nlines' },
  { type: 'delete-runs', ids: ['20261125-143012-ab12'] },
  { type: 'open-run-checkpoint', id: '20261125-143012-ab12' },
];
const VALID_OPEN_FILES: Record<string, unknown>[] = [
  { paths: ['/data/train.csv'], role: 'train' },
  { paths: ['/a-images-idx3-ubyte.gz', '/a-labels-idx1-ubyte.gz'], role: null },
];
const LIMIT_MS = 200;

const cyclic: Record<string, unknown> = { name: 'loop' };
cyclic.self = cyclic;
let deepList: unknown[] = [];
for (let depth = 0; depth < 20_000; depth++) deepList = [deepList];

/** Values a structured clone can carry (Electron's IPC: BigInt, Map, cycles, any depth), or JSON (the browser host). */
const anyValue = fc.oneof(
  fc.anything({
    maxDepth: 3,
    withBigInt: true,
    withMap: true,
    withSet: true,
    withDate: true,
    withTypedArray: true,
    withSparseArray: true,
    withNullPrototype: true,
  }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    '',
    'x'.repeat(5000),
    '\n',
    '\u2028',
    -0,
    Number.NaN,
    Infinity,
    1e308,
    2 ** 53,
    [],
    {},
    null,
    true,
    cyclic,
    deepList,
  ),
);

type Edit =
  | { kind: 'delete'; key: number }
  | { kind: 'set'; key: number; value: unknown }
  | { kind: 'add'; key: string; value: unknown }
  | { kind: 'setting'; key: number; value: unknown };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), key: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), key: fc.nat(), value: anyValue }),
  fc.record({
    kind: fc.constant('add' as const),
    key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'type')),
    value: anyValue,
  }),
  fc.record({ kind: fc.constant('setting' as const), key: fc.nat(), value: anyValue }),
);

function edited(original: Record<string, unknown>, edits: Edit[]): Record<string, unknown> {
  const value: Record<string, unknown> = { ...original };
  for (const edit of edits) {
    const keys = Object.keys(value);
    if (edit.kind === 'add')
      Object.defineProperty(value, edit.key, {
        value: edit.value,
        enumerable: true,
        configurable: true,
        writable: true,
      });
    else if (keys.length === 0) continue;
    else if (edit.kind === 'delete') delete value[keys[edit.key % keys.length]];
    else if (edit.kind === 'set') value[keys[edit.key % keys.length]] = edit.value;
    else if (typeof value.settings === 'object' && value.settings !== null) {
      const settingsCopy = { ...(value.settings as Record<string, unknown>) };
      const settingKeys = Object.keys(settingsCopy);
      settingsCopy[settingKeys[edit.key % settingKeys.length]] = edit.value;
      value.settings = settingsCopy;
    }
  }
  return value;
}

const tallies: Record<string, { cases: number; refused: number; accepted: number; slowestMs: number }> = {};

/** Accepted as a request that validates to itself, or refused with the project's one-line error, in time. */
function expectValidatedOrRefused(name: string, validate: (value: unknown) => unknown, input: unknown): void {
  const tally = (tallies[name] ??= { cases: 0, refused: 0, accepted: 0, slowestMs: 0 });
  tally.cases++;
  const started = performance.now();
  let result: unknown;
  let error: unknown = null;
  try {
    result = validate(input);
  } catch (e) {
    error = e;
  }
  const elapsed = performance.now() - started;
  tally.slowestMs = Math.max(tally.slowestMs, elapsed);
  expect(elapsed).toBeLessThan(LIMIT_MS);
  if (error === null) {
    tally.accepted++;
    expect(validate(result)).toEqual(result);
    return;
  }
  tally.refused++;
  if (!(error instanceof FmnistError)) throw new Error(`not an FmnistError: ${String(error)}`);
  expect(oneLineProblems(error.message), error.message).toEqual([]);
}

describe('request validation under arbitrary and mutated input', () => {
  const started = performance.now();
  afterAll(() => {
    const total = Object.values(tallies).reduce((n, t) => n + t.cases, 0);
    console.log(`request validator fuzz: ${total} cases in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    for (const [name, t] of Object.entries(tallies)) {
      console.log(
        `  ${name}: ${t.cases} cases (${t.refused} refused, ${t.accepted} accepted), slowest ${t.slowestMs.toFixed(1)} ms`,
      );
    }
  });

  it('validateRequest: arbitrary values', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyValue,
          fc.record(
            { type: fc.oneof(fc.constantFrom(...VALID_REQUESTS.map((r) => r.type)), anyValue) },
            { requiredKeys: [] },
          ),
        ),
        (value) => expectValidatedOrRefused('validateRequest, arbitrary', validateRequest, value),
      ),
      { seed: 1901, numRuns: 1500 },
    );
  });

  it('validateRequest: valid requests with fields removed, added and changed', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID_REQUESTS),
        fc.array(editArb, { minLength: 1, maxLength: 3 }),
        (request, edits) =>
          expectValidatedOrRefused('validateRequest, mutated', validateRequest, edited(request, edits)),
      ),
      { seed: 1902, numRuns: 2000 },
    );
  });

  it('validateOpenFiles: arbitrary values and mutated messages', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyValue,
          fc
            .tuple(fc.constantFrom(...VALID_OPEN_FILES), fc.array(editArb, { minLength: 1, maxLength: 3 }))
            .map(([m, e]) => edited(m, e)),
        ),
        (value) => expectValidatedOrRefused('validateOpenFiles', validateOpenFiles, value),
      ),
      { seed: 1903, numRuns: 1500 },
    );
  });
});

describe('hostile types (found by the properties above)', () => {
  it('a request without a type is refused without saying "undefined"', () => {
    expect(thrownBy(() => validateRequest({})).message).toBe('invalid request: a request needs a type');
  });
  it('a request whose type holds a BigInt, is cyclic, or is nested 20,000 deep is refused with an FmnistError', () => {
    for (const type of [[1n], cyclic, deepList]) {
      const error = thrownBy(() => validateRequest({ type }));
      expect(error).toBeInstanceOf(FmnistError);
      expect(oneLineProblems(error.message)).toEqual([]);
    }
  });
});
