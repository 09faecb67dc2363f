/**
 * `npm start` on an install without the Electron runtime (how npm leaves Electron ≥ 42): it must ask
 * ELECTRON_MIRROR for the right archive, and either install and launch it or fail with one clear line.
 * Each case runs `npm start` for real in a sandbox copy of the project, against a local mirror.
 */

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  failureLine,
  installerEnvironment,
  isInstalled,
  mirrorOf,
  nodeIsSupported,
  platformPath,
  SUPPORTED_NODE,
} from '../../../scripts/electron-app.mjs';
import { tempDir } from '../../helpers/data';
import { type Mirror, startMirror } from '../../helpers/mirror';
import { projectSandbox, ROOT } from '../../helpers/sandbox';
import { zip } from '../../helpers/zip';

const VERSION: string = JSON.parse(
  readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8'),
).version;
// Electron's release naming: electron-v<version>-<platform>-<arch>.zip under v<version>/.
const ARCHIVE = `/v${VERSION}/electron-v${VERSION}-${process.platform}-${process.arch}.zip`;

function npmStart(
  cwd: string,
  env: Record<string, string>,
  script = 'start',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', script], {
      cwd,
      env: { ...process.env, ELECTRON_GET_USE_PROXY: '', ...env },
      shell: process.platform === 'win32',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Lines of a message that are not npm's own notices. */
function ownLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('npm warn') && !line.startsWith('npm notice'));
}

describe('npm start without the Electron runtime', () => {
  let mirror: Mirror | null = null;
  afterEach(async () => {
    await mirror?.close();
    mirror = null;
  });

  it('asks ELECTRON_MIRROR for electron-v<version>-<platform>-<arch>.zip, then fails with one line saying what to do', async () => {
    mirror = await startMirror();
    const project = await projectSandbox();
    const result = await npmStart(project, {
      ELECTRON_MIRROR: mirror.url,
      ELECTRON_CACHE: await tempDir('fmnist-electron-cache-'),
    });
    expect(result.code).toBe(1);
    expect(mirror.requests.map((r) => r.path)).toEqual([ARCHIVE]);
    const lines = ownLines(result.stderr);
    expect(lines.at(-1)).toBe(
      `npm start: could not download Electron ${VERSION} (${process.platform}-${process.arch}) from ${mirror.url}: ` +
        `the server answered 404 Not Found for electron-v${VERSION}-${process.platform}-${process.arch}.zip. ` +
        'Offline? Connect and run npm start again. Behind a proxy? Set ELECTRON_GET_USE_PROXY=1 and HTTPS_PROXY. ' +
        'GitHub blocked? Set ELECTRON_MIRROR to a mirror, e.g. https://npmmirror.com/mirrors/electron/.',
    );
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(project, 'node_modules', 'electron', 'path.txt'))).toBe(false);
  });

  it('npm run dev does the same before starting the dev server', async () => {
    mirror = await startMirror();
    const result = await npmStart(
      await projectSandbox(),
      { ELECTRON_MIRROR: mirror.url, ELECTRON_CACHE: await tempDir('fmnist-electron-cache-') },
      'dev',
    );
    expect(result.code).toBe(1);
    expect(mirror.requests.map((r) => r.path)).toEqual([ARCHIVE]);
    expect(ownLines(result.stderr).at(-1)).toMatch(
      /^npm run dev: could not download Electron .* the server answered 404 Not Found.*Offline\? Connect and run npm run dev again\./,
    );
  });

  it('says the server cannot be reached when nothing listens there', async () => {
    mirror = await startMirror();
    const closedUrl = mirror.url;
    await mirror.close();
    mirror = null;
    const result = await npmStart(await projectSandbox(), {
      ELECTRON_MIRROR: closedUrl,
      ELECTRON_CACHE: await tempDir('fmnist-electron-cache-'),
    });
    expect(result.code).toBe(1);
    expect(ownLines(result.stderr).at(-1)).toMatch(
      /^npm start: could not download Electron .*: cannot reach 127\.0\.0\.1:\d+\. Offline\?/,
    );
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('downloads into ELECTRON_CACHE, installs with Electron’s installer, builds and launches the app (a stand-in runtime)', async (ctx) => {
    ctx.skip(process.platform === 'win32', 'the stand-in Electron runtime is a shell script');
    const log = join(await tempDir('fmnist-fake-electron-'), 'launched.txt');
    // A stand-in runtime: records how it was launched.
    const runtime = zip([
      { name: platformPath(process.platform), data: `#!/bin/sh\necho "$@" > "${log}"\n`, mode: 0o755 },
      { name: 'version', data: `v${VERSION}` },
    ]);
    const sha256 = createHash('sha256').update(runtime).digest('hex');
    const archiveName = ARCHIVE.split('/').pop()!;
    mirror = await startMirror({
      [ARCHIVE]: { body: runtime },
      [`/v${VERSION}/SHASUMS256.txt`]: { body: Buffer.from(`${sha256} *${archiveName}\n`) },
    });
    const cache = await tempDir('fmnist-electron-cache-');
    const project = await projectSandbox();
    const result = await npmStart(project, {
      ELECTRON_MIRROR: mirror.url,
      ELECTRON_CACHE: cache,
      // The stand-in is not in Electron's bundled checksum list: check it against the mirror's list.
      electron_use_remote_checksums: '1',
    });
    expect(result.code, result.stderr).toBe(0);
    expect(mirror.requests.map((r) => r.path)).toContain(ARCHIVE);
    expect(result.stderr).toContain(
      `Fetching the Electron ${VERSION} runtime for ${process.platform}-${process.arch} (first start only) from ${mirror.url}`,
    );
    expect(result.stderr).toMatch(
      new RegExp(`^Electron ${VERSION.replace(/\\./g, '\\\\.')} is installed \\(\\d+ s\\)\\.$`, 'm'),
    );
    // ELECTRON_CACHE was used as the download cache, and Electron's installer wrote path.txt.
    const cached = await readdir(cache, { recursive: true });
    expect(cached.some((name) => String(name).endsWith(archiveName))).toBe(true);
    expect(readFileSync(join(project, 'node_modules', 'electron', 'path.txt'), 'utf8')).toBe(
      platformPath(process.platform),
    );
    expect(isInstalled(join(project, 'node_modules', 'electron'), {})).toBe(true);
    // electron-vite built the app and started the runtime on it.
    expect(existsSync(join(project, 'out', 'main', 'index.js'))).toBe(true);
    expect(readFileSync(log, 'utf8').trim()).toBe('.');

    // A second start finds the runtime and fetches nothing.
    const requests = mirror.requests.length;
    const again = await npmStart(project, { ELECTRON_MIRROR: mirror.url, ELECTRON_CACHE: cache });
    expect(again.code).toBe(0);
    expect(mirror.requests.length).toBe(requests);
    expect(again.stderr).not.toContain('Fetching the Electron');
  }, 180_000);
});

