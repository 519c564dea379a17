import { Field, Scalar } from '../../shared/input';

const PROJECT_NAME = /^[A-Za-z0-9_-]+$/;
const FIELD_OF_RESEARCH = /^\d{2}(\d{2}){0,2}$/;
const FOR_CODE = { kind: 'string', nullable: true, emptyIsNull: true, pattern: FIELD_OF_RESEARCH, patternMessage: 'Must be an ANZSRC code of 2, 4 or 6 digits.' } as const;
const FOR_PERCENT = { kind: 'int', min: 0, max: 100, multipleOf: 10, ruleMessage: 'Must be a multiple of 10.' } as const;
const FREE_TEXT = { kind: 'string', nullable: true, nullAsEmpty: true } as const;

/**
 * The body of `POST allocations/` and (every field optional) `PATCH
 * allocations/{id}/` (allocations.md 4, 6), form-encoded or JSON. Fields not
 * declared here, server-managed ones included, are ignored. Role rules are
 * the service's: from a user token the fields in USER_IGNORED are ignored,
 * and a non-empty associated_site, allocation_home or special_approval is a 403.
 */
export class AllocationDto {
  @Field(
    { kind: 'string', nullable: true, emptyIsNull: true },
    { description: 'admin, service: write-only shorthand: national, unassigned, or a site name; not together with national or associated_site' },
  )
  allocation_home?: string | null;

  @Field({ kind: 'string', nullable: true, emptyIsNull: true, max: 64, pattern: PROJECT_NAME, patternMessage: 'Only letters, digits, "-" and "_" are allowed.' })
  project_name?: string | null;

  @Field({ kind: 'string', required: true, notBlank: true, max: 200 })
  project_description!: string;

  @Field({ kind: 'string', required: true, notBlank: true })
  use_case!: string;

  @Field({ kind: 'int', oneOf: [1, 3, 6, 12], ruleMessage: 'Must be one of 1, 3, 6, 12 (months).' }, { description: 'months, default 12' })
  estimated_project_duration?: number;

  @Field({ kind: 'int', nullable: true, min: 1 })
  estimated_number_users?: number | null;

  @Field({ kind: 'bool' })
  convert_trial_project?: boolean;

  @Field(FREE_TEXT)
  usage_patterns?: string;

  @Field(FREE_TEXT)
  geographic_requirements?: string;

  @Field(FREE_TEXT)
  nectar_support?: string;

  @Field(FREE_TEXT)
  ncris_support?: string;

  @Field(FREE_TEXT)
  ncris_explanation?: string;

  @Field(FREE_TEXT)
  ardc_explanation?: string;

  @Field(FOR_CODE)
  field_of_research_1?: string | null;

  @Field(FOR_PERCENT, { description: 'default 100; the three add up to at most 100' })
  for_percentage_1?: number;

  @Field(FOR_CODE)
  field_of_research_2?: string | null;

  @Field(FOR_PERCENT, { description: 'default 0' })
  for_percentage_2?: number;

  @Field(FOR_CODE)
  field_of_research_3?: string | null;

  @Field(FOR_PERCENT, { description: 'default 0' })
  for_percentage_3?: number;

  @Field({ kind: 'list' }, { description: 'organisations by integer id, ROR id, full or short name' })
  supported_organisations?: Scalar[];

  @Field({ kind: 'stringList', max: 255 }, { description: 'NCRIS facility short names or names' })
  ncris_facilities?: string[];

  @Field({ kind: 'stringList', max: 255 }, { description: 'ARDC project short names or names' })
  ardc_support?: string[];

  @Field({ kind: 'stringList', max: 255 })
  usage_types?: string[];

  @Field({ kind: 'string', nullable: true, emptyIsNull: true }, { description: 'bundle name' })
  bundle?: string | null;

  @Field({ kind: 'string', max: 254 }, { description: 'admin, service' })
  contact_email?: string;

  @Field({ kind: 'date' }, { description: 'admin, service' })
  start_date?: string | null;

  @Field({ kind: 'date' }, { description: 'admin, service' })
  end_date?: string | null;

  @Field({ kind: 'bool' }, { description: 'admin, service' })
  national?: boolean;

  @Field({ kind: 'bool' }, { description: 'admin, service' })
  provisioned?: boolean;

  @Field({ kind: 'bool' }, { description: 'admin, service; default true' })
  notifications?: boolean;

  @Field({ kind: 'bool' }, { description: 'admin, service; default true' })
  managed?: boolean;

  @Field({ kind: 'string', nullable: true, emptyIsNull: true, max: 64 }, { description: 'admin, service; unique among current records' })
  project_id?: string | null;

  @Field({ kind: 'string', nullable: true }, { description: 'admin, service' })
  notes?: string | null;

  @Field({ kind: 'string', nullable: true }, { description: 'admin, service' })
  status_explanation?: string | null;

  @Field({ kind: 'string', nullable: true, nullAsEmpty: true }, { description: 'admin, service' })
  special_approval?: string;

  @Field({ kind: 'string', nullable: true, emptyIsNull: true }, { description: 'admin, service: site name' })
  associated_site?: string | null;
}

/** Fields a user token's value is ignored for (allocations.md 4). */
export const USER_IGNORED = [
  'allocation_home',
  'contact_email',
  'start_date',
  'end_date',
  'national',
  'provisioned',
  'notifications',
  'managed',
  'project_id',
  'notes',
  'status_explanation',
  'special_approval',
  'associated_site',
] as const;

/** Fields a user token may not send non-empty (403, allocations.md 4). */
export const USER_REFUSED = ['associated_site', 'allocation_home', 'special_approval'] as const;

/** The optional body of `POST allocations/{id}/decline/` (allocations.md 5). */
export class DeclineDto {
  @Field({ kind: 'string', nullable: true })
  status_explanation?: string | null;
}
