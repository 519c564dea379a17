import { Field } from '../../shared/input';

const URL_PATTERN = /^https?:\/\/[^\s/$.?#][^\s]*$/i;

/**
 * An organisation as created (POST) or changed (PATCH, every field optional)
 * (allocations.md 8). From a user or service token only full_name,
 * short_name, url and country are taken (a proposal); the rest is admin only.
 */
export class OrganisationDto {
  @Field({ kind: 'string', required: true, notBlank: true, max: 255 })
  full_name!: string;

  @Field({ kind: 'string', required: true, notBlank: true, max: 16 })
  short_name!: string;

  @Field({ kind: 'string', max: 255, pattern: URL_PATTERN, patternMessage: 'Enter a valid http or https URL.' }, { description: 'http or https; required in a proposal' })
  url?: string;

  @Field({ kind: 'string', pattern: /^[A-Za-z]{2}$/, patternMessage: 'Use an ISO 3166 alpha-2 code.' }, { description: 'ISO 3166 alpha-2, default AU' })
  country?: string;

  @Field({ kind: 'string', max: 64 }, { description: 'admin only' })
  ror_id?: string;

  @Field({ kind: 'int', nullable: true }, { description: 'admin only: organisation id' })
  parent?: number | null;

  @Field({ kind: 'intList' }, { description: 'admin only: organisation ids' })
  precedes?: number[];

  @Field({ kind: 'bool' }, { description: 'admin only' })
  enabled?: boolean;

  @Field({ kind: 'string', nullable: true, max: 254 }, { description: 'admin only' })
  proposed_by?: string | null;

  @Field({ kind: 'string', nullable: true, max: 254 }, { description: 'admin only' })
  vetted_by?: string | null;
}

/** The fields only an admin may send; from anyone else they are ignored (allocations.md 8). */
export const ADMIN_ONLY_FIELDS = ['ror_id', 'parent', 'precedes', 'enabled', 'proposed_by', 'vetted_by'] as const;
