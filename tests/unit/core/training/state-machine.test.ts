import { describe, expect, it } from 'vitest';
import { RunStateMachine } from '@core/training/state-machine';

describe('run state machine', () => {
  it('walks idle → running → paused → running → stopping → stopped, then a new run finishes', () => {
    const machine = new RunStateMachine();
    expect(machine.status).toBe('idle');
    expect(machine.apply('start')).toBe('running');
    expect(machine.apply('pause')).toBe('paused');
    expect(machine.active).toBe(true);
    expect(machine.apply('resume')).toBe('running');
    expect(machine.apply('stop')).toBe('stopping');
    expect(machine.apply('stopped')).toBe('stopped');
    expect(machine.active).toBe(false);
    expect(machine.apply('start')).toBe('running');
    expect(machine.apply('finish')).toBe('finished');
    expect(machine.apply('start')).toBe('running');
    expect(machine.apply('fail')).toBe('failed');
    expect(machine.apply('start')).toBe('running');
  });

  it('lets a run finish while a pause or stop is on its way', () => {
    for (const late of ['pause', 'stop'] as const) {
      const machine = new RunStateMachine();
      machine.apply('start');
      machine.apply(late);
      expect(machine.apply('finish')).toBe('finished');
    }
  });

  it.each([
    [[], 'pause', 'there is no running training to pause'],
    [[], 'resume', 'there is no paused training to resume'],
    [[], 'stop', 'there is no training to stop'],
    [['start'], 'start', 'a run is already in progress: stop it first'],
    [['start'], 'resume', 'there is no paused training to resume'],
    [['start', 'pause'], 'pause', 'there is no running training to pause'],
    [['start', 'pause'], 'start', 'a run is already in progress: stop it first'],
    [['start', 'stop'], 'pause', 'there is no running training to pause'],
    [['start', 'finish'], 'stop', 'there is no training to stop'],
  ])('after %j refuses %s: "%s"', (before, action, message) => {
    const machine = new RunStateMachine();
    for (const step of before) machine.apply(step as never);
    const status = machine.status;
    expect(machine.can(action as never)).toBe(false);
    expect(() => machine.apply(action as never)).toThrow(message);
    expect(machine.status).toBe(status);
  });
});
