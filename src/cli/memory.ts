/**
 * Large buffers that are no longer used stay in memory until V8 happens to collect them, and training
 * allocates too little for that to happen soon: the compressed bytes and inflater chunks left by reading a
 * gzipped data set (about as much again as the data), and the data sets themselves once the engine has
 * copied them into its own memory (55 MB for Fashion-MNIST). A full collection after each keeps them out of
 * the process's peak. The collector is reached through V8's flag; where that fails, nothing happens.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null | undefined;

export function collectGarbage(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  collect?.();
}

/** The process's peak resident memory so far (all its threads), in whole MB. */
export function peakMemoryMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
