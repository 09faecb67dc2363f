/**
 * Small .gz files that inflate to a lot: gzip members of zeros concatenated (a valid gzip file, as `cat a.gz
 * b.gz` makes), built in milliseconds without ever holding the inflated bytes. And a peak-memory probe.
 */

import { gzipSync } from 'node:zlib';

const MIB = 1 << 20;
let zerosMember: Buffer | null = null;

/** A gzip file inflating to `prefix` followed by `zeros` zero bytes. */
export function gzipWithZeros(prefix: Uint8Array, zeros: number): Buffer {
  zerosMember ??= gzipSync(Buffer.alloc(MIB), { level: 9 });
  const parts: Buffer[] = [gzipSync(prefix)];
  for (let left = zeros; left > 0; left -= MIB)
    parts.push(left >= MIB ? zerosMember : gzipSync(Buffer.alloc(left), { level: 9 }));
  return Buffer.concat(parts);
}

/** An IDX header: 0x803 and count×28×28 for images, 0x801 and count for labels. */
export function idxHeader(kind: 'images' | 'labels', count: number): Uint8Array {
  const header = Buffer.alloc(kind === 'images' ? 16 : 8);
  header.writeUInt32BE(kind === 'images' ? 0x803 : 0x801, 0);
  header.writeUInt32BE(count, 4);
  if (kind === 'images') {
    header.writeUInt32BE(28, 8);
    header.writeUInt32BE(28, 12);
  }
  return header;
}

export interface MemoryPeak<T> {
  outcome: { value: T } | { error: unknown };
  /** The most ArrayBuffer memory seen while it ran, above what there was before (sampled every few ms). */
  arrayBuffersGrowth: number;
  /** How much the process's peak resident set grew (0 when it stayed under an earlier peak). */
  maxRssGrowth: number;
  elapsedMs: number;
}

/** Runs `work` while sampling memory. */
export async function measurePeak<T>(work: () => Promise<T>): Promise<MemoryPeak<T>> {
  const baseline = process.memoryUsage().arrayBuffers;
  const rssBefore = process.resourceUsage().maxRSS * 1024;
  let peak = baseline;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  };
  const timer = setInterval(sample, 2);
  const started = Date.now();
  let outcome: MemoryPeak<T>['outcome'];
  try {
    outcome = { value: await work() };
  } catch (error) {
    outcome = { error };
  } finally {
    clearInterval(timer);
  }
  sample();
  return {
    outcome,
    arrayBuffersGrowth: peak - baseline,
    maxRssGrowth: process.resourceUsage().maxRSS * 1024 - rssBefore,
    elapsedMs: Date.now() - started,
  };
}
