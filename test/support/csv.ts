import { parse } from 'csv-parse/sync';

/**
 * The records of a CSV body as the service must write it (RFC 4180, reports.md
 * 1.7): read with csv-parse, strictly (every record ends with CRLF, the same
 * number of fields in every record, quotes only where RFC 4180 allows them).
 */
export function parseCsv(text: string): string[][] {
  if (text.length > 0 && !text.endsWith('\r\n')) throw new Error('the CSV does not end with CRLF');
  return parse(text, { record_delimiter: '\r\n', relax_column_count: false }) as string[][];
}
