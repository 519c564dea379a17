import { Field } from '../../shared/input';

/*
 * The bodies of the catalogue collections (allocations.md 8): required fields
 * are required on create only (PATCH is partial); what cannot change and what
 * must be unique is in catalogue.definitions.ts.
 */

const NAME_32 = /^[A-Za-z0-9_.-]+$/;
const NO_DOT = /^[^.]+$/;

export class ZoneDto {
  @Field({ kind: 'string', required: true, notBlank: true, max: 32, pattern: NAME_32, patternMessage: 'Only letters, digits, "_", "." and "-" are allowed.' }, { description: 'unchangeable' })
  name!: string;

  @Field({ kind: 'string', required: true, notBlank: true, max: 64 })
  display_name!: string;

  @Field({ kind: 'bool' }, { description: 'default true' })
  enabled?: boolean;
}

export class SiteDto {
  @Field({ kind: 'string', required: true, notBlank: true, max: 32 })
  name!: string;

  @Field({ kind: 'string', required: true, notBlank: true, max: 64 })
  display_name!: string;

  @Field({ kind: 'bool' }, { description: 'default true' })
  enabled?: boolean;

  @Field({ kind: 'stringList', max: 64 }, { description: 'compute availability zones of this allocation home (zones/compute_homes/)' })
  compute_zones?: string[];
}

export class ServiceTypeDto {
  @Field({ kind: 'string', required: true, notBlank: true, max: 32, pattern: NO_DOT, patternMessage: 'May not contain a dot.' }, { description: 'unchangeable' })
  catalog_name!: string;

  @Field({ kind: 'string', required: true, notBlank: true, max: 64 })
  name!: string;

  @Field({ kind: 'string', nullable: true })
  description?: string | null;

  @Field({ kind: 'string', nullable: true })
  notes?: string | null;

  @Field({ kind: 'int', nullable: true, min: 0 })
  order?: number | null;

  @Field({ kind: 'bool' })
  experimental?: boolean;

  @Field({ kind: 'bool' })
  location_specific?: boolean;

  @Field({ kind: 'stringList', max: 64 }, { description: 'zone names' })
  zones?: string[];
}

export class ResourceDto {
  @Field({ kind: 'string', required: true, notBlank: true, max: 64 })
  name!: string;

  @Field({ kind: 'string', required: true, notBlank: true }, { description: 'service type catalog name' })
  service_type!: string;

  @Field({ kind: 'string', required: true, notBlank: true, max: 32, pattern: NO_DOT, patternMessage: 'May not contain a dot.' })
  quota_name!: string;

  @Field({ kind: 'string', required: true, notBlank: true, max: 32 })
  unit!: string;

  @Field({ kind: 'bool' }, { description: 'default true' })
  requestable?: boolean;

  @Field({ kind: 'string', oneOf: ['integer', 'boolean'] }, { description: 'default integer' })
  resource_type?: string;

  @Field({ kind: 'string', nullable: true })
  help_text?: string | null;

  @Field({ kind: 'int', nullable: true })
  default?: number | null;
}

export class BundleDto {
  @Field({ kind: 'string', required: true, notBlank: true, max: 64 })
  name!: string;

  @Field({ kind: 'string', required: true, notBlank: true })
  description!: string;

  @Field({ kind: 'string', required: true, notBlank: true }, { description: 'zone name' })
  zone!: string;

  @Field({ kind: 'int', required: true })
  order!: number;

  @Field({ kind: 'int', required: true, min: 0 })
  su_per_year!: number;
}

export class FacilityDto {
  @Field({ kind: 'string', required: true, notBlank: true, max: 255 })
  name!: string;

  @Field({ kind: 'string', required: true, notBlank: true, max: 64 })
  short_name!: string;
}

export class ArdcProjectDto {
  @Field({ kind: 'string', required: true, notBlank: true, max: 255 })
  name!: string;

  @Field({ kind: 'string', required: true, notBlank: true, max: 64 })
  short_name!: string;

  @Field({ kind: 'bool' }, { description: 'default true' })
  project?: boolean;

  @Field({ kind: 'string', max: 20 }, { description: 'default ""' })
  project_id?: string;

  @Field({ kind: 'bool' }, { description: 'default true' })
  enabled?: boolean;

  @Field({ kind: 'int' }, { description: 'default 100' })
  rank?: number;

  @Field({ kind: 'bool' }, { description: 'default false' })
  explain?: boolean;
}

export class ApproverDto {
  @Field({ kind: 'string', required: true, notBlank: true, max: 254, pattern: /^[^@\s]+@[^@\s]+$/, patternMessage: 'Enter a valid email address.' }, { description: 'e-mail, unique' })
  username!: string;

  @Field({ kind: 'string', required: true, notBlank: true, max: 64 })
  display_name!: string;

  @Field({ kind: 'intList' }, { description: 'site ids' })
  sites?: number[];
}
