/**
 * The installer configuration (electron-builder.yml): it passes electron-builder's own schema validation, it
 * asks for the installers the project promises, `npm run dist:dir` packs exactly the built app, and without
 * a runtime it goes for the Electron download (seen on a local mirror). The installers themselves are built
 * on each platform by the release workflow.
 */

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listPackage } from '@electron/asar';
import { validateConfiguration } from 'app-builder-lib/out/util/config/config';
import { DebugLogger } from 'builder-util';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tempDir } from '../../helpers/data';
import { type Mirror, startMirror } from '../../helpers/mirror';
import { projectSandbox, ROOT } from '../../helpers/sandbox';

type Config = Record<string, any>;
const config: Config = parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8'));
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const ELECTRON_VERSION: string = JSON.parse(
  readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8'),
).version;

function run(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
  until?: () => boolean,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', ...args], {
      cwd,
      env: { ...process.env, ...env },
      shell: process.platform === 'win32',
      detached: process.platform !== 'win32',
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    // Stop early once what the test waits for has happened (the whole process group: npm and its children).
    const watch = until
      ? setInterval(() => {
          if (until()) process.kill(-child.pid!, 'SIGTERM');
        }, 100)
      : undefined;
    child.on('exit', (code) => {
      clearInterval(watch);
      resolve({ code, output });
    });
  });
}

function targets(platform: Config): Record<string, string[]> {
  return Object.fromEntries(platform.target.map((t: { target: string; arch: string[] }) => [t.target, t.arch]));
}

describe('electron-builder configuration', () => {
  it("passes electron-builder's own validation, which refuses a misspelt option", async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(
      validateConfiguration({ ...config, nsis: { ...config.nsis, perMachin: false } }, new DebugLogger(false)),
    ).rejects.toThrow(/configuration\.nsis/);
  });

  it('describes the app and the installers promised for each platform', () => {
    expect(config.productName).toBe('Fashion-MNIST Studio');
    expect(config.appId).toMatch(/^[a-z][\w-]*(\.[a-z][\w-]*)+$/);
    // The version is package.json's: nothing here overrides it.
    expect(config.extraMetadata?.version).toBeUndefined();
    expect(config.buildVersion).toBeUndefined();
    expect(config.asar).toBe(true);
    expect(config.directories.buildResources).toBe('build');

    expect(targets(config.win)).toEqual({ nsis: ['x64', 'arm64'] });
    expect(config.nsis).toMatchObject({ oneClick: true, perMachine: false, createStartMenuShortcut: true });
    expect(config.nsis.allowElevation).not.toBe(true);
    expect(targets(config.mac)).toEqual({ dmg: ['x64', 'arm64'] });
    expect(targets(config.linux)).toEqual({ AppImage: ['x64', 'arm64'], deb: ['x64', 'arm64'] });
    expect(config.linux.desktop.entry.Categories.split(';')).toEqual(expect.arrayContaining(['Education', 'Science']));
    // The desktop entry passes local paths (%F), which the app opens; %U would pass URIs.
    expect(config.linux.executableArgs).toEqual(['%F']);
    expect(config.fileAssociations).toEqual([expect.objectContaining({ ext: 'safetensors' })]);
    for (const icon of [config.win.icon, config.mac.icon, `${config.linux.icon}/512x512.png`]) {
      expect(readFileSync(join(ROOT, icon)).length, icon).toBeGreaterThan(0);
    }
  });
});

describe('npm run dist:dir', () => {
  let mirror: Mirror | null = null;
  afterEach(async () => {
    await mirror?.close();
    mirror = null;
  });

  it('packs only the built app and its production dependencies into app.asar', async (ctx) => {
    ctx.skip(process.platform !== 'linux', 'the stand-in runtime folder is laid out as on Linux');
    const project = await projectSandbox();
    // A stand-in runtime folder, so no download is needed to see what is packed.
    const runtime = join(await tempDir('fmnist-runtime-'), 'electron');
    await mkdir(runtime);
    await writeFile(join(runtime, 'electron'), '#!/bin/sh\n');
    await chmod(join(runtime, 'electron'), 0o755);
    await writeFile(join(runtime, 'version'), `v${ELECTRON_VERSION}`);
    const result = await run(project, ['dist:dir', '--', `-c.electronDist=${runtime}`]);
    expect(result.code, result.output).toBe(0);

    const asar = join(project, 'dist', 'linux-unpacked', 'resources', 'app.asar');
    const files = listPackage(asar, { isPack: false }).map((f) => f.replace(/\\/g, '/'));
    const topLevel = new Set(files.map((f) => f.split('/')[1]));
    expect([...topLevel].sort()).toEqual(['node_modules', 'out', 'package.json']);
    expect(new Set(files.filter((f) => f.startsWith('/out/')).map((f) => f.split('/')[2]))).toEqual(
      new Set(['main', 'preload', 'renderer']),
    );
    expect(files).toContain('/out/main/index.js');
    expect(files).toContain('/out/preload/index.js');
    expect(files).toContain('/out/renderer/index.html');
    // Production dependencies only, and nothing that is not shipped code.
    const modules = new Set(files.filter((f) => f.startsWith('/node_modules/')).map((f) => f.split('/')[2]));
    expect([...modules].sort()).toEqual(Object.keys(packageJson.dependencies).sort());
    expect(
      files.filter(
        (f) => /\.(ts|map)$|\/(src|tests|bench|scripts|fixtures)\//.test(f) && !f.startsWith('/node_modules/'),
      ),
    ).toEqual([]);
    const packed = JSON.parse((await import('@electron/asar')).extractFile(asar, 'package.json').toString('utf8'));
    expect(packed.version).toBe(packageJson.version);
    expect(packed.main).toBe('./out/main/index.js');
  }, 240_000);

  it('goes for the Electron runtime of its platform, which a local mirror sees', async (ctx) => {
    ctx.skip(process.platform === 'win32', 'the stand-in runtime is a shell script');
    mirror = await startMirror();
    const project = await projectSandbox();
    const archive = `/v${ELECTRON_VERSION}/electron-v${ELECTRON_VERSION}-${process.platform}-${process.arch}.zip`;
    const asked = (): boolean => mirror!.requests.some((r) => r.path === archive);
    const result = await run(
      project,
      ['dist:dir'],
      {
        ELECTRON_MIRROR: mirror.url,
        ELECTRON_CACHE: await tempDir('fmnist-electron-cache-'),
        ELECTRON_BUILDER_CACHE: await tempDir('fmnist-builder-cache-'),
      },
      asked,
    );
    expect(result.code).not.toBe(0);
    expect(asked(), result.output).toBe(true);
  }, 240_000);
});
