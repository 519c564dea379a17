import { ApiProperty } from '@nestjs/swagger';
import { ProvisionDto } from './commission.dto';

/**
 * The success answers of the quotas routes, for the OpenAPI document
 * (quotas.md 3–6). Answers keyed by uuid or resource name are plain JSON
 * schemas with `additionalProperties`.
 */

const integer = (description: string) => ({ type: 'integer', description });

const RESOURCE_FIELDS = {
  service: { type: 'string', example: 'cyclades_compute' },
  description: { type: 'string' },
  unit: { type: 'string', nullable: true, description: '`null` for plain counts, `"bytes"` for sizes' },
  ui_visible: { type: 'boolean' },
  api_visible: { type: 'boolean' },
  allow_in_projects: { type: 'boolean' },
};

/** GET {account}/resources: `{<resource>: {...}}` (4.2). */
export const RESOURCES_SCHEMA = {
  type: 'object',
  description: 'Keyed by resource name; only api-visible resources',
  additionalProperties: { type: 'object', required: Object.keys(RESOURCE_FIELDS), properties: RESOURCE_FIELDS },
};

const PROJECT_COUNTERS = {
  project_limit: integer('limit of the project holding (project:<uuid>, null, resource)'),
  project_usage: integer('its usage, pending imports included'),
  project_pending: integer('its amount in flight'),
};

const QUOTA_ENTRY = {
  type: 'object',
  required: ['limit', 'usage', 'pending', ...Object.keys(PROJECT_COUNTERS)],
  properties: {
    limit: integer('limit of the user holding'),
    usage: integer('usage including pending imports (usage_max)'),
    pending: integer('amount in flight (usage_max − usage_min)'),
    ...PROJECT_COUNTERS,
  },
};

const byResource = (entry: object) => ({ type: 'object', description: 'Keyed by resource name', additionalProperties: entry });

/** GET {account}/quotas: `{<project uuid>: {<resource>: entry}}` (4.3). */
export const USER_QUOTAS_SCHEMA = { type: 'object', description: 'Keyed by project uuid (the system project is the user uuid)', additionalProperties: byResource(QUOTA_ENTRY) };

/** GET {account}/service_quotas: `{<user uuid>: {<project uuid>: {<resource>: entry}}}` (4.4). */
export const SERVICE_QUOTAS_SCHEMA = { type: 'object', description: 'Keyed by user uuid', additionalProperties: USER_QUOTAS_SCHEMA };

/** GET {account}/service_project_quotas: `{<project uuid>: {<resource>: counters}}` (4.5). */
export const PROJECT_QUOTAS_SCHEMA = {
  type: 'object',
  description: 'Keyed by project uuid',
  additionalProperties: byResource({ type: 'object', required: Object.keys(PROJECT_COUNTERS), properties: PROJECT_COUNTERS }),
};

/** GET {account}/commissions: pending serials, ascending (4.7). */
export const SERIALS_SCHEMA = { type: 'array', items: { type: 'integer' }, example: [17, 18] };

/** POST {account}/commissions/action (4.10). */
export const RESOLVED_SCHEMA = {
  type: 'object',
  required: ['accepted', 'rejected', 'failed'],
  properties: {
    accepted: SERIALS_SCHEMA,
    rejected: SERIALS_SCHEMA,
    failed: {
      type: 'array',
      description: '`[serial, fault]` pairs: `itemNotFound` (not pending for this caller), `badRequest` (in both lists)',
      items: { type: 'array', minItems: 2, maxItems: 2, items: {}, example: [19, { itemNotFound: { code: 404, message: 'serial 19 does not exist' } }] },
    },
  },
};

const ENDPOINT = {
  type: 'object',
  properties: { versionId: { type: 'string' }, publicURL: { type: 'string' }, 'SNF:uiURL': { type: 'string' }, region: { type: 'string' } },
};

/** POST /astakos/identity/v2.0/tokens (3): the catalog, and with a body the token and its user. */
export const TOKENS_SCHEMA = {
  type: 'object',
  required: ['access'],
  properties: {
    access: {
      type: 'object',
      required: ['serviceCatalog'],
      properties: {
        serviceCatalog: {
          type: 'array',
          items: {
            type: 'object',
            properties: { name: { type: 'string' }, type: { type: 'string' }, endpoints: { type: 'array', items: ENDPOINT }, endpoints_links: { type: 'array', items: {} } },
          },
        },
        token: { type: 'object', description: 'With a body only', properties: { id: { type: 'string' }, expires: { type: 'string', nullable: true }, tenant: { type: 'object' } } },
        user: {
          type: 'object',
          description: 'With a body only',
          properties: {
            id: { type: 'string', nullable: true },
            name: { type: 'string' },
            roles: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } } },
            roles_links: { type: 'array', items: {} },
            projects: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  },
};

export class SerialAnswer {
  @ApiProperty({ type: 'integer', example: 17 })
  serial: number;
}

export class CommissionAnswer {
  @ApiProperty({ type: 'integer', example: 17 })
  serial: number;

  @ApiProperty({ example: 'create VM' })
  name: string;

  @ApiProperty({ format: 'date-time', example: '2024-05-01T10:19:15.037Z' })
  issue_time: string;

  @ApiProperty({ type: () => [ProvisionDto], description: 'After merging (5.3)' })
  provisions: ProvisionDto[];
}

export class ResourceAnswer {
  @ApiProperty({ example: 'cyclades.vm' })
  name: string;

  @ApiProperty({ example: 'cyclades_compute' })
  service: string;

  @ApiProperty()
  description: string;

  @ApiProperty({ type: String, nullable: true })
  unit: string | null;

  @ApiProperty()
  ui_visible: boolean;

  @ApiProperty()
  api_visible: boolean;

  @ApiProperty()
  allow_in_projects: boolean;
}

export class HoldingAnswer {
  @ApiProperty({ example: 'project:0a1e7d3c-5b6a-4f1e-8c2d-9e8f7a6b5c4d' })
  holder: string;

  @ApiProperty({ type: String, nullable: true })
  source: string | null;

  @ApiProperty({ example: 'cyclades.vm' })
  resource: string;

  @ApiProperty({ type: 'integer' })
  limit: number;

  @ApiProperty({ type: 'integer' })
  usage: number;

  @ApiProperty({ type: 'integer' })
  pending: number;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Who wrote the limit: `null` for this API, `allocation:<id>` for the allocation quota link (allocations.md §10)',
    example: null,
  })
  origin: string | null;
}

export class HoldingsAnswer {
  @ApiProperty({ type: () => [HoldingAnswer] })
  holdings: HoldingAnswer[];
}
