import { Principal } from '../../auth/principal';
import { organisationRef, OrganisationRow } from '../organisations/organisation-view';
import { EmbeddedQuota, embeddedQuotas, QuotaRow } from './embedded-quotas';
import { STATUS_DISPLAY } from './state-machine';

/** An allocation row as the repository selects it (dates as `YYYY-MM-DD` text). */
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

export interface SiteRow {
  id: number;
  name: string;
  display_name: string;
}
export interface NamedRow {
  id: number;
  name: string;
  short_name: string;
}
export interface BundleRow {
  id: number;
  name: string;
  zone: string;
  su_per_year: number;
}

/** What serialising a page of allocations needs from the catalogue and the attached records, loaded once (AllocationsRepository.context). */
export class AllocationContext {
  constructor(
    readonly sites: Map<number, SiteRow>,
    readonly organisations: Map<number, OrganisationRow>,
    readonly facilities: Map<number, NamedRow>,
    readonly ardcProjects: Map<number, NamedRow>,
    readonly bundles: Map<number, BundleRow>,
    readonly codenames: Map<number, string>,
    readonly quotas: Map<number, QuotaRow[]>,
    readonly chiefInvestigators: Map<number, string>,
  ) {}

  /** The embedded `quotas` (allocations.md 7). */
  embeddedQuotas(row: AllocationRow): EmbeddedQuota[] {
    return embeddedQuotas(row, row.bundle !== null ? this.bundles.get(row.bundle) : undefined, this.quotas.get(row.id) ?? [], this.codenames);
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
