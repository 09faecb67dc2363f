/**
 * Chromium for a describe block of unit tests: launched once before its tests and closed after them; where
 * there is none, each test is skipped saying why (CI installs it, so there a missing browser fails the launch
 * instead). Kept apart from browser.ts, which the Playwright config imports (this one needs vitest).
 */

import { type Browser, chromium } from '@playwright/test';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { CHROMIUM_LAUNCH } from './browser';

/** Call inside a describe; returns the browser for its tests. `wanted` false: do not even launch it. */
export function useChromium(wanted: () => boolean = () => true): () => Browser {
  const missing = !CHROMIUM_LAUNCH.executablePath && !process.env.CI;
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!missing && wanted()) browser = await chromium.launch(CHROMIUM_LAUNCH);
  });
  beforeEach((ctx) => ctx.skip(missing, 'no Chromium here (apt-get install chromium)'));
  afterAll(() => browser?.close());
  return () => browser!;
}
