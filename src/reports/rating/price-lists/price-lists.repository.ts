import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runCount, runOne, runRows, Sql } from '../../../database/query-result';
import { DomainError } from '../../../http/domain-error';
import { PriceListError } from './price-lists.errors';
import { ItemState } from './price-rules';

/** `<prefix>_` and 24 hex digits (reports.md 1.9: opaque ids with a type prefix). */
export function newId(prefix: 'pl' | 'pi' | 'corr'): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

/** Instants as the answers give them: UTC, milliseconds, `Z` (README "Dates"). */
const MILLIS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
/** Instants exactly (a day start may not fall on a whole millisecond in a zone with odd offsets of history). */
const MICROS = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', ${MILLIS})`;

export interface PriceListRow {
  id: string;
  name: string;
  currency: string;
  project_ids: string[];
  description: string;
  created_at: string;
  created_by: string;
}

export interface PriceItemRow {
  id: string;
  price_list_id: string;
  meter: string;
  key: string;
  subkey: string;
  unit_price: string;
  price_unit: string;
  valid_from: string;
  valid_to: string | null;
  /** Exact instants (microseconds), for comparisons and job windows. */
  valid_from_exact: string;
  valid_to_exact: string | null;
  valid_from_day: string;
  valid_to_day: string | null;
  state: ItemState;
  superseded_by: string | null;
  created_at: string;
  created_by: string;
  reason: string | null;
}

/** A validity bound resolved in the accounting zone. */
export interface ResolvedBound {
  /** UTC, six fractional digits, `Z`. */
  at: string;
  /** Its local day. */
  day: string;
  /** Whether it is the start of that local day (reports.md 1.5). */
  aligned: boolean;
}

export interface NewItem {
  id: string;
  meter: string;
  key: string;
  subkey: string;
  unitPrice: string;
  priceUnit: string;
  validFrom: string;
  validTo: string | null;
  validFromDay: string;
  validToDay: string | null;
  reason: string | null;
}

export interface AuditRow {
  id: string;
  at: string;
  actor: string;
  action: string;
  object: string;
  object_id: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  reason: string | null;
}

const LIST_COLUMNS = `l.id, l.name, l.currency, l.project_ids, l.description, ${iso('l.created_at')} AS created_at, l.created_by`;

const ITEM_COLUMNS = `i.id, i.price_list_id, i.meter, i.key, i.subkey, i.unit_price::text AS unit_price, i.price_unit,
  ${iso('i.valid_from')} AS valid_from, ${iso('i.valid_to')} AS valid_to,
  to_char(i.valid_from AT TIME ZONE 'UTC', ${MICROS}) AS valid_from_exact, to_char(i.valid_to AT TIME ZONE 'UTC', ${MICROS}) AS valid_to_exact,
  i.valid_from_day::text AS valid_from_day, i.valid_to_day::text AS valid_to_day,
  CASE WHEN i.superseded_by IS NOT NULL THEN 'superseded'
       WHEN now() < i.valid_from THEN 'scheduled'
       WHEN i.valid_to IS NOT NULL AND now() >= i.valid_to THEN 'ended'
       ELSE 'effective' END AS state,
  i.superseded_by, ${iso('i.created_at')} AS created_at, i.created_by, i.reason`;

const ITEM_ORDER = `i.meter COLLATE "C", i.key COLLATE "C", i.subkey COLLATE "C", i.valid_from, i.id COLLATE "C"`;

export const AUDIT_COLUMNS = ['id', 'at', 'actor', 'action', 'object', 'object_id', 'before', 'after', 'reason'] as const;

/** The constraint behind a failed write, when it is one of the rules of 4.1. */
function translate(error: unknown, projectIds: readonly string[] = []): never {
  const e = error as { code?: string; constraint?: string; detail?: string; driverError?: { code?: string; constraint?: string; detail?: string } };
  const code = e.code ?? e.driverError?.code;
  const constraint = e.constraint ?? e.driverError?.constraint;
  if (code === '23P01' && constraint === 'report_price_item_no_overlap_ex') {
    throw new DomainError(PriceListError.Overlap, 'An item of this list with the same meter, key and subkey is in force on some of these days; change a price that has begun with a correction');
  }
  if (code === '23505' && constraint === 'report_price_list_name_uq') throw new DomainError(PriceListError.NameTaken, 'Another price list has this name');
  if (code === '23505' && constraint === 'report_price_list_default_uq') {
    throw new DomainError(PriceListError.DefaultTaken, 'The currency already has a default price list (one without projects)');
  }
  if (code === '23505' && constraint === 'report_price_list_project_pk') {
    const detail = e.detail ?? e.driverError?.detail ?? '';
    const named = projectIds.find((p) => detail.includes(`(${p},`));
    throw new DomainError(PriceListError.ProjectTaken, `${named !== undefined ? `Project ${JSON.stringify(named)} is` : 'A project is'} already named by another price list of this currency`);
  }
  throw error;
}

