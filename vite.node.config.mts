// Builds the Node-side bundles that run outside Electron: the fmnist CLI, the browser host with its training
// worker, and the benchmarks (ablation, gallery overhead, image preparation, profile, scale).
import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  // `@core/…` is src/core (tsconfig.base.json says the same to the type checker).
  resolve: { alias: { '@core': resolve(import.meta.dirname, 'src/core') } },
  build: {
    ssr: true,
    outDir: 'out/node',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: true,
    rolldownOptions: {
      input: {
        fmnist: 'src/cli/index.ts',
        ablation: 'bench/ablation.ts',
        'gallery-overhead': 'bench/gallery-overhead.ts',
        'prepare-image': 'bench/prepare-image.ts',
        profile: 'bench/profile.ts',
        scale: 'bench/scale.ts',
        web: 'src/browser-host/index.ts',
        worker: 'src/worker/worker.ts',
      },
      external: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
      output: { format: 'cjs', entryFileNames: '[name].js' },
    },
  },
  ssr: { noExternal: true },
});
