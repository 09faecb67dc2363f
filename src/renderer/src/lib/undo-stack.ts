/**
 * The steps the drawing pad can undo: a stack that keeps only its newest `limit` entries, so a long drawing
 * session holds a bounded number of 280×280 snapshots (about 0.3 MB each).
 */

export class UndoStack<T> {
  private readonly entries: T[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`an undo limit must be 1 or more, not ${limit}`);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Records a step; the oldest is forgotten when the stack is full. */
  push(entry: T): void {
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.shift();
  }

  /** The newest step, removed; undefined when there is none. */
  pop(): T | undefined {
    return this.entries.pop();
  }
}