describe('the launcher’s parts', () => {
  it('supports the Node versions package.json declares: those that load ES modules with require()', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node).toBe(SUPPORTED_NODE);
    expect(['20.19.0', '20.20.2', '22.12.0', '22.20.1', '24.1.0'].map(nodeIsSupported)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['18.20.0', '20.18.3', '21.7.3', '22.11.0'].map(nodeIsSupported)).toEqual([false, false, false, false]);
    expect(nodeIsSupported(process.versions.node)).toBe(true);
  });

  it('names the mirror as Electron’s installer will use it', () => {
    expect(mirrorOf({ ELECTRON_MIRROR: 'https://a/', npm_config_electron_mirror: 'https://b/' })).toBe('https://b/');
    expect(mirrorOf({ ELECTRON_MIRROR: 'https://a/' })).toBe('https://a/');
    expect(mirrorOf({})).toBe('https://github.com/electron/electron/releases/download/');
  });

  it('counts a runtime as installed only with its version, path.txt and executable (in ELECTRON_OVERRIDE_DIST_PATH if set)', async () => {
    const project = await projectSandbox();
    const electron = join(project, 'node_modules', 'electron');
    expect(isInstalled(electron, {})).toBe(false);
    expect(isInstalled(electron, { ELECTRON_OVERRIDE_DIST_PATH: '/usr/bin' })).toBe(false);
    const { mkdir, writeFile } = await import('node:fs/promises');
    const executable = platformPath(process.platform);
    await mkdir(join(electron, 'dist'), { recursive: true });
    await writeFile(join(electron, 'dist', 'version'), `v${VERSION}`);
    await writeFile(join(electron, 'path.txt'), executable);
    expect(isInstalled(electron, {})).toBe(false);
    const elsewhere = await tempDir('fmnist-electron-dist-');
    await mkdir(join(elsewhere, executable, '..'), { recursive: true });
    await writeFile(join(elsewhere, executable), '');
    expect(isInstalled(electron, { ELECTRON_OVERRIDE_DIST_PATH: elsewhere })).toBe(true);
    await mkdir(join(electron, 'dist', executable, '..'), { recursive: true });
    await writeFile(join(electron, 'dist', executable), '');
    expect(isInstalled(electron, {})).toBe(true);
    await writeFile(join(electron, 'dist', 'version'), 'v1.0.0');
    expect(isInstalled(electron, {})).toBe(false);
  });

  it('honours ELECTRON_CACHE as the installer’s cache unless electron_config_cache is set', () => {
    expect(installerEnvironment({ ELECTRON_CACHE: '/c' }).electron_config_cache).toBe('/c');
    expect(installerEnvironment({ ELECTRON_CACHE: '/c', electron_config_cache: '/d' }).electron_config_cache).toBe(
      '/d',
    );
    expect(installerEnvironment({}).electron_config_cache).toBeUndefined();
  });

  it('tells the installer’s first error line in its own words', () => {
    const base = { version: '45.0.0', platform: 'linux', arch: 'x64', mirror: 'https://example.org/' };
    expect(
      failureLine({
        ...base,
        error: 'Error: Generated checksum for "x.zip" did not match expected checksum\n    at verify (checksum.js:1:1)',
      }),
    ).toContain(
      "from https://example.org/: electron-v45.0.0-linux-x64.zip does not match Electron's published checksum",
    );
    expect(failureLine({ ...base, error: 'TypeError: fetch failed\n    at node:internal' })).toContain(
      'from https://example.org/: cannot reach example.org. Offline?',
    );
    expect(failureLine({ ...base, error: 'Error: ENOSPC: no space left on device\nmore' })).toMatch(
      /from https:\/\/example\.org\/: ENOSPC: no space left on device\. Offline\?/,
    );
  });
});
