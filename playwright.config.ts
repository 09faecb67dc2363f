import { defineConfig } from '@playwright/test';
import { CHROMIUM_LAUNCH } from './tests/helpers/browser';

export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 180_000,
  expect: { timeout: 30_000 },
  workers: 1,
  fullyParallel: false,
  reporter: process.env.CI ? 'list' : [['list']],
  outputDir: 'test-results',
  use: {
    viewport: { width: 1280, height: 860 },
    launchOptions: CHROMIUM_LAUNCH,
  },
  projects: [
    { name: 'browser', testIgnore: /electron\.spec\.ts/ },
    { name: 'electron', testMatch: /electron\.spec\.ts/ },
  ],
});
