/**
 * The architecture the linter holds (eslint.config.mjs): what each part of the code may import, checked by
 * linting one line as if it were in each folder.
 */

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/sandbox';

const eslint = new ESLint({ cwd: ROOT });

/** The rules an import line breaks in a file at `path` (only no-restricted-imports is looked at). */
async function refusals(path: string, line: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${line}\nexport const used = x;\n`, { filePath: `${ROOT}/${path}` });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the folder rules', () => {
  it('lets the page import only browser-safe core code, never Node or Electron', async () => {
    const page = 'src/renderer/src/lib/x.ts';
    expect(await refusals(page, "import { x } from '@core/shared/format';")).toEqual([]);
    expect(await refusals(page, "import { x } from '@core/engine/engine';")).toEqual([
      expect.stringContaining('the page imports only browser-safe core code (@core/shared)'),
    ]);
    expect(await refusals(page, "import { x } from 'node:fs';")).toHaveLength(1);
    expect(await refusals(page, "import { x } from 'fs';")).toHaveLength(1);
    expect(await refusals(page, "import { x } from 'electron';")).toHaveLength(1);
  });

  it('keeps browser-safe code free of Node and of the rest of the core', async () => {
    const shared = 'src/core/shared/x.ts';
    expect(await refusals(shared, "import { x } from './format';")).toEqual([]);
    expect(await refusals(shared, "import { x } from '../engine/engine';")).toHaveLength(1);
    expect(await refusals(shared, "import { x } from '@core/records/store';")).toHaveLength(1);
    expect(await refusals(shared, "import { x } from 'node:path';")).toHaveLength(1);
    expect(await refusals('src/core/shared/insight/x.ts', "import { x } from '../../engine/engine';")).toHaveLength(1);
    expect(await refusals('src/core/shared/insight/x.ts', "import { x } from '../format';")).toEqual([]);
  });

  it('keeps Electron out of the core, the CLI, the browser host and the worker, and lets the main process have it', async () => {
    for (const path of ['src/core/engine/x.ts', 'src/cli/x.ts', 'src/browser-host/x.ts', 'src/worker/x.ts'])
      expect(await refusals(path, "import { x } from 'electron';")).toHaveLength(1);
    expect(await refusals('src/main/x.ts', "import { x } from 'electron';")).toEqual([]);
    expect(await refusals('src/core/engine/x.ts', "import { x } from 'node:fs';")).toEqual([]);
  });
});
