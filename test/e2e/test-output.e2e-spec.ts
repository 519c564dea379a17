import { join } from 'node:path';
import { testLog } from '../support/test-log';
import { useTestApp } from '../support/test-app';

/* eslint-disable @typescript-eslint/no-require-imports */
const SkipSummaryReporter = require('../support/skip-summary-reporter.js');
const LogBufferEnvironment = require('../support/log-environment.js');

/**
 * What a run of `npm test` prints besides Jest's own lines: why suites
 * skipped (test/support/skip-summary-reporter.js), and the logs of a test
 * app only when its test failed (test/support/test-log.ts and
 * log-environment.js).
 */
describe('test run output', () => {
  describe('the skip summary', () => {
    const ROOT = join(__dirname, '..', '..');
    const result = (file: string, pending: number, lines: string[] = []) => ({
      testFilePath: join(ROOT, file),
      numPendingTests: pending,
      console: lines.map((message) => ({ message, origin: '', type: 'log' })),
    });

    function summary(testNamePattern: string | undefined, results: ReturnType<typeof result>[]): string {
      const reporter = new SkipSummaryReporter({ rootDir: ROOT, testNamePattern });
      for (const r of results) reporter.onTestResult({}, r);
      const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        reporter.onRunComplete();
        return write.mock.calls.map((c) => String(c[0])).join('');
      } finally {
        write.mockRestore();
      }
    }

    it("repeats each skipped suite's reason, and names a suite that skipped without one", () => {
      expect(
        summary(undefined, [
          result('test/e2e/quotas-race.e2e-spec.ts', 6, ['quotas race tests skipped: they need real PostgreSQL (set DATABASE_URL)']),
          result('test/e2e/admin.e2e-spec.ts', 0, ['an unrelated line']),
          result('test/e2e/mystery.e2e-spec.ts', 1),
        ]),
      ).toBe(
        '\nSkipped, and why:\n' +
          '  - quotas race tests skipped: they need real PostgreSQL (set DATABASE_URL)\n' +
          "  - test/e2e/mystery.e2e-spec.ts: 1 test skipped without a reason (give one: console.log('…: skipped, <why>'))\n",
      );
    });

    it('says nothing when nothing skipped, and does not blame suites a -t pattern filtered', () => {
      expect(summary(undefined, [result('test/e2e/admin.e2e-spec.ts', 0)])).toBe('');
      expect(summary('401', [result('test/e2e/admin.e2e-spec.ts', 12)])).toBe('');
    });
  });

  describe('test app logs', () => {
    const t = useTestApp();

    it('keep the failed query a test provokes on purpose out of a passing run, in the buffer', async () => {
      await expect(t.runtime.dataSource.query('SELECT * FROM no_such_table')).rejects.toThrow();
      const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        // What the environment does when this test fails: print what its app logged.
        new LogBufferEnvironmentProbe().failed('this test');
        expect(error).toHaveBeenCalledTimes(1);
        const printed = String(error.mock.calls[0][0]).split('\n');
        expect(printed[0]).toBe('the test "this test" failed; its app logged:');
        expect(JSON.parse(printed[1])).toMatchObject({ level: 50, component: 'database', msg: 'query failed', query: 'SELECT * FROM no_such_table' });
      } finally {
        error.mockRestore();
      }
    });

    it('start empty for each test, and a passing test prints nothing', async () => {
      const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        new LogBufferEnvironmentProbe().passed('this test');
        expect(error).not.toHaveBeenCalled();
        testLog.flush('nothing logged since the test started');
        expect(error).not.toHaveBeenCalled();
      } finally {
        error.mockRestore();
      }
    });
  });
});

/** Drives log-environment.js's event handler with this file's globals, as Jest does. */
class LogBufferEnvironmentProbe {
  private readonly handle = LogBufferEnvironment.prototype.handleTestEvent.bind({ global: globalThis });

  failed(name: string) {
    void this.handle({ name: 'test_done', test: { name, errors: [new Error('x')] } });
  }

  passed(name: string) {
    void this.handle({ name: 'test_done', test: { name, errors: [] } });
  }
}
