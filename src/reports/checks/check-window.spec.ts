import { addDays, daysBetween, isDay, isPeriod, monthsOf, periodDays } from './check-window';

describe('check window days', () => {
  it('knows real calendar days only', () => {
    expect(['2025-03-01', '2024-02-29', '0001-01-01', '9998-12-31'].every(isDay)).toBe(true);
    expect(['2025-02-29', '2025-13-01', '2025-3-1', '0000-01-01', '9999-01-01', '2025-03-01T00:00:00Z', ''].some(isDay)).toBe(false);
  });

  it('reads periods of a year, a month or a day', () => {
    expect(periodDays('2025')).toEqual({ first: '2025-01-01', end: '2026-01-01' });
    expect(periodDays('2025-02')).toEqual({ first: '2025-02-01', end: '2025-03-01' });
    expect(periodDays('2025-12')).toEqual({ first: '2025-12-01', end: '2026-01-01' });
    expect(periodDays('2024-02-29')).toEqual({ first: '2024-02-29', end: '2024-03-01' });
    expect(['2025', '2025-02', '2025-02-28'].every(isPeriod)).toBe(true);
    expect(['2025-13', '25', '2025-02-30', '0000', '9999'].some(isPeriod)).toBe(false);
  });

  it('steps and counts days across month and leap-year ends', () => {
    expect(addDays('2024-02-28', 2)).toBe('2024-03-01');
    expect(daysBetween('2025-03-01', '2025-04-01')).toBe(31);
    expect(daysBetween('2024-01-01', '2025-01-01')).toBe(366);
  });

  it('lists the months a window meets', () => {
    expect(monthsOf('2025-01-31', '2025-03-02')).toEqual(['2025-01-01', '2025-02-01', '2025-03-01']);
    expect(monthsOf('2025-03-01', '2025-04-01')).toEqual(['2025-03-01']);
    expect(monthsOf('2025-12-15', '2026-01-02')).toEqual(['2025-12-01', '2026-01-01']);
  });
});
