/**
 * The readers as a user meets them: the built fmnist executable given damaged, hostile or odd files exits
 * with 2 and one line on stderr naming the file (npm run build:node first).
 */

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runBuiltCli } from '../../helpers/cli';
import { tempDir, writeTemp } from '../../helpers/data';
import { oneLineProblems } from '../../helpers/failure';
import { bareStateDict } from '../../helpers/safetensors';

/** A refusal as users see it: exit code 2 and exactly one line on stderr, naming `file`. */
function expectRefusal(result: ReturnType<typeof runBuiltCli>, command: string, file: string, problem: RegExp | string): void {
  expect(result.signal, result.stderr).toBeNull();
  expect(result.status, result.stderr).toBe(2);
  expect(result.stderr.endsWith('\n')).toBe(true);
  const line = result.stderr.slice(0, -1);
  expect(oneLineProblems(line), line).toEqual([]);
  expect(line.startsWith(`fmnist ${command}: ${file}: `), line).toBe(true);
  const rest = line.slice(`fmnist ${command}: ${file}: `.length);
  if (typeof problem === 'string') expect(rest).toBe(problem);
  else expect(rest).toMatch(problem);
}

describe('fmnist with odd files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('fmnist-readers-');
  });

  it('says the settings of a bare state dict are unknown, also after exporting it', async () => {
    const bare = await writeTemp(dir, 'bare.safetensors', bareStateDict(16, (_layer, kind, i) => (kind === 'bias' ? 0.01 : ((i % 5) - 2) / 50)));
    const exported = join(dir, 'exported.safetensors');
    expect(runBuiltCli(['export', '--model', bare, '--format', 'safetensors', '--out', exported]).status).toBe(0);
    for (const file of [bare, exported]) {
      const text = runBuiltCli(['info', file]);
      expect(text.status, text.stderr).toBe(0);
      expect(text.stdout).toContain('\nSettings     unknown (the file does not record how the model was trained)\n');
      expect(text.stdout).toContain('\nTrained      unknown (weights only)\n');
      expect(text.stdout).not.toMatch(/learning rate|seed/);
      const json = JSON.parse(runBuiltCli(['info', file, '--json']).stdout);
      expect(json).toMatchObject({ config: null, settingsKnown: false, architecture: '784-16-10' });
    }
  });

  it('reads a safetensors file whose header is not padded (fmnist info)', async () => {
    const value = (_layer: number, kind: 'weight' | 'bias', i: number): number => (kind === 'bias' ? 0 : (i % 3) / 10);
    let bytes = bareStateDict(8, value);
    for (let spaces = 1; (8 + bytes.readUInt32LE(0)) % 4 === 0; spaces++) bytes = bareStateDict(8, value, { headerSuffix: ' '.repeat(spaces) });
    const file = await writeTemp(dir, 'unpadded.safetensors', bytes);
    const info = runBuiltCli(['info', file]);
    expect(info.stderr).toBe('');
    expect(info.stdout).toMatch(/Network +784-8-10 \(ReLU, softmax\), 6,370 parameters/);
  });

  it('refuses a missing checkpoint in one line (the harness itself)', () => {
    const missing = join(dir, 'missing.safetensors');
    expectRefusal(runBuiltCli(['info', missing]), 'info', missing, 'no such file or directory');
  });
});
