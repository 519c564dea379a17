// Jest prints nothing for a skipped suite, so a run on the embedded defaults
// would hide why the race and durability suites did not run. Suites that skip
// say why with a console line containing "skipped" (see test/e2e/*race*,
// *durability*, *concurrency*); this reporter repeats those lines in the
// run's summary, one per suite.
class SkipSummaryReporter {
  constructor() {
    this.reasons = [];
  }

  onTestResult(_test, result) {
    if (result.numPendingTests === 0) return;
    for (const entry of result.console ?? []) {
      const message = String(entry.message);
      if (/skipped/i.test(message)) this.reasons.push(message);
    }
  }

  onRunComplete() {
    if (this.reasons.length === 0) return;
    process.stderr.write(`\nSkipped, and why:\n${this.reasons.map((r) => `  - ${r}`).join('\n')}\n`);
  }
}

module.exports = SkipSummaryReporter;
