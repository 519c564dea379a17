// The test environment of every suite: Node's, plus the one thing Jest does
// not offer a test file, knowing when a test (or a hook) has failed. Test
// apps log into a buffer (test/support/test-log.ts) instead of the
// terminal, so a passing run stays clean even where a test provokes errors
// on purpose (a failed query, a lost connection); when a test fails, the
// lines its app logged are printed with the failure.
const { TestEnvironment } = require('jest-environment-node');

class LogBufferEnvironment extends TestEnvironment {
  async handleTestEvent(event) {
    const log = this.global.__testLog;
    if (!log) return;
    if (event.name === 'test_start') log.clear();
    else if (event.name === 'test_done' && event.test.errors.length > 0) log.flush(`the test "${event.test.name}" failed`);
    else if (event.name === 'hook_failure') log.flush(`a ${event.hook.type} hook failed`);
  }
}

module.exports = LogBufferEnvironment;
