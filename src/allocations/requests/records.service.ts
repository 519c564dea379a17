import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Principal } from '../../auth/principal';
import { Sql } from '../../database/query-result';
import { DomainError } from '../../http/domain-error';
import { AllocationsError } from '../allocations.errors';
import { CatalogueRepository } from '../catalogue/catalogue.repository';
import { organisationRef } from '../organisations/organisation-view';
import { OrganisationsService } from '../organisations/organisations.service';
import { parseInteger } from '../shared/body-reader';
import { Parsed } from '../shared/input';
import { Page, PageOf } from '../shared/paging';
import { AllocationAccess, ownerOf } from './allocation-access';
import { AllocationRow } from './allocation-view';
import { ChiefInvestigatorDto, GrantDto, PublicationDto, QuotaDto } from './dto/records.dto';
import { RecordFilter, RecordKind, RecordRow, RecordsRepository } from './records.repository';
import { requireEditable, requireRole } from './state-machine';

type Json = Record<string, unknown>;

/** The body of each kind of record. */
export interface RecordBodies {
  quotas: QuotaDto;
  chiefinvestigators: ChiefInvestigatorDto;
  grants: GrantDto;
  publications: PublicationDto;
}

const LABELS: Record<RecordKind, string> = { quotas: 'quota', chiefinvestigators: 'chief investigator', grants: 'grant', publications: 'publication' };
const WRITERS = ['admin', 'service', 'user'] as const;

/**
 * Records attached to an allocation: quotas (allocations.md 7) and chief
 * investigators, grants, publications (9). Visibility follows the allocation;
 * writes need it current and in E or X (409), serialised against actions by
 * locking the allocation row.
 */
@Injectable()
export class RecordsService {
  constructor(
    private readonly records: RecordsRepository,
    private readonly access: AllocationAccess,
    private readonly catalogue: CatalogueRepository,
    private readonly organisations: OrganisationsService,
  ) {}

  async list(kind: RecordKind, principal: Principal, filter: RecordFilter, page: Page): Promise<PageOf<Json>> {
    const { count, rows } = await this.records.list(kind, filter, ownerOf(principal), page);
    return { page, count, results: await this.serialize(kind, rows) };
  }

  async get(kind: RecordKind, principal: Principal, id: string): Promise<Json> {
    const { record } = await this.loadVisible(kind, principal, id);
    return (await this.serialize(kind, [record]))[0];
  }

  async create<K extends RecordKind>(kind: K, principal: Principal, body: Parsed<RecordBodies[K]>): Promise<Json> {
    // The allocation is named in the body, so an unknown or invisible one is a 400 (allocations.md 7, 9).
    body.check(['allocation']);
    const allocationId = (body.values as { allocation: number }).allocation;
    return this.records.transaction(async (m) => {
      const allocation = await this.access.lockIfVisible(principal, allocationId, m);
      if (!allocation) {
        body.fail('allocation', `No allocation ${String(allocationId)}.`);
        body.check(['allocation']);
      }
      requireEditable(allocation!, `add a ${LABELS[kind]} to`);
      const values = await this.readFields(m, kind, body, allocation!, true);
      values.allocation = allocation!.id;
      return (await this.serialize(kind, [await this.records.insert(kind, values, m)], m))[0];
    });
  }

  /** PATCH: chief investigators only (grants, publications and quotas answer 405). */
  async update(principal: Principal, id: string, body: Parsed<ChiefInvestigatorDto>): Promise<Json> {
    const kind = 'chiefinvestigators';
    return this.records.transaction(async (m) => {
      const { record, allocation } = await this.loadVisible(kind, principal, id, m);
      requireRole(principal, WRITERS, `change ${LABELS[kind]}s`);
      requireEditable(allocation, `change a ${LABELS[kind]} of`);
      // The owning allocation of a record never changes.
      body.ignore(['allocation']);
      const values = await this.readFields(m, kind, body, allocation, false);
      const row = (await this.records.update(kind, record.id, values, m)) ?? record;
      return (await this.serialize(kind, [row], m))[0];
    });
  }

  async remove(kind: RecordKind, principal: Principal, id: string): Promise<void> {
    await this.records.transaction(async (m) => {
      const { record, allocation } = await this.loadVisible(kind, principal, id, m);
      requireRole(principal, WRITERS, `delete ${LABELS[kind]}s`);
      requireEditable(allocation, `delete a ${LABELS[kind]} of`);
      await this.records.delete(kind, record.id, m);
    });
  }

