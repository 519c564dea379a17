import { parseBool } from '../shared/body-reader';
import { invalidField } from '../allocations.errors';
import { Query, queryValue } from '../shared/paging';

/** The exact and case-insensitive filters of `organisations/` (allocations.md 8); unknown parameters are ignored. */
export const ORGANISATION_TEXT_FILTERS = [
  'ror_id',
  'ror_id__iexact',
  'short_name',
  'short_name__iexact',
  'full_name',
  'full_name__iexact',
  'full_name__icontains',
  'country',
  'country__iexact',
  'url',
  'url__iexact',
] as const;

export type OrganisationTextFilter = (typeof ORGANISATION_TEXT_FILTERS)[number];

export interface OrganisationFilter {
  text: { key: OrganisationTextFilter; value: string }[];
  enabled?: boolean;
}

export function parseOrganisationFilter(query: Query): OrganisationFilter {
  const filter: OrganisationFilter = { text: [] };
  for (const key of ORGANISATION_TEXT_FILTERS) {
    const value = queryValue(query, key);
    if (value !== undefined) filter.text.push({ key, value });
  }
  const enabled = queryValue(query, 'enabled');
  if (enabled !== undefined) {
    filter.enabled = parseBool(enabled);
    if (filter.enabled === undefined) throw invalidField('enabled', 'Must be a valid boolean.');
  }
  return filter;
}

export const ORGANISATION_QUERY_PARAMS = [
  ...ORGANISATION_TEXT_FILTERS.map((name) => ({ name })),
  { name: 'enabled', type: 'boolean' as const },
];
