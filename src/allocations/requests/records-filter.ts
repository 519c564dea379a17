import { invalidField } from '../allocations.errors';
import { parseInteger } from '../shared/body-reader';
import { QueryParamDoc } from '../shared/input';
import { Query, queryValue } from '../shared/paging';
import { RecordFilter, RecordKind } from './records.repository';

/**
 * The list filters of the attached records (allocations.md 7, 9): quotas by
 * `resource`, `group__allocation` (or `allocation`), `group__zone` and
 * `group__service_type`; the others by `allocation`. Unknown ones are ignored.
 */
export function recordFilterParser(kind: RecordKind): (query: Query) => RecordFilter {
  return (query) => {
    const int = (name: string): number | undefined => {
      const text = queryValue(query, name);
      if (text === undefined) return undefined;
      const value = parseInteger(text);
      if (value === undefined) throw invalidField(name, 'A valid integer is required.');
      return value;
    };
    if (kind !== 'quotas') {
      const allocation = int('allocation');
      return allocation === undefined ? {} : { allocation: [allocation] };
    }
    const resource = int('resource');
    const allocation = [int('group__allocation'), int('allocation')].filter((a): a is number => a !== undefined);
    return { resource, allocation, zone: queryValue(query, 'group__zone'), serviceType: queryValue(query, 'group__service_type') };
  };
}

export function recordQueryParams(kind: RecordKind): QueryParamDoc[] {
  if (kind !== 'quotas') return [{ name: 'allocation', type: 'integer', description: 'allocation id' }];
  return [
    { name: 'resource', type: 'integer', description: 'resource id' },
    { name: 'group__allocation', type: 'integer', description: 'allocation id (alias allocation)' },
    { name: 'group__zone', description: 'zone name' },
    { name: 'group__service_type', description: 'service type catalog name' },
  ];
}
