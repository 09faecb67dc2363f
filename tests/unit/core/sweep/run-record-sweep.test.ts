/**
 * A run record's optional `sweep` field (the sweep that planned the run, and its place in the plan): records
 * without it (all written before sweeps) read as before; one with it keeps it; a malformed one is refused.
 */

import { describe, expect, it } from 'vitest';
import { checkRunRecord } from '@core/shared/run-record';
import { recordFor } from '../../../helpers/runs';

const id = '20261207-100000-abcd';
const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('the sweep field of a run record', () => {
  it('is optional: a record without it reads as it always did', () => {
    const record = recordFor(id);
    expect('sweep' in record).toBe(false);
    expect(checkRunRecord(json(record), id)).toEqual(record);
  });

  it('is kept with the sweep id and the run index', () => {
    const record = recordFor(id, { sweep: { id: '20261207-095959-0f0f', index: 3 } });
    expect(checkRunRecord(json(record), id)).toMatchObject({ sweep: { id: '20261207-095959-0f0f', index: 3 } });
    expect(checkRunRecord(json(recordFor(id, { sweep: null })), id)).toMatchObject({ sweep: null });
  });

  it.each([
    ['20261207-095959-0f0f', 'sweep is "20261207-095959-0f0f"'],
    [{ id: 'last week', index: 0 }, 'sweep is an object'],
    [{ id: '20261207-095959-0f0f', index: -1 }, 'sweep is an object'],
    [{ id: '20261207-095959-0f0f', index: 1.5 }, 'sweep is an object'],
    [{ id: '20261207-095959-0f0f' }, 'sweep is an object'],
  ])('refuses %j', (sweep, problem) => {
    expect(checkRunRecord({ ...(json(recordFor(id)) as object), sweep }, id)).toBe(problem);
  });
});
