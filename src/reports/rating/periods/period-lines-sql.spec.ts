import { closeScope, nextMonth } from './close-period.handler';
import { lineSelection } from './period-lines-sql';

describe('lineSelection (reports.md 5.3)', () => {
  it('view=closed (the default): usage lines frozen, plus posted adjustments; adjustments or all read applied ones', () => {
    expect(lineSelection(undefined, undefined)).toEqual({ frozen: true, usage: true, adjustments: 'posted' });
    expect(lineSelection('closed', 'usage')).toEqual({ frozen: true, usage: true, adjustments: 'posted' });
    expect(lineSelection('closed', 'adjustments')).toEqual({ frozen: true, usage: false, adjustments: 'applied' });
    expect(lineSelection(undefined, 'all')).toEqual({ frozen: true, usage: true, adjustments: 'applied' });
  });

  it('view=live: live usage lines only', () => {
    expect(lineSelection('live', undefined)).toEqual({ frozen: false, usage: true, adjustments: 'none' });
    expect(lineSelection('live', 'usage')).toEqual({ frozen: false, usage: true, adjustments: 'none' });
  });
});

describe('closeScope', () => {
  it('gives the month and the first day after it, across a year end', () => {
    expect(closeScope('2025-03', 'Europe/Berlin')).toEqual({ period: '2025-03', month: '2025-03-01', next: '2025-04-01', time_zone: 'Europe/Berlin' });
    expect(nextMonth('2025-12-01')).toBe('2026-01-01');
    expect(nextMonth('0999-12-01')).toBe('1000-01-01');
  });
});
