import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../http/domain-error';
import { IssueCommissionDto } from './dto/commission.dto';
import { QuotaCommissionsRepository } from './quota-commissions.repository';
import { HoldingRow, QuotaHoldingsRepository } from './quota-holdings.repository';
import { LogEntry } from './quota-provision-log';
import { QuotasError } from './quotas.errors';
import { badRequest, holdingKey, num } from './quotas-values';

/** A provision after merging (quotas.md 5.3), with prefixes kept (2, "Identifiers"). */
export interface Provision {
  holder: string;
  source: string | null;
  resource: string;
  quantity: number;
}

interface IssueRequest {
  name: string;
  force: boolean;
  autoAccept: boolean;
  provisions: Provision[];
}

/** A per-serial failure of the bulk action (4.10): `[serial, fault]`. */
type Failure = [number, Record<string, { code: number; message: string }>];

interface Counters {
  limit: number;
  min: number;
  max: number;
}

/**
 * Two-phase commissions (quotas.md 4.6–4.10, 5.2–5.9). Every change runs in
 * one READ COMMITTED transaction that locks commission rows first (by
 * serial), then holding rows in ascending id, and checks and writes the
 * counters only under those locks: concurrent commissions never take a
 * holding past its limit, and of concurrent resolvers of one serial exactly
 * one finds it. The decisions are here; the statements in the repositories.
 */
@Injectable()
export class CommissionsService {
  constructor(
    private readonly db: DataSource,
    private readonly holdings: QuotaHoldingsRepository,
    private readonly commissions: QuotaCommissionsRepository,
  ) {}

  /** POST {account}/commissions: 201 {"serial"}, 404 NoHoldingError, 413 NoCapacityError/NoQuantityError. */
  async issue(clientKey: string, body: IssueCommissionDto): Promise<{ serial: number }> {
    const request = mergeIssue(body);
    return this.db.transaction(async (m) => {
      const rows = request.provisions.length ? await this.holdings.lock(request.provisions, m) : [];
      const byKey = new Map(rows.map((r) => [holdingKey(r), r]));
      const steps: { row: HoldingRow; provision: Provision; after: Counters }[] = [];
      // Checked in request order after merging (4.6); only the first failure is reported.
      for (const provision of request.provisions) {
        const row = byKey.get(holdingKey(provision));
        if (!row) {
          throw new DomainError(QuotasError.NoHolding, `There is no ${provision.resource} quota for ${describe(provision)}`, {
            data: { name: 'NoHoldingError', provision },
          });
        }
        const after = applyIssue(provision, counters(row), request.force);
        steps.push({ row, provision, after: request.autoAccept ? applyResolve(provision.quantity, after, 'ACCEPT') : after });
      }
      // The writes in one statement: the counters, a serial, and either the
      // pending commission with its provisions or, with auto_accept, only the
      // log rows (never pending, 5.5).
      const counterRows = steps.map((s) => ({ id: s.row.id, min: s.after.min, max: s.after.max }));
      if (request.autoAccept) {
        const issueTime = new Date();
        const log = steps.map((s): LogEntry => ({ clientKey, name: request.name, provision: s.provision, after: s.after, issueTime, action: 'ACCEPT' }));
        return { serial: num(await this.commissions.insertAccepted(counterRows, log, m)) };
      }
      const provisions = steps.map((s) => ({ holdingId: s.row.id, quantity: s.provision.quantity }));
      return { serial: num(await this.commissions.insertPending(counterRows, clientKey, request.name, provisions, m)) };
    });
  }

  /** GET {account}/commissions: the caller's pending serials, ascending (4.7). */
  async pending(clientKey: string): Promise<number[]> {
    return (await this.commissions.pendingSerials(clientKey)).map(num);
  }

  /**
   * GET {account}/commissions/<serial> (4.8). `serial` is null past the safe
   * range (no such serial can exist); `serialText` is the path's text, for the message.
   */
  async detail(clientKey: string, serial: number | null, serialText: string): Promise<{ serial: number; name: string; issue_time: string; provisions: Provision[] }> {
    const commission = serial === null ? undefined : await this.commissions.find(clientKey, serial);
    if (!commission || serial === null) throw notFound(serial ?? serialText);
    const provisions = await this.commissions.provisions(serial);
    return {
      serial,
      name: commission.name,
      issue_time: new Date(commission.issue_time).toISOString(),
      provisions: provisions.map((p) => ({ holder: p.holder, source: p.source, resource: p.resource, quantity: num(p.quantity) })),
    };
  }

  /** POST {account}/commissions/<serial>/action (4.9); `serial` and `serialText` as in `detail`. */
  async actOne(clientKey: string, serial: number | null, serialText: string, action: 'accept' | 'reject'): Promise<void> {
    const accept = action === 'accept';
    const done = serial === null ? null : await this.db.transaction((m) => this.resolve(m, clientKey, accept ? [serial] : [], accept ? [] : [serial]));
    if (!done || done.missing.length > 0) throw notFound(serial ?? serialText);
  }

  /** POST {account}/commissions/action (4.10): per-serial failures, one transaction for the successes. */
  async actMany(clientKey: string, request: { accept: number[]; reject: number[] }): Promise<{ accepted: number[]; rejected: number[]; failed: Failure[] }> {
    // A serial repeated inside one list counts once.
    const accept = [...new Set(request.accept)];
    const reject = [...new Set(request.reject)];
    const both = accept.filter((s) => reject.includes(s));
    const toAccept = accept.filter((s) => !both.includes(s));
    const toReject = reject.filter((s) => !both.includes(s));
    const done =
      toAccept.length + toReject.length > 0
        ? await this.db.transaction((m) => this.resolve(m, clientKey, toAccept, toReject))
        : { accepted: [], rejected: [], missing: [] };
    const failed: Failure[] = [
      ...done.missing.map((s): Failure => [s, { itemNotFound: { code: 404, message: `serial ${s} does not exist` } }]),
      ...both.map((s): Failure => [s, { badRequest: { code: 400, message: `cannot both accept and reject serial ${s}` } }]),
    ];
    return { accepted: done.accepted, rejected: done.rejected, failed };
  }

