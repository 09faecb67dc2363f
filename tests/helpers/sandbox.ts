/**
 * A throwaway copy of the project for tests that run npm scripts which install things: sources and
 * dependencies are linked, and the packages a test may change (electron, and electron-vite, which finds it
 * from its own folder) are copied, so the real checkout's node_modules is never
 * touched.
 */

import { cp, mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from './data';

export const ROOT = join(__dirname, '..', '..');

const LINKED = [
  'src',
  'build',
  'package.json',
  'electron.vite.config.ts',
  'electron-builder.yml',
  'svelte.config.mjs',
  'tsconfig.json',
  'tsconfig.base.json',
  'tsconfig.node.json',
  'tsconfig.web.json',
];

/** A project folder whose node_modules links every package but `copied`, which are fresh copies. */
export async function projectSandbox(options: { copied?: string[]; scripts?: string[] } = {}): Promise<string> {
  const copied = new Set(options.copied ?? ['electron', 'electron-vite']);
  const dir = await tempDir('fmnist-sandbox-');
  for (const name of LINKED) await symlink(join(ROOT, name), join(dir, name));
  // Scripts are copied: Node resolves a linked main module to its real path, which would be the checkout.
  await mkdir(join(dir, 'scripts'));
  for (const script of options.scripts ?? ['electron-app.mjs'])
    await cp(join(ROOT, 'scripts', script), join(dir, 'scripts', script));
  await mkdir(join(dir, 'node_modules'));
  for (const entry of await readdir(join(ROOT, 'node_modules'))) {
    const from = join(ROOT, 'node_modules', entry);
    if (!copied.has(entry)) {
      await symlink(from, join(dir, 'node_modules', entry));
      continue;
    }
    // A clean install: Electron's package without what a first run adds (the runtime, path.txt).
    const addedOnFirstRun = /^[\\/](dist|path\.txt)$/;
    await cp(from, join(dir, 'node_modules', entry), {
      recursive: true,
      filter: (source) => entry !== 'electron' || !addedOnFirstRun.test(source.slice(from.length)),
    });
  }
  return dir;
}
