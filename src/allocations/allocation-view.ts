import { DataSource, EntityManager } from 'typeorm';
import { Principal } from '../auth/principal';
import { organisationRef, OrganisationRow } from './organisations.service';

/** An allocation row as selected by ALLOCATION_SELECT (dates as `YYYY-MM-DD` text). */
export interface AllocationRow {
  id: number;
  parent_request: number | null;
  status: string;
  submit_date: Date;
  modified_time: Date;
  created_by: string | null;
  project_name: string | null;
  project_description: string;
  contact_email: string;
  approver_email: string;
  start_date: string | null;
  end_date: string | null;
  estimated_project_duration: number;
  estimated_number_users: number | null;
  convert_trial_project: boolean;
  use_case: string;
  usage_patterns: string;
  geographic_requirements: string;
  nectar_support: string;
  ncris_support: string;
  ncris_explanation: string;
  ardc_explanation: string;
  field_of_research_1: string | null;
  field_of_research_2: string | null;
  field_of_research_3: string | null;
  for_percentage_1: number;
  for_percentage_2: number;
  for_percentage_3: number;
  supported_organisations: number[];
  ncris_facilities: number[];
  ardc_support: number[];
  usage_types: string[];
  associated_site: number | null;
  national: boolean;
  special_approval: string;
  project_id: string | null;
  provisioned: boolean;
  notifications: boolean;
  managed: boolean;
  notes: string | null;
  status_explanation: string | null;
  bundle: number | null;
}

/** Selects allocations with their dates as text (node-postgres would turn a `date` into a local-time Date). */
export const ALLOCATION_SELECT = `SELECT a.*, a."start_date"::text AS "start_date", a."end_date"::text AS "end_date" FROM "allocation" a`;

/** Labels on the wire (allocations.md 5; the server's labels, not the client's). */
export const STATUS_DISPLAY: Record<string, string> = {
  N: 'New',
  E: 'Submitted',
  A: 'Approved',
  R: 'Declined',
  X: 'Update requested',
  J: 'Update declined',
  D: 'Deleted',
  L: 'Legacy',
  M: 'Legacy Approved',
  O: 'Legacy Rejected',
};

interface SiteRow {
  id: number;
  name: string;
  display_name: string;
}
interface NamedRow {
  id: number;
  name: string;
  short_name: string;
}
interface BundleRow {
  id: number;
  name: string;
  zone: string;
  su_per_year: number;
}
interface QuotaRow {
  allocation: number;
  resource: number;
  zone: string;
  quota: number;
}

/** What serialising a page of allocations needs from the catalogue and the attached records, loaded once. */
export class AllocationContext {
  private constructor(
    readonly sites: Map<number, SiteRow>,
    readonly organisations: Map<number, OrganisationRow>,
    readonly facilities: Map<number, NamedRow>,
    readonly ardcProjects: Map<number, NamedRow>,
    readonly bundles: Map<number, BundleRow>,
    readonly codenames: Map<number, string>,
    readonly quotas: Map<number, QuotaRow[]>,
    readonly chiefInvestigators: Map<number, string>,
  ) {}

  static async load(m: DataSource | EntityManager, rows: AllocationRow[]): Promise<AllocationContext> {
    const ids = rows.map((r) => r.id);
    const orgIds = [...new Set(rows.flatMap((r) => r.supported_organisations))];
    const sites: SiteRow[] = await m.query(`SELECT "id", "name", "display_name" FROM "alloc_site"`);
    const orgs: OrganisationRow[] = orgIds.length ? await m.query(`SELECT * FROM "alloc_organisation" WHERE "id" = ANY($1)`, [orgIds]) : [];
    const facilities: NamedRow[] = await m.query(`SELECT "id", "name", "short_name" FROM "alloc_facility"`);
    const ardc: NamedRow[] = await m.query(`SELECT "id", "name", "short_name" FROM "alloc_ardc_project"`);
    const bundles: BundleRow[] = await m.query(`SELECT "id", "name", "zone", "su_per_year" FROM "alloc_bundle"`);
    const resources: { id: number; codename: string }[] = await m.query(
      `SELECT "id", "service_type" || '.' || "quota_name" AS "codename" FROM "alloc_resource"`,
    );
    const quotas: QuotaRow[] = ids.length
      ? await m.query(`SELECT "allocation", "resource", "zone", "quota" FROM "allocation_quota" WHERE "allocation" = ANY($1) ORDER BY "id"`, [ids])
      : [];
    const cis: { allocation: number; email: string }[] = ids.length
      ? await m.query(`SELECT DISTINCT ON ("allocation") "allocation", "email" FROM "allocation_chief_investigator" WHERE "allocation" = ANY($1) ORDER BY "allocation", "id"`, [ids])
      : [];
    const quotaMap = new Map<number, QuotaRow[]>();
    for (const q of quotas) quotaMap.set(q.allocation, [...(quotaMap.get(q.allocation) ?? []), q]);
    return new AllocationContext(
      new Map(sites.map((s) => [s.id, s])),
      new Map(orgs.map((o) => [o.id, o])),
      new Map(facilities.map((f) => [f.id, f])),
      new Map(ardc.map((a) => [a.id, a])),
      new Map(bundles.map((b) => [b.id, b])),
      new Map(resources.map((r) => [r.id, r.codename])),
      quotaMap,
      new Map(cis.map((c) => [c.allocation, c.email])),
    );
  }

