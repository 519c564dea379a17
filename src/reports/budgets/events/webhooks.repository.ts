import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runCount, runOne, runRows, Sql } from '../../../database/query-result';
import { EventObject } from './event-types';

const ISO = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export interface NewWebhook {
  id: string;
  url: string;
  types: string[] | null;
  projectIds: string[] | null;
  description: string | null;
  secret: string;
}

export interface WebhookRow {
  id: string;
  url: string;
  types: string[] | null;
  project_ids: string[] | null;
  created_at: string;
  last_success_at: string | null;
  last_error: string | null;
  pending: number;
}

/** A delivery claimed for one attempt: the outbox row, its webhook's address and secret, and the event. */
export interface ClaimedDelivery {
  webhookId: string;
  url: string;
  secret: string;
  attempts: number;
  /** When the event was created, in epoch milliseconds (the 72 h of retries count from it). */
  eventCreatedMs: number;
  event: EventObject;
}

const WEBHOOK_COLUMNS = `w."id", w."url", w."types", w."project_ids", ${ISO('w."created_at"')} AS "created_at",
  ${ISO('w."last_success_at"')} AS "last_success_at", w."last_error",
  (SELECT count(*)::int FROM "report_webhook_delivery" d WHERE d."webhook_id" = w."id" AND d."delivered_at" IS NULL AND d."given_up_at" IS NULL) AS "pending"`;

/** report_webhook and its outbox report_webhook_delivery (reports.md 6.7). */
@Injectable()
export class WebhooksRepository {
  constructor(private readonly db: DataSource) {}

  async insert(webhook: NewWebhook, sql: Sql = this.db): Promise<WebhookRow> {
    const row = await runOne<WebhookRow>(
      sql,
      `WITH w AS (
         INSERT INTO "report_webhook" ("id", "url", "types", "project_ids", "description", "secret") VALUES ($1, $2, $3, $4, $5, $6) RETURNING *
       ) SELECT ${WEBHOOK_COLUMNS} FROM w`,
      [webhook.id, webhook.url, webhook.types, webhook.projectIds, webhook.description, webhook.secret],
    );
    return row!;
  }

  /** Oldest first. */
  list(sql: Sql = this.db): Promise<WebhookRow[]> {
    return runRows<WebhookRow>(sql, `SELECT ${WEBHOOK_COLUMNS} FROM "report_webhook" w ORDER BY w."created_at", w."id"`);
  }

  /** Removes a webhook and its outbox rows; answers whether it existed. */
  async remove(id: string, sql: Sql = this.db): Promise<boolean> {
    return (await runCount(sql, `DELETE FROM "report_webhook" WHERE "id" = $1`, [id])) > 0;
  }

  /**
   * Claims one due delivery: its row stays locked (`FOR UPDATE SKIP
   * LOCKED`) to the end of the caller's transaction, so no other process
   * delivers the same event to the same webhook meanwhile.
   */
  async claimDue(sql: Sql): Promise<ClaimedDelivery | undefined> {
    const row = await runOne<{
      webhook_id: string;
      url: string;
      secret: string;
      attempts: number;
      event_created_ms: string;
      id: string;
      type: string;
      created_at: string;
      project_id: string | null;
      data: Record<string, unknown>;
    }>(
      sql,
      `SELECT d."webhook_id", w."url", w."secret", d."attempts", (extract(epoch FROM e."created_at") * 1000)::bigint::text AS "event_created_ms",
              e."id"::text AS "id", e."type", ${ISO('e."created_at"')} AS "created_at", e."project_id", e."data"
       FROM "report_webhook_delivery" d
       JOIN "report_webhook" w ON w."id" = d."webhook_id"
       JOIN "report_event" e ON e."id" = d."event_id"
       WHERE d."delivered_at" IS NULL AND d."given_up_at" IS NULL AND d."next_attempt_at" <= clock_timestamp()
       ORDER BY d."next_attempt_at", d."event_id"
       LIMIT 1
       FOR UPDATE OF d SKIP LOCKED`,
    );
    if (!row) return undefined;
    return {
      webhookId: row.webhook_id,
      url: row.url,
      secret: row.secret,
      attempts: row.attempts,
      eventCreatedMs: Number(row.event_created_ms),
      event: { id: row.id, type: row.type, created_at: row.created_at, project_id: row.project_id, data: row.data },
    };
  }

  async delivered(webhookId: string, eventId: string, sql: Sql): Promise<void> {
    await sql.query(
      `UPDATE "report_webhook_delivery" SET "attempts" = "attempts" + 1, "delivered_at" = clock_timestamp(), "last_error" = NULL
       WHERE "webhook_id" = $1 AND "event_id" = $2`,
      [webhookId, eventId],
    );
    await sql.query(`UPDATE "report_webhook" SET "last_success_at" = clock_timestamp() WHERE "id" = $1`, [webhookId]);
  }

  /** A failed attempt: retried at `retryAt`, or given up when it is null; the webhook shows `webhookError`. */
  async failed(webhookId: string, eventId: string, error: string, retryAt: Date | null, webhookError: string, sql: Sql): Promise<void> {
    await sql.query(
      `UPDATE "report_webhook_delivery" SET "attempts" = "attempts" + 1, "last_error" = $3,
         "next_attempt_at" = coalesce($4::timestamptz, "next_attempt_at"),
         "given_up_at" = CASE WHEN $4::timestamptz IS NULL THEN clock_timestamp() END
       WHERE "webhook_id" = $1 AND "event_id" = $2`,
      [webhookId, eventId, error, retryAt?.toISOString() ?? null],
    );
    await sql.query(`UPDATE "report_webhook" SET "last_error" = $2 WHERE "id" = $1`, [webhookId, webhookError]);
  }
}
