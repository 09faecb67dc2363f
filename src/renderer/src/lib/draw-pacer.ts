/**
 * When the page's live charts draw new points. Every such redraw happens in an animation frame, and the redraws
 * asked for before a frame share it. While a run trains, new points are paced: the charts draw them together, at
 * most once per interval, so the page's frames (which take the CPU from the training) stay few and the charts never
 * show different epochs. A chart's first points and the end of the pacing draw in the next frame, and with them
 * whatever else waits. (The user's own choices, such as zooming, redraw a chart at once, without the pacer.)
 */

/** The clock and the timers the pacer uses (the page's, or a test's). */
export interface FrameClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  requestAnimationFrame(callback: () => void): unknown;
}

/** The page's own clock and timers. */
export const pageClock: FrameClock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  requestAnimationFrame: (callback) => requestAnimationFrame(callback),
};

export class DrawPacer {
  /** The draws waiting for a frame, each once. */
  private readonly waiting = new Set<() => void>();
  private frame: unknown = null;
  private timer: unknown = null;
  /** When the pacer's last frame ran. */
  private lastFrame = -Infinity;

  constructor(
    /** The least time from one of the pacer's frames to a frame of paced draws, in milliseconds. */
    readonly intervalMs: number,
    private readonly clock: FrameClock = pageClock,
  ) {}

  /**
   * Asks for `draw` in an animation frame: with `paced`, in the first frame at least an interval after the pacer's
   * last one; otherwise in the next one. Asking again before it has run changes nothing but its
   * pacing (an unpaced request brings a waiting draw forward).
   */
  request(draw: () => void, paced: boolean): void {
    this.waiting.add(draw);
    if (this.frame !== null) return;
    if (!paced) {
      this.nextFrame();
      return;
    }
    if (this.timer !== null) return;
    const wait = this.lastFrame + this.intervalMs - this.clock.now();
    if (wait > 0) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        this.nextFrame();
      }, wait);
    } else this.nextFrame();
  }

  /** Draws whatever waits in the next frame (the pacing is over: the run paused, stopped or ended). */
  flush(): void {
    if (this.waiting.size > 0) this.nextFrame();
  }

  /** Forgets a draw that waits (its chart is gone). */
  cancel(draw: () => void): void {
    this.waiting.delete(draw);
  }

  private nextFrame(): void {
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    this.frame ??= this.clock.requestAnimationFrame(() => {
      this.frame = null;
      this.lastFrame = this.clock.now();
      const draws = [...this.waiting];
      this.waiting.clear();
      for (const draw of draws) draw();
    });
  }
}

/** The page's charts share one pacer, so that they draw in the same frames. */
export const chartPacer = new DrawPacer(1000);
