import { columnValue, csvField, CsvFieldError, csvRecord } from './csv-fields';

describe(csvField.name, () => {
  it('keeps strings exactly, decimals included', () => {
    expect(csvField('2674800.000000')).toBe('2674800.000000');
    expect(csvField('0.1000000000')).toBe('0.1000000000');
    expect(csvField('')).toBe('');
    expect(csvField('a,"b"\r\n')).toBe('a,"b"\r\n');
  });

  it('writes null as an empty field, booleans as true/false, integers and bigints in full', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(true)).toBe('true');
    expect(csvField(false)).toBe('false');
    expect(csvField(0)).toBe('0');
    expect(csvField(-42)).toBe('-42');
    expect(csvField(12345678901234567890n)).toBe('12345678901234567890');
  });

  it('writes dates as UTC ISO with Z and milliseconds', () => {
    expect(csvField(new Date('2025-03-01T00:00:00+01:00'))).toBe('2025-02-28T23:00:00.000Z');
    expect(csvField(new Date(Date.UTC(2025, 2, 10, 12, 0, 0, 500)))).toBe('2025-03-10T12:00:00.500Z');
  });

  it('refuses a fraction or an exponent from a binary float, naming the column', () => {
    expect(() => csvField(0.1, 'cost')).toThrow(CsvFieldError);
    expect(() => csvField(0.1, 'cost')).toThrow(/^cost: the number 0.1 is not an exact integer/);
    expect(() => csvField(1e21, 'quantity')).toThrow(/quantity: the number 1e\+21/);
    expect(() => csvField(Number.NaN)).toThrow(CsvFieldError);
  });

  it('refuses objects, arrays, invalid dates and a missing field', () => {
    expect(() => csvField({ a: 1 }, 'period')).toThrow(/period: an object is not a CSV field/);
    expect(() => csvField(['a'], 'ids')).toThrow(/ids: an array/);
    expect(() => csvField(new Date('x'), 'at')).toThrow(/at: invalid date/);
    expect(() => csvField(undefined, 'priced')).toThrow(/priced: the row has no such field/);
  });
});

describe(columnValue.name, () => {
  it('reads a flat key first, then a path through nested objects', () => {
    expect(columnValue({ 'period.start': 'flat', period: { start: 'nested' } }, 'period.start')).toBe('flat');
    expect(columnValue({ period: { start: 'nested', end: null } }, 'period.start')).toBe('nested');
    expect(columnValue({ period: { end: null } }, 'period.end')).toBeNull();
  });

  it('gives null under a null parent and undefined for a missing path', () => {
    expect(columnValue({ period: null }, 'period.start')).toBeNull();
    expect(columnValue({ period: {} }, 'period.start')).toBeUndefined();
    expect(columnValue({}, 'x')).toBeUndefined();
    expect(columnValue({ a: 'text' }, 'a.length')).toBeUndefined();
    expect(columnValue({ a: {} }, 'a.constructor')).toBeUndefined();
  });
});

describe(csvRecord.name, () => {
  it('gives the fields in column order, nested objects flattened', () => {
    const row = { quantity: '1.500000', unsized: false, period: { start: new Date('2025-03-01T00:00:00Z'), label: null }, key: 'm1' };
    expect(csvRecord(row, ['key', 'period.start', 'period.label', 'unsized', 'quantity'])).toEqual(['m1', '2025-03-01T00:00:00.000Z', '', 'false', '1.500000']);
  });

  it('fails on a column the row does not have', () => {
    expect(() => csvRecord({ key: 'm1' }, ['key', 'kye'])).toThrow(/kye: the row has no such field/);
  });
});
