import { csvContentDisposition, csvFileName, utcStamp } from './csv-file-name';

describe(csvFileName.name, () => {
  const march = { start: new Date('2025-02-28T23:00:00.000Z'), end: new Date('2025-03-31T22:00:00.000Z') };

  it('names the route after /reports/ with / written -', () => {
    expect(csvFileName('usage', { ...march, period: '2025-03' })).toBe('usage-2025-03.csv');
    expect(csvFileName('/reports/usage/entities', { ...march, period: '2025-03' })).toBe('usage-entities-2025-03.csv');
    expect(csvFileName('reports/usage/entities?format=csv', { ...march, period: '2025' })).toBe('usage-entities-2025.csv');
    expect(csvFileName(['budgets', 'p-123', 'ledger'])).toBe('budgets-p-123-ledger.csv');
  });

  it('writes start--end as UTC YYYYMMDDTHHMMSSZ without a period, dropping fractions', () => {
    expect(csvFileName('usage', march)).toBe('usage-20250228T230000Z--20250331T220000Z.csv');
    expect(csvFileName('usage', { ...march, period: null })).toBe('usage-20250228T230000Z--20250331T220000Z.csv');
    expect(csvFileName('usage', { start: new Date('2025-03-10T12:00:00.500Z'), end: new Date('2025-03-10T12:00:01.999Z') })).toBe(
      'usage-20250310T120000Z--20250310T120001Z.csv',
    );
  });

  it('has no -<window> for a route without one', () => {
    expect(csvFileName('price-lists/pl_1/audit')).toBe('price-lists-pl_1-audit.csv');
    expect(csvFileName('budgets', null)).toBe('budgets.csv');
  });

  it('replaces every character outside [A-Za-z0-9._-] by _, a / inside a segment included', () => {
    expect(csvFileName(['budgets', 'p 1/ü"x;', 'ledger'])).toBe('budgets-p_1___x_-ledger.csv');
    expect(csvFileName(['budgets', 'p.1_a-b'])).toBe('budgets-p.1_a-b.csv');
    expect(csvFileName('usage', { ...march, period: '2025/03"' })).toBe('usage-2025_03_.csv');
  });

  it('refuses a route with no segment and an invalid date', () => {
    expect(() => csvFileName('/reports/')).toThrow(/no segment/);
    expect(() => csvFileName('usage', { start: new Date('x'), end: new Date() })).toThrow(/invalid date/);
  });

  it('utcStamp and the Content-Disposition', () => {
    expect(utcStamp(new Date('2025-09-07T04:00:00Z'))).toBe('20250907T040000Z');
    expect(csvContentDisposition('usage-2025-03.csv')).toBe('attachment; filename="usage-2025-03.csv"');
  });
});