  /**
   * Resolves the caller's pending commissions among these serials: locks the
   * commission rows (ascending serial), then their holdings (ascending id),
   * applies 5.2 without checks, logs each provision, deletes the commissions.
   * A serial that is not pending for this caller, or that a concurrent
   * resolver took first, comes back in `missing`.
   */
  private async resolve(m: EntityManager, clientKey: string, accept: number[], reject: number[]) {
    const wanted = [...accept, ...reject];
    // Commission rows first, in ascending serial; their provisions come in the same statement.
    const found = await this.commissions.lockForResolve(clientKey, wanted, m);
    const present = new Set(found.map((c) => num(c.serial)));
    const result = {
      accepted: accept.filter((s) => present.has(s)),
      rejected: reject.filter((s) => present.has(s)),
      missing: wanted.filter((s) => !present.has(s)),
    };
    if (found.length === 0) return result;
    const serials = [...new Set(found.map((c) => c.serial))];
    const provisions = found.filter((p): p is typeof p & { holding_id: string; quantity: string } => p.holding_id !== null);
    const holdingIds = [...new Set(provisions.map((p) => p.holding_id))];
    // Then their holdings, in ascending id.
    const holdings = holdingIds.length ? await this.holdings.lockByIds(holdingIds, m) : [];
    const state = new Map(holdings.map((h) => [h.id, { row: h, counters: counters(h) }]));
    const accepted = new Set(result.accepted);
    const log: LogEntry[] = [];
    for (const p of provisions) {
      const holding = state.get(p.holding_id)!;
      const action = accepted.has(num(p.serial)) ? 'ACCEPT' : 'REJECT';
      holding.counters = applyResolve(num(p.quantity), holding.counters, action);
      log.push({
        serial: p.serial,
        clientKey,
        name: p.name,
        provision: { holder: holding.row.holder, source: holding.row.source, resource: holding.row.resource, quantity: num(p.quantity) },
        after: holding.counters,
        issueTime: p.issue_time,
        action,
      });
    }
    // The writes in one statement: counters, the commissions (their provisions cascade), the log.
    const counterRows = [...state.values()].map((h) => ({ id: h.row.id, min: h.counters.min, max: h.counters.max }));
    await this.commissions.resolve(counterRows, serials, log, m);
    return result;
  }
}

// --- the arithmetic of quotas.md 5.2 ---------------------------------------

function counters(row: HoldingRow): Counters {
  return { limit: num(row.limit), min: num(row.usage_min), max: num(row.usage_max) };
}

/** Issue step: imports raise the high bound under the limit (unless forced), releases lower the low bound, never below 0. */
function applyIssue(provision: Provision, c: Counters, force: boolean): Counters {
  const q = provision.quantity;
  if (q >= 0) {
    const max = c.max + q;
    if ((!force && max > c.limit) || !Number.isSafeInteger(max)) {
      throw new DomainError(
        QuotasError.NoCapacity,
        `Limit exceeded for ${describe(provision)} ${provision.resource}: usage ${c.max} + ${q} > limit ${c.limit}`,
        { data: { name: 'NoCapacityError', provision, limit: c.limit, usage: c.max } },
      );
    }
    return { ...c, max };
  }
  const min = c.min + q;
  if (min < 0) {
    throw new DomainError(
      QuotasError.NoQuantity,
      `Cannot release ${-q} of ${provision.resource} from ${describe(provision)}: only ${c.min} committed and not pending release`,
      { data: { name: 'NoQuantityError', provision, limit: 0, usage: c.min } },
    );
  }
  return { ...c, min };
}

/** Accept or reject step: no checks, always possible. */
function applyResolve(q: number, c: Counters, action: 'ACCEPT' | 'REJECT'): Counters {
  if (q >= 0) return action === 'ACCEPT' ? { ...c, min: c.min + q } : { ...c, max: c.max - q };
  return action === 'ACCEPT' ? { ...c, max: c.max + q } : { ...c, min: c.min - q };
}

/** Applies the defaults of 4.6 and merges same-key provisions in order of first appearance (5.3). */
function mergeIssue(body: IssueCommissionDto): IssueRequest {
  const merged = new Map<string, Provision>();
  body.provisions.forEach((p, i) => {
    const provision: Provision = { holder: p.holder, source: p.source, resource: p.resource, quantity: p.quantity };
    const key = holdingKey(provision);
    const seen = merged.get(key);
    if (!seen) {
      merged.set(key, provision);
      return;
    }
    seen.quantity += provision.quantity;
    if (!Number.isSafeInteger(seen.quantity)) throw badRequest(`provisions[${i}].quantity: the merged quantity is out of range`);
  });
  return { name: body.name ?? '', force: body.force ?? false, autoAccept: body.auto_accept ?? false, provisions: [...merged.values()] };
}

function notFound(serial: number | string): DomainError {
  return new DomainError(QuotasError.NotFound, `serial ${serial} does not exist`);
}

function describe(p: Provision): string {
  return p.source === null ? p.holder : `${p.holder} in ${p.source}`;
}
