/**
 * Ends the unit-test run with a line per skipped test and why (the note given to `skip`), so a skip is never
 * silent. Tests left out by a name filter (`-t`) are not listed.
 */

import { relative } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';

export default class SkippedReporter implements Reporter {
  private filtered = false;
  private root = '';

  onInit(vitest: Vitest): void {
    this.filtered = !!vitest.config.testNamePattern;
    this.root = vitest.config.root;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    if (this.filtered) return;
    const lines: string[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests('skipped')) {
        const result = test.result();
        const why = result.state === 'skipped' && result.note ? result.note : 'no reason given';
        lines.push(`  ${relative(this.root, module.moduleId)} › ${test.fullName}: ${why}`);
      }
    }
    if (lines.length > 0) process.stdout.write(`\nSkipped (${lines.length}):\n${lines.join('\n')}\n`);
  }
}
