import { CsvSyntaxError, parseCsv } from './csv';

describe(parseCsv.name, () => {
  it('reads quoted fields, doubled quotes, commas and line breaks inside quotes, CRLF and LF', () => {
    expect(parseCsv('a,b,c\r\n"x, y","say ""hi""","two\nlines"\n1,,3')).toEqual([
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', 'two\nlines'],
      ['1', '', '3'],
    ]);
  });

  it('skips a BOM, blank lines and a final line end; keeps an empty quoted field', () => {
    expect(parseCsv('\ufeffname\r\n\r\nm1\r\n""\r\n')).toEqual([['name'], ['m1'], ['']]);
  });

  it.each([
    ['"open', /^line 1: Quote Not Closed/],
    ['a,b"c', /^line 1: Invalid Opening Quote/],
    ['a\n"x"y', /^line 2: Invalid Closing Quote/],
  ])('refuses %j naming the line', (text, message) => {
    expect(() => parseCsv(text)).toThrow(CsvSyntaxError);
    expect(() => parseCsv(text)).toThrow(message);
  });
});
