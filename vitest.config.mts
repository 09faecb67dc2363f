import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['tests/setup/wasm.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The kernels are CPU-bound; running test files in parallel on 2 cores only adds contention.
    fileParallelism: false,
  },
});
