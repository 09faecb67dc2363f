/**
 * The drawing pad's undo steps: newest first, bounded, and the oldest forgotten first when full.
 */

import { describe, expect, it } from 'vitest';
import { UndoStack } from '../../../src/renderer/src/lib/undo-stack';

describe('UndoStack', () => {
  it('gives back the steps newest first, then nothing', () => {
    const stack = new UndoStack<string>(5);
    for (const step of ['blank', 'one stroke', 'two strokes']) stack.push(step);
    expect(stack.size).toBe(3);
    expect([stack.pop(), stack.pop(), stack.pop(), stack.pop()]).toEqual([
      'two strokes',
      'one stroke',
      'blank',
      undefined,
    ]);
    expect(stack.size).toBe(0);
  });

  it('keeps only the newest `limit` steps', () => {
    // Five steps into room for three: 1 and 2 are forgotten, 5, 4, 3 come back.
    const stack = new UndoStack<number>(3);
    for (let step = 1; step <= 5; step++) stack.push(step);
    expect(stack.size).toBe(3);
    expect([stack.pop(), stack.pop(), stack.pop(), stack.pop()]).toEqual([5, 4, 3, undefined]);
  });

  it('refuses a limit below one', () => {
    expect(() => new UndoStack(0)).toThrow('an undo limit must be 1 or more, not 0');
    expect(() => new UndoStack(2.5)).toThrow(RangeError);
  });
});
