/**
 * The main window's size, position and maximised state across launches: restored only where it is visible
 * on a screen connected now (a monitor unplugged since, a resolution lowered), and saved as the user moves
 * or resizes the window.
 */

import type { BrowserWindow } from 'electron';
import type { Bounds, Preferences, WindowPlacement } from './preferences';

export interface Size {
  width: number;
  height: number;
}

export const DEFAULT_SIZE: Size = { width: 1280, height: 860 };
export const MINIMUM_SIZE: Size = { width: 960, height: 640 };
/** A saved window must show at least this much of itself on one screen to be put back where it was. */
const VISIBLE_WIDTH = 200;
const VISIBLE_HEIGHT = 100;
const SAVE_DELAY_MS = 500;

function overlap(a: Bounds, b: Bounds): Size {
  return {
    width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)),
    height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)),
  };
}

/**
 * Where to open the window: the saved bounds moved and shrunk to fit the work area of the screen showing
 * most of them; or, when no screen shows enough of them, the saved size (or the default) centred on the
 * primary screen, which Electron does when no position is given.
 */
export function placeWindow(saved: Bounds | null, workAreas: Bounds[], primary: Bounds): Bounds | Size {
  const fit = (size: Size, area: Bounds): Size => ({
    width: Math.max(Math.min(size.width, area.width), Math.min(MINIMUM_SIZE.width, area.width)),
    height: Math.max(Math.min(size.height, area.height), Math.min(MINIMUM_SIZE.height, area.height)),
  });
  if (!saved) return fit(DEFAULT_SIZE, primary);
  let best: Bounds | null = null;
  let bestArea = 0;
  for (const area of workAreas) {
    const visible = overlap(saved, area);
    if (
      visible.width >= Math.min(VISIBLE_WIDTH, saved.width) &&
      visible.height >= Math.min(VISIBLE_HEIGHT, saved.height)
    ) {
      if (visible.width * visible.height > bestArea) {
        best = area;
        bestArea = visible.width * visible.height;
      }
    }
  }
  if (!best) return fit(saved, primary);
  const size = fit(saved, best);
  return {
    x: Math.min(Math.max(saved.x, best.x), best.x + best.width - size.width),
    y: Math.min(Math.max(saved.y, best.y), best.y + best.height - size.height),
    ...size,
  };
}

/**
 * Saves the window's placement (its normal bounds, and whether it is maximised) as it changes and on close;
 * the returned function saves a pending change at once (before quitting).
 */
export function trackWindowState(window: BrowserWindow, preferences: Preferences): () => void {
  let timer: NodeJS.Timeout | undefined;
  const save = (): void => {
    clearTimeout(timer);
    if (window.isDestroyed() || window.isMinimized() || window.isFullScreen()) return;
    const placement: WindowPlacement = { bounds: window.getNormalBounds(), maximized: window.isMaximized() };
    void preferences.setWindow(placement);
  };
  const later = (): void => {
    clearTimeout(timer);
    timer = setTimeout(save, SAVE_DELAY_MS);
  };
  window.on('resize', later);
  window.on('move', later);
  window.on('maximize', save);
  window.on('unmaximize', save);
  window.on('close', save);
  return () => {
    if (timer !== undefined) save();
  };
}
