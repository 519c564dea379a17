import { CsvError, parse } from 'csv-parse/sync';

/**
 * The CLI's CSV inputs (`flavors import`), read with csv-parse (RFC 4180:
 * comma separator, CRLF or LF line ends, fields quoted with `"` and quotes
 * doubled inside them); a UTF-8 BOM is skipped, blank lines are ignored, and
 * rows may differ in length (the caller names the short ones).
 */
export class CsvSyntaxError extends Error {}

export function parseCsv(text: string): string[][] {
  try {
    return parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, record_delimiter: ['\r\n', '\n'] }) as string[][];
  } catch (error) {
    if (error instanceof CsvError) throw new CsvSyntaxError(`line ${(error as CsvError & { lines?: number }).lines ?? '?'}: ${error.message.replace(/ at line \d+/, '')}`);
    throw error;
  }
}
