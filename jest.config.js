/** Jest runs the TypeScript sources directly (ESM via ts-jest); end-to-end tests spawn
 * the built binary (`npm test` builds first through `pretest`). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {'^(\\.{1,2}/.*)\\.js$': '$1'},
  transform: {
    '^.+\\.ts$': ['ts-jest', {useESM: true, tsconfig: 'tsconfig.json', diagnostics: false}],
  },
  testTimeout: 60000,
  maxWorkers: 2,
};
