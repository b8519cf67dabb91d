import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'reports/**', 'coverage/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {globals: {...globals.node}},
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
      'no-console': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', {max: 80, skipBlankLines: false, skipComments: false}],
      'max-lines': ['error', {max: 500, skipBlankLines: false, skipComments: false}],
    },
  },
  {
    files: ['test/**/*.ts'],
    languageOptions: {globals: {...globals.node, ...globals.jest}},
  },
);
