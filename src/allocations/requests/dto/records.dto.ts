import { Field, Scalar } from '../../shared/input';

/*
 * The bodies of the records attached to an allocation (allocations.md 7, 9).
 * `allocation` names the owning allocation; one the caller cannot see is a
 * 400 on that field, because it is in the body.
 */

const ALLOCATION = { kind: 'int', required: true } as const;

export class QuotaDto {
  @Field(ALLOCATION, { description: 'allocation id' })
  allocation!: number;

  @Field({ kind: 'int', required: true }, { description: 'resource id' })
  resource!: number;

  @Field({ kind: 'string', required: true, notBlank: true }, { description: 'zone name, one of the resource service type\'s zones' })
  zone!: string;

  @Field({ kind: 'int', required: true, min: -1 }, { description: '-1 is unlimited (not for a managed allocation)' })
  quota!: number;

  @Field({ kind: 'int', min: -1 }, { description: 'default: quota' })
  requested_quota?: number;
}

export class ChiefInvestigatorDto {
  @Field(ALLOCATION, { description: 'allocation id (ignored on PATCH)' })
  allocation!: number;

  @Field({ kind: 'string', required: true, notBlank: true, max: 60 })
  title!: string;

  @Field({ kind: 'string', required: true, notBlank: true, max: 200 })
  given_name!: string;

  @Field({ kind: 'string', required: true, notBlank: true, max: 200 })
  surname!: string;

  @Field({ kind: 'string', required: true, notBlank: true, max: 254, pattern: /^[^@\s]+@[^@\s]+\.[^@\s]+$/, patternMessage: 'Enter a valid email address.' })
  email!: string;

  @Field({ kind: 'list' }, { description: 'one organisation: integer id, ROR id, full or short name; required on create' })
  primary_organisation!: Scalar[];

  @Field({ kind: 'string', max: 1000 }, { description: 'default ""' })
  additional_researchers?: string;
}

export const GRANT_TYPES = ['arc', 'nhmrc', 'rdc', 'comp', 'govt', 'state', 'industry', 'ext', 'inst', 'nz'] as const;

export class GrantDto {
  @Field(ALLOCATION, { description: 'allocation id' })
  allocation!: number;

  @Field({ kind: 'string', required: true, oneOf: GRANT_TYPES })
  grant_type!: string;

  @Field({ kind: 'string', required: true, notBlank: true, max: 128, pattern: /^[-a-zA-Z0-9_]+$/, patternMessage: 'Must be a slug.' })
  grant_subtype!: string;

  @Field({ kind: 'string', max: 255 })
  funding_body_scheme?: string;

  @Field({ kind: 'string', max: 200 })
  grant_id?: string;

  @Field({ kind: 'int', required: true, min: 1970, max: 3000 })
  first_year_funded!: number;

  @Field({ kind: 'int', required: true, min: 1970, max: 3000 }, { description: 'not before first_year_funded' })
  last_year_funded!: number;

  @Field({ kind: 'number', required: true, min: 1 })
  total_funding!: number;
}

export const OUTPUT_TYPES = ['AJ', 'AP', 'AN', 'B', 'M', 'D', 'S', 'P', 'O', 'U'] as const;

export class PublicationDto {
  @Field(ALLOCATION, { description: 'allocation id' })
  allocation!: number;

  @Field({ kind: 'string', required: true, oneOf: OUTPUT_TYPES })
  output_type!: string;

  @Field({ kind: 'string', max: 512 }, { description: 'at least one of publication and doi' })
  publication?: string;

  @Field({ kind: 'string', max: 256, pattern: /^10\.\d+\/\S.*$/, patternMessage: 'Must look like 10.<digits>/<suffix>.' })
  doi?: string;
}
