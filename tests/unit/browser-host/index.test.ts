/** `npm run web`'s entry point: the port option, the URL it prints, and one line on failure. */

import { afterEach, describe, expect, it, vi } from 'vitest';

const host = vi.hoisted(() => ({
  options: [] as unknown[],
  fail: null as Error | null,
  /** Made when the host starts, with the modules the entry point loaded (they are loaded afresh for each run). */
  running: null as { url: string | null; pid: number; otherHost?: string } | null,
  closes: 0,
  // What close() does: by default it ends at once.
  close: (() => Promise.resolve()) as () => Promise<void>,
}));
vi.mock('../../../src/browser-host/server', () => ({
  startWebHost: async (options: unknown) => {
    host.options.push(options);
    if (host.fail) throw host.fail;
    if (host.running) {
      const { HostRunningError } = await import('../../../src/browser-host/host-lock');
      throw new HostRunningError(
        host.running.url,
        host.running.pid,
        '/data/browser-host',
        host.running.otherHost ?? null,
        '/data/browser-host/host.json',
      );
    }
    return {
      url: 'http://127.0.0.1:4321/?token=abc',
      port: 4321,
      token: 'abc',
      close: () => {
        host.closes++;
        return host.close();
      },
    };
  },
}));

const argv = process.argv;
const listeners = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };

async function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  vi.resetModules();
  process.argv = [argv[0], 'web.js', ...args];
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((text) => ((stdout += String(text)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((text) => ((stderr += String(text)), true));
  try {
    await (
      await import('../../../src/browser-host/index')
    ).started;
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, stderr };
}

afterEach(() => {
  process.argv = argv;
  process.exitCode = undefined;
  host.options = [];
  host.fail = null;
  host.running = null;
  host.closes = 0;
  host.close = () => Promise.resolve();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of process.listeners(signal))
      if (!listeners[signal].includes(listener)) process.off(signal, listener);
  }
});

describe('npm run web', () => {
  it('points to the host that already serves the data folder, and exits 0', async () => {
    host.running = { url: 'http://127.0.0.1:5555/?token=xyz', pid: 4242 };
    const { stdout, stderr } = await run([]);
    expect(stdout).toBe(
      'Fashion-MNIST Studio is already running at http://127.0.0.1:5555/?token=xyz\n(process 4242 serves this data folder; open that address)\n',
    );
    expect(stderr).toBe('');
    expect(process.exitCode).toBe(0);
    host.running = { url: null, pid: 4242 };
    expect((await run([])).stdout).toBe(
      'Fashion-MNIST Studio is already starting in process 4242 for this data folder: its address follows there.\n',
    );
    // A host on another computer sharing the folder: this one cannot check it, so it says how to take over.
    host.running = { url: 'http://127.0.0.1:5555/?token=xyz', pid: 4242, otherHost: 'laptop' };
    expect((await run([])).stdout).toBe(
      'Fashion-MNIST Studio serves this data folder from laptop (process 4242) at http://127.0.0.1:5555/?token=xyz.\n' +
        'If no browser host runs there any more, delete /data/browser-host/host.json and start again.\n',
    );
  });

  it('starts the browser host on a free port and prints its URL with the token', async () => {
    const { stdout } = await run([]);
    expect(host.options).toEqual([
      expect.objectContaining({
        port: 0,
        rendererDirectory: expect.stringMatching(/renderer$/),
        workerPath: expect.stringMatching(/worker\.js$/),
      }),
    ]);
    expect(stdout).toBe(
      'Fashion-MNIST Studio is running at http://127.0.0.1:4321/?token=abc\n(only on this computer; Ctrl-C stops it)\n',
    );
  });

  it('closes the host (which keeps a run for the next start) and exits 0 on Ctrl-C', async () => {
    await run([]);
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      process.listeners('SIGINT').at(-1)!('SIGINT');
      await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0));
      expect(host.closes).toBe(1);
      expect(out).toHaveBeenCalledWith(
        'Stopping (a run in progress is kept for the next start; Ctrl-C again quits at once)…\n',
      );
    } finally {
      exit.mockRestore();
      out.mockRestore();
    }
  });

  it('quits at once on a second Ctrl-C while closing, and exits 1 with one line if closing fails', async () => {
    let finishClosing!: (error?: Error) => void;
    host.close = () =>
      new Promise<void>((resolve, reject) => (finishClosing = (error) => (error ? reject(error) : resolve())));
    await run([]);
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      process.listeners('SIGTERM').at(-1)!('SIGTERM');
      expect(exit).not.toHaveBeenCalled();
      process.listeners('SIGINT').at(-1)!('SIGINT');
      expect(exit).toHaveBeenCalledWith(1);
      expect(host.closes).toBe(1);
      exit.mockClear();
      finishClosing(new Error('EBUSY: resource busy'));
      await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1));
      expect(err).toHaveBeenCalledWith('fmnist web: EBUSY: resource busy\n');
    } finally {
      exit.mockRestore();
      out.mockRestore();
      err.mockRestore();
    }
  });

  it('takes --port', async () => {
    await run(['--port', '8123']);
    expect(host.options).toEqual([expect.objectContaining({ port: 8123 })]);
  });

  it('refuses a bad port, and reports a failed start, in one line with exit code 2', async () => {
    expect((await run(['--port', 'x'])).stderr).toBe('fmnist web: --port must be 0–65535, got x\n');
    expect(process.exitCode).toBe(2);
    process.exitCode = undefined;
    host.fail = new Error('port 8123 is already in use on 127.0.0.1');
    expect((await run(['--port', '8123'])).stderr).toBe('fmnist web: port 8123 is already in use on 127.0.0.1\n');
    expect(process.exitCode).toBe(2);
  });
});
