import { Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { DataSource, EntityManager } from 'typeorm';
import { Principal } from '../auth/principal';
import { AppConfig } from '../config/app-config';
import { DomainError } from '../http/domain-error';
import { loadVisible, ownedCondition, requireCurrent, requireRole, requireState } from './allocation-access';
import { ALLOCATION_SELECT, AllocationContext, AllocationRow, STATUS_DISPLAY } from './allocation-view';
import { Allocation } from './allocation.entities';
import { AllocationsError } from './allocations.errors';
import { BodyReader, isCalendarDate, parseBool, parseInteger } from './body-reader';
import { badFilter, callerName } from './catalogue.service';
import { resolveOrganisations } from './organisations.service';
import { envelope, Envelope, Query, queryValue, readPage } from './paging';
import { PendingRecompute, QuotaLinkService } from './quota-link/quota-link.service';

type Json = Record<string, unknown>;
type Db = DataSource | EntityManager;

const PRIVILEGED = ['admin', 'service'] as const;
const PROJECT_NAME = /^[A-Za-z0-9_-]+$/;
const FIELD_OF_RESEARCH = /^\d{2}(\d{2}){0,2}$/;
const DURATIONS = [1, 3, 6, 12];
const TEXT_FIELDS = ['usage_patterns', 'geographic_requirements', 'nectar_support', 'ncris_support', 'ncris_explanation', 'ardc_explanation'];
const PRIVILEGED_BOOLS = ['national', 'provisioned', 'notifications', 'managed'];
const TEXT_LOOKUPS = ['contains', 'icontains', 'startswith', 'istartswith', 'endswith', 'iendswith', 'regex'];
const COMPARISONS: Record<string, string> = { lt: '<', gt: '>', lte: '<=', gte: '>=' };

/** Allocations: list, get, create, update, the state machine and approver info (allocations.md 4-6). */
@Injectable()
export class AllocationsService {
  private readonly copyColumns: string[];

  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly quotaLink: QuotaLinkService,
  ) {
    this.copyColumns = db
      .getMetadata(Allocation)
      .columns.map((c) => c.databaseName)
      .filter((c) => c !== 'id' && c !== 'parent_request');
  }

  async list(principal: Principal, request: FastifyRequest, query: Query): Promise<Envelope<Json>> {
    const page = readPage(query);
    const { where, params } = await this.filters(query);
    if (principal.role === 'user') {
      params.push(principal.projectIds, principal.userId);
      where.push(ownedCondition(`$${params.length - 1}`, `$${params.length}`));
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ count }] = await this.db.query(`SELECT count(*)::int AS count FROM "allocation" a ${clause}`, params);
    const rows: AllocationRow[] = await this.db.query(
      `${ALLOCATION_SELECT} ${clause} ORDER BY a."modified_time" DESC, a."id" DESC LIMIT ${page.limit} OFFSET ${page.offset}`,
      params,
    );
    const ctx = await AllocationContext.load(this.db, rows);
    return envelope(request, this.config.publicUrl, page, count, rows.map((r) => ctx.serialize(r, principal)));
  }

  async get(principal: Principal, id: string): Promise<Json> {
    return this.present(this.db, principal, await loadVisible(this.db, principal, parseInteger(id)));
  }

  async create(principal: Principal, body: unknown): Promise<Json> {
    const reader = new BodyReader(body);
    return this.db.transaction(async (m) => {
      const values = await this.readFields(m, principal, reader, null);
      const now = new Date();
      const creator = callerName(principal);
      values.status = 'E';
      values.submit_date = now;
      values.modified_time = now;
      values.created_by = creator;
      if (values.contact_email === undefined) values.contact_email = principal.role === 'user' ? creator : principal.name;
      const columns = Object.keys(values).filter((c) => values[c] !== undefined);
      const inserted: { id: number }[] = await insertOrConflict(() =>
        m.query(
          `INSERT INTO "allocation" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING "id"`,
          columns.map((c) => values[c]),
        ),
      );
      return this.present(m, principal, await loadVisible(m, principal, inserted[0].id));
    });
  }

  async update(principal: Principal, id: string, body: unknown): Promise<Json> {
    const { answer, pending } = await this.db.transaction(async (m) => {
      const row = await loadVisible(m, principal, parseInteger(id), true);
      requireRole(principal, ['admin', 'service', 'user'], 'update allocations');
      requireCurrent(row);
      if (principal.role === 'user') requireState(row, ['E', 'X'], 'update');
      const reader = new BodyReader(body);
      const values = await this.readFields(m, principal, reader, row);
      values.modified_time = new Date();
      const columns = Object.keys(values).filter((c) => values[c] !== undefined);
      await insertOrConflict(() =>
        m.query(`UPDATE "allocation" SET ${columns.map((c, i) => `"${c}" = $${i + 1}`).join(', ')} WHERE "id" = $${columns.length + 1}`, [
          ...columns.map((c) => values[c]),
          row.id,
        ]),
      );
      // A new project_id moves the limits: both projects are recomputed (allocations.md §10).
      const moved = values.project_id !== undefined && values.project_id !== row.project_id;
      const pending = moved ? await this.quotaLink.markPending(m, [row.project_id, values.project_id as string | null]) : [];
      return { answer: await this.present(m, principal, await loadVisible(m, principal, row.id)), pending };
    });
    await this.quotaLink.enqueue(pending);
    return answer;
  }

  /** approve: E, X → A (allocations.md 5). */
  async approve(principal: Principal, id: string): Promise<Json> {
    return this.action(principal, id, async (m, row, now) => {
      requireRole(principal, PRIVILEGED, 'approve allocations');
      requireCurrent(row);
      requireState(row, ['E', 'X'], 'approve');
      if (row.associated_site === null) {
        throw new DomainError(AllocationsError.Validation, 'An allocation needs an associated_site before it can be approved', {
          fields: { associated_site: ['This field must be set before approval.'] },
        });
      }
      await this.snapshot(m, row.id);
      await m.query(
        `UPDATE "allocation" SET "status" = 'A', "approver_email" = $2, "provisioned" = false, "modified_time" = $3,
           "start_date" = COALESCE("start_date", ($3::timestamptz AT TIME ZONE 'UTC')::date),
           "end_date" = COALESCE("end_date", (COALESCE("start_date", ($3::timestamptz AT TIME ZONE 'UTC')::date) + make_interval(months => "estimated_project_duration"))::date)
         WHERE "id" = $1`,
        [row.id, callerName(principal), now],
      );
      return this.quotaLink.markPending(m, [row.project_id]);
    });
  }

  /** decline: E → R, X → J, with an optional status_explanation (this service's own, allocations.md 5). */
  async decline(principal: Principal, id: string, body: unknown): Promise<Json> {
    return this.action(principal, id, async (m, row, now) => {
      requireRole(principal, PRIVILEGED, 'decline allocations');
      requireCurrent(row);
      requireState(row, ['E', 'X'], 'decline');
      const reader = new BodyReader(body);
      const explanation = reader.string('status_explanation', { nullable: true });
      reader.done();
      await this.snapshot(m, row.id);
      await m.query(
        `UPDATE "allocation" SET "status" = $2, "modified_time" = $3, "status_explanation" = CASE WHEN $4::boolean THEN $5 ELSE "status_explanation" END WHERE "id" = $1`,
        [row.id, row.status === 'E' ? 'R' : 'J', now, explanation !== undefined, explanation ?? null],
      );
    });
  }

  /** amend: A, R, J → X; admin, service or the owner (allocations.md 5). */
  async amend(principal: Principal, id: string): Promise<Json> {
    return this.action(principal, id, async (m, row, now) => {
      requireRole(principal, ['admin', 'service', 'user'], 'amend allocations');
      requireCurrent(row);
      requireState(row, ['A', 'R', 'J'], 'amend');
      await this.snapshot(m, row.id);
      await m.query(`UPDATE "allocation" SET "status" = 'X', "provisioned" = false, "modified_time" = $2 WHERE "id" = $1`, [row.id, now]);
    });
  }

  /** delete: any → D, idempotent on D (allocations.md 5). */
  async remove(principal: Principal, id: string): Promise<Json> {
    return this.action(principal, id, async (m, row, now) => {
      requireRole(principal, PRIVILEGED, 'delete allocations');
      requireCurrent(row);
      if (row.status === 'D') return;
      await this.snapshot(m, row.id);
      await m.query(`UPDATE "allocation" SET "status" = 'D', "modified_time" = $2 WHERE "id" = $1`, [row.id, now]);
      return this.quotaLink.markPending(m, [row.project_id]);
    });
  }

  async approverInfo(principal: Principal, id: string): Promise<Json> {
    const row = await loadVisible(this.db, principal, parseInteger(id));
    requireRole(principal, ['admin', 'service', 'reader'], 'read approver info');
    if (row.parent_request !== null) {
      throw new DomainError(AllocationsError.BadRequest, `Allocation ${row.id} is a history record; ask for its current record ${row.parent_request}`);
    }
    const now = Date.now();
    const day = 86_400_000;
    let urgency = 'N/A';
    if (['N', 'E', 'X'].includes(row.status)) {
      const age = (now - row.modified_time.getTime()) / day;
      urgency = age > 21 ? 'Overdue' : age > 14 ? 'Warning' : age > 7 ? 'Attention' : 'New';
    }
    let expiry = 'None';
    const today = new Date(now).toISOString().slice(0, 10);
    if (row.end_date !== null && row.end_date < today) {
      const records: { status: string; modified_time: Date }[] = await this.db.query(
        `SELECT "status", "modified_time" FROM "allocation" WHERE "id" = $1 OR "parent_request" = $1 ORDER BY "modified_time", "id"`,
        [row.id],
      );
      const lastApproval = [...records].reverse().find((r) => r.status === 'A');
      const clockStop = records.find((r) => r.status === 'X' && (!lastApproval || r.modified_time.getTime() > lastApproval.modified_time.getTime()));
      if (!clockStop) {
        expiry = 'Unknown';
      } else {
        const stop = clockStop.modified_time.getTime();
        const end = Date.parse(`${row.end_date}T00:00:00Z`);
        if (now - stop > 150 * day) expiry = 'Danger';
        else if (stop > end + 28 * day) expiry = 'Archived';
        else if (stop > end + 14 * day) expiry = 'Stopped';
        else if (stop > end) expiry = 'Expired';
      }
    }
    const sites: { name: string }[] = row.associated_site !== null ? await this.db.query(`SELECT "name" FROM "alloc_site" WHERE "id" = $1`, [row.associated_site]) : [];
    return { approval_urgency: urgency, expiry_state: expiry, concerned_sites: sites.map((s) => s.name) };
  }

  /**
   * Locks the record, runs the transition and answers the record as the
   * caller sees it; the limit recomputations the transition owes (recorded in
   * its transaction) are enqueued after the commit (allocations.md §10).
   */
  private async action(
    principal: Principal,
    id: string,
    run: (m: EntityManager, row: AllocationRow, now: Date) => Promise<PendingRecompute[] | void>,
  ): Promise<Json> {
    const { answer, pending } = await this.db.transaction(async (m) => {
      const row = await loadVisible(m, principal, parseInteger(id), true);
      const pending = (await run(m, row, new Date())) ?? [];
      return { answer: await this.present(m, principal, await loadVisible(m, principal, row.id)), pending };
    });
    await this.quotaLink.enqueue(pending);
    return answer;
  }

  /**
   * Saves the record as stored, with copies of its quotas, chief investigators,
   * grants and publications, as a history record of itself (allocations.md 5).
   */
  private async snapshot(m: EntityManager, id: number): Promise<void> {
    const cols = this.copyColumns.map((c) => `"${c}"`).join(', ');
    const [{ id: copy }] = await m.query(
      `INSERT INTO "allocation" ("parent_request", ${cols}) SELECT "id", ${cols} FROM "allocation" WHERE "id" = $1 RETURNING "id"`,
      [id],
    );
    await m.query(
      `INSERT INTO "allocation_quota" ("allocation", "resource", "zone", "requested_quota", "quota")
       SELECT $2, "resource", "zone", "requested_quota", "quota" FROM "allocation_quota" WHERE "allocation" = $1 ORDER BY "id"`,
      [id, copy],
    );
    await m.query(
      `INSERT INTO "allocation_chief_investigator" ("allocation", "title", "given_name", "surname", "email", "primary_organisation", "additional_researchers")
       SELECT $2, "title", "given_name", "surname", "email", "primary_organisation", "additional_researchers" FROM "allocation_chief_investigator" WHERE "allocation" = $1 ORDER BY "id"`,
      [id, copy],
    );
    await m.query(
      `INSERT INTO "allocation_grant" ("allocation", "grant_type", "grant_subtype", "funding_body_scheme", "grant_id", "first_year_funded", "last_year_funded", "total_funding")
       SELECT $2, "grant_type", "grant_subtype", "funding_body_scheme", "grant_id", "first_year_funded", "last_year_funded", "total_funding" FROM "allocation_grant" WHERE "allocation" = $1 ORDER BY "id"`,
      [id, copy],
    );
    await m.query(
      `INSERT INTO "allocation_publication" ("allocation", "output_type", "publication", "doi")
       SELECT $2, "output_type", "publication", "doi" FROM "allocation_publication" WHERE "allocation" = $1 ORDER BY "id"`,
      [id, copy],
    );
  }

  private async present(m: Db, principal: Principal, row: AllocationRow): Promise<Json> {
    return (await AllocationContext.load(m, [row])).serialize(row, principal);
  }

  /**
   * The writable fields of a create (existing null) or partial update, by role
   * (allocations.md 4): privileged fields from a user are ignored, except
   * associated_site, allocation_home and special_approval, which are refused
   * with 403 when non-empty. Server-managed and unknown fields are ignored.
   */
  private async readFields(m: EntityManager, principal: Principal, reader: BodyReader, existing: AllocationRow | null): Promise<Json> {
    const privileged = principal.role !== 'user';
    const home = reader.has('allocation_home') ? reader.string('allocation_home', { nullable: true, emptyIsNull: true }) : undefined;
    let homeSite: { id: number } | undefined;
    if (typeof home === 'string' && home !== 'national' && home !== 'unassigned') {
      homeSite = (await m.query(`SELECT "id" FROM "alloc_site" WHERE "name" = $1`, [home]))[0];
      // An unknown home is a 400 even for a user, before the 403 (allocations.md 4).
      if (!homeSite) reader.fail('allocation_home', `Unknown allocation home "${home}".`);
      reader.done();
    }
    if (!privileged) {
      for (const key of ['associated_site', 'allocation_home', 'special_approval']) {
        const value = reader.raw(key);
        const empty = value === undefined || value === null || value === '' || (Array.isArray(value) && value.every((v) => v === ''));
        if (!empty) throw new DomainError(AllocationsError.Forbidden, `A user token may not set ${key}`);
      }
    }

    const v: Json = {};
    v.project_name = reader.string('project_name', { nullable: true, emptyIsNull: true, max: 64, pattern: PROJECT_NAME, patternMessage: 'Only letters, digits, "-" and "_" are allowed.' });
    v.project_description = reader.text('project_description', { required: !existing, notBlank: true, max: 200 });
    v.use_case = reader.text('use_case', { required: !existing, notBlank: true });
    const duration = reader.int('estimated_project_duration');
    if (typeof duration === 'number' && !DURATIONS.includes(duration)) reader.fail('estimated_project_duration', `Must be one of ${DURATIONS.join(', ')} (months).`);
    else v.estimated_project_duration = duration;
    v.estimated_number_users = reader.int('estimated_number_users', { nullable: true, min: 1 });
    v.convert_trial_project = reader.bool('convert_trial_project');
    for (const key of TEXT_FIELDS) v[key] = reader.string(key, { nullable: true }) ?? (reader.has(key) && reader.raw(key) === null ? '' : undefined);
    for (const n of [1, 2, 3]) {
      v[`field_of_research_${n}`] = reader.string(`field_of_research_${n}`, {
        nullable: true,
        emptyIsNull: true,
        pattern: FIELD_OF_RESEARCH,
        patternMessage: 'Must be an ANZSRC code of 2, 4 or 6 digits.',
      });
      const pct = reader.int(`for_percentage_${n}`, { min: 0, max: 100 });
      if (typeof pct === 'number' && pct % 10 !== 0) reader.fail(`for_percentage_${n}`, 'Must be a multiple of 10.');
      else v[`for_percentage_${n}`] = pct;
    }
    const orgs = reader.list('supported_organisations');
    if (orgs) v.supported_organisations = await resolveOrganisations(m, orgs.filter((o) => o !== ''), 'supported_organisations', reader);
    v.ncris_facilities = await this.resolveNamed(m, reader, 'ncris_facilities', 'alloc_facility', 'NCRIS facility');
    v.ardc_support = await this.resolveNamed(m, reader, 'ardc_support', 'alloc_ardc_project', 'ARDC project');
    v.usage_types = reader.stringList('usage_types', { max: 255 });
    const bundle = reader.string('bundle', { nullable: true, emptyIsNull: true });
    if (typeof bundle === 'string') {
      const found: { id: number }[] = await m.query(`SELECT "id" FROM "alloc_bundle" WHERE "name" = $1 OR ("id"::text = $1)`, [bundle]);
      if (found.length === 0) reader.fail('bundle', `Unknown bundle "${bundle}".`);
      else v.bundle = found[0].id;
    } else if (bundle === null) v.bundle = null;

    if (privileged) {
      v.contact_email = reader.text('contact_email', { max: 254 });
      v.start_date = reader.date('start_date');
      v.end_date = reader.date('end_date');
      for (const key of PRIVILEGED_BOOLS) v[key] = reader.bool(key);
      v.project_id = reader.string('project_id', { nullable: true, emptyIsNull: true, max: 64 });
      v.notes = reader.string('notes', { nullable: true });
      v.status_explanation = reader.string('status_explanation', { nullable: true });
      v.special_approval = reader.string('special_approval', { nullable: true }) ?? (reader.has('special_approval') && reader.raw('special_approval') === null ? '' : undefined);
      const site = reader.string('associated_site', { nullable: true, emptyIsNull: true });
      if (typeof site === 'string') {
        const found: { id: number }[] = await m.query(`SELECT "id" FROM "alloc_site" WHERE "name" = $1`, [site]);
        if (found.length === 0) reader.fail('associated_site', `Unknown site "${site}".`);
        else v.associated_site = found[0].id;
      } else if (site === null) v.associated_site = null;
      if (home !== undefined) {
        if (reader.has('national') || reader.has('associated_site')) {
          reader.fail('allocation_home', 'Send allocation_home alone, not together with national or associated_site.');
        } else if (home === 'national') v.national = true;
        else if (home === 'unassigned' || home === null) {
          v.national = false;
          v.associated_site = null;
        } else if (homeSite) {
          v.national = false;
          v.associated_site = homeSite.id;
        }
      }
    }
    reader.done();

    // Rules across fields and rows.
    const pick = <T>(key: string, fallback: T): T => (v[key] !== undefined ? (v[key] as T) : fallback);
    const sum = [1, 2, 3].reduce((s, n) => s + pick<number>(`for_percentage_${n}`, existing ? (existing[`for_percentage_${n}` as keyof AllocationRow] as number) : n === 1 ? 100 : 0), 0);
    if (sum > 100) reader.fail('for_percentage_1', `The field of research percentages add up to ${sum}; at most 100.`);
    if (typeof v.project_name === 'string' && v.project_name.toLowerCase() !== existing?.project_name?.toLowerCase()) {
      const clash = await m.query(
        `SELECT 1 FROM "allocation" WHERE "parent_request" IS NULL AND "status" <> 'D' AND lower("project_name") = lower($1) AND "id" <> $2`,
        [v.project_name, existing?.id ?? 0],
      );
      if (clash.length) reader.fail('project_name', `An allocation with project name "${v.project_name}" already exists.`);
    }
    reader.done();
    if (typeof v.project_id === 'string' && v.project_id !== existing?.project_id && existing?.status !== 'D') {
      const clash = await m.query(`SELECT "id" FROM "allocation" WHERE "parent_request" IS NULL AND "status" <> 'D' AND "project_id" = $1 AND "id" <> $2`, [
        v.project_id,
        existing?.id ?? 0,
      ]);
      if (clash.length) throw projectIdTaken(v.project_id);
    }
    return v;
  }

  /** NCRIS facilities and ARDC projects by short name or name, case-insensitively. */
  private async resolveNamed(m: EntityManager, reader: BodyReader, field: string, table: string, label: string): Promise<number[] | undefined> {
    const items = reader.stringList(field, { max: 255 });
    if (!items) return undefined;
    const ids: number[] = [];
    for (const item of items.filter((i) => i !== '')) {
      const found: { id: number }[] = await m.query(`SELECT "id" FROM "${table}" WHERE lower("short_name") = lower($1) OR lower("name") = lower($1) ORDER BY "id"`, [item]);
      if (found.length === 0) return reader.fail(field, `Unknown ${label} "${item}".`);
      if (!ids.includes(found[0].id)) ids.push(found[0].id);
    }
    return ids;
  }

  /** The list filters of allocations.md 6; unknown parameters are ignored, ill-formed values are 400. */
  private async filters(query: Query): Promise<{ where: string[]; params: unknown[] }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    for (const key of Object.keys(query)) {
      const value = queryValue(query, key);
      if (value === undefined) continue;
      const [field, lookup = ''] = splitLookup(key);
      switch (field) {
        case 'status': {
          if (lookup !== '' && lookup !== 'in') break;
          const codes = lookup === 'in' ? value.split(',').map((c) => c.trim()).filter(Boolean) : [value];
          for (const code of codes) if (!(code in STATUS_DISPLAY)) throw badFilter(key, `"${code}" is not a valid status.`);
          add((p) => `a."status" = ANY(${p})`, codes);
          break;
        }
        case 'project_id':
          if (lookup === '') add((p) => `a."project_id" = ${p}`, value);
          else if (lookup === 'in') add((p) => `a."project_id" = ANY(${p})`, value.split(',').map((c) => c.trim()));
          break;
        case 'project_name':
        case 'contact_email':
        case 'approver_email':
          await this.textFilter(add, field, lookup, key, value);
          break;
        case 'parent_request':
        case 'parent_request_id': {
          if (lookup === 'isnull') {
            const isNull = parseBool(value);
            if (isNull === undefined) throw badFilter(key, 'Must be a valid boolean.');
            where.push(isNull ? `a."parent_request" IS NULL` : `a."parent_request" IS NOT NULL`);
          } else if (lookup === '') {
            const id = parseInteger(value);
            if (id === undefined) throw badFilter(key, 'A valid integer is required.');
            add((p) => `a."parent_request" = ${p}`, id);
          }
          break;
        }
        case 'convert_trial_project':
        case 'provisioned':
        case 'national':
        case 'managed':
        case 'notifications': {
          if (lookup !== '') break;
          const flag = parseBool(value);
          if (flag === undefined) throw badFilter(key, 'Must be a valid boolean.');
          add((p) => `a."${field}" = ${p}`, flag);
          break;
        }
        case 'associated_site':
          if (lookup === '') add((p) => `a."associated_site" = (SELECT s."id" FROM "alloc_site" s WHERE s."name" = ${p})`, value);
          break;
        case 'allocation_home':
          if (lookup !== '') break;
          if (value === 'national') where.push(`a."national"`);
          else if (value === 'unassigned') where.push(`NOT a."national" AND a."associated_site" IS NULL`);
          else add((p) => `NOT a."national" AND a."associated_site" = (SELECT s."id" FROM "alloc_site" s WHERE s."name" = ${p})`, value);
          break;
        case 'chief_investigator':
          if (lookup === '') add((p) => `EXISTS (SELECT 1 FROM "allocation_chief_investigator" ci WHERE ci."allocation" = a."id" AND lower(ci."email") = lower(${p}))`, value);
          break;
        case 'start_date':
        case 'end_date':
          this.dateFilter(add, field, lookup, key, value, false);
          break;
        case 'modified_time':
        case 'submit_date':
          this.dateFilter(add, field, lookup, key, value, true);
          break;
      }
    }
    return { where, params };
  }

  private async textFilter(add: (sql: (p: string) => string, value: unknown) => void, field: string, lookup: string, key: string, value: string): Promise<void> {
    const col = `a."${field}"`;
    const like = escapeLike(value);
    switch (lookup) {
      case '':
        return add((p) => `${col} = ${p}`, value);
      case 'iexact':
        return add((p) => `lower(${col}) = lower(${p})`, value);
      case 'contains':
        return add((p) => `${col} LIKE ${p}`, `%${like}%`);
      case 'icontains':
        return add((p) => `${col} ILIKE ${p}`, `%${like}%`);
      case 'startswith':
        return add((p) => `${col} LIKE ${p}`, `${like}%`);
      case 'istartswith':
        return add((p) => `${col} ILIKE ${p}`, `${like}%`);
      case 'endswith':
        return add((p) => `${col} LIKE ${p}`, `%${like}`);
      case 'iendswith':
        return add((p) => `${col} ILIKE ${p}`, `%${like}`);
      case 'regex':
        try {
          await this.db.query(`SELECT '' ~ $1`, [value]);
        } catch {
          throw badFilter(key, 'Not a valid regular expression.');
        }
        return add((p) => `${col} ~ ${p}`, value);
      default:
        if (!TEXT_LOOKUPS.includes(lookup)) return;
    }
  }

  private dateFilter(add: (sql: (p: string) => string, value: unknown) => void, field: string, lookup: string, key: string, value: string, withTime: boolean): void {
    const col = `a."${field}"`;
    if (lookup === 'year') {
      const year = parseInteger(value);
      if (year === undefined) throw badFilter(key, 'A valid year is required.');
      return add((p) => `extract(year from ${withTime ? `${col} AT TIME ZONE 'UTC'` : col}) = ${p}`, year);
    }
    if (lookup === 'date' && withTime) {
      if (!isCalendarDate(value)) throw badFilter(key, 'Date has wrong format. Use YYYY-MM-DD.');
      return add((p) => `(${col} AT TIME ZONE 'UTC')::date = ${p}::date`, value);
    }
    const op = lookup === '' ? '=' : COMPARISONS[lookup];
    if (!op) return;
    if (!withTime) {
      if (!isCalendarDate(value)) throw badFilter(key, 'Date has wrong format. Use YYYY-MM-DD.');
      return add((p) => `${col} ${op} ${p}::date`, value);
    }
    const instant = parseInstant(value);
    if (!instant) throw badFilter(key, 'Datetime has wrong format. Use ISO 8601.');
    return add((p) => `${col} ${op} ${p}::timestamptz`, instant);
  }
}

function splitLookup(key: string): [string, string?] {
  const at = key.indexOf('__');
  return at < 0 ? [key] : [key.slice(0, at), key.slice(at + 2)];
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** ISO 8601 date-time (no offset means UTC) or a bare date (midnight UTC), allocations.md 2.10. */
function parseInstant(text: string): Date | undefined {
  let value = text.trim().replace(' ', 'T');
  if (isCalendarDate(value)) value = `${value}T00:00:00Z`;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(value) || value.startsWith('0000')) return undefined;
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(value)) value += 'Z';
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function projectIdTaken(projectId: unknown): DomainError {
  return new DomainError(AllocationsError.ProjectIdTaken, `Project ${String(projectId)} already has a current allocation`);
}

/** The one-current-record-per-project index (allocation_current_project_uq) catches races the pre-check missed. */
async function insertOrConflict<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
    const constraint = e.constraint ?? e.driverError?.constraint;
    if ((e.code ?? e.driverError?.code) === '23505' && constraint === 'allocation_current_project_uq') {
      throw new DomainError(AllocationsError.ProjectIdTaken, 'The project already has a current allocation');
    }
    throw error;
  }
}
