/**
 * Run records as read from disk: every field checked by type (nothing trusted), the edit journal parsed line
 * by line (a line cut short by a killed writer is skipped, the next one still read), and edits folded in order.
 */

import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '@core/shared/config';
import {
  checkRunHistory,
  checkRunRecord,
  parseRunEdits,
  RUN_HISTORY_FORMAT,
  type RunRecord,
  withEdits,
} from '@core/shared/run-record';
import { recordFor } from '../../../helpers/runs';

const ID = '20261125-143012-ab12';

/** A whole record as the file holds it, with some fields changed (to anything, as a damaged file may). */
function record(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...recordFor(ID, { metrics: { ...recordFor(ID).metrics, epochs: 3 } }), ...changes };
}

describe('a run record read from disk', () => {
  it('is taken whole when every field has its type, and files found on disk are never taken from it', () => {
    const checked = checkRunRecord(
      record({ files: { last: '/etc/passwd', best: null, bytes: 1 }, copies: ['/m.safetensors'] }),
      ID,
    );
    expect(typeof checked).toBe('object');
    expect((checked as RunRecord).files).toBeUndefined();
    expect((checked as RunRecord).copies).toEqual(['/m.safetensors']);
  });

  it.each([
    [{ data: { ...(record().data as object), history: 5 } }, 'data.history is 5, not a list'],
    [{ data: { fingerprint: 7, sources: null, history: null } }, 'data.fingerprint is 7'],
    [
      { data: { fingerprint: null, sources: { train: 'x.csv', test: null }, history: null } },
      'data.sources.train is "x.csv", not a list of files',
    ],
    [
      { data: { fingerprint: null, sources: { train: [], test: [3] }, history: null } },
      'data.sources.test is [3], not a list of files',
    ],
    [{ data: { fingerprint: null, sources: null, history: [{ fromEpoch: 1 }] } }, 'data.history entry 1 is an object'],
    [{ config: { ...resolveRunConfig(), hiddenSizes: [0] } }, 'config.hiddenSizes is [0], not a list of layer sizes'],
    [{ config: { ...resolveRunConfig(), learningRate: '0.1' } }, 'config.learningRate is "0.1", not a number'],
    [{ config: { ...resolveRunConfig(), flip: 1 } }, 'config.flip is 1, not a boolean'],
    [{ config: null }, 'has no settings (config)'],
    [{ resumedFrom: { epochsDone: 'two', file: null } }, 'resumedFrom is an object'],
    [{ copies: 'x' }, 'copies is "x", not a list of files'],
    [{ continuedBy: 5 }, 'continuedBy is 5'],
    [{ metrics: { ...(record().metrics as object), bestTestEpoch: 'first' } }, 'metrics.bestTestEpoch is "first"'],
  ])('is refused, saying which field is wrong: %j', (changes, problem) => {
    expect(checkRunRecord(record(changes), ID)).toBe(problem);
  });

  it('keeps settings a newer app may add, unchecked', () => {
    expect(typeof checkRunRecord(record({ config: { ...resolveRunConfig(), momentum: 'nesterov' } }), ID)).toBe(
      'object',
    );
  });

  it('has a history whose every epoch is checked', () => {
    const epoch = {
      epoch: 1,
      epochs: 2,
      cost: 0.5,
      trainAccuracy: 0.8,
      validationCost: null,
      validationAccuracy: null,
      testCost: null,
      testAccuracy: null,
      seconds: 1,
    };
    expect(checkRunHistory({ format: RUN_HISTORY_FORMAT, id: ID, epochs: [epoch] }, ID)).toEqual([epoch]);
    expect(checkRunHistory({ format: RUN_HISTORY_FORMAT, id: ID, epochs: 5 }, ID)).toBe('has no list of epochs');
    expect(checkRunHistory({ format: RUN_HISTORY_FORMAT, id: ID, epochs: [{ ...epoch, epoch: 0 }] }, ID)).toBe(
      'epoch entry 1: epoch is 0',
    );
    expect(
      checkRunHistory({ format: RUN_HISTORY_FORMAT, id: ID, epochs: [{ ...epoch, samplesPerSecond: 'fast' }] }, ID),
    ).toBe('epoch entry 1: samplesPerSecond is "fast"');
  });
});

describe('the edit journal', () => {
  it('is read line by line: a line cut short is skipped and the next one still counts; the last edit of each kind wins', () => {
    const text = [
      '',
      JSON.stringify({ at: 't1', name: 'first' }),
      '{"at": "t2", "note": "cut sho',
      JSON.stringify({ at: 't3', note: 'line one\r\nline two' }),
      JSON.stringify({ at: 't4', copy: '/a.safetensors' }),
      JSON.stringify({ at: 't5', name: 'second\nname' }),
      JSON.stringify({ at: 't6', copy: '/b.safetensors' }),
      JSON.stringify({ at: 't7', copy: '/a.safetensors' }),
      JSON.stringify({ at: 't8', continuedBy: '../etc' }),
      JSON.stringify({ name: 'no time' }),
      '[1, 2]',
      '',
    ].join('\n');
    const edits = parseRunEdits(text);
    expect(edits.map((edit) => edit.at)).toEqual(['t1', 't3', 't4', 't5', 't6', 't7', 't8']);
    const folded = withEdits(checkRunRecord(record(), ID) as RunRecord, edits);
    expect(folded).toMatchObject({
      name: 'second name',
      note: 'line one\nline two',
      copies: ['/b.safetensors', '/a.safetensors'],
    });
    // A malformed run id is not taken.
    expect(folded.continuedBy).toBeUndefined();
  });
});
