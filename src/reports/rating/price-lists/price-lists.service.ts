import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Principal } from '../../../auth/principal';
import { LOGGER } from '../../../core/tokens';
import { Sql } from '../../../database/query-result';
import { DomainError } from '../../../http/domain-error';
import { ReportAuditRepository } from '../../audit/report-audit.repository';
import { JobView } from '../../jobs/dto/jobs.views';
import { ReportJobsService } from '../../jobs/report-jobs.service';
import { decodeCursor, encodeCursor, queryDigest } from '../../paging';
import { projectScope } from '../../scope';
import { invalid } from '../../window/reports-input';
import { isoMillis } from '../../window/window.service';
import { decimalText } from './exact-json';
import { CreatePriceListDto, GetPriceListQuery, PatchPriceListDto, PriceItemDto, PriceListAuditQuery } from './dto/price-list.dto';
import { AuditListView, CreatedPriceListView, PriceListDetailView, PriceListListView, PriceListView } from './dto/price-list.views';
import { itemView, listView } from './price-list-views';
import { PriceListError } from './price-lists.errors';
import { AUDIT_COLUMNS, newId, NewItem, PriceListRow, PriceListsRepository } from './price-lists.repository';
import { priceUnitRule, subkeyRule } from './price-rules';
import { pastWindow, PriceValidity, Window } from './price-validity';

/** The job kinds this module queues (reports.md 4.7); their handlers are the rating engine's. */
export const RERATE = 'rerate';
export const CORRECTION = 'correction';

/** What every price write shares: the list's lock, items' validation, audit, and the re-rate job of past days. */
@Injectable()
export class PriceWrites {
  private readonly log: Logger;

  constructor(
    readonly db: DataSource,
    readonly repository: PriceListsRepository,
    readonly validity: PriceValidity,
    readonly audit: ReportAuditRepository,
    private readonly jobs: ReportJobsService,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'price-lists' });
  }

  /** The list, row-locked for the rest of the transaction; 404 when unknown. */
  async lockList(id: string, sql: Sql): Promise<PriceListRow> {
    const list = await this.repository.list(id, sql, true);
    if (!list) throw notFound();
    return list;
  }

  /**
   * Items as written → rows to insert: meter rules, then validity resolved
   * and aligned; `field(i, name)` names each field. Before the transaction
   * (PriceValidity.resolve says why).
   */
  async newItems(items: PriceItemDto[], field: (i: number, name: string) => string, reason: (item: PriceItemDto) => string | null): Promise<NewItem[]> {
    items.forEach((item, i) => {
      const subkey = item.subkey ?? '';
      const s = subkeyRule(item.meter, subkey);
      if (s) throw invalid(field(i, 'subkey'), s);
      const p = priceUnitRule(item.meter, item.price_unit);
      if (p) throw invalid(field(i, 'price_unit'), p);
    });
    const validities = await this.validity.resolve(
      items.map((item, i) => ({ from: item.valid_from, to: item.valid_to ?? null, fromField: field(i, 'valid_from'), toField: field(i, 'valid_to') })),
    );
    return items.map((item, i) => ({
      id: newId('pi'),
      meter: item.meter,
      key: item.key,
      subkey: item.subkey ?? '',
      unitPrice: decimalText(item.unit_price),
      priceUnit: item.price_unit,
      validFrom: validities[i].from,
      validTo: validities[i].to,
      validFromDay: validities[i].fromDay,
      validToDay: validities[i].toDay,
      reason: reason(item),
    }));
  }

  /**
   * Stores a job for the past days `window` covers, for the list's projects
   * and currency (the scope the rating engine's handlers read), in the
   * caller's transaction; null without a window.
   */
  async jobWithin(kind: string, list: PriceListRow, window: Window | null, reason: string, actor: Principal, sql: Sql): Promise<JobView | null> {
    if (!window) return null;
    const scope = {
      start: isoMillis(window.start),
      end: isoMillis(window.end),
      project_ids: list.project_ids.length > 0 ? [...list.project_ids] : null,
      currencies: [list.currency],
      recompute_usage: false,
      price_list_id: list.id,
    };
    return this.jobs.createWithin({ kind, scope, createdBy: actor.name, reason }, sql);
  }

  /** After the commit: queue the stored job. Should this fail, the job is stored and the sweeper queues it. */
  async enqueue(job: JobView | null): Promise<void> {
    if (!job) return;
    try {
      await this.jobs.enqueue(job.id);
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message }, job: job.id }, 'job stored but not queued; the sweeper will queue it');
    }
  }

  /** The window of past days that new items priced (4.2), or null. */
  async pastWindowOf(items: NewItem[], sql: Sql): Promise<Window | null> {
    if (items.length === 0) return null;
    const { today } = await this.validity.today(sql);
    return pastWindow(
      items.map((i) => ({ from: i.validFrom, to: i.validTo })),
      today,
    );
  }
}

