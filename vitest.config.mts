import { join } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * electron-vite's `./worker?modulePath` import, outside electron-vite: the path of the built training worker
 * (npm test builds before the unit tests run), so the main process runs with a real worker under test.
 */
function modulePath(): Plugin {
  return {
    name: 'fmnist-module-path',
    enforce: 'pre',
    resolveId(id) {
      return id.endsWith('?modulePath') ? `\0module-path:${id}` : null;
    },
    load(id) {
      if (!id.startsWith('\0module-path:')) return null;
      return `export default ${JSON.stringify(join(import.meta.dirname, 'out', 'node', 'worker.js'))};`;
    },
  };
}

export default defineConfig({
  plugins: [
    modulePath(),
    // The page's stores (`*.svelte.ts`, rune classes) compiled by Svelte as the page runs them: client output
    // (reactive state, proxies, memoized deriveds), though the tests run in Node; the plugin would otherwise
    // compile them for the server, where runes are plain fields.
    svelte({ dynamicCompileOptions: () => ({ generate: 'client' }) }),
  ],
  resolve: {
    // Main-process and preload code runs against a stand-in for Electron (tests/stubs/electron.ts); `@core/…` is
    // src/core, as everywhere.
    alias: {
      electron: join(import.meta.dirname, 'tests', 'stubs', 'electron.ts'),
      '@core': join(import.meta.dirname, 'src', 'core'),
    },
  },
  test: {
    include: ['tests/unit/**/*.test.ts'],
    // Each skipped test is listed at the end of the run with the reason it was skipped.
    reporters: ['default', './tests/setup/skipped-reporter.ts'],
    environment: 'node',
    setupFiles: ['tests/setup/wasm.ts', 'tests/setup/data-folder.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The kernels are CPU-bound; running test files in parallel on 2 cores only adds contention.
    fileParallelism: false,
    // `npm test` measures how much of the Electron side the unit tests run (the core has its own oracles).
    coverage: {
      provider: 'v8',
      include: [
        'src/main/**/*.ts',
        'src/preload/**/*.ts',
        'src/browser-host/**/*.ts',
        'src/worker/**/*.ts',
        'src/core/data/download.ts',
      ],
      reporter: ['text-summary', 'text'],
      reportsDirectory: 'coverage',
      // Every line and function of the main process, the preload, the browser host and the worker's host runs
      // under the unit tests.
      thresholds: {
        'src/main/*.ts': { lines: 100, functions: 100 },
        'src/preload/*.ts': { lines: 100, functions: 100 },
        'src/browser-host/*.ts': { lines: 100, functions: 100 },
        'src/worker/*.ts': { lines: 100, functions: 100 },
        'src/core/data/download.ts': { lines: 100, functions: 100 },
      },
    },
  },
});
