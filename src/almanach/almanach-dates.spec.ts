import { formatAlmanachDate, parseAlmanachDate, toSqlTimestamp } from './almanach-dates';

describe(parseAlmanachDate.name, () => {
  it('keeps microseconds exactly', () => {
    const micros = parseAlmanachDate('2016-11-24T21:16:47.106001Z')!;
    expect(micros % 1_000_000n).toBe(106001n);
    expect(formatAlmanachDate(micros)).toBe('2016-11-24 21:16:47.106001+00:00');
    expect(toSqlTimestamp(micros)).toBe('2016-11-24T21:16:47.106001Z');
  });

  it('handles dates before the epoch', () => {
    const micros = parseAlmanachDate('1969-12-31T23:59:59.5Z')!;
    expect(formatAlmanachDate(micros)).toBe('1969-12-31 23:59:59.500000+00:00');
  });

  it.each([null, 5, {}, '', '2016', '2016-01-01T', '2016-01-01T00:00:00+25:00', '2015-02-29', '2016-01-01T00:60:00Z'])('refuses %p', (value) => {
    expect(parseAlmanachDate(value)).toBeNull();
  });
});
