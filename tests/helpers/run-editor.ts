/**
 * A child process for the runs-store tests: hammers one run's record from outside its trainer. Arguments:
 * the runs folder, the run's id, a label and a count. It renames the run and writes its note in turn, as fast
 * as it can, and prints "ok N" once edit N is written (so a test knows every edit that must be found), until
 * it has made `count` edits or is killed. Bundled by the test with Vite, since Node cannot run TypeScript.
 */

import { RunStore } from '@core/records/store';

async function main(): Promise<void> {
  const [folder, id, label, count] = process.argv.slice(2);
  const store = new RunStore(folder);
  for (let n = 0; n < Number(count); n++) {
    await store.edit(id, n % 2 === 0 ? { name: `${label} ${n}` } : { note: `${label} ${n}` });
    process.stdout.write(`ok ${n}\n`);
  }
}

void main();
