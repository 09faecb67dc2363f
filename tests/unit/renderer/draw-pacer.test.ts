import { describe, expect, it } from 'vitest';
import { DrawPacer, type FrameClock } from '../../../src/renderer/src/lib/draw-pacer';

/** A clock the test moves by hand: timers fire as it passes them, animation frames run when the test says. */
class TestClock implements FrameClock {
  time = 0;
  private timers: { at: number; callback: () => void; handle: number }[] = [];
  private frames: (() => void)[] = [];
  private handles = 0;
  /** Every frame that ran, with the draws it made. */
  readonly log: { at: number; draws: string[] }[] = [];
  current: string[] | null = null;

  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const handle = ++this.handles;
    this.timers.push({ at: this.time + ms, callback, handle });
    return handle;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.handle !== handle);
  }
  requestAnimationFrame(callback: () => void): unknown {
    this.frames.push(callback);
    return this.frames.length;
  }
  get pendingTimers(): number {
    return this.timers.length;
  }
  /** Moves the clock to `time`, firing the timers it passes, each at its own time. */
  advanceTo(time: number): void {
    for (;;) {
      const due = this.timers.filter((t) => t.at <= time).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.callback();
    }
    this.time = time;
  }
  /** Runs the animation frame asked for, if any, at the present time. */
  frame(): void {
    const frames = this.frames;
    this.frames = [];
    if (frames.length === 0) return;
    this.current = [];
    for (const callback of frames) callback();
    this.log.push({ at: this.time, draws: this.current });
    this.current = null;
  }
}

function setup() {
  const clock = new TestClock();
  const pacer = new DrawPacer(1000, clock);
  const chart = (name: string) => () => clock.current!.push(name);
  return { clock, pacer, cost: chart('cost'), accuracy: chart('accuracy') };
}

describe('DrawPacer', () => {
  it('draws an unpaced request in the next frame, once however often it is asked for', () => {
    const { clock, pacer, cost } = setup();
    clock.advanceTo(50);
    pacer.request(cost, false);
    pacer.request(cost, false);
    expect(clock.log).toEqual([]);
    clock.frame();
    expect(clock.log).toEqual([{ at: 50, draws: ['cost'] }]);
    clock.frame();
    expect(clock.log).toHaveLength(1);
  });

  it('draws paced requests together, in the first frame a second after its last frame', () => {
    const { clock, pacer, cost, accuracy } = setup();
    clock.advanceTo(100);
    pacer.request(cost, false); // a chart's first points
    clock.frame(); // at 100
    clock.advanceTo(300);
    pacer.request(cost, true);
    clock.advanceTo(600);
    pacer.request(accuracy, true);
    pacer.request(cost, true);
    clock.frame(); // no frame was asked for yet: the timer waits for 100 + 1000
    clock.advanceTo(1099);
    clock.frame();
    expect(clock.log).toEqual([{ at: 100, draws: ['cost'] }]);
    clock.advanceTo(1100);
    clock.frame();
    expect(clock.log).toEqual([
      { at: 100, draws: ['cost'] },
      { at: 1100, draws: ['cost', 'accuracy'] },
    ]);
  });

  it('draws a paced request in the next frame when the last frame is a second or more ago', () => {
    const { clock, pacer, cost } = setup();
    pacer.request(cost, true); // no frame yet
    clock.frame();
    clock.advanceTo(1000);
    pacer.request(cost, true);
    clock.frame();
    clock.advanceTo(2500);
    pacer.request(cost, true);
    clock.frame();
    expect(clock.log.map((f) => f.at)).toEqual([0, 1000, 2500]);
    expect(clock.pendingTimers).toBe(0);
  });

  it.each([
    { what: 'an unpaced request brings a waiting draw forward', requests: ['cost paced', 'accuracy'] },
    { what: 'a paced request joins a frame already asked for', requests: ['accuracy', 'cost paced'] },
  ])('$what, and nothing is drawn again when its time comes', ({ requests }) => {
    const { clock, pacer, cost, accuracy } = setup();
    pacer.request(cost, false);
    clock.frame(); // at 0
    clock.advanceTo(300);
    // A paced request alone would wait for 1000; the accuracy chart's first points come at once.
    for (const request of requests)
      pacer.request(request.startsWith('cost') ? cost : accuracy, request.endsWith('paced'));
    expect(clock.pendingTimers).toBe(0);
    clock.frame();
    clock.advanceTo(2000);
    clock.frame();
    expect(clock.log).toEqual([
      { at: 0, draws: ['cost'] },
      { at: 300, draws: requests.map((request) => request.split(' ')[0]) },
    ]);
  });

  it('draws what waits when flushed, and nothing when nothing waits', () => {
    const { clock, pacer, cost } = setup();
    pacer.flush();
    clock.frame();
    expect(clock.log).toEqual([]);
    pacer.request(cost, false);
    clock.frame(); // at 0
    clock.advanceTo(300);
    pacer.request(cost, true);
    pacer.flush(); // the run ended
    expect(clock.pendingTimers).toBe(0);
    clock.frame();
    expect(clock.log).toEqual([
      { at: 0, draws: ['cost'] },
      { at: 300, draws: ['cost'] },
    ]);
  });

  it('forgets the draw of a chart that is gone', () => {
    const { clock, pacer, cost, accuracy } = setup();
    pacer.request(cost, false);
    pacer.request(accuracy, false);
    pacer.cancel(accuracy);
    clock.frame();
    expect(clock.log).toEqual([{ at: 0, draws: ['cost'] }]);
  });
});
