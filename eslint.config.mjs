// Lint for src/, webview/ and test/: `npm run lint`, which test/run-all.sh runs right after the
// typecheck. ESLint's and typescript-eslint's recommended rules (those that need no type
// information), plus no-floating-promises, the one type-aware rule (a promise nobody awaits loses
// its errors): it needs the type checker, about 10 s more (20 s in all on two cores); drop the
// block that turns it on to go back to 10 s.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'out/', '.cache/', 'node_modules/', 'test-output/', '.test-output/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      // Each file is checked with its own tsconfig.json (the root one, or webview/tsconfig.json).
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    rules: {
      // `_name` marks a parameter an interface requires but this implementation does not use;
      // `const { a: _drop, ...rest }` drops a key.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Sanitizers and validators match control characters on purpose.
      'no-control-regex': 'off',
      // Polynomial constants are copied digit for digit from cephes/libm (and rounded to float32 after).
      'no-loss-of-precision': 'off',
      // Flags harmless initialisers such as `let n = 0;` before the try that sets n.
      'no-useless-assignment': 'off',
    },
  },
  {
    // Message types grouped in type-only namespaces (ToPanel.Init, ...); erased at compile time.
    files: ['src/core/webviewMessages.ts'],
    rules: { '@typescript-eslint/no-namespace': 'off' },
  },
  {
    // Plain Node scripts (CommonJS).
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', __filename: 'readonly', process: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
