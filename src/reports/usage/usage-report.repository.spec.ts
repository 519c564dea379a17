import { marchQuery } from '../../../test/support/usage-query';
import { GroupColumn, UsageReportRepository } from './usage-report.repository';

const orderBy = (groupBy: GroupColumn[]) => /ORDER BY ([^)]*)$/.exec(new UsageReportRepository(null as never).csvStatement(marchQuery({ granularity: 'day', groupBy, projects: null })).sql.trim())![1];

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
