/** Exit statuses of `usage-ledger` (reports.md 7.5): 0 all well, 1 a mismatch found, 2 any error. */
export const EXIT_OK = 0;
export const EXIT_MISMATCH = 1;
export const EXIT_ERROR = 2;

/** What an error says in place of a value it must not repeat (it may be a secret). */
export function withheld(value: string): string {
  return `(a value of ${value.length} characters, not repeated here: it may be a secret)`;
}

/** An error the CLI reports in one line and exits with (2 unless said otherwise). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_ERROR,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
