import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

/** `@core/…` is src/core (tsconfig.base.json says the same to the type checker). */
const alias = { '@core': resolve(__dirname, 'src/core') };

export default defineConfig({
  main: {
    resolve: { alias },
    build: { rolldownOptions: { input: { index: resolve(__dirname, 'src/main/index.ts') } } },
  },
  preload: {
    resolve: { alias },
    build: { rolldownOptions: { input: { index: resolve(__dirname, 'src/preload/index.ts') } } },
  },
  renderer: {
    resolve: { alias },
    root: resolve(__dirname, 'src/renderer'),
    build: { rolldownOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } } },
    plugins: [svelte({ configFile: resolve(__dirname, 'svelte.config.mjs') })],
  },
});
