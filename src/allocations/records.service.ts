import { Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { DataSource, EntityManager } from 'typeorm';
import { Principal } from '../auth/principal';
import { AppConfig } from '../config/app-config';
import { DomainError } from '../http/domain-error';
import { canSee, loadVisible, ownedCondition, requireEditable, requireRole } from './allocation-access';
import { ALLOCATION_SELECT, AllocationRow } from './allocation-view';
import { AllocationsError } from './allocations.errors';
import { BodyReader, parseInteger } from './body-reader';
import { badFilter } from './catalogue.service';
import { organisationRef, OrganisationRow, resolveOrganisations } from './organisations.service';
import { updateReturning } from './sql';
import { envelope, Envelope, Query, queryValue, readPage } from './paging';

type Row = Record<string, unknown>;

export type RecordKind = 'quotas' | 'chiefinvestigators' | 'grants' | 'publications';

const TABLES: Record<RecordKind, string> = {
  quotas: 'allocation_quota',
  chiefinvestigators: 'allocation_chief_investigator',
  grants: 'allocation_grant',
  publications: 'allocation_publication',
};
const LABELS: Record<RecordKind, string> = { quotas: 'quota', chiefinvestigators: 'chief investigator', grants: 'grant', publications: 'publication' };
const WRITERS = ['admin', 'service', 'user'] as const;

const GRANT_TYPES = ['arc', 'nhmrc', 'rdc', 'comp', 'govt', 'state', 'industry', 'ext', 'inst', 'nz'];
const OUTPUT_TYPES = ['AJ', 'AP', 'AN', 'B', 'M', 'D', 'S', 'P', 'O', 'U'];
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * Records attached to an allocation: quotas (allocations.md 7) and chief
 * investigators, grants, publications (9). Visibility follows the allocation;
 * writes need it current and in E or X (409), serialised against actions by
 * locking the allocation row.
 */
@Injectable()
export class RecordsService {
  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
  ) {}

  async list(kind: RecordKind, principal: Principal, request: FastifyRequest, query: Query): Promise<Envelope<Row>> {
    const page = readPage(query);
    const where: string[] = [];
    const params: unknown[] = [];
    const intFilter = (name: string, column: string) => {
      const text = queryValue(query, name);
      if (text === undefined) return;
      const value = parseInteger(text);
      if (value === undefined) throw badFilter(name, 'A valid integer is required.');
      params.push(value);
      where.push(`r."${column}" = $${params.length}`);
    };
    if (kind === 'quotas') {
      intFilter('resource', 'resource');
      intFilter('group__allocation', 'allocation');
      intFilter('allocation', 'allocation');
      const zone = queryValue(query, 'group__zone');
      if (zone !== undefined) {
        params.push(zone);
        where.push(`r."zone" = $${params.length}`);
      }
      const serviceType = queryValue(query, 'group__service_type');
      if (serviceType !== undefined) {
        params.push(serviceType);
        where.push(`r."resource" IN (SELECT res."id" FROM "alloc_resource" res WHERE res."service_type" = $${params.length})`);
      }
    } else {
      intFilter('allocation', 'allocation');
    }
    if (principal.role === 'user') {
      params.push(principal.projectIds, principal.userId);
      where.push(`EXISTS (SELECT 1 FROM "allocation" a WHERE a."id" = r."allocation" AND ${ownedCondition(`$${params.length - 1}`, `$${params.length}`)})`);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const table = TABLES[kind];
    const [{ count }] = await this.db.query(`SELECT count(*)::int AS count FROM "${table}" r ${clause}`, params);
    const rows: Row[] = await this.db.query(`SELECT r.* FROM "${table}" r ${clause} ORDER BY r."id" LIMIT ${page.limit} OFFSET ${page.offset}`, params);
    return envelope(request, this.config.publicUrl, page, count, await this.serialize(this.db, kind, rows));
  }

  async get(kind: RecordKind, principal: Principal, id: string): Promise<Row> {
    const row = await this.loadVisible(this.db, kind, principal, id);
    return (await this.serialize(this.db, kind, [row.record]))[0];
  }

  async create(kind: RecordKind, principal: Principal, body: unknown): Promise<Row> {
    const reader = new BodyReader(body);
    return this.db.transaction(async (m) => {
      // The allocation is named in the body, so an unknown or invisible one is a 400 (allocations.md 7, 9).
      const allocationId = reader.int('allocation', { required: true });
      reader.done();
      const allocation = await this.lockAllocation(m, principal, allocationId as number);
      if (!allocation) {
        reader.fail('allocation', `No allocation ${String(allocationId)}.`);
        reader.done();
      }
      requireEditable(allocation!, `add a ${LABELS[kind]} to`);
      const values = await this.readFields(m, kind, reader, allocation!, null);
      values.allocation = allocation!.id;
      const columns = Object.keys(values).filter((c) => values[c] !== undefined);
      const rows: Row[] = await m.query(
        `INSERT INTO "${TABLES[kind]}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
        columns.map((c) => values[c]),
      );
      return (await this.serialize(m, kind, rows))[0];
    });
  }

  /** PATCH: chief investigators only (grants, publications and quotas answer 405). */
  async update(kind: RecordKind, principal: Principal, id: string, body: unknown): Promise<Row> {
    return this.db.transaction(async (m) => {
      const { record, allocation } = await this.loadVisible(m, kind, principal, id, true);
      requireRole(principal, WRITERS, `change ${LABELS[kind]}s`);
      requireEditable(allocation, `change a ${LABELS[kind]} of`);
      const reader = new BodyReader(body);
      const values = await this.readFields(m, kind, reader, allocation, record);
      const columns = Object.keys(values).filter((c) => values[c] !== undefined);
      let row = record;
      if (columns.length) {
        row = (
          await updateReturning<Row>(m, `UPDATE "${TABLES[kind]}" SET ${columns.map((c, i) => `"${c}" = $${i + 1}`).join(', ')} WHERE "id" = $${columns.length + 1} RETURNING *`, [
            ...columns.map((c) => values[c]),
            record.id,
          ])
        )[0];
      }
      return (await this.serialize(m, kind, [row]))[0];
    });
  }

  async remove(kind: RecordKind, principal: Principal, id: string): Promise<void> {
    await this.db.transaction(async (m) => {
      const { record, allocation } = await this.loadVisible(m, kind, principal, id, true);
      requireRole(principal, WRITERS, `delete ${LABELS[kind]}s`);
      requireEditable(allocation, `delete a ${LABELS[kind]} of`);
      await m.query(`DELETE FROM "${TABLES[kind]}" WHERE "id" = $1`, [record.id]);
    });
  }

  private async lockAllocation(m: EntityManager, principal: Principal, id: number): Promise<AllocationRow | undefined> {
    const rows: AllocationRow[] = await m.query(`${ALLOCATION_SELECT} WHERE a."id" = $1 FOR UPDATE`, [id]);
    if (!rows[0] || !(await canSee(m, principal, rows[0]))) return undefined;
    return rows[0];
  }

  private async loadVisible(m: DataSource | EntityManager, kind: RecordKind, principal: Principal, id: string, forUpdate = false): Promise<{ record: Row; allocation: AllocationRow }> {
    const notFound = new DomainError(AllocationsError.NotFound, `No ${LABELS[kind]} ${id}`);
    const key = parseInteger(id);
    if (key === undefined) throw notFound;
    const rows: Row[] = await m.query(`SELECT * FROM "${TABLES[kind]}" WHERE "id" = $1`, [key]);
    if (!rows[0]) throw notFound;
    try {
      const allocation = await loadVisible(m, principal, rows[0].allocation as number, forUpdate);
      return { record: rows[0], allocation };
    } catch (error) {
      if (error instanceof DomainError && error.code === AllocationsError.NotFound) throw notFound;
      throw error;
    }
  }

  private async readFields(m: EntityManager, kind: RecordKind, reader: BodyReader, allocation: AllocationRow, existing: Row | null): Promise<Row> {
    const create = existing === null;
    const v: Row = {};
    switch (kind) {
      case 'quotas': {
        const resourceId = reader.int('resource', { required: true });
        const zone = reader.text('zone', { required: true, notBlank: true });
        const quota = reader.int('quota', { required: true, min: -1 });
        const requested = reader.has('requested_quota') ? reader.int('requested_quota', { min: -1 }) : quota;
        reader.done();
        const resource: { id: number; zones: string[] }[] = await m.query(
          `SELECT r."id", st."zones" FROM "alloc_resource" r JOIN "alloc_service_type" st ON st."catalog_name" = r."service_type" WHERE r."id" = $1`,
          [resourceId],
        );
        if (!resource[0]) reader.fail('resource', `Unknown resource ${String(resourceId)}.`);
        const zoneRow = await m.query(`SELECT 1 FROM "alloc_zone" WHERE "name" = $1`, [zone]);
        if (!zoneRow.length) reader.fail('zone', `Unknown zone "${zone}".`);
        else if (resource[0] && !resource[0].zones.includes(zone!)) reader.fail('zone', `Zone "${zone}" is not a zone of this resource's service type.`);
        if (resource[0] && zoneRow.length) {
          const dup = await m.query(`SELECT 1 FROM "allocation_quota" WHERE "allocation" = $1 AND "resource" = $2 AND "zone" = $3`, [allocation.id, resourceId, zone]);
          if (dup.length) reader.fail('resource', 'This allocation already has a quota for this resource and zone.');
        }
        if (allocation.managed && (quota === -1 || requested === -1)) reader.fail(quota === -1 ? 'quota' : 'requested_quota', 'Unlimited (-1) is not allowed for a managed allocation.');
        reader.done();
        return { resource: resourceId, zone, quota, requested_quota: requested };
      }
      case 'chiefinvestigators': {
        v.title = reader.text('title', { required: create, notBlank: true, max: 60 });
        v.given_name = reader.text('given_name', { required: create, notBlank: true, max: 200 });
        v.surname = reader.text('surname', { required: create, notBlank: true, max: 200 });
        v.email = reader.text('email', { required: create, notBlank: true, max: 254, pattern: EMAIL, patternMessage: 'Enter a valid email address.' });
        v.additional_researchers = reader.text('additional_researchers', { max: 1000 });
        if (reader.has('primary_organisation')) {
          const items = reader.list('primary_organisation');
          if (items && items.length !== 1) reader.fail('primary_organisation', 'Name exactly one organisation.');
          else if (items) v.primary_organisation = (await resolveOrganisations(m, items, 'primary_organisation', reader, { refuseCatchAll: true }))?.[0];
        } else if (create) reader.fail('primary_organisation', 'This field is required.');
        break;
      }
      case 'grants': {
        v.grant_type = reader.text('grant_type', { required: true });
        if (typeof v.grant_type === 'string' && !GRANT_TYPES.includes(v.grant_type)) reader.fail('grant_type', `Must be one of ${GRANT_TYPES.join(', ')}.`);
        v.grant_subtype = reader.text('grant_subtype', { required: true, notBlank: true, max: 128, pattern: /^[-a-zA-Z0-9_]+$/, patternMessage: 'Must be a slug.' });
        v.funding_body_scheme = reader.text('funding_body_scheme', { max: 255 });
        v.grant_id = reader.text('grant_id', { max: 200 });
        v.first_year_funded = reader.int('first_year_funded', { required: true, min: 1970, max: 3000 });
        v.last_year_funded = reader.int('last_year_funded', { required: true, min: 1970, max: 3000 });
        v.total_funding = reader.number('total_funding', { required: true, min: 1 });
        if (typeof v.first_year_funded === 'number' && typeof v.last_year_funded === 'number' && v.first_year_funded > v.last_year_funded) {
          reader.fail('last_year_funded', 'Must not be before first_year_funded.');
        }
        break;
      }
      case 'publications': {
        v.output_type = reader.text('output_type', { required: true });
        if (typeof v.output_type === 'string' && !OUTPUT_TYPES.includes(v.output_type)) reader.fail('output_type', `Must be one of ${OUTPUT_TYPES.join(', ')}.`);
        v.publication = reader.text('publication', { max: 512 });
        v.doi = reader.text('doi', { max: 256, pattern: /^10\.\d+\/\S.*$/, patternMessage: 'Must look like 10.<digits>/<suffix>.' });
        if (!reader.errors.publication && !reader.errors.doi && !v.publication && !v.doi) reader.fail('publication', 'Give a publication, a DOI or both.');
        break;
      }
    }
    reader.done();
    return v;
  }

  private async serialize(m: DataSource | EntityManager, kind: RecordKind, rows: Row[]): Promise<Row[]> {
    switch (kind) {
      case 'quotas':
        return rows.map((r) => ({ id: r.id, allocation: r.allocation, resource: r.resource, zone: r.zone, requested_quota: r.requested_quota, quota: r.quota }));
      case 'chiefinvestigators': {
        const ids = [...new Set(rows.map((r) => r.primary_organisation as number))];
        const orgs: OrganisationRow[] = ids.length ? await m.query(`SELECT * FROM "alloc_organisation" WHERE "id" = ANY($1)`, [ids]) : [];
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
