// Nothing under test may write into the user's real data folder (autosaves, run records): unless a test run
// names one, FMNIST_STUDIO_DATA points at a fresh temporary folder. Tests that pass their own environment to
// the CLI or a host take it from here (tests/helpers/cli.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.FMNIST_STUDIO_DATA ||= mkdtempSync(join(tmpdir(), 'fmnist-studio-test-data-'));
