// ESLint (flat config): typescript-eslint's recommended rules, Prettier's formatting left to Prettier, and the house's
// one direction of dependency (tools/layers.mjs) as a rule, so an editor flags an upward import where it is written.
import path from 'node:path';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';
import { resolveSpec, violation } from './tools/layers.mjs';

const root = import.meta.dirname;

/** atn/import-direction: an import against tools/layers.mjs (upward, between peers, or of a test file). */
const importDirection = {
  meta: { type: 'problem', schema: [], docs: { description: 'imports follow the direction of tools/layers.mjs' } },
  create(context) {
    const from = path.relative(root, context.filename).split(path.sep).join('/');
    const check = (node) => {
      const spec = node?.value;
      if (typeof spec !== 'string') return;
      const to = resolveSpec(from, spec);
      const why = to && violation(from, to);
      if (why) context.report({ node, message: why });
    };
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => n.source && check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n.source),
      CallExpression: (n) => n.callee.type === 'Identifier' && n.callee.name === 'require' && n.arguments[0]?.type === 'Literal' && check(n.arguments[0]),
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '**/*.d.ts', '.gpu-carry/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        performance: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        globalThis: 'readonly',
        navigator: 'readonly',
      },
    },
    plugins: { atn: { rules: { 'import-direction': importDirection } } },
    rules: {
      'atn/import-direction': 'error',
      // Unused names are mistakes, except a deliberately ignored one (_x) and the rest of a destructuring.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    // The sanitisers match control characters on purpose (the console and XML must never carry them), and so do the
    // tests that attack them.
    files: ['reports/terminal.ts', 'reports/junit.ts', 'properties/hostile.test.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    // Plain CommonJS scripts (ports written as an outside user would, launchers).
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
