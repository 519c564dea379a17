import { lineSelection } from '../rating/periods/period-lines-sql';
import { GroupColumn, UsageQuery, UsageReportRepository } from './usage-report.repository';

function query(groupBy: GroupColumn[]): UsageQuery {
  return {
    start: '2025-03-01T00:00:00Z',
    end: '2025-04-01T00:00:00Z',
    asOf: '2025-05-01T00:00:00Z',
    tz: 'UTC',
    period: '2025-03',
    granularity: 'day',
    groupBy,
    projects: null,
    sites: null,
    sources: null,
    meters: null,
    flavors: null,
    volumeTypes: null,
    resources: null,
    recordTypes: null,
    currency: null,
    siteCells: false,
    lines: lineSelection(undefined, undefined),
    after: null,
    limit: 0,
  };
}

const orderBy = (groupBy: GroupColumn[]) => /ORDER BY ([^)]*)$/.exec(new UsageReportRepository(null as never).csvStatement(query(groupBy)).sql.trim())![1];

/**
 * The export's ORDER BY leaves out the keyset parts of the columns it does
 * not group by (constants: a sorted grouping then gives its order, and the
 * rows are sorted once). Which parts are left out is pinned here: the HTTP
 * tests cannot see a part wrongly left out, because the grouping's sort
 * usually gives the full order anyway.
 */
describe('UsageReportRepository.csvStatement order', () => {
  it('keeps every part of each grouped column and of the columns always present', () => {
    expect(orderBy(['project_id', 'site', 'key', 'subkey'])).toBe('k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14');
    expect(orderBy(['project_id', 'key', 'subkey'])).toBe('k1, k2, k3, k6, k7, k8, k9, k10, k11, k12, k13, k14');
    expect(orderBy(['site'])).toBe('k1, k4, k5, k6, k11, k12, k13, k14');
    expect(orderBy(['key'])).toBe('k1, k6, k7, k8, k11, k12, k13, k14');
    expect(orderBy(['subkey'])).toBe('k1, k6, k9, k10, k11, k12, k13, k14');
    expect(orderBy([])).toBe('k1, k6, k11, k12, k13, k14');
  });
});
