import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { runOne, Sql } from '../../database/query-result';

/** One audit entry (reports.md 4.4). */
export interface AuditEntry {
  actor: string;
  action: 'create' | 'update' | 'end' | 'delete' | 'supersede' | 'correct';
  object: 'price_list' | 'price_item' | 'flavor';
  objectId: string;
  priceListId?: string | null;
  before: object | null;
  after: object | null;
  reason?: string | null;
}

export interface StoredAuditEntry {
  id: string;
  at: Date;
  actor: string;
  action: string;
  object: string;
  object_id: string;
  price_list_id: string | null;
  before: unknown;
  after: unknown;
  reason: string | null;
}

let lastMillis = 0;
let sequence = 0;

/**
 * `au_` and 24 hex digits (reports.md 1.9: opaque, with a type prefix):
 * milliseconds, a counter within the millisecond, then random digits. The
 * audit route lists entries by (`at`, `id`); entries of one call can share
 * `at` where the clock is coarse (the embedded PGlite's), and these ids
 * then keep them in the order this process wrote them.
 */
export function newAuditId(now = Date.now()): string {
  if (now > lastMillis) {
    lastMillis = now;
    sequence = 0;
  } else sequence++;
  const time = lastMillis.toString(16).padStart(12, '0').slice(-12);
  return `au_${time}${(sequence & 0xffff).toString(16).padStart(4, '0')}${randomBytes(4).toString('hex')}`;
}

/**
 * report_audit (reports.md 4.4): entries are appended in the transaction of
 * the write they describe, and never changed or deleted.
 */
@Injectable()
export class ReportAuditRepository {
  /** Always inside the transaction of the write it describes: hence no default `sql`. */
  async append(entry: AuditEntry, sql: Sql): Promise<StoredAuditEntry> {
    const row = await runOne<StoredAuditEntry>(
      sql,
      `INSERT INTO report_audit (id, actor, action, object, object_id, price_list_id, before, after, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9)
       RETURNING id, at, actor, action, object, object_id, price_list_id, before, after, reason`,
      [
        newAuditId(),
        entry.actor,
        entry.action,
        entry.object,
        entry.objectId,
        entry.priceListId ?? null,
        entry.before === null ? null : JSON.stringify(entry.before),
        entry.after === null ? null : JSON.stringify(entry.after),
        entry.reason ?? null,
      ],
    );
    return row!;
  }
}
