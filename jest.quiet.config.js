/** The latency-bound tests (see QUIET_TESTS in jest.config.js), one at a time: `npm run test:quiet`. */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: base.QUIET_TESTS,
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
};
