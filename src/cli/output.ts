/** Writes of the CLI: results on stdout, progress and errors on stderr. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (progress bar) . */
  interactive: boolean;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  interactive: Boolean(process.stderr.isTTY),
};

/** A plain-text table: a header row, a rule, and the rows, columns padded to their widest cell. */
export function table(headers: string[], rows: (string | number | null)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map((c) => (c === null ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => row.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** One object as aligned `name  value` lines (no header): what a create or rotate prints. */
export function fields(pairs: [string, string | number | null][]): string {
  const width = Math.max(...pairs.map(([name]) => name.length));
  return pairs.map(([name, value]) => `${name.padEnd(width)}  ${value === null ? '' : String(value)}`.trimEnd()).join('\n');
}

/** Prints a value as indented JSON on stdout (`--json`). */
export function printJson(output: Output, value: unknown): void {
  output.out(JSON.stringify(value, null, 2));
}
