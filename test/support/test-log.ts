import { Writable } from 'node:stream';

/**
 * Where test apps log (test/support/test-app.ts). Without TEST_LOG_LEVEL
 * their lines of level warn and above are kept here, per test, and printed
 * only when that test or a hook fails (test/support/log-environment.js): a
 * passing run prints nothing, though tests provoke failed queries and lost
 * connections on purpose, and a failing test shows what its app logged.
 * With TEST_LOG_LEVEL the apps log to stdout at that level, as before.
 */
const MAX_LINES = 500;

class TestLogBuffer {
  private lines: string[] = [];
  private dropped = 0;

  readonly stream = new Writable({
    write: (chunk: Buffer | string, _encoding, done) => {
      this.lines.push(String(chunk).trimEnd());
      if (this.lines.length > MAX_LINES) {
        this.lines.shift();
        this.dropped++;
      }
      done();
    },
  });

  clear(): void {
    this.lines = [];
    this.dropped = 0;
  }

  flush(why: string): void {
    if (this.lines.length === 0) return;
    const head = `${why}; its app logged${this.dropped ? ` (the first ${this.dropped} lines dropped)` : ''}:`;
    console.error([head, ...this.lines].join('\n'));
    this.clear();
  }
}

const global = globalThis as { __testLog?: TestLogBuffer };
/** One buffer per test file (Jest gives each file its own globals). */
export const testLog: TestLogBuffer = (global.__testLog ??= new TestLogBuffer());

/** The level test apps log at, and whether to the buffer or stdout. */
export const testLogLevel = process.env.TEST_LOG_LEVEL;
