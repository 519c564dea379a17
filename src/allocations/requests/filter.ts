import { invalidField } from '../allocations.errors';
import { isCalendarDate, parseBool, parseInteger } from '../shared/body-reader';
import { QueryParamDoc } from '../shared/input';
import { Query, queryValue } from '../shared/paging';
import { STATUS_DISPLAY } from './state-machine';

/*
 * The Django-style filter language of `GET allocations/` (allocations.md 6):
 * `<field>` or `<field>__<lookup>` = value. Parsed at the edge into typed
 * conditions; allocations.repository.ts turns them into SQL. Unknown
 * parameters and unknown lookups are ignored; an ill-formed value for a known
 * one is a 400 naming the parameter.
 */

export const TEXT_FIELDS = ['project_name', 'contact_email', 'approver_email'] as const;
export const TEXT_LOOKUPS = ['', 'iexact', 'contains', 'icontains', 'startswith', 'istartswith', 'endswith', 'iendswith', 'regex'] as const;
export const FLAG_FIELDS = ['convert_trial_project', 'provisioned', 'national', 'managed', 'notifications'] as const;
export const DATE_FIELDS = ['start_date', 'end_date'] as const;
export const INSTANT_FIELDS = ['modified_time', 'submit_date'] as const;

export type TextField = (typeof TEXT_FIELDS)[number];
export type TextLookup = (typeof TEXT_LOOKUPS)[number];
export type FlagField = (typeof FLAG_FIELDS)[number];
export type DateField = (typeof DATE_FIELDS)[number];
export type InstantField = (typeof INSTANT_FIELDS)[number];
export type Comparison = '=' | '<' | '>' | '<=' | '>=';

const COMPARISONS: Record<string, Comparison> = { '': '=', lt: '<', gt: '>', lte: '<=', gte: '>=' };

export type AllocationCondition =
  | { kind: 'status'; codes: string[] }
  | { kind: 'project_id'; values: string[] }
  | { kind: 'text'; field: TextField; lookup: TextLookup; value: string }
  | { kind: 'parent_is_null'; isNull: boolean }
  | { kind: 'parent'; id: number }
  | { kind: 'flag'; field: FlagField; value: boolean }
  | { kind: 'site'; name: string }
  | { kind: 'home'; home: 'national' | 'unassigned' | { site: string } }
  | { kind: 'chief_investigator'; email: string }
  | { kind: 'date'; field: DateField; op: Comparison; date: string }
  | { kind: 'year'; field: DateField | InstantField; year: number }
  | { kind: 'day'; field: InstantField; date: string }
  | { kind: 'instant'; field: InstantField; op: Comparison; at: Date };

/** `field__lookup` → [field, lookup]; no `__` gives the empty lookup. */
export function splitLookup(key: string): [string, string] {
  const at = key.indexOf('__');
  return at < 0 ? [key, ''] : [key.slice(0, at), key.slice(at + 2)];
}

/** ISO 8601 date-time (no offset means UTC) or a bare date (midnight UTC), allocations.md 2.10. */
export function parseInstant(text: string): Date | undefined {
  let value = text.trim().replace(' ', 'T');
  if (isCalendarDate(value)) value = `${value}T00:00:00Z`;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(value) || value.startsWith('0000')) return undefined;
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(value)) value += 'Z';
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

const includes = <T extends string>(list: readonly T[], value: string): value is T => (list as readonly string[]).includes(value);

/** Parses the list query of `GET allocations/` into conditions, in the order of the query's keys. */
export function parseAllocationFilter(query: Query): AllocationCondition[] {
  const conditions: AllocationCondition[] = [];
  for (const key of Object.keys(query)) {
    const value = queryValue(query, key);
    if (value === undefined) continue;
    const condition = parseOne(key, value);
    if (condition) conditions.push(condition);
  }
  return conditions;
}

