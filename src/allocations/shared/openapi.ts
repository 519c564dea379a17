import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiSecurity } from '@nestjs/swagger';
import { ApiErrors, SECURITY_TOKEN } from '../../http/openapi';

/*
 * OpenAPI declarations shared by the allocation controllers: the operation
 * (tag, id, summary, security), its success answer and its error answers in
 * the mount's shape (allocations.md 2.7, 11).
 */

type Schema = Record<string, unknown>;

/**
 * Every route of the mount: operation id `allocations.<name>`, its summary,
 * token security. The tag (`@ApiTags('allocations')`, or 'admin' for
 * /admin/allocations) is on each controller class.
 */
export function AllocationOperation(name: string, summary: string): MethodDecorator {
  return applyDecorators(ApiOperation({ operationId: `allocations.${name}`, summary }), ApiSecurity(SECURITY_TOKEN));
}

/** The two prefixes of the mount (allocations.md 1): the advertised one and the alias. */
export interface AllocationMount {
  prefix: string;
  alias: boolean;
}

export const ALLOCATION_MOUNTS: readonly AllocationMount[] = [
  { prefix: 'allocations/v1', alias: false },
  { prefix: 'allocations', alias: true },
];

/**
 * `AllocationOperation` for one prefix: the same handlers serve both, and
 * each prefix is its own controller class so that every operation of the
 * OpenAPI document has an id of its own (`allocations.listZones`, and
 * `allocations.listZonesAlias` under /allocations).
 */
export function operationsOf(mount: AllocationMount): (name: string, summary: string) => MethodDecorator {
  return (name, summary) => (mount.alias ? AllocationOperation(`${name}Alias`, `${summary} (alias of /allocations/v1)`) : AllocationOperation(name, summary));
}

/** Names a controller class made per prefix (`<Name>Controller`, `<Name>AliasController`). */
export function nameController<T extends Function>(type: T, name: string, mount: AllocationMount): T {
  Object.defineProperty(type, 'name', { value: `${name}${mount.alias ? 'Alias' : ''}Controller` });
  return type;
}

/** The success answer and the error statuses of a route (errors in the `{"error", "fields"}` shape). */
export function AllocationAnswers(status: number, schema: Schema | undefined, ...errors: number[]): MethodDecorator {
  const success =
    schema === undefined
      ? ApiResponse({ status, description: 'No content' })
      : ApiResponse({ status, description: 'Success', content: { 'application/json': { schema } } });
  return applyDecorators(success, ApiErrors('allocations', 401, ...errors));
}

/** The list envelope of allocations.md 2.8. */
export function envelopeOf(item: Schema): Schema {
  return {
    type: 'object',
    required: ['count', 'next', 'previous', 'results'],
    properties: {
      count: { type: 'integer' },
      next: { type: 'string', nullable: true, description: 'absolute URL of the next page' },
      previous: { type: 'string', nullable: true, description: 'absolute URL of the previous page' },
      results: { type: 'array', items: item },
    },
  };
}

const str = { type: 'string' };
const int = { type: 'integer' };
const bool = { type: 'boolean' };
const nullable = (s: Schema): Schema => ({ ...s, nullable: true });
const list = (items: Schema): Schema => ({ type: 'array', items });
const object = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({ type: 'object', properties, ...extra });

export const VERSIONS_SCHEMA = object({ versions: list(object({ id: str, status: str, version: str })) });

export const EMBEDDED_QUOTA_SCHEMA = object({ zone: str, resource: { type: 'string', description: '<service type>.<quota name>' }, quota: int });

/** The allocation object (allocations.md 4); `notes` and `status_explanation` are absent for user tokens. */
export const ALLOCATION_SCHEMA = object({
  id: int,
  parent_request: nullable(int),
  status: { type: 'string', enum: ['N', 'E', 'A', 'R', 'X', 'J', 'D', 'L', 'M', 'O'] },
  status_display: str,
  submit_date: { type: 'string', format: 'date-time' },
  modified_time: { type: 'string', format: 'date-time' },
  project_name: nullable(str),
  project_description: str,
  contact_email: str,
  approver_email: str,
  start_date: nullable({ type: 'string', format: 'date' }),
  end_date: nullable({ type: 'string', format: 'date' }),
  estimated_project_duration: int,
  estimated_number_users: nullable(int),
  convert_trial_project: bool,
  use_case: str,
  usage_patterns: str,
  geographic_requirements: str,
  nectar_support: str,
  ncris_support: str,
  ncris_explanation: str,
  ardc_explanation: str,
  field_of_research_1: nullable(str),
  field_of_research_2: nullable(str),
  field_of_research_3: nullable(str),
  for_percentage_1: int,
  for_percentage_2: int,
  for_percentage_3: int,
  supported_organisations: list({ oneOf: [str, int] }),
  ncris_facilities: list(str),
  ardc_support: list(str),
  usage_types: list(str),
  associated_site: nullable(str),
  national: bool,
  allocation_home: str,
  allocation_home_display: str,
  special_approval: str,
  project_id: nullable(str),
  provisioned: bool,
  notifications: bool,
  managed: bool,
  bundle: nullable(str),
  chief_investigator: nullable(str),
  quotas: list(EMBEDDED_QUOTA_SCHEMA),
  notes: nullable(str),
  status_explanation: nullable(str),
});

export const APPROVER_INFO_SCHEMA = object({ approval_urgency: str, expiry_state: str, concerned_sites: list(str) });

export const QUOTA_SCHEMA = object({ id: int, allocation: int, resource: int, zone: str, requested_quota: int, quota: int });

export const CHIEF_INVESTIGATOR_SCHEMA = object({
  id: int,
  allocation: int,
  title: str,
  given_name: str,
  surname: str,
  email: str,
  primary_organisation: { oneOf: [str, int] },
  additional_researchers: str,
});

export const GRANT_SCHEMA = object({
  id: int,
  allocation: int,
  grant_type: str,
  grant_subtype: str,
  funding_body_scheme: str,
  grant_id: str,
  first_year_funded: int,
  last_year_funded: int,
  total_funding: { type: 'number' },
});

export const PUBLICATION_SCHEMA = object({ id: int, allocation: int, output_type: str, publication: str, doi: str });

export const ORGANISATION_SCHEMA = object({
  id: int,
  ror_id: str,
  full_name: str,
  short_name: str,
  url: str,
  country: str,
  parent: nullable(int),
  precedes: list(int),
  enabled: bool,
  proposed_by: nullable(str),
  vetted_by: nullable(str),
});

export const COMPUTE_HOMES_SCHEMA = { type: 'object', additionalProperties: list(str), description: 'allocation home → compute availability zones' };

export const QUOTA_MAPPING_SCHEMA = object({ id: int, codename: str, zone: nullable(str), resource: str, factor: int });
