/** `npm run test:faults`: only the slow fault-injection tests (`*.slow.test.ts`), which `npm test` skips. */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['**/*.slow.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 600000,
};
