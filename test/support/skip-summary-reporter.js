// Jest prints nothing for a skipped suite, so a run on the embedded defaults
// would hide why the race and durability suites did not run. Suites that skip
// say why with a console line containing "skipped" (see test/e2e/*race*,
// *durability*, *concurrency*); this reporter repeats those lines in the
// run's summary, one per suite, and names any suite that skipped tests
// without saying why (unless the run chose tests by name with -t, which
// skips the others on purpose).
const { relative } = require('node:path');

class SkipSummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    this.filtered = Boolean(globalConfig.testNamePattern);
    this.reasons = [];
  }

  onTestResult(_test, result) {
    if (result.numPendingTests === 0) return;
    const said = (result.console ?? []).map((entry) => String(entry.message)).filter((message) => /skipped/i.test(message));
    if (said.length > 0) this.reasons.push(...said);
    else if (!this.filtered) {
      const n = result.numPendingTests;
      this.reasons.push(`${relative(this.rootDir, result.testFilePath)}: ${n} test${n === 1 ? '' : 's'} skipped without a reason (give one: console.log('…: skipped, <why>'))`);
    }
  }

  onRunComplete() {
    if (this.reasons.length === 0) return;
    process.stderr.write(`\nSkipped, and why:\n${this.reasons.map((r) => `  - ${r}`).join('\n')}\n`);
  }
}

module.exports = SkipSummaryReporter;