  /** The embedded `quotas` (allocations.md 7): bundle entries plus `rating.budget`, replaced or extended by the allocation's own rows. */
  embeddedQuotas(row: AllocationRow): { zone: string; resource: string; quota: number }[] {
    const entries: { zone: string; resource: string; quota: number }[] = [];
    const bundle = row.bundle !== null ? this.bundles.get(row.bundle) : undefined;
    if (bundle) {
      // Bundle quotas themselves are not kept yet (allocations.md 8), only the budget.
      entries.push({ zone: bundle.zone, resource: 'rating.budget', quota: Math.floor((bundle.su_per_year / 12) * row.estimated_project_duration) });
    }
    for (const q of this.quotas.get(row.id) ?? []) {
      const resource = this.codenames.get(q.resource) ?? String(q.resource);
      const existing = entries.find((e) => e.resource === resource && e.zone === q.zone);
      if (existing) existing.quota = q.quota;
      else entries.push({ zone: q.zone, resource, quota: q.quota });
    }
    return entries;
  }

  serialize(row: AllocationRow, principal: Principal): Record<string, unknown> {
    const site = row.associated_site !== null ? this.sites.get(row.associated_site) : undefined;
    const out: Record<string, unknown> = {
      id: row.id,
      parent_request: row.parent_request,
      status: row.status,
      status_display: STATUS_DISPLAY[row.status] ?? row.status,
      submit_date: row.submit_date.toISOString(),
      modified_time: row.modified_time.toISOString(),
      project_name: row.project_name,
      project_description: row.project_description,
      contact_email: row.contact_email,
      approver_email: row.approver_email,
      start_date: row.start_date,
      end_date: row.end_date,
      estimated_project_duration: row.estimated_project_duration,
      estimated_number_users: row.estimated_number_users,
      convert_trial_project: row.convert_trial_project,
      use_case: row.use_case,
      usage_patterns: row.usage_patterns,
      geographic_requirements: row.geographic_requirements,
      nectar_support: row.nectar_support,
      ncris_support: row.ncris_support,
      ncris_explanation: row.ncris_explanation,
      ardc_explanation: row.ardc_explanation,
      field_of_research_1: row.field_of_research_1,
      field_of_research_2: row.field_of_research_2,
      field_of_research_3: row.field_of_research_3,
      for_percentage_1: row.for_percentage_1,
      for_percentage_2: row.for_percentage_2,
      for_percentage_3: row.for_percentage_3,
      supported_organisations: row.supported_organisations.map((id) => {
        const org = this.organisations.get(id);
        return org ? organisationRef(org) : id;
      }),
      ncris_facilities: row.ncris_facilities.map((id) => this.facilities.get(id)?.short_name ?? String(id)),
      ardc_support: row.ardc_support.map((id) => this.ardcProjects.get(id)?.short_name ?? String(id)),
      usage_types: row.usage_types,
      associated_site: site?.name ?? null,
      national: row.national,
      allocation_home: row.national ? 'national' : site ? site.name : 'unassigned',
      allocation_home_display: row.national ? 'National' : site ? site.display_name : 'Unassigned',
      special_approval: row.special_approval,
      project_id: row.project_id,
      provisioned: row.provisioned,
      notifications: row.notifications,
      managed: row.managed,
      bundle: row.bundle !== null ? (this.bundles.get(row.bundle)?.name ?? null) : null,
      chief_investigator: this.chiefInvestigators.get(row.id) ?? null,
      quotas: this.embeddedQuotas(row),
    };
    // Hidden from user tokens (allocations.md 3).
    if (principal.role !== 'user') {
      out.notes = row.notes;
      out.status_explanation = row.status_explanation;
    }
    return out;
  }
}
