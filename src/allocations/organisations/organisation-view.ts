import { Principal } from '../../auth/principal';

export interface OrganisationRow {
  id: number;
  ror_id: string;
  full_name: string;
  short_name: string;
  url: string;
  country: string;
  parent: number | null;
  precedes: number[];
  enabled: boolean;
  proposed_by: string | null;
  vetted_by: string | null;
}

/** An organisation on the wire (allocations.md 8); `proposed_by`/`vetted_by` only for admin, service and reader. */
export function serializeOrganisation(row: OrganisationRow, principal: Principal): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: row.id,
    ror_id: row.ror_id,
    full_name: row.full_name,
    short_name: row.short_name,
    url: row.url,
    country: row.country,
    parent: row.parent,
    precedes: row.precedes,
    enabled: row.enabled,
  };
  if (principal.role !== 'user') {
    out.proposed_by = row.proposed_by;
    out.vetted_by = row.vetted_by;
  }
  return out;
}

/** How an organisation is written in an allocation or chief investigator: its ROR id, else its integer id. */
export function organisationRef(row: OrganisationRow): string | number {
  return row.ror_id ? row.ror_id : row.id;
}
