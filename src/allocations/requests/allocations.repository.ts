import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { runOne, runRows, Sql } from '../../database/query-result';
import { DomainError } from '../../http/domain-error';
import { OrganisationRow } from '../organisations/organisation-view';
import { AllocationsError } from '../allocations.errors';
import { Page } from '../shared/paging';
import { Allocation } from './allocation.entities';
import { AllocationContext, AllocationRow, BundleRow, NamedRow, SiteRow } from './allocation-view';
import { QuotaRow } from './embedded-quotas';
import { AllocationCondition, Comparison } from './filter';

/** Selects allocations with their dates as text (node-postgres would turn a `date` into a local-time Date). */
const ALLOCATION_SELECT = `SELECT a.*, a."start_date"::text AS "start_date", a."end_date"::text AS "end_date" FROM "allocation" a`;

/** Columns a create or update may set (the wire names are the column names). */
export type AllocationValues = Partial<Record<keyof AllocationRow, unknown>>;

/** Who a user token is, for the ownership condition of allocations.md 3. */
export interface Owner {
  projectIds: readonly string[];
  userId: string | null;
}

/** The attached tables a history snapshot copies, with their copied columns (allocations.md 5). */
const ATTACHED_COPIES: { table: string; columns: string[] }[] = [
  { table: 'allocation_quota', columns: ['resource', 'zone', 'requested_quota', 'quota'] },
  { table: 'allocation_chief_investigator', columns: ['title', 'given_name', 'surname', 'email', 'primary_organisation', 'additional_researchers'] },
  {
    table: 'allocation_grant',
    columns: ['grant_type', 'grant_subtype', 'funding_body_scheme', 'grant_id', 'first_year_funded', 'last_year_funded', 'total_funding'],
  },
  { table: 'allocation_publication', columns: ['output_type', 'publication', 'doi'] },
];

/**
 * Every SQL statement on allocations and their history (allocations.md 4-6):
 * reads with visibility, the filter language's SQL, writes, history
 * snapshots, transitions, and the read model a page of allocations is
 * serialised from. Methods take the transaction's manager when a service
 * runs several statements in one transaction.
 */
@Injectable()
export class AllocationsRepository {
  private readonly copyColumns: string[];

  constructor(private readonly db: DataSource) {
    this.copyColumns = db
      .getMetadata(Allocation)
      .columns.map((c) => c.databaseName)
      .filter((c) => c !== 'id' && c !== 'parent_request');
  }

  transaction<T>(run: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(run);
  }

