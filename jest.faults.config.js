/**
 * `npm run test:faults`: the slow suites (`*.slow.test.ts`), which `npm test` skips: fault injection (SIGKILL
 * loops, full disks, bad and hostile input, concurrent runs, interrupts) and full-size worker and watch runs.
 * CI (`.ci/run`) runs both.
 */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['**/*.slow.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 600000,
  // One suite at a time: kill timings and full-size builds are what these measure.
  maxWorkers: 1,
};
