/**
 * The Chromium the tests drive: $CHROMIUM_PATH, else Debian's (apt-get install chromium), else the one
 * `npx playwright install chromium` downloads (where the network allows it, e.g. the release workflow).
 */

import { existsSync } from 'node:fs';
import type { LaunchOptions } from '@playwright/test';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM: string | undefined =
  process.env.CHROMIUM_PATH || (existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined);

/** Flags that keep headless Chromium off the network and quiet on a machine without a display. */
export const CHROMIUM_LAUNCH: LaunchOptions = {
  executablePath: CHROMIUM,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};