/**
 * Every statement of price lists, items and corrections (reports.md
 * §4.1–4.4), and the audit entries of a list. The rules of 4.1 are the
 * database's (unique name, one default per currency, one list per project
 * and currency, no overlapping live items); their violations become the
 * contract's 409s here.
 */
@Injectable()
export class PriceListsRepository {
  constructor(private readonly db: DataSource) {}

  /** Each value (`YYYY-MM-DD`: the start of that local day; else an instant) in `zone`; undefined when PostgreSQL refuses one. */
  async resolveBounds(values: string[], zone: string, sql: Sql = this.db): Promise<ResolvedBound[] | undefined> {
    if (values.length === 0) return [];
    try {
      return await runRows<ResolvedBound>(
        sql,
        `SELECT to_char(x.at AT TIME ZONE 'UTC', ${MICROS}) AS at, d.day::text AS day, report_day_start(d.day, $2) = x.at AS aligned
         FROM unnest($1::text[]) WITH ORDINALITY AS v(input, ord)
         CROSS JOIN LATERAL (SELECT CASE WHEN v.input ~ '^\\d{4}-\\d{2}-\\d{2}$' THEN report_day_start(v.input::date, $2) ELSE v.input::timestamptz END AS at) x
         CROSS JOIN LATERAL (SELECT report_local_day(x.at, $2) AS day) d
         ORDER BY v.ord`,
        [values, zone],
      );
    } catch (error) {
      if ((error as { code?: string; driverError?: { code?: string } }).code?.startsWith('22') || (error as { driverError?: { code?: string } }).driverError?.code?.startsWith('22')) return undefined;
      throw error;
    }
  }

  /** The start of today and of tomorrow in `zone` (exact instants), at the statement's now. */
  async today(zone: string, sql: Sql = this.db): Promise<{ today: string; tomorrow: string }> {
    const row = await runOne<{ today: string; tomorrow: string }>(
      sql,
      `SELECT to_char(report_day_start(d, $1) AT TIME ZONE 'UTC', ${MICROS}) AS today, to_char(report_day_start(d + 1, $1) AT TIME ZONE 'UTC', ${MICROS}) AS tomorrow
       FROM (SELECT report_local_day(now(), $1) AS d) t`,
      [zone],
    );
    return row!;
  }

  // --- lists

  async insertList(list: { id: string; name: string; currency: string; projectIds: string[]; description: string; createdBy: string }, sql: Sql): Promise<void> {
    try {
      await runCount(sql, `INSERT INTO report_price_list (id, name, currency, project_ids, description, created_by) VALUES ($1, $2, $3, $4::text[], $5, $6)`, [
        list.id,
        list.name,
        list.currency,
        list.projectIds,
        list.description,
        list.createdBy,
      ]);
      await this.insertProjects(list.id, list.currency, list.projectIds, sql);
    } catch (error) {
      translate(error, list.projectIds);
    }
  }

  private async insertProjects(listId: string, currency: string, projectIds: string[], sql: Sql): Promise<void> {
    if (projectIds.length === 0) return;
    await runCount(sql, `INSERT INTO report_price_list_project (project_id, currency, price_list_id) SELECT p, $2, $3 FROM unnest($1::text[]) AS p`, [projectIds, currency, listId]);
  }

  /** The projects of `projectIds` another list of `currency` already names. */
  async projectsTaken(currency: string, projectIds: string[], exceptList: string | null, sql: Sql): Promise<string[]> {
    if (projectIds.length === 0) return [];
    const rows = await runRows<{ project_id: string }>(
      sql,
      `SELECT project_id FROM report_price_list_project WHERE currency = $1 AND project_id = ANY($2::text[]) AND price_list_id IS DISTINCT FROM $3 ORDER BY project_id COLLATE "C"`,
      [currency, projectIds, exceptList],
    );
    return rows.map((r) => r.project_id);
  }

  /** Another list's id with this name, if any. */
  async nameTaken(name: string, exceptList: string | null, sql: Sql): Promise<boolean> {
    return (await runOne(sql, `SELECT 1 FROM report_price_list WHERE name = $1 AND id IS DISTINCT FROM $2`, [name, exceptList])) !== undefined;
  }