  /** One record; `forUpdate` locks it. */
  findById(id: number, options: { forUpdate?: boolean } = {}, sql: Sql = this.db): Promise<AllocationRow | undefined> {
    return runOne<AllocationRow>(sql, `${ALLOCATION_SELECT} WHERE a."id" = $1${options.forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  }

  /** A page of records matching the conditions, newest first (allocations.md 4), only those `owner` owns when given. */
  async list(conditions: AllocationCondition[], owner: Owner | null, page: Page): Promise<{ count: number; rows: AllocationRow[] }> {
    const { clause, params } = whereOf(conditions, owner);
    const counted = await runOne<{ count: number }>(this.db, `SELECT count(*)::int AS count FROM "allocation" a ${clause}`, params);
    const rows = await runRows<AllocationRow>(
      this.db,
      `${ALLOCATION_SELECT} ${clause} ORDER BY a."modified_time" DESC, a."id" DESC LIMIT ${page.limit} OFFSET ${page.offset}`,
      params,
    );
    return { count: counted?.count ?? 0, rows };
  }

  /** Whether PostgreSQL accepts the text as a regular expression (the `__regex` lookup). */
  async isValidRegex(pattern: string): Promise<boolean> {
    try {
      await runRows(this.db, `SELECT '' ~ $1`, [pattern]);
      return true;
    } catch {
      return false;
    }
  }

  /** Inserts a record; the one-current-record-per-project index turns a lost race into 409. */
  async insert(values: AllocationValues, sql: Sql): Promise<number> {
    const columns = definedColumns(values);
    const rows = await projectIdRace(() =>
      runRows<{ id: number }>(
        sql,
        `INSERT INTO "allocation" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING "id"`,
        columns.map((c) => values[c]),
      ),
    );
    return rows[0].id;
  }

  async update(id: number, values: AllocationValues, sql: Sql): Promise<void> {
    const columns = definedColumns(values);
    await projectIdRace(() =>
      runRows(sql, `UPDATE "allocation" SET ${columns.map((c, i) => `"${c}" = $${i + 1}`).join(', ')} WHERE "id" = $${columns.length + 1}`, [
        ...columns.map((c) => values[c]),
        id,
      ]),
    );
  }

  /** Whether a current, non-deleted record other than `exceptId` has this project name, case-insensitively. */
  async projectNameTaken(name: string, exceptId: number, sql: Sql): Promise<boolean> {
    const rows = await runRows(
      sql,
      `SELECT 1 FROM "allocation" WHERE "parent_request" IS NULL AND "status" <> 'D' AND lower("project_name") = lower($1) AND "id" <> $2`,
      [name, exceptId],
    );
    return rows.length > 0;
  }

  /** Whether a current, non-deleted record other than `exceptId` has this project id. */
  async projectIdTaken(projectId: string, exceptId: number, sql: Sql): Promise<boolean> {
    const rows = await runRows(sql, `SELECT "id" FROM "allocation" WHERE "parent_request" IS NULL AND "status" <> 'D' AND "project_id" = $1 AND "id" <> $2`, [
      projectId,
      exceptId,
    ]);
    return rows.length > 0;
  }

  /**
   * Saves the record as stored, with copies of its quotas, chief
   * investigators, grants and publications, as a history record of itself
   * (allocations.md 5).
   */
  async snapshot(id: number, sql: EntityManager): Promise<number> {
    const cols = this.copyColumns.map((c) => `"${c}"`).join(', ');
    const copy = await runOne<{ id: number }>(
      sql,
      `INSERT INTO "allocation" ("parent_request", ${cols}) SELECT "id", ${cols} FROM "allocation" WHERE "id" = $1 RETURNING "id"`,
      [id],
    );
    for (const { table, columns } of ATTACHED_COPIES) {
      const list = columns.map((c) => `"${c}"`).join(', ');
      await runRows(sql, `INSERT INTO "${table}" ("allocation", ${list}) SELECT $2, ${list} FROM "${table}" WHERE "allocation" = $1 ORDER BY "id"`, [id, copy!.id]);
    }
    return copy!.id;
  }

  /**
   * approve: status A, the approver, provisioned reset; a missing start date
   * becomes today, a missing end date the start plus the duration (allocations.md 5).
   */
  async markApproved(id: number, approver: string, now: Date, sql: EntityManager): Promise<void> {
    await runRows(
      sql,
      `UPDATE "allocation" SET "status" = 'A', "approver_email" = $2, "provisioned" = false, "modified_time" = $3,
         "start_date" = COALESCE("start_date", ($3::timestamptz AT TIME ZONE 'UTC')::date),
         "end_date" = COALESCE("end_date", (COALESCE("start_date", ($3::timestamptz AT TIME ZONE 'UTC')::date) + make_interval(months => "estimated_project_duration"))::date)
       WHERE "id" = $1`,
      [id, approver, now],
    );
  }

  /** decline: R or J, with the explanation when one was sent. */
  async markDeclined(id: number, status: string, now: Date, explanation: string | null | undefined, sql: EntityManager): Promise<void> {
    await runRows(
      sql,
      `UPDATE "allocation" SET "status" = $2, "modified_time" = $3, "status_explanation" = CASE WHEN $4::boolean THEN $5 ELSE "status_explanation" END WHERE "id" = $1`,
      [id, status, now, explanation !== undefined, explanation ?? null],
    );
  }

  /** amend: X, provisioned reset. */
  async markAmended(id: number, now: Date, sql: EntityManager): Promise<void> {
    await runRows(sql, `UPDATE "allocation" SET "status" = 'X', "provisioned" = false, "modified_time" = $2 WHERE "id" = $1`, [id, now]);
  }

  /** delete: D. */
  async markDeleted(id: number, now: Date, sql: EntityManager): Promise<void> {
    await runRows(sql, `UPDATE "allocation" SET "status" = 'D', "modified_time" = $2 WHERE "id" = $1`, [id, now]);
  }

  /** The statuses and times of a record and its history, oldest first (approver info, allocations.md 6). */
  history(id: number): Promise<{ status: string; modified_time: Date }[]> {
    return runRows(this.db, `SELECT "status", "modified_time" FROM "allocation" WHERE "id" = $1 OR "parent_request" = $1 ORDER BY "modified_time", "id"`, [id]);
  }

  /** What serialising these records needs from the catalogue and the attached records, in one read. */
  async context(rows: AllocationRow[], sql: Sql = this.db): Promise<AllocationContext> {
    const ids = rows.map((r) => r.id);
    const orgIds = [...new Set(rows.flatMap((r) => r.supported_organisations))];
    const sites = await runRows<SiteRow>(sql, `SELECT "id", "name", "display_name" FROM "alloc_site"`);
    const orgs = orgIds.length ? await runRows<OrganisationRow>(sql, `SELECT * FROM "alloc_organisation" WHERE "id" = ANY($1)`, [orgIds]) : [];
    const facilities = await runRows<NamedRow>(sql, `SELECT "id", "name", "short_name" FROM "alloc_facility"`);
    const ardc = await runRows<NamedRow>(sql, `SELECT "id", "name", "short_name" FROM "alloc_ardc_project"`);
    const bundles = await runRows<BundleRow>(sql, `SELECT "id", "name", "zone", "su_per_year" FROM "alloc_bundle"`);
    const resources = await runRows<{ id: number; codename: string }>(sql, `SELECT "id", "service_type" || '.' || "quota_name" AS "codename" FROM "alloc_resource"`);
    const quotas = ids.length
      ? await runRows<QuotaRow>(sql, `SELECT "allocation", "resource", "zone", "quota" FROM "allocation_quota" WHERE "allocation" = ANY($1) ORDER BY "id"`, [ids])
      : [];
    const cis = ids.length
      ? await runRows<{ allocation: number; email: string }>(
          sql,
          `SELECT DISTINCT ON ("allocation") "allocation", "email" FROM "allocation_chief_investigator" WHERE "allocation" = ANY($1) ORDER BY "allocation", "id"`,
          [ids],
        )
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
}

function definedColumns(values: AllocationValues): (keyof AllocationRow)[] {
  return (Object.keys(values) as (keyof AllocationRow)[]).filter((c) => values[c] !== undefined);
}

/** SQL condition (on alias `a`) for "a user token may see this record": it owns the current record (allocations.md 3). */
export function ownedCondition(projectsParam: string, userParam: string, alias = 'a'): string {
  return `EXISTS (SELECT 1 FROM "allocation" own WHERE own."id" = COALESCE(${alias}."parent_request", ${alias}."id")
    AND (own."project_id" = ANY(${projectsParam}) OR own."created_by" = ${userParam}))`;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The filter language's conditions (filter.ts) as SQL on alias `a`, with the ownership condition for a user. */
function whereOf(conditions: AllocationCondition[], owner: Owner | null): { clause: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  const site = (p: string) => `(SELECT s."id" FROM "alloc_site" s WHERE s."name" = ${p})`;
  for (const c of conditions) {
    switch (c.kind) {
      case 'status':
        add((p) => `a."status" = ANY(${p})`, c.codes);
        break;
      case 'project_id':
        add((p) => `a."project_id" = ANY(${p})`, c.values);
        break;
      case 'text': {
        const col = `a."${c.field}"`;
        const like = escapeLike(c.value);
        const text: Record<typeof c.lookup, [(p: string) => string, string]> = {
          '': [(p) => `${col} = ${p}`, c.value],
          iexact: [(p) => `lower(${col}) = lower(${p})`, c.value],
          contains: [(p) => `${col} LIKE ${p}`, `%${like}%`],
          icontains: [(p) => `${col} ILIKE ${p}`, `%${like}%`],
          startswith: [(p) => `${col} LIKE ${p}`, `${like}%`],
          istartswith: [(p) => `${col} ILIKE ${p}`, `${like}%`],
          endswith: [(p) => `${col} LIKE ${p}`, `%${like}`],
          iendswith: [(p) => `${col} ILIKE ${p}`, `%${like}`],
          regex: [(p) => `${col} ~ ${p}`, c.value],
        };
        add(...text[c.lookup]);
        break;
      }
      case 'parent_is_null':
        where.push(c.isNull ? `a."parent_request" IS NULL` : `a."parent_request" IS NOT NULL`);
        break;
      case 'parent':
        add((p) => `a."parent_request" = ${p}`, c.id);
        break;
      case 'flag':
        add((p) => `a."${c.field}" = ${p}`, c.value);
        break;
      case 'site':
        add((p) => `a."associated_site" = ${site(p)}`, c.name);
        break;
      case 'home':
        if (c.home === 'national') where.push(`a."national"`);
        else if (c.home === 'unassigned') where.push(`NOT a."national" AND a."associated_site" IS NULL`);
        else add((p) => `NOT a."national" AND a."associated_site" = ${site(p)}`, c.home.site);
        break;
      case 'chief_investigator':
        add((p) => `EXISTS (SELECT 1 FROM "allocation_chief_investigator" ci WHERE ci."allocation" = a."id" AND lower(ci."email") = lower(${p}))`, c.email);
        break;
      case 'date':
        add((p) => `a."${c.field}" ${op(c.op)} ${p}::date`, c.date);
        break;
      case 'year': {
        const col = c.field === 'modified_time' || c.field === 'submit_date' ? `a."${c.field}" AT TIME ZONE 'UTC'` : `a."${c.field}"`;
        add((p) => `extract(year from ${col}) = ${p}`, c.year);
        break;
      }
      case 'day':
        add((p) => `(a."${c.field}" AT TIME ZONE 'UTC')::date = ${p}::date`, c.date);
        break;
      case 'instant':
        add((p) => `a."${c.field}" ${op(c.op)} ${p}::timestamptz`, c.at);
        break;
    }
  }
  if (owner) {
    params.push(owner.projectIds, owner.userId);
    where.push(ownedCondition(`$${params.length - 1}`, `$${params.length}`));
  }
  return { clause: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

const OPERATORS: Record<Comparison, string> = { '=': '=', '<': '<', '>': '>', '<=': '<=', '>=': '>=' };
const op = (c: Comparison) => OPERATORS[c];

/** The one-current-record-per-project index (allocation_current_project_uq) catches races the pre-check missed. */
async function projectIdRace<T>(run: () => Promise<T>): Promise<T> {
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
