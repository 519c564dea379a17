import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DomainError } from '../../../http/domain-error';
import { runCount, runOne, runRows, Sql } from '../../../database/query-result';
import { HoldsError } from './holds.errors';

export type HoldState = 'held' | 'settled' | 'released' | 'expired';

/** An AMIE compute record identity (reports.md 6.4 `amie_record`). */
export interface AmieRecordRef {
  site: string;
  resource: string;
  local_record_id: string;
}

/** A report_budget_hold row; decimals as strings with 6 places, instants as ISO strings. */
export interface HoldRow {
  id: string;
  projectId: string;
  budgetId: string;
  amount: string;
  reference: string;
  requestHash: string;
  state: HoldState;
  settledAmount: string | null;
  refundedAmount: string;
  createdAt: string;
  expiresAt: string;
  resolvedAt: string | null;
  amieSite: string | null;
  amieResource: string | null;
  amieLocalRecordId: string | null;
  description: string | null;
}

export interface NewHold {
  id: string;
  projectId: string;
  budgetId: string;
  amount: string;
  reference: string;
  requestHash: string;
  createdAt: Date;
  expiresAt: string;
  amieRecord: AmieRecordRef | null;
  description: string | null;
}

function translate(error: unknown): never {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e.code ?? e.driverError?.code;
  const constraint = e.constraint ?? e.driverError?.constraint;
  if (code === '23505' && constraint === 'report_budget_hold_amie_uq') throw new DomainError(HoldsError.AmieRecordTaken, 'amie_record: another held hold names this record');
  throw error;
}

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const HOLD_COLUMNS = `"id", "project_id" AS "projectId", "budget_id"::text AS "budgetId", "amount"::text AS "amount", "reference",
  "request_hash" AS "requestHash", "state", "settled_amount"::text AS "settledAmount", "refunded_amount"::text AS "refundedAmount",
  ${iso('"created_at"')} AS "createdAt", ${iso('"expires_at"')} AS "expiresAt", ${iso('"resolved_at"')} AS "resolvedAt",
  "amie_site" AS "amieSite", "amie_resource" AS "amieResource", "amie_local_record_id" AS "amieLocalRecordId", "description"`;

/** The SQL of report_budget_hold (reports.md 6.4). State changes go with their ledger entries, under the budget's row lock (HoldTransitions). */
@Injectable()
export class HoldsRepository {
  /** A hold of the project; another project's hold is none. */
  find(sql: Sql, projectId: string, holdId: string): Promise<HoldRow | undefined> {
    return runOne<HoldRow>(sql, `SELECT ${HOLD_COLUMNS} FROM "report_budget_hold" WHERE "id" = $1 AND "project_id" = $2`, [holdId, projectId]);
  }

  /**
   * The hold by id, locked to the end of the transaction. Callers lock its
   * budget first (every writer of a budget takes the budget row, then the hold).
   */
  lock(m: EntityManager, holdId: string): Promise<HoldRow | undefined> {
    return runOne<HoldRow>(m, `SELECT ${HOLD_COLUMNS} FROM "report_budget_hold" WHERE "id" = $1 FOR UPDATE`, [holdId]);
  }

  findByReference(sql: Sql, projectId: string, reference: string): Promise<HoldRow | undefined> {
    return runOne<HoldRow>(sql, `SELECT ${HOLD_COLUMNS} FROM "report_budget_hold" WHERE "project_id" = $1 AND "reference" = $2`, [projectId, reference]);
  }

  /**
   * Inserts a hold; undefined when the project already has a hold with this
   * reference (the caller answers that one). A record another held hold
   * names (report_budget_hold_amie_uq) is AmieRecordTaken.
   */
  async insert(m: EntityManager, hold: NewHold): Promise<HoldRow | undefined> {
    const row = await runOne<HoldRow>(
      m,
      `INSERT INTO "report_budget_hold" ("id", "project_id", "budget_id", "amount", "reference", "request_hash", "created_at", "expires_at",
         "amie_site", "amie_resource", "amie_local_record_id", "description")
       VALUES ($1, $2, $3, $4::numeric, $5, $6, $7::timestamptz, $8::timestamptz, $9, $10, $11, $12)
       ON CONFLICT ON CONSTRAINT "report_budget_hold_reference_uq" DO NOTHING
       RETURNING ${HOLD_COLUMNS}`,
      [
        hold.id,
        hold.projectId,
        hold.budgetId,
        hold.amount,
        hold.reference,
        hold.requestHash,
        hold.createdAt.toISOString(),
        hold.expiresAt,
        hold.amieRecord?.site ?? null,
        hold.amieRecord?.resource ?? null,
        hold.amieRecord?.local_record_id ?? null,
        hold.description,
      ],
    ).catch(translate);
    return row;
  }

  /** Moves a locked hold out of `held` (settled, released, expired). */
  async resolve(m: EntityManager, holdId: string, state: Exclude<HoldState, 'held'>, at: Date, settledAmount: string | null): Promise<HoldRow> {
    const row = await runOne<HoldRow>(
      m,
      `UPDATE "report_budget_hold" SET "state" = $2, "resolved_at" = $3::timestamptz, "settled_amount" = $4::numeric
       WHERE "id" = $1 AND "state" = 'held' RETURNING ${HOLD_COLUMNS}`,
      [holdId, state, at.toISOString(), settledAmount],
    );
    return row!;
  }

  /** Adds to a locked settled hold's refunded amount. */
  async addRefund(m: EntityManager, holdId: string, amount: string): Promise<HoldRow> {
    const row = await runOne<HoldRow>(
      m,
      `UPDATE "report_budget_hold" SET "refunded_amount" = "refunded_amount" + $2::numeric WHERE "id" = $1 RETURNING ${HOLD_COLUMNS}`,
      [holdId, amount],
    );
    return row!;
  }

  /** Whether the AMIE compute record is loaded (amie-usage.md 5.3: its current version is in amie_usage_record). */
  async amieRecordLoaded(sql: Sql, record: AmieRecordRef): Promise<boolean> {
    const n = await runCount(
      sql,
      `SELECT 1 FROM "amie_usage_record" WHERE "site" = $1 AND "usage_type" = 'Compute' AND "resource" = $2 AND "local_record_id" = $3`,
      [record.site, record.resource, record.local_record_id],
    );
    return n > 0;
  }

  /** Ids and budgets of holds still `held` whose `expires_at` has come, oldest first. */
  due(sql: Sql, limit: number): Promise<{ id: string; budgetId: string }[]> {
    return runRows<{ id: string; budgetId: string }>(
      sql,
      `SELECT "id", "budget_id"::text AS "budgetId" FROM "report_budget_hold" WHERE "state" = 'held' AND "expires_at" <= now() ORDER BY "expires_at", "id" LIMIT $1`,
      [limit],
    );
  }
}
