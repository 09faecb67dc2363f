#!/usr/bin/env node
/**
 * `npm start` and `npm run dev`: makes sure the Electron runtime is installed, then hands over to electron-vite.
 *
 * Electron ≥ 42 no longer downloads its binary when npm installs it, and electron-vite only reads
 * node_modules/electron/path.txt ("Electron uninstall" when it is missing). So on first start this fetches the
 * binary with the library Electron's own installer uses (@electron/get, same version, checksums and variables:
 * ELECTRON_MIRROR, ELECTRON_CUSTOM_DIR, ELECTRON_CUSTOM_FILENAME, electron_config_cache or ELECTRON_CACHE,
 * ELECTRON_GET_USE_PROXY, force_no_cache, electron_use_remote_checksums), drawing its progress, then runs
 * Electron's installer (node_modules/electron/install.js), which unpacks it from the cache and writes path.txt.
 * A failure ends with one line that says what to do, never a stack trace.
 */

import { execSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_MIRROR = 'https://github.com/electron/electron/releases/download/';
/** Node 20.19+ or 22.12+ load ES modules with require(), which Electron's installer relies on (21 and 22.0–22.11 do not). */
export const SUPPORTED_NODE = '^20.19.0 || >=22.12.0';

/**
 * Electron's executable inside its dist folder, as its installer names it.
 * @param {string} platform
 */
export function platformPath(platform) {
  if (platform === 'darwin' || platform === 'mas') return 'Electron.app/Contents/MacOS/Electron';
  if (platform === 'win32') return 'electron.exe';
  return 'electron';
}

/** @typedef {Record<string, string | undefined>} Env */

/**
 * The platform and architecture Electron's installer would fetch for, from the same variables, including its
 * check for x64 Node running under Rosetta on Apple silicon (it fetches arm64 then).
 * @param {Env} env
 * @param {() => boolean} underRosetta
 */
export function target(env = process.env, underRosetta = runsUnderRosetta) {
  const platform = env.ELECTRON_INSTALL_PLATFORM || env.npm_config_platform || process.platform;
  let arch = env.ELECTRON_INSTALL_ARCH || env.npm_config_arch || process.arch;
  if (
    platform === 'darwin' &&
    process.platform === 'darwin' &&
    arch === 'x64' &&
    env.npm_config_arch === undefined &&
    underRosetta()
  )
    arch = 'arm64';
  return { platform, arch };
}

function runsUnderRosetta() {
  try {
    return execSync('sysctl -in sysctl.proc_translated').toString().trim() === '1';
  } catch {
    return false;
  }
}

/**
 * Whether the runtime is ready, with the same test as Electron's installer (version, path.txt, binary).
 * @param {string} electronDirectory
 * @param {Env} env
 */
export function isInstalled(electronDirectory, env = process.env) {
  try {
    const version = JSON.parse(readFileSync(join(electronDirectory, 'package.json'), 'utf8')).version;
    const executable = platformPath(env.ELECTRON_INSTALL_PLATFORM || env.npm_config_platform || process.platform);
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
 * The variables as Electron's installer reads them. electron-builder and older guides use ELECTRON_CACHE for
 * the download cache, the installer electron_config_cache: the first is honoured when the second is unset.
 * @param {Env} env
 * @returns {Env}
 */
export function installerEnvironment(env = process.env) {
  /** @type {Env} */
  const result = { ...env, ELECTRON_GET_NO_PROGRESS: '1' };
  if (!result.electron_config_cache && env.ELECTRON_CACHE) result.electron_config_cache = env.ELECTRON_CACHE;
  return result;
}

/**
 * Where the binary comes from, for the messages: the variables in @electron/get's order of precedence.
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
 * The one line printed when the download fails: what went wrong, then what to do.
 * @param {{ version: string; platform: string; arch: string; mirror: string; error: any; command?: string }} failure
 */
export function failureLine({ version, platform, arch, mirror, error, command = 'npm start' }) {
  const file = `electron-v${version}-${platform}-${arch}.zip`;
  const text = `${error?.message ?? error}`;
  const cause = error?.cause;
  const code = cause?.code ?? error?.code ?? cause?.errors?.[0]?.code;
  let problem;
  const status = /Response code (\d+)(?: \(([^)]*)\))?/.exec(text);
  if (status) {
    problem = `the server answered ${status[1]}${status[2] ? ` ${status[2]}` : ''} for ${file}`;
  } else if (/checksum|sha256|does not match/i.test(text)) {
    problem = `${file} does not match Electron's published checksum (a broken mirror or proxy?)`;
  } else if (code) {
    problem = `cannot reach ${hostOf(mirror)} (${code})`;
  } else {
    problem = text.split('\n')[0] || 'unknown error';
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

/** @param {number} bytes */
function formatMegabytes(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * A progress line redrawn in place on a terminal; a line per quarter otherwise (logs stay short).
 * @param {{ isTTY?: boolean; write(text: string): unknown }} stream
 */
export function progressReporter(stream, now = () => Date.now()) {
  let lastDraw = Number.NEGATIVE_INFINITY;
  let lastQuarter = -1;
  let drawn = false;
  return {
    /** @param {{ transferred: number; total: number | null; percent: number }} progress */
    update({ transferred, total, percent }) {
      const fraction = total ? transferred / total : percent;
      if (stream.isTTY) {
        if (now() - lastDraw < 100 && fraction < 1) return;
        lastDraw = now();
        drawn = true;
        const width = 30;
        const filled = Math.round(Math.min(1, fraction) * width);
        stream.write(
          `\r\x1b[2K  [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(fraction * 100)}%  ` +
            `${formatMegabytes(transferred)}${total ? ` of ${formatMegabytes(total)}` : ''}`,
        );
        return;
      }
      const quarter = Math.floor(fraction * 4);
      if (quarter > lastQuarter && quarter > 0) {
        lastQuarter = quarter;
        stream.write(`  ${quarter * 25}% (${formatMegabytes(transferred)})\n`);
      }
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}

/**
 * Fetches the runtime into Electron's download cache, then lets Electron's installer unpack it. Runs in its
 * own process: the installer's variables are applied to process.env, where @electron/get reads them.
 * @param {{ electronDirectory: string; command: string; stderr?: { isTTY?: boolean; write(text: string): unknown } }} options
 * @returns {Promise<{ ok: true } | { ok: false; line: string }>}
 */
export async function installElectron({ electronDirectory, command, stderr = process.stderr }) {
  const { version } = JSON.parse(readFileSync(join(electronDirectory, 'package.json'), 'utf8'));
  const env = Object.assign(process.env, installerEnvironment(process.env));
  const { platform, arch } = target(env);
  const mirror = mirrorOf(env);
  stderr.write(`Fetching the Electron ${version} runtime for ${platform}-${arch} (first start only) from ${mirror}\n`);
  const electronRequire = createRequire(join(electronDirectory, 'package.json'));
  const progress = progressReporter(stderr);
  try {
    // The same call as Electron's install.js, plus a progress callback.
    const { downloadArtifact } = await import(pathToFileURL(electronRequire.resolve('@electron/get')).href);
    await downloadArtifact({
      version,
      artifactName: 'electron',
      force: env.force_no_cache === 'true',
      cacheRoot: env.electron_config_cache,
      checksums:
        env.electron_use_remote_checksums || env.npm_config_electron_use_remote_checksums
          ? undefined
          : JSON.parse(readFileSync(join(electronDirectory, 'checksums.json'), 'utf8')),
      platform,
      arch,
      downloadOptions: {
        quiet: true,
        getProgressCallback: async (/** @type {{ transferred: number; total: number | null; percent: number }} */ p) =>
          progress.update(p),
      },
    });
    progress.done();
  } catch (error) {
    progress.done();
    return { ok: false, line: failureLine({ version, platform, arch, mirror, error, command }) };
  }
  // The archive is in the cache now: force_no_cache would make the installer fetch it a second time.
  const installerEnv = { ...env };
  delete installerEnv.force_no_cache;
  const installer = spawnSync(process.execPath, [join(electronDirectory, 'install.js')], {
    env: installerEnv,
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
  if (installer.status !== 0) {
    const first = (installer.stderr || installer.error?.message || `exit code ${installer.status}`)
      .trim()
      .split('\n')[0];
    return { ok: false, line: failureLine({ version, platform, arch, mirror, error: new Error(first), command }) };
  }
  stderr.write(`Electron ${version} is installed.\n`);
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
