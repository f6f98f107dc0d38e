/** Jest runs the TypeScript sources directly (ts-jest, ESM); `npm test` also builds dist/ first, because
 * the CLI tests spawn `bin/mdpipe.js` as a child process, as a user would. */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The long fault-injection loop runs with `npm run test:faults` (jest.faults.config.js), not in `npm test`.
  testPathIgnorePatterns: ['/node_modules/', '\\.slow\\.test\\.ts$'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  testTimeout: 60000,
  // Two workers on 2 cores: most suites wait on child processes (the CLI as a user runs it), so the
  // default (cores - 1 = one worker) leaves a core idle.
  maxWorkers: 2,
};
