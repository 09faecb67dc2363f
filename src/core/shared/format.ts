/** Formatting numbers for people, shared by the CLI and the app. */

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function percent(fraction: number | null, digits = 2): string {
  return fraction === null ? '—' : `${(fraction * 100).toFixed(digits)}%`;
}

/**
 * A probability as a percentage with the digits that tell it apart from certainty: "87.3%", "99.97%" and
 * ">99.99%" (rounds to 100 but is not 1), "0.03%" and "<0.01%" at the other end; "100%" and "0%" only when exact.
 */
export function probability(p: number): string {
  const x = p * 100;
  if (x >= 100) return '100%';
  if (x <= 0) return '0%';
  if (x >= 99.95) return x >= 99.995 ? '>99.99%' : `${x.toFixed(2)}%`;
  if (x < 0.05) return x < 0.005 ? '<0.01%' : `${x.toFixed(2)}%`;
  return `${x.toFixed(1)}%`;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** "3.00 GB", "12.5 MB", "326 kB", "900 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toPrecision(3)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toPrecision(3)} MB`;
  if (bytes >= 1e4) return `${Math.round(bytes / 1e3)} kB`;
  return `${bytes} bytes`;
}

/** The last part of a path, with either separator (a Windows path read on any system). */
export function fileName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}
