#!/usr/bin/env node
/**
 * `npm start` and `npm run dev`: makes sure the Electron runtime is installed, then hands over to electron-vite.
 *
 * Electron ≥ 42 no longer downloads its binary when npm installs it, and electron-vite only reads
 * node_modules/electron/path.txt ("Electron uninstall" when it is missing). So on first start this runs
 * Electron's own installer, `install-electron`, which honours ELECTRON_MIRROR, ELECTRON_CUSTOM_DIR,
 * electron_config_cache, ELECTRON_GET_USE_PROXY, force_no_cache and electron_use_remote_checksums. What this
 * adds: ELECTRON_CACHE as a name for the cache, a line saying what is fetched, and a failure told in one line
 * that says what to do, instead of the installer's stack trace.
 */

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_MIRROR = 'https://github.com/electron/electron/releases/download/';
/**
 * Node 20.19+ or 22.12+ load ES modules with require(), which Electron's installer relies on (21 and 22.0–22.11 do
 * not).
 */
export const SUPPORTED_NODE = '^20.19.0 || >=22.12.0';

/** @typedef {Record<string, string | undefined>} Env */

/**
 * Electron's executable inside its dist folder, as its installer names it.
 * @param {string} platform
 */
export function platformPath(platform) {
  if (platform === 'darwin' || platform === 'mas') return 'Electron.app/Contents/MacOS/Electron';
  if (platform === 'win32') return 'electron.exe';
  return 'electron';
}

/** @param {Env} env */
function platformOf(env) {
  return env.ELECTRON_INSTALL_PLATFORM || env.npm_config_platform || process.platform;
}

/**
 * Whether the runtime is ready, with the same test as Electron's installer (version, path.txt, binary); saves
 * starting the installer on every start.
 * @param {string} electronDirectory
 * @param {Env} env
 */
export function isInstalled(electronDirectory, env = process.env) {
  try {
    const version = JSON.parse(readFileSync(join(electronDirectory, 'package.json'), 'utf8')).version;
    const executable = platformPath(platformOf(env));
    if (
      readFileSync(join(electronDirectory, 'dist', 'version'), 'utf8')
        .replace(/^v/, '')
        .trim() !== version
    )
      return false;
    // electron-vite reads path.txt whatever ELECTRON_OVERRIDE_DIST_PATH says, so it must be there.
    if (readFileSync(join(electronDirectory, 'path.txt'), 'utf8') !== executable) return false;
    return existsSync(join(env.ELECTRON_OVERRIDE_DIST_PATH || join(electronDirectory, 'dist'), executable));
  } catch {
    return false;
  }
}

/**
 * The variables for Electron's installer. electron-builder and older guides use ELECTRON_CACHE for the download
 * cache, the installer electron_config_cache: the first is honoured when the second is unset.
 * @param {Env} env
 * @returns {Env}
 */
export function installerEnvironment(env = process.env) {
  /** @type {Env} */
  const result = { ...env };
  if (!result.electron_config_cache && env.ELECTRON_CACHE) result.electron_config_cache = env.ELECTRON_CACHE;
  return result;
}

/**
 * Where the binary comes from, for the messages: the variables in the installer's order of precedence.
 * @param {Env} env
 */
export function mirrorOf(env = process.env) {
  return (
    env.npm_config_electron_mirror ||
    env.NPM_CONFIG_ELECTRON_MIRROR ||
    env.npm_package_config_electron_mirror ||
    env.ELECTRON_MIRROR ||
    DEFAULT_MIRROR
  );
}

/**
 * The one line printed when the installer fails: what went wrong (from the first line of its error), then
 * what to do.
 * @param {{ version: string; platform: string; arch: string; mirror: string; error: string; command?: string }} failure
 */
export function failureLine({ version, platform, arch, mirror, error, command = 'npm start' }) {
  const file = `electron-v${version}-${platform}-${arch}.zip`;
  const first = error
    .trim()
    .split('\n')[0]
    .replace(/^\w*Error: /, '');
  let problem;
  const status = /Response code (\d+)(?: \(([^)]*)\))?/.exec(first);
  if (status) {
    problem = `the server answered ${status[1]}${status[2] ? ` ${status[2]}` : ''} for ${file}`;
  } else if (/checksum|sha256|does not match/i.test(first)) {
    problem = `${file} does not match Electron's published checksum (a broken mirror or proxy?)`;
  } else if (/^fetch failed$|ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN/.test(first)) {
    problem = `cannot reach ${hostOf(mirror)}`;
  } else {
    problem = first || 'unknown error';
  }
  return (
    `${command}: could not download Electron ${version} (${platform}-${arch}) from ${mirror}: ${problem}. ` +
    `Offline? Connect and run ${command} again. Behind a proxy? Set ELECTRON_GET_USE_PROXY=1 and HTTPS_PROXY. ` +
    'GitHub blocked? Set ELECTRON_MIRROR to a mirror, e.g. https://npmmirror.com/mirrors/electron/.'
  );
}