function parseOne(key: string, value: string): AllocationCondition | undefined {
  const [field, lookup] = splitLookup(key);
  if (field === 'status') {
    if (lookup !== '' && lookup !== 'in') return undefined;
    const codes = lookup === 'in' ? value.split(',').map((c) => c.trim()).filter(Boolean) : [value];
    for (const code of codes) if (!Object.hasOwn(STATUS_DISPLAY, code)) throw invalidField(key, `"${code}" is not a valid status.`);
    return { kind: 'status', codes };
  }
  if (field === 'project_id') {
    if (lookup === '') return { kind: 'project_id', values: [value] };
    if (lookup === 'in') return { kind: 'project_id', values: value.split(',').map((c) => c.trim()) };
    return undefined;
  }
  if (includes(TEXT_FIELDS, field)) {
    return includes(TEXT_LOOKUPS, lookup) ? { kind: 'text', field, lookup, value } : undefined;
  }
  if (field === 'parent_request' || field === 'parent_request_id') {
    if (lookup === 'isnull') {
      const isNull = parseBool(value);
      if (isNull === undefined) throw invalidField(key, 'Must be a valid boolean.');
      return { kind: 'parent_is_null', isNull };
    }
    if (lookup !== '') return undefined;
    const id = parseInteger(value);
    if (id === undefined) throw invalidField(key, 'A valid integer is required.');
    return { kind: 'parent', id };
  }
  if (includes(FLAG_FIELDS, field)) {
    if (lookup !== '') return undefined;
    const flag = parseBool(value);
    if (flag === undefined) throw invalidField(key, 'Must be a valid boolean.');
    return { kind: 'flag', field, value: flag };
  }
  if (lookup !== '' && (field === 'associated_site' || field === 'allocation_home' || field === 'chief_investigator')) return undefined;
  if (field === 'associated_site') return { kind: 'site', name: value };
  if (field === 'allocation_home') return { kind: 'home', home: value === 'national' || value === 'unassigned' ? value : { site: value } };
  if (field === 'chief_investigator') return { kind: 'chief_investigator', email: value };
  if (includes(DATE_FIELDS, field) || includes(INSTANT_FIELDS, field)) return parseDate(key, field, lookup, value);
  return undefined;
}

function parseDate(key: string, field: DateField | InstantField, lookup: string, value: string): AllocationCondition | undefined {
  const withTime = includes(INSTANT_FIELDS, field);
  if (lookup === 'year') {
    const year = parseInteger(value);
    if (year === undefined) throw invalidField(key, 'A valid year is required.');
    return { kind: 'year', field, year };
  }
  if (lookup === 'date' && withTime) {
    if (!isCalendarDate(value)) throw invalidField(key, 'Date has wrong format. Use YYYY-MM-DD.');
    return { kind: 'day', field: field as InstantField, date: value };
  }
  if (!Object.hasOwn(COMPARISONS, lookup)) return undefined;
  const op = COMPARISONS[lookup];
  if (!withTime) {
    if (!isCalendarDate(value)) throw invalidField(key, 'Date has wrong format. Use YYYY-MM-DD.');
    return { kind: 'date', field: field as DateField, op, date: value };
  }
  const at = parseInstant(value);
  if (!at) throw invalidField(key, 'Datetime has wrong format. Use ISO 8601.');
  return { kind: 'instant', field: field as InstantField, op, at };
}

/** The documented filter parameters, for the OpenAPI document (the language also takes every lookup listed in allocations.md 6). */
export const ALLOCATION_QUERY_PARAMS: QueryParamDoc[] = [
  { name: 'status', description: 'status code (allocations.md 5)' },
  { name: 'status__in', description: 'comma-separated status codes' },
  { name: 'project_id' },
  { name: 'project_id__in', description: 'comma-separated project ids' },
  ...TEXT_FIELDS.flatMap((f) => TEXT_LOOKUPS.map((l) => ({ name: l ? `${f}__${l}` : f, description: l === 'regex' ? 'PostgreSQL regular expression' : undefined }))),
  { name: 'parent_request', type: 'integer', description: 'history records of this allocation (alias parent_request_id)' },
  { name: 'parent_request__isnull', type: 'boolean', description: 'True: current records only; False: history only' },
  ...FLAG_FIELDS.map((name) => ({ name, type: 'boolean' as const })),
  { name: 'associated_site', description: 'site name' },
  { name: 'allocation_home', description: 'national, unassigned or a site name' },
  { name: 'chief_investigator', description: 'e-mail of a chief investigator' },
  ...DATE_FIELDS.flatMap((f) => ['', '__lt', '__gt', '__lte', '__gte', '__year'].map((l) => ({ name: `${f}${l}`, description: l === '__year' ? 'year' : 'YYYY-MM-DD' }))),
  ...INSTANT_FIELDS.flatMap((f) => ['', '__lt', '__gt', '__lte', '__gte', '__date', '__year'].map((l) => ({ name: `${f}${l}`, description: l === '__year' ? 'year' : l === '__date' ? 'YYYY-MM-DD' : 'ISO 8601 date-time or date' }))),
];
