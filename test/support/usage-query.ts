import { lineSelection } from '../../src/reports/rating/periods/period-lines-sql';
import { UsageQuery } from '../../src/reports/usage/usage-report.repository';

/** One project's March 2025 by project and key, as the service would hand it to the repository. */
export function marchQuery(overrides: Partial<UsageQuery> = {}): UsageQuery {
  return {
    start: '2025-03-01T00:00:00Z',
    end: '2025-04-01T00:00:00Z',
    asOf: '2025-05-01T00:00:00Z',
    tz: 'UTC',
    period: '2025-03',
    granularity: 'total',
    groupBy: ['project_id', 'key'],
    projects: ['p1'],
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
    limit: 10,
    ...overrides,
  };
}
