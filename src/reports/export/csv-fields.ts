/**
 * One CSV field from one value (reports.md 1.7): decimals and other exact
 * figures are the strings PostgreSQL gave (the SQL casts `numeric` to text,
 * or leaves it as node-postgres's string: never through a JS number), dates
 * UTC ISO 8601 with `Z` and milliseconds, booleans `true`/`false`, `null`
 * an empty field. Anything else is a programming error and throws: an
 * exported figure is never guessed.
 */
export class CsvFieldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvFieldError';
  }
}

export function csvField(value: unknown, column = '?'): string {
  if (value === null) return '';
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'number':
      // Counts (rows, cells, seconds of lag) are integers; a fraction or an
      // exponent here means a decimal went through a binary float.
      if (Number.isSafeInteger(value)) return String(value);
      throw new CsvFieldError(`${column}: the number ${value} is not an exact integer; give decimals as strings (cast numeric to text in SQL)`);
    case 'undefined':
      throw new CsvFieldError(`${column}: the row has no such field`);
    default:
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new CsvFieldError(`${column}: invalid date`);
        return value.toISOString();
      }
      throw new CsvFieldError(`${column}: ${Array.isArray(value) ? 'an array' : 'an object'} is not a CSV field; list its members as columns (nested objects flatten with ".")`);
  }
}

/**
 * The value of a column in a row: the key itself when the row has it
 * (`row['period.start']`), else the path through nested objects
 * (`row.period.start`, reports.md 1.7 "a nested object is flattened with
 * `.`"). A column the row does not have is `undefined`, which csvField
 * refuses: a misspelt column fails the export instead of exporting blanks.
 */
export function columnValue(row: Record<string, unknown>, column: string): unknown {
  if (Object.prototype.hasOwnProperty.call(row, column)) return row[column];
  let current: unknown = row;
  for (const part of column.split('.')) {
    if (current === null) return null; // a null parent object: every member is empty
    if (typeof current !== 'object' || !Object.prototype.hasOwnProperty.call(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** The fields of one CSV record, in column order. */
export function csvRecord(row: Record<string, unknown>, columns: readonly string[]): string[] {
  return columns.map((column) => csvField(columnValue(row, column), column));
}
