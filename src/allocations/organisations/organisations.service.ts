import { Injectable } from '@nestjs/common';
import { Principal } from '../../auth/principal';
import { DomainError } from '../../http/domain-error';
import { Sql } from '../../database/query-result';
import { AllocationsError } from '../allocations.errors';
import { parseInteger } from '../shared/body-reader';
import { callerName } from '../shared/caller';
import { Parsed, Scalar } from '../shared/input';
import { Page, PageOf } from '../shared/paging';
import { ADMIN_ONLY_FIELDS, OrganisationDto } from './dto/organisation.dto';
import { OrganisationFilter } from './organisation-filter';
import { OrganisationRow, serializeOrganisation } from './organisation-view';
import { OrganisationsRepository, OrganisationValues } from './organisations.repository';

type Json = Record<string, unknown>;

/** The catch-all organisation a chief investigator may not name (allocations.md 9). */
const ALL_ORGANISATIONS = 'all organisations';

/** `organisations/` (allocations.md 8, Organisations): admin entries, proposals, vetting; and matching references to them. */
@Injectable()
export class OrganisationsService {
  constructor(private readonly organisations: OrganisationsRepository) {}

  async list(principal: Principal, filter: OrganisationFilter, page: Page): Promise<PageOf<Json>> {
    const { count, rows } = await this.organisations.list(filter, page);
    return { page, count, results: rows.map((r) => serializeOrganisation(r, principal)) };
  }

  async get(principal: Principal, key: string): Promise<Json> {
    return serializeOrganisation(await this.find(key), principal);
  }

  async create(principal: Principal, body: Parsed<OrganisationDto>): Promise<Json> {
    const admin = principal.role === 'admin';
    const values: OrganisationValues = { ...body.values, country: body.values.country?.toUpperCase() };
    if (!admin) {
      // A proposal (allocations.md 8): vetting fields are ignored, the proposer is the caller; a URL is required.
      body.ignore(ADMIN_ONLY_FIELDS);
      for (const key of ADMIN_ONLY_FIELDS) delete values[key];
      if (!body.has('url')) body.fail('url', 'This field is required.');
      else if (typeof values.url === 'string' && values.url.trim() === '') body.fail('url', 'This field may not be blank.');
      values.proposed_by = callerName(principal);
    }
    body.check();
    await this.checkReferences(body, values, null);
    if (!admin && (await this.organisations.nameOrUrlTaken(values.full_name!, values.url ?? ''))) {
      body.fail('full_name', 'An organisation with this full name or URL already exists.');
    }
    body.check();
    return serializeOrganisation(await this.organisations.insert(values), principal);
  }

  async update(principal: Principal, key: string, body: Parsed<OrganisationDto>): Promise<Json> {
    const existing = await this.find(key);
    body.check();
    const values: OrganisationValues = { ...body.values, country: body.values.country?.toUpperCase() };
    await this.checkReferences(body, values, existing.id);
    body.check();
    if (!Object.values(values).some((v) => v !== undefined)) return serializeOrganisation(existing, principal);
    return serializeOrganisation(await this.organisations.update(existing.id, values), principal);
  }

  /** approve/decline (admin): ROR entries are not vetted (400). */
  async vet(principal: Principal, key: string, enabled: boolean): Promise<Json> {
    const existing = await this.find(key);
    if (existing.ror_id) {
      throw new DomainError(AllocationsError.BadRequest, `Organisation ${existing.id} comes from the ROR (${existing.ror_id}) and is not vetted here`);
    }
    return serializeOrganisation(await this.organisations.update(existing.id, { enabled, vetted_by: callerName(principal) }), principal);
  }

  /**
   * Matches organisation references by integer id, ROR id, or full or short
   * name (case-insensitively); unknown, disabled, ambiguous or repeated
   * references fail on the field (allocations.md 4, supported_organisations;
   * 9, primary_organisation).
   */
  async resolve(
    items: Scalar[],
    field: string,
    body: Parsed<object>,
    opts: { refuseCatchAll?: boolean; sql?: Sql } = {},
  ): Promise<number[] | undefined> {
    const ids: number[] = [];
    for (const item of items) {
      const text = String(item).trim();
      const asId = parseInteger(text);
      const rows = await this.organisations.matching(asId, text, opts.sql);
      const byId = asId !== undefined ? rows.filter((r) => r.id === asId) : [];
      const matches = byId.length ? byId : rows;
      if (matches.length === 0) return body.fail(field, `Unknown organisation "${text}".`);
      if (matches.length > 1) return body.fail(field, `Organisation "${text}" is ambiguous.`);
      const org = matches[0];
      if (!org.enabled) return body.fail(field, `Organisation "${text}" is disabled.`);
      if (opts.refuseCatchAll && org.full_name.toLowerCase() === ALL_ORGANISATIONS) return body.fail(field, 'Name the primary organisation, not "All Organisations".');
      if (ids.includes(org.id)) return body.fail(field, `Organisation "${text}" is listed twice.`);
      ids.push(org.id);
    }
    return ids;
  }

  /** Organisations by id, for serialising references. */
  byIds(ids: number[], sql?: Sql): Promise<OrganisationRow[]> {
    return this.organisations.byIds(ids, sql);
  }

  private async checkReferences(body: Parsed<OrganisationDto>, values: OrganisationValues, selfId: number | null): Promise<void> {
    const ids = [...(values.precedes ?? []), ...(typeof values.parent === 'number' ? [values.parent] : [])];
    if (ids.length === 0) return;
    if (selfId !== null && ids.includes(selfId)) body.fail(values.parent === selfId ? 'parent' : 'precedes', 'An organisation cannot refer to itself.');
    const known = await this.organisations.existingIds(ids);
    if (typeof values.parent === 'number' && !known.includes(values.parent)) body.fail('parent', `Unknown organisation ${values.parent}.`);
    for (const id of values.precedes ?? []) {
      if (!known.includes(id)) body.fail('precedes', `Unknown organisation ${id}.`);
    }
  }

  private async find(key: string): Promise<OrganisationRow> {
    const id = parseInteger(key);
    const row = id === undefined ? undefined : await this.organisations.findById(id);
    if (!row) throw new DomainError(AllocationsError.NotFound, `No organisation ${key}`);
    return row;
  }
}
