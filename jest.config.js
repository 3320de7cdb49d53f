/** Unit tests live beside the code (src/**\/*.test.ts); tests that start real
 * processes live in test/ and run against the compiled dist/ that `pretest` builds. */

/**
 * Tests that hold real processes to a latency bound (a healed executor rejoins within a second). `npm test` runs
 * them after the rest, one file at a time (jest.quiet.config.js), not on the two cores another test file is
 * loading: beside the fuzz suite, the first heals of a clean CI run took 1.05–1.33 s, and otherwise ≤ 0.9 s.
 */
const QUIET_TESTS = ['<rootDir>/test/heal-rejoin.test.ts'];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...QUIET_TESTS],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
  },
  setupFiles: ['reflect-metadata'],
  testTimeout: 60000,
  maxWorkers: 2,
};
// Not a jest option (not enumerable, so jest does not see it): for jest.quiet.config.js.
Object.defineProperty(module.exports, 'QUIET_TESTS', { value: QUIET_TESTS, enumerable: false });
