/**
 * The run state machine: idle → running ⇄ paused → stopping → stopped, running → finished | failed, and a
 * new run (or a reset to idle) from any state where none is in progress. Every other transition is refused with a
 * message that
 * says why, which the user interface shows as is.
 */

import { FmnistError } from '@core/shared/errors';
import type { RunStatus } from '@core/shared/contract';

export type RunAction = 'start' | 'pause' | 'resume' | 'stop' | 'finish' | 'stopped' | 'fail' | 'reset';

const TRANSITIONS: Record<RunAction, Partial<Record<RunStatus, RunStatus>>> = {
  start: { idle: 'running', finished: 'running', stopped: 'running', failed: 'running' },
  pause: { running: 'paused' },
  resume: { paused: 'running' },
  stop: { running: 'stopping', paused: 'stopping' },
  // A run can end on its own while a pause or stop is on its way.
  finish: { running: 'finished', paused: 'finished', stopping: 'finished' },
  stopped: { stopping: 'stopped', running: 'stopped', paused: 'stopped' },
  fail: { running: 'failed', paused: 'failed', stopping: 'failed' },
  /** Back to idle between runs, e.g. when a checkpoint replaces the model. */
  reset: { idle: 'idle', finished: 'idle', stopped: 'idle', failed: 'idle' },
};

const REFUSALS: Record<RunAction, string> = {
  start: 'a run is already in progress: stop it first',
  pause: 'there is no running training to pause',
  resume: 'there is no paused training to resume',
  stop: 'there is no training to stop',
  finish: 'no run is in progress',
  stopped: 'no run is stopping',
  fail: 'no run is in progress',
  reset: 'stop the training first',
};

export class RunStateMachine {
  private current: RunStatus = 'idle';

  get status(): RunStatus {
    return this.current;
  }

  /** True while a run holds the engine (running, paused or stopping). */
  get active(): boolean {
    return this.current === 'running' || this.current === 'paused' || this.current === 'stopping';
  }

  can(action: RunAction): boolean {
    return TRANSITIONS[action][this.current] !== undefined;
  }

  /** Throws the reason when an action is not possible now. */
  check(action: RunAction): void {
    if (!this.can(action)) throw new FmnistError('bad-option', REFUSALS[action]);
  }

  /** Applies an action or throws the reason it is not possible now. */
  apply(action: RunAction): RunStatus {
    const next = TRANSITIONS[action][this.current];
    if (!next) throw new FmnistError('bad-option', REFUSALS[action]);
    this.current = next;
    return next;
  }
}