  /** Whether another list is the default of `currency`. */
  async defaultTaken(currency: string, exceptList: string | null, sql: Sql): Promise<boolean> {
    return (await runOne(sql, `SELECT 1 FROM report_price_list WHERE currency = $1 AND project_ids = '{}' AND id IS DISTINCT FROM $2`, [currency, exceptList])) !== undefined;
  }

  async updateList(id: string, change: { name: string; description: string; projectIds: string[]; currency: string; projectsChanged: boolean }, sql: Sql): Promise<void> {
    try {
      await runCount(sql, `UPDATE report_price_list SET name = $2, description = $3, project_ids = $4::text[], updated_at = now() WHERE id = $1`, [id, change.name, change.description, change.projectIds]);
      if (change.projectsChanged) {
        await runCount(sql, `DELETE FROM report_price_list_project WHERE price_list_id = $1`, [id]);
        await this.insertProjects(id, change.currency, change.projectIds, sql);
      }
    } catch (error) {
      translate(error, change.projectIds);
    }
  }

  /** One list; `lock` takes its row lock (every write of a list and its items does: they run one after the other). */
  async list(id: string, sql: Sql = this.db, lock = false): Promise<PriceListRow | undefined> {
    return runOne<PriceListRow>(sql, `SELECT ${LIST_COLUMNS} FROM report_price_list l WHERE l.id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  }

  /**
   * Lists by name (bytes). `visibleTo`: only the defaults and the lists
   * naming one of these projects (a `user`, 1.2). `appliesTo`: per
   * currency, the list naming the project, else the default (4.1).
   */
  async lists(filter: { currency?: string; appliesTo?: string; visibleTo?: string[] }, sql: Sql = this.db): Promise<PriceListRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.currency !== undefined) {
      params.push(filter.currency);
      where.push(`l.currency = $${params.length}`);
    }
    if (filter.visibleTo !== undefined) {
      params.push(filter.visibleTo);
      where.push(`(l.project_ids = '{}' OR l.project_ids && $${params.length}::text[])`);
    }
    if (filter.appliesTo !== undefined) {
      params.push(filter.appliesTo);
      const p = `$${params.length}`;
      where.push(`($${params.length} = ANY(l.project_ids) OR (l.project_ids = '{}' AND NOT EXISTS (
        SELECT 1 FROM report_price_list_project lp WHERE lp.project_id = ${p} AND lp.currency = l.currency)))`);
    }
    return runRows<PriceListRow>(sql, `SELECT ${LIST_COLUMNS} FROM report_price_list l ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY l.name COLLATE "C", l.id`, params);
  }

  // --- items

  async insertItems(listId: string, items: NewItem[], createdBy: string, sql: Sql): Promise<void> {
    if (items.length === 0) return;
    const column = <K extends keyof NewItem>(k: K) => items.map((i) => i[k]);
    try {
      await runCount(
        sql,
        `INSERT INTO report_price_item (id, price_list_id, meter, key, subkey, unit_price, price_unit, valid_from, valid_to, valid_from_day, valid_to_day, created_by, reason)
         SELECT t.id, $1, t.meter, t.key, t.subkey, t.unit_price::numeric, t.price_unit, t.valid_from::timestamptz, t.valid_to::timestamptz, t.valid_from_day::date, t.valid_to_day::date, $2, t.reason
         FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
           AS t(id, meter, key, subkey, unit_price, price_unit, valid_from, valid_to, valid_from_day, valid_to_day, reason)`,
        [
          listId,
          createdBy,
          column('id'),
          column('meter'),
          column('key'),
          column('subkey'),
          column('unitPrice'),
          column('priceUnit'),
          column('validFrom'),
          column('validTo'),
          column('validFromDay'),
          column('validToDay'),
          column('reason'),
        ],
      );
    } catch (error) {
      translate(error);
    }
  }

  /** Items of a list in the contract's order; `ids` only these, `at` only those in force then, `state` only those in it. */
  async items(listId: string, filter: { ids?: string[]; at?: string; state?: ItemState } = {}, sql: Sql = this.db): Promise<PriceItemRow[]> {
    const params: unknown[] = [listId];
    const where = ['i.price_list_id = $1'];
    if (filter.ids !== undefined) {
      params.push(filter.ids);
      where.push(`i.id = ANY($${params.length}::text[])`);
    }
    if (filter.at !== undefined) {
      params.push(filter.at);
      const p = `$${params.length}::timestamptz`;
      where.push(`i.superseded_by IS NULL AND i.valid_from <= ${p} AND (i.valid_to IS NULL OR i.valid_to > ${p})`);
    }
    const rows = await runRows<PriceItemRow>(sql, `SELECT ${ITEM_COLUMNS} FROM report_price_item i WHERE ${where.join(' AND ')} ORDER BY ${ITEM_ORDER}`, params);
    return filter.state === undefined ? rows : rows.filter((r) => r.state === filter.state);
  }

  async item(listId: string, itemId: string, sql: Sql = this.db): Promise<PriceItemRow | undefined> {
    return (await this.items(listId, { ids: [itemId] }, sql))[0];
  }

  /** Items with these ids, whatever their list (a correction tells "not of this list" from "unknown"). */
  async itemLists(ids: string[], sql: Sql): Promise<{ id: string; price_list_id: string }[]> {
    return runRows(sql, `SELECT id, price_list_id FROM report_price_item WHERE id = ANY($1::text[])`, [ids]);
  }

  /** Whether any item of the list has begun (valid_from ≤ now), superseded or not: its projects are then fixed (4.2). */
  async anyBegun(listId: string, sql: Sql): Promise<boolean> {
    return (await runOne(sql, `SELECT 1 FROM report_price_item WHERE price_list_id = $1 AND valid_from <= now() LIMIT 1`, [listId])) !== undefined;
  }

  async updateItem(itemId: string, item: Omit<NewItem, 'id' | 'reason'>, sql: Sql): Promise<void> {
    try {
      await runCount(
        sql,
        `UPDATE report_price_item SET meter = $2, key = $3, subkey = $4, unit_price = $5::numeric, price_unit = $6, valid_from = $7::timestamptz, valid_to = $8::timestamptz,
           valid_from_day = $9::date, valid_to_day = $10::date WHERE id = $1`,
        [itemId, item.meter, item.key, item.subkey, item.unitPrice, item.priceUnit, item.validFrom, item.validTo, item.validFromDay, item.validToDay],
      );
    } catch (error) {
      translate(error);
    }
  }

  async deleteItem(itemId: string, sql: Sql): Promise<void> {
    await runCount(sql, `DELETE FROM report_price_item WHERE id = $1`, [itemId]);
  }

  async supersede(ids: string[], correctionId: string, sql: Sql): Promise<void> {
    if (ids.length > 0) await runCount(sql, `UPDATE report_price_item SET superseded_by = $2 WHERE id = ANY($1::text[])`, [ids, correctionId]);
  }

  // --- corrections

  async insertCorrection(c: { id: string; listId: string; reason: string; superseded: string[]; items: string[]; jobId: string | null; createdBy: string }, sql: Sql): Promise<{ created_at: string }> {
    const row = await runOne<{ created_at: string }>(
      sql,
      `INSERT INTO report_price_correction (id, price_list_id, reason, superseded, items, job_id, created_by) VALUES ($1, $2, $3, $4::text[], $5::text[], $6, $7)
       RETURNING ${iso('created_at')} AS created_at`,
      [c.id, c.listId, c.reason, c.superseded, c.items, c.jobId, c.createdBy],
    );
    return row!;
  }

  // --- audit (report_audit, written through ReportAuditRepository)

  /** One page of a list's entries (its own and its items'), oldest first, after the keyset (at exact, id). */
  async auditPage(listId: string, after: [string, string] | null, limit: number, sql: Sql = this.db): Promise<(AuditRow & { at_exact: string })[]> {
    const params: unknown[] = [listId, limit];
    let keyset = '';
    if (after) {
      params.push(after[0], after[1]);
      keyset = `AND (a.at, a.id COLLATE "C") > ($3::timestamptz, $4::text COLLATE "C")`;
    }
    return runRows(sql, `${this.auditSelect()}, to_char(a.at AT TIME ZONE 'UTC', ${MICROS}) AS at_exact FROM report_audit a WHERE a.price_list_id = $1 ${keyset} ORDER BY a.at, a.id COLLATE "C" LIMIT $2`, params);
  }

  /** The statement of the CSV form: every entry of the list, oldest first; before and after as JSON text. */
  auditExport(listId: string): { sql: string; params: unknown[] } {
    return {
      sql: `SELECT a.id, ${iso('a.at')} AS at, a.actor, a.action, a.object, a.object_id, a.before::text AS before, a.after::text AS after, a.reason
            FROM report_audit a WHERE a.price_list_id = $1 ORDER BY a.at, a.id COLLATE "C"`,
      params: [listId],
    };
  }

  private auditSelect(): string {
    return `SELECT a.id, ${iso('a.at')} AS at, a.actor, a.action, a.object, a.object_id, a.before, a.after, a.reason`;
  }
}
