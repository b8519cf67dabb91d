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
  setupFilesAfterEnv: ['<rootDir>/test/helpers/after-all.ts'],
  // End-to-end suites start real processes (sim, echo, serve) whose timing is what they measure;
  // running two such suites at once on a 2-core machine would measure CPU contention instead.
  maxWorkers: 1,
};
