/** Types shared by the chart components. */

import type { Point } from './chart-series';

export interface SeriesSpec {
  label: string;
  /** A CSS custom property holding the colour, e.g. --series-1. */
  color: string;
  data: () => Point[];
  /** A thin line through many points, or markers joined by a line (per-epoch values). */
  style: 'line' | 'markers';
  /** Drawn light, behind the others (the per-batch cost behind the epochs' costs). */
  faint?: boolean;
  /** Smoothed by the chart's smoothing slider, drawn over its light raw line. */
  smooth?: boolean;
}
