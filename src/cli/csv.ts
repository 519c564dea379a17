/**
 * A strict RFC 4180 reader for the CLI's CSV inputs (`flavors import`):
 * comma separator, CRLF or LF line ends, fields quoted with `"` and quotes
 * doubled inside them; a UTF-8 BOM is skipped and blank lines are ignored.
 * Written here because csv-parse is not among the project's dependencies
 * (csv-stringify, its sibling, is); the inputs are small files.
 */
export class CsvSyntaxError extends Error {}

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRow = () => {
    row.push(field);
    if (!(row.length === 1 && row[0] === '' && !quoted)) rows.push(row);
    row = [];
    field = '';
    quoted = false;
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      if (field !== '' || quoted) throw new CsvSyntaxError(`line ${line}: a quote inside an unquoted field`);
      quoted = true;
      const start = line;
      i++;
      for (;;) {
        if (i >= text.length) throw new CsvSyntaxError(`line ${start}: a quoted field is not closed`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (text[i] === '\n') line++;
        field += text[i++];
      }
      if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') throw new CsvSyntaxError(`line ${line}: text after a closing quote`);
      continue;
    }
    if (c === ',') {
      row.push(field);
      field = '';
      quoted = false;
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      endRow();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      continue;
    }
    if (quoted) throw new CsvSyntaxError(`line ${line}: text after a closing quote`);
    field += c;
    i++;
  }
  if (field !== '' || row.length || quoted) endRow();
  return rows;
}
