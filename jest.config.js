// Tests run with SWC (not ts-jest): it keeps decorator metadata, which Nest's
// dependency injection and class-validator need, and starts much faster.
const { readFileSync } = require('node:fs');
const swc = JSON.parse(readFileSync(`${__dirname}/.swcrc`, 'utf8'));

module.exports = {
  rootDir: '.',
  // Node's environment, telling test/support/test-log.ts when a test failed.
  testEnvironment: '<rootDir>/test/support/log-environment.js',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swc, swcrc: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/support/skip-summary-reporter.js'],
};