/** @param {string} url */
function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** @typedef {{ isTTY?: boolean; write(text: string): unknown }} Stream */

/**
 * Runs Electron's installer (`install-electron`) in its own process, its error output kept for the one line.
 * @param {{ electronDirectory: string; command: string; stderr?: Stream }} options
 * @returns {Promise<{ ok: true } | { ok: false; line: string }>}
 */
export async function installElectron({ electronDirectory, command, stderr = process.stderr }) {
  const manifest = JSON.parse(readFileSync(join(electronDirectory, 'package.json'), 'utf8'));
  const env = installerEnvironment(process.env);
  const platform = platformOf(env);
  const arch = env.ELECTRON_INSTALL_ARCH || env.npm_config_arch || process.arch;
  const mirror = mirrorOf(env);
  stderr.write(
    `Fetching the Electron ${manifest.version} runtime for ${platform}-${arch} (first start only) from ${mirror}\n`,
  );
  const started = Date.now();
  const ticker = stderr.isTTY
    ? setInterval(() => stderr.write(`\r\x1b[2K  fetching… ${Math.round((Date.now() - started) / 1000)} s`), 1000)
    : undefined;
  const installer = spawn(process.execPath, [join(electronDirectory, manifest.bin['install-electron'])], {
    env,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let errors = '';
  installer.stderr.setEncoding('utf8').on('data', (text) => (errors += text));
  /** @type {number | null} */
  const code = await new Promise((resolve) => {
    installer.on('error', (error) => {
      errors ||= error.message;
      resolve(1);
    });
    installer.on('close', resolve);
  });
  clearInterval(ticker);
  if (ticker) stderr.write('\r\x1b[2K');
  if (code !== 0) {
    const error = errors || `the installer ended with exit code ${code}`;
    return { ok: false, line: failureLine({ version: manifest.version, platform, arch, mirror, error, command }) };
  }
  stderr.write(`Electron ${manifest.version} is installed (${Math.round((Date.now() - started) / 1000)} s).\n`);
  return { ok: true };
}

/**
 * Whether this Node is one the project supports (SUPPORTED_NODE).
 * @param {string} version
 */
export function nodeIsSupported(version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  return (major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 23;
}

/**
 * @param {string[]} argv
 * @returns {Promise<number>}
 */
async function main(argv) {
  const [mode, ...rest] = argv;
  if (mode !== 'preview' && mode !== 'dev') {
    process.stderr.write('usage: electron-app.mjs preview|dev [electron-vite options]\n');
    return 2;
  }
  const command = mode === 'dev' ? 'npm run dev' : 'npm start';
  if (!nodeIsSupported()) {
    process.stderr.write(
      `${command}: this needs Node.js ${SUPPORTED_NODE.replace(' || ', ' or ')}, this is ${process.versions.node}.\n`,
    );
    return 1;
  }
  const electronDirectory = dirname(require.resolve('electron/package.json', { paths: [ROOT] }));
  if (!isInstalled(electronDirectory)) {
    const result = await installElectron({ electronDirectory, command });
    if (!result.ok) {
      process.stderr.write(`${result.line}\n`);
      return 1;
    }
  }
  const electronViteDirectory = dirname(require.resolve('electron-vite/package.json', { paths: [ROOT] }));
  const electronVite = join(
    electronViteDirectory,
    require(join(electronViteDirectory, 'package.json')).bin['electron-vite'],
  );
  const child = spawn(process.execPath, [electronVite, ...(mode === 'dev' ? [] : ['preview']), ...rest], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/** Run as a script (also through a symlink), not imported by the tests. */
function isMain() {
  try {
    return !!process.argv[1] && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1]);
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error) => {
      process.stderr.write(`electron-app: ${String(error?.message ?? error).split('\n')[0]}\n`);
      process.exitCode = 1;
    },
  );
}