  /** The record and its allocation if the caller may see them, else 404 naming the record; in a transaction the allocation is locked. */
  private async loadVisible(kind: RecordKind, principal: Principal, id: string, m?: EntityManager): Promise<{ record: RecordRow; allocation: AllocationRow }> {
    const notFound = new DomainError(AllocationsError.NotFound, `No ${LABELS[kind]} ${id}`);
    const key = parseInteger(id);
    if (key === undefined) throw notFound;
    const record = await this.records.findById(kind, key, m);
    if (!record) throw notFound;
    try {
      const allocation = await this.access.loadVisible(principal, record.allocation, { forUpdate: m !== undefined, sql: m });
      return { record, allocation };
    } catch (error) {
      if (error instanceof DomainError && error.code === AllocationsError.NotFound) throw notFound;
      throw error;
    }
  }

  /** The columns to write, after the checks that need the database (each a 400 on its field). */
  private async readFields(m: EntityManager, kind: RecordKind, body: Parsed<object>, allocation: AllocationRow, create: boolean): Promise<Json> {
    switch (kind) {
      case 'quotas': {
        body.check();
        const input = body.values as Partial<QuotaDto>;
        const { resource, zone, quota } = input as QuotaDto;
        const requested = body.has('requested_quota') ? input.requested_quota : quota;
        const found = await this.catalogue.resourceWithZones(resource, m);
        if (!found) body.fail('resource', `Unknown resource ${String(resource)}.`);
        const zoneKnown = await this.catalogue.zoneExists(zone, m);
        if (!zoneKnown) body.fail('zone', `Unknown zone "${zone}".`);
        else if (found && !found.zones.includes(zone)) body.fail('zone', `Zone "${zone}" is not a zone of this resource's service type.`);
        if (found && zoneKnown && (await this.records.quotaExists(allocation.id, resource, zone, m))) {
          body.fail('resource', 'This allocation already has a quota for this resource and zone.');
        }
        if (allocation.managed && (quota === -1 || requested === -1)) body.fail(quota === -1 ? 'quota' : 'requested_quota', 'Unlimited (-1) is not allowed for a managed allocation.');
        body.check();
        return { resource, zone, quota, requested_quota: requested };
      }
      case 'chiefinvestigators': {
        const input = body.values as Partial<ChiefInvestigatorDto>;
        const v: Json = {
          title: input.title,
          given_name: input.given_name,
          surname: input.surname,
          email: input.email,
          additional_researchers: input.additional_researchers,
        };
        const items = input.primary_organisation;
        if (items) {
          if (items.length !== 1) body.fail('primary_organisation', 'Name exactly one organisation.');
          else v.primary_organisation = (await this.organisations.resolve(items, 'primary_organisation', body, { refuseCatchAll: true, sql: m }))?.[0];
        } else if (create && !body.errors.primary_organisation) body.fail('primary_organisation', 'This field is required.');
        body.check();
        return v;
      }
      case 'grants': {
        const input = body.values as Partial<GrantDto>;
        if (typeof input.first_year_funded === 'number' && typeof input.last_year_funded === 'number' && input.first_year_funded > input.last_year_funded) {
          body.fail('last_year_funded', 'Must not be before first_year_funded.');
        }
        body.check();
        const { allocation: _allocation, ...v } = input;
        return v;
      }
      case 'publications': {
        const input = body.values as Partial<PublicationDto>;
        if (!body.errors.publication && !body.errors.doi && !input.publication && !input.doi) body.fail('publication', 'Give a publication, a DOI or both.');
        body.check();
        const { allocation: _allocation, ...v } = input;
        return v;
      }
    }
  }

  private async serialize(kind: RecordKind, rows: RecordRow[], sql?: Sql): Promise<Json[]> {
    switch (kind) {
      case 'quotas':
        return rows.map((r) => ({ id: r.id, allocation: r.allocation, resource: r.resource, zone: r.zone, requested_quota: r.requested_quota, quota: r.quota }));
      case 'chiefinvestigators': {
        const orgs = await this.organisations.byIds([...new Set(rows.map((r) => r.primary_organisation as number))], sql);
        return rows.map((r) => {
          const org = orgs.find((o) => o.id === r.primary_organisation);
          return {
            id: r.id,
            allocation: r.allocation,
            title: r.title,
            given_name: r.given_name,
            surname: r.surname,
            email: r.email,
            primary_organisation: org ? organisationRef(org) : r.primary_organisation,
            additional_researchers: r.additional_researchers,
          };
        });
      }
      default:
        return rows;
    }
  }
}