export function notFound(): DomainError {
  return new DomainError(PriceListError.NotFound, 'No such price list');
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');

/**
 * Price lists (reports.md 4.1, 4.2, 4.4): reads for every role (a `user`
 * sees the defaults and the lists naming one of its projects, other lists
 * are 404), the list writes, and a list's audit entries. Every write runs
 * in one transaction holding the list's row lock and appends one audit
 * entry per object it changes.
 */
@Injectable()
export class PriceListsService {
  constructor(private readonly w: PriceWrites) {}

  async lists(principal: Principal, query: { currency?: string; project_id?: string }): Promise<PriceListListView> {
    const scope = projectScope(principal, query.project_id !== undefined ? [query.project_id] : undefined);
    const rows = await this.w.repository.lists({
      currency: query.currency,
      appliesTo: query.project_id,
      visibleTo: principal.role === 'user' ? scope : undefined,
    });
    return { price_lists: rows.map((r) => listView(r, principal)) };
  }

  async get(principal: Principal, id: string, query: GetPriceListQuery): Promise<PriceListDetailView> {
    const list = await this.visible(principal, id);
    let at: string | undefined;
    if (query.at !== undefined) {
      const bounds = await this.w.repository.resolveBounds([query.at], this.w.validity.zone);
      if (bounds === undefined) throw invalid('at', 'not a valid date or instant');
      at = bounds[0].at;
    }
    const items = await this.w.repository.items(list.id, { at, state: query.state });
    return { ...listView(list, principal), items: items.map(itemView) };
  }

  /** The entries of a list and its items, oldest first (4.4), one page (1.6). */
  async audit(id: string, query: PriceListAuditQuery): Promise<AuditListView> {
    const list = await this.w.repository.list(id);
    if (!list) throw notFound();
    const digest = queryDigest({ ...query, id }, 'price-lists/audit');
    const after = query.cursor !== undefined ? auditKey(decodeCursor(query.cursor, digest, 2)) : null;
    const limit = query.limit ?? 1000;
    const rows = await this.w.repository.auditPage(id, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      entries: page.map(({ at_exact: _, ...entry }) => entry),
      next_cursor: rows.length > limit && last ? encodeCursor(digest, [last.at_exact, last.id]) : null,
    };
  }

  /** What the CSV form of the audit route hands to the exporter (404 first). */
  async auditExport(id: string): Promise<{ sql: string; params: unknown[]; columns: readonly string[] }> {
    if (!(await this.w.repository.list(id))) throw notFound();
    return { ...this.w.repository.auditExport(id), columns: AUDIT_COLUMNS };
  }

  async create(body: CreatePriceListDto, actor: Principal): Promise<CreatedPriceListView> {
    const projectIds = body.project_ids ?? [];
    const items = await this.w.newItems(body.items ?? [], (i, name) => `items[${i}].${name}`, (item) => item.reason ?? null);
    const { answer, job } = await this.w.db.transaction(async (m) => {
      if (await this.w.repository.nameTaken(body.name, null, m)) throw new DomainError(PriceListError.NameTaken, 'Another price list has this name');
      await this.checkApplicability(body.currency, projectIds, null, m);
      const id = newId('pl');
      await this.w.repository.insertList({ id, name: body.name, currency: body.currency, projectIds, description: body.description ?? '', createdBy: actor.name }, m);
      await this.w.repository.insertItems(id, items, actor.name, m);
      const list = (await this.w.repository.list(id, m))!;
      await this.w.audit.append({ actor: actor.name, action: 'create', object: 'price_list', objectId: id, priceListId: id, before: null, after: listView(list) }, m);
      const rows = await this.w.repository.items(id, {}, m);
      const byId = new Map(items.map((i) => [i.id, i]));
      for (const row of rows) {
        await this.w.audit.append({ actor: actor.name, action: 'create', object: 'price_item', objectId: row.id, priceListId: id, before: null, after: itemView(row), reason: byId.get(row.id)?.reason ?? null }, m);
      }
      const job = await this.w.jobWithin(RERATE, list, await this.w.pastWindowOf(items, m), `price items of list ${list.name} priced days before today`, actor, m);
      return { answer: { ...listView(list), items: rows.map(itemView), rerate_job: job }, job };
    });
    await this.w.enqueue(job);
    return answer;
  }

  async patch(id: string, body: PatchPriceListDto, actor: Principal): Promise<PriceListView> {
    return this.w.db.transaction(async (m) => {
      const before = await this.w.lockList(id, m);
      const name = body.name ?? before.name;
      const description = body.description ?? before.description;
      const projectIds = body.project_ids ?? before.project_ids;
      const projectsChanged = !sameSet(projectIds, before.project_ids);
      if (name === before.name && description === before.description && !projectsChanged) return listView(before);
      if (name !== before.name && (await this.w.repository.nameTaken(name, id, m))) throw new DomainError(PriceListError.NameTaken, 'Another price list has this name');
      if (projectsChanged) {
        if (await this.w.repository.anyBegun(id, m)) {
          throw new DomainError(
            PriceListError.ProjectsFixed,
            'project_ids cannot change once an item of the list has begun: it would re-price history silently; create another list for the new projects',
          );
        }
        await this.checkApplicability(before.currency, projectIds, id, m);
      }
      await this.w.repository.updateList(id, { name, description, projectIds, currency: before.currency, projectsChanged }, m);
      const after = (await this.w.repository.list(id, m))!;
      await this.w.audit.append({ actor: actor.name, action: 'update', object: 'price_list', objectId: id, priceListId: id, before: listView(before), after: listView(after) }, m);
      return listView(after);
    });
  }

  /** One default per currency, one list per (project, currency) (4.1): 409 naming what is taken. */
  private async checkApplicability(currency: string, projectIds: string[], exceptList: string | null, sql: Sql): Promise<void> {
    if (projectIds.length === 0) {
      if (await this.w.repository.defaultTaken(currency, exceptList, sql)) {
        throw new DomainError(PriceListError.DefaultTaken, `${currency} already has a default price list (one without projects)`);
      }
      return;
    }
    const taken = await this.w.repository.projectsTaken(currency, projectIds, exceptList, sql);
    if (taken.length > 0) throw new DomainError(PriceListError.ProjectTaken, `Project ${JSON.stringify(taken[0])} is already named by another ${currency} price list`);
  }

  /** A list the caller may read; 404 otherwise (a `user`: defaults and lists naming one of its projects). */
  private async visible(principal: Principal, id: string): Promise<PriceListRow> {
    const list = await this.w.repository.list(id);
    if (!list) throw notFound();
    if (principal.role === 'user' && list.project_ids.length > 0 && !list.project_ids.some((p) => principal.projectIds.includes(p))) throw notFound();
    return list;
  }
}

/** The keyset a cursor carries: the exact instant and id of the last entry; checked before it reaches a cast. */
function auditKey(key: unknown[]): [string, string] {
  const [at, id] = key;
  if (typeof at !== 'string' || typeof id !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(at) || !realInstant(at) || id.includes('\u0000')) {
    throw invalid('cursor', 'is not a cursor of this list');
  }
  return [at, id];
}

function realInstant(text: string): boolean {
  const t = new Date(`${text.slice(0, 23)}Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 23) === text.slice(0, 23);
}
