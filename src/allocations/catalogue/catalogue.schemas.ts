import { CollectionName } from './catalogue.definitions';

/** The answer schema of each catalogue collection (allocations.md 8), for the OpenAPI document. */
type Schema = Record<string, unknown>;

const str = { type: 'string' };
const int = { type: 'integer' };
const bool = { type: 'boolean' };
const nullable = (s: Schema): Schema => ({ ...s, nullable: true });
const object = (properties: Record<string, Schema>): Schema => ({ type: 'object', properties });

const RESOURCE = object({
  id: int,
  name: str,
  service_type: str,
  quota_name: str,
  unit: str,
  requestable: bool,
  resource_type: { type: 'string', enum: ['integer', 'boolean'] },
  help_text: nullable(str),
  default: nullable(int),
});

export const CATALOGUE_SCHEMAS: Record<CollectionName, Schema> = {
  zones: object({ id: { type: 'string', description: 'the name' }, name: str, display_name: str, enabled: bool }),
  sites: object({ id: int, name: str, display_name: str, enabled: bool, compute_zones: { type: 'array', items: str } }),
  'service-types': object({
    id: { type: 'string', description: 'the catalog name' },
    catalog_name: str,
    name: str,
    description: nullable(str),
    notes: nullable(str),
    order: nullable(int),
    experimental: bool,
    location_specific: bool,
    zones: { type: 'array', items: str },
    resource_set: { type: 'array', items: RESOURCE },
  }),
  resources: RESOURCE,
  bundles: object({
    id: int,
    name: str,
    description: str,
    zone: str,
    order: int,
    su_per_year: int,
    quotas: { type: 'array', items: object({ zone: str, resource: str, quota: int }) },
  }),
  'ncris-facilities': object({ id: int, name: str, short_name: str }),
  'ardc-projects': object({ id: int, name: str, short_name: str, project: bool, project_id: str, enabled: bool, rank: int, explain: bool }),
  approvers: object({ id: int, username: str, display_name: str, sites: { type: 'array', items: int } }),
};
