import { DomainError } from '../../http/domain-error';
import { parseAllocationFilter, parseInstant, splitLookup } from './filter';

function failure(run: () => unknown): { message: string; fields: unknown } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return { message: (error as DomainError).message, fields: (error as DomainError).extra.fields };
  }
  throw new Error('expected a failure');
}

describe('allocation filter language (allocations.md 6)', () => {
  it('splits a key into field and lookup at the first double underscore', () => {
    expect(splitLookup('project_name')).toEqual(['project_name', '']);
    expect(splitLookup('project_name__icontains')).toEqual(['project_name', 'icontains']);
    expect(splitLookup('parent_request__isnull')).toEqual(['parent_request', 'isnull']);
  });

  it('reads what the client sends: current record of a project, last approval, history', () => {
    expect(parseAllocationFilter({ parent_request__isnull: 'True', project_id: 'p1' })).toEqual([
      { kind: 'parent_is_null', isNull: true },
      { kind: 'project_id', values: ['p1'] },
    ]);
    expect(parseAllocationFilter({ status: 'A', project_id__in: 'p1, p2' })).toEqual([
      { kind: 'status', codes: ['A'] },
      { kind: 'project_id', values: ['p1', 'p2'] },
    ]);
    expect(parseAllocationFilter({ parent_request: '7' })).toEqual([{ kind: 'parent', id: 7 }]);
    expect(parseAllocationFilter({ parent_request_id: '7' })).toEqual([{ kind: 'parent', id: 7 }]);
    expect(parseAllocationFilter({ parent_request__isnull: 'false' })).toEqual([{ kind: 'parent_is_null', isNull: false }]);
  });

  it('takes status codes, legacy ones included, alone or comma-separated', () => {
    expect(parseAllocationFilter({ status__in: 'E,X,,L' })).toEqual([{ kind: 'status', codes: ['E', 'X', 'L'] }]);
    expect(failure(() => parseAllocationFilter({ status: 'Q' }))).toEqual({ message: 'status: "Q" is not a valid status.', fields: { status: ['"Q" is not a valid status.'] } });
    expect(failure(() => parseAllocationFilter({ status__in: 'A,toString' })).message).toMatch(/^status__in: /);
  });

  it('has the eight text lookups plus exact and iexact on project_name, contact_email and approver_email', () => {
    for (const lookup of ['iexact', 'contains', 'icontains', 'startswith', 'istartswith', 'endswith', 'iendswith', 'regex']) {
      expect(parseAllocationFilter({ [`contact_email__${lookup}`]: 'x' })).toEqual([{ kind: 'text', field: 'contact_email', lookup, value: 'x' }]);
    }
    expect(parseAllocationFilter({ project_name: 'demo' })).toEqual([{ kind: 'text', field: 'project_name', lookup: '', value: 'demo' }]);
  });

  it('reads booleans in the spellings of allocations.md 2.1 and refuses others', () => {
    expect(parseAllocationFilter({ national: 'True', managed: '0', provisioned: 'false' })).toEqual([
      { kind: 'flag', field: 'national', value: true },
      { kind: 'flag', field: 'managed', value: false },
      { kind: 'flag', field: 'provisioned', value: false },
    ]);
    expect(failure(() => parseAllocationFilter({ notifications: 'yes' })).message).toBe('notifications: Must be a valid boolean.');
    expect(failure(() => parseAllocationFilter({ parent_request__isnull: 'maybe' })).message).toBe('parent_request__isnull: Must be a valid boolean.');
  });

  it('refuses a parent_request that is not an integer', () => {
    expect(failure(() => parseAllocationFilter({ parent_request: 'x' })).message).toBe('parent_request: A valid integer is required.');
    expect(failure(() => parseAllocationFilter({ parent_request: '2147483648' })).message).toMatch(/^parent_request: /);
  });

  it('reads the allocation home, the site and the chief investigator', () => {
    expect(parseAllocationFilter({ allocation_home: 'national' })).toEqual([{ kind: 'home', home: 'national' }]);
    expect(parseAllocationFilter({ allocation_home: 'unassigned' })).toEqual([{ kind: 'home', home: 'unassigned' }]);
    expect(parseAllocationFilter({ allocation_home: 'melbourne' })).toEqual([{ kind: 'home', home: { site: 'melbourne' } }]);
    expect(parseAllocationFilter({ associated_site: 'melbourne' })).toEqual([{ kind: 'site', name: 'melbourne' }]);
    expect(parseAllocationFilter({ chief_investigator: 'ci@example.org' })).toEqual([{ kind: 'chief_investigator', email: 'ci@example.org' }]);
  });

  it('compares dates and date-times with lt, gt, lte, gte, year and (date-times) date', () => {
    expect(parseAllocationFilter({ start_date__gte: '2024-01-01', end_date__year: '2025' })).toEqual([
      { kind: 'date', field: 'start_date', op: '>=', date: '2024-01-01' },
      { kind: 'year', field: 'end_date', year: 2025 },
    ]);
    expect(parseAllocationFilter({ modified_time__date: '2024-05-01' })).toEqual([{ kind: 'day', field: 'modified_time', date: '2024-05-01' }]);
    expect(parseAllocationFilter({ submit_date__lt: '2024-05-01T10:19:15.037Z' })).toEqual([
      { kind: 'instant', field: 'submit_date', op: '<', at: new Date('2024-05-01T10:19:15.037Z') },
    ]);
    // A bare date compares at midnight UTC.
    expect(parseAllocationFilter({ modified_time__gt: '2024-05-01' })).toEqual([{ kind: 'instant', field: 'modified_time', op: '>', at: new Date('2024-05-01T00:00:00Z') }]);
  });

  it('refuses ill-formed dates naming the parameter', () => {
    expect(failure(() => parseAllocationFilter({ start_date: '2023-02-29' })).message).toBe('start_date: Date has wrong format. Use YYYY-MM-DD.');
    expect(failure(() => parseAllocationFilter({ modified_time__gte: 'yesterday' })).message).toBe('modified_time__gte: Datetime has wrong format. Use ISO 8601.');
    expect(failure(() => parseAllocationFilter({ submit_date__year: 'MMXXIV' })).message).toBe('submit_date__year: A valid year is required.');
    expect(failure(() => parseAllocationFilter({ modified_time__date: '2024-5-1' })).message).toMatch(/^modified_time__date: /);
  });

  it('ignores unknown parameters and unknown lookups, prototype names included', () => {
    expect(
      parseAllocationFilter({
        limit: '10',
        offset: '5',
        frobnicate: 'x',
        project_name__frob: 'x',
        status__gte: 'A',
        start_date__date: '2024-01-01',
        end_date__toString: 'x',
        associated_site__icontains: 'x',
        national__in: 'True',
      }),
    ).toEqual([]);
  });

  it('takes the last value of a repeated parameter and refuses NUL characters', () => {
    expect(parseAllocationFilter({ status: ['E', 'A'] })).toEqual([{ kind: 'status', codes: ['A'] }]);
    expect(failure(() => parseAllocationFilter({ project_name: 'a\u0000b' })).message).toMatch(/^project_name: /);
  });

  describe(parseInstant.name, () => {
    it('reads ISO 8601 with or without offset (none means UTC) and bare dates', () => {
      expect(parseInstant('2024-05-01T10:19:15Z')).toEqual(new Date('2024-05-01T10:19:15Z'));
      expect(parseInstant('2024-05-01T10:19')).toEqual(new Date('2024-05-01T10:19:00Z'));
      expect(parseInstant('2024-05-01 10:19:15+02:00')).toEqual(new Date('2024-05-01T08:19:15Z'));
      expect(parseInstant('2024-05-01')).toEqual(new Date('2024-05-01T00:00:00Z'));
    });

    it('refuses what is not a date-time', () => {
      for (const text of ['', 'now', '2024-13-01', '0000-01-01T00:00:00Z', '2024-05-01T25:00:00Z']) expect(parseInstant(text)).toBeUndefined();
    });
  });
});
