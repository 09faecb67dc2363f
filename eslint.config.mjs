// The linter's rules, and the architecture they hold: the page may import only browser-safe core code
// (src/core/shared), which itself imports nothing from Node, Electron or the rest of the core; nothing but
// Electron's main process and the preload may import Electron.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

/** Node's own modules, by either name (`fs`, `node:fs`). */
const NODE_MODULES = { group: ['node:*'], message: 'browser-safe code imports nothing from Node.' };
const NODE_BARE = [
  'fs',
  'fs/promises',
  'path',
  'os',
  'crypto',
  'child_process',
  'worker_threads',
  'zlib',
  'http',
  'net',
  'stream',
  'url',
  'util',
].map((name) => ({
  name,
  message: 'browser-safe code imports nothing from Node.',
}));
const ELECTRON = { name: 'electron', message: "only Electron's main process and the preload import Electron." };

export default ts.config(
  { ignores: ['out/**', 'dist/**', 'coverage/**', 'test-results/**', 'node_modules/**', 'build/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Non-null assertions are the code's own claims (checked by tests); responses are typed (contract.ts).
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
      // Prettier wraps code at 120 columns but not comments or long literals: comments are held to it here;
      // a message or a test's name stays whole on its line, where it can be searched for.
      'max-len': [
        'error',
        {
          code: 120,
          ignoreStrings: true,
          ignoreTemplateLiterals: true,
          ignoreRegExpLiterals: true,
          ignoreUrls: true,
        },
      ],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
    rules: {
      // Plain Maps and Sets on purpose: look-ups made and dropped within a function, and the charts' data,
      // which Chart.js must get as plain objects (Svelte's reactive proxies break it); state is $state.
      'svelte/prefer-svelte-reactivity': 'off',
      // Prettier lays out the markup's text itself, a column or two past 120 at times.
      'max-len': 'off',
    },
  },
  {
    // Browser code in Node scripts: what they hand to page.evaluate runs in Chromium.
    files: ['bench/app.mjs', 'scripts/screenshots.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests reach untyped things: Electron's API in its stand-in, browser globals inside page.evaluate (the test
    // project has no DOM types), parsed YAML.
    files: ['tests/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The page: browser code, which reaches the rest only through the contract (src/core/shared).
    files: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON, ...NODE_BARE],
          patterns: [
            NODE_MODULES,
            {
              group: ['@core/*', '!@core/shared', '!@core/shared/**'],
              message: 'the page imports only browser-safe core code (@core/shared).',
            },
          ],
        },
      ],
    },
  },
  {
    // Browser-safe core code: the page imports it, so it imports nothing but itself.
    files: ['src/core/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON, ...NODE_BARE],
          patterns: [
            NODE_MODULES,
            {
              group: ['@core/*', '!@core/shared', '!@core/shared/**'],
              message: 'browser-safe code imports only browser-safe code.',
            },
            {
              regex: '^\\.\\./(?!shared/|insight/)',
              message: 'browser-safe code imports only browser-safe code (src/core/shared).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/shared/insight/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON, ...NODE_BARE],
          patterns: [
            NODE_MODULES,
            {
              regex: '^\\.\\./\\.\\./',
              message: 'browser-safe code imports only browser-safe code (src/core/shared).',
            },
          ],
        },
      ],
    },
  },
  {
    // The core, the CLI, the browser host and the training worker run outside Electron (the worker in both hosts).
    files: ['src/core/**', 'src/cli/**', 'src/browser-host/**', 'src/worker/**', 'bench/**'],
    ignores: ['src/core/shared/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [ELECTRON] }] },
  },
);
