import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runCount, runRows, Sql } from '../database/query-result';

export interface OutcomeCount {
  eventType: string;
  outcome: string;
  count: number;
}

/** Every SQL statement of the collector's own tables: receipts (collector.md 5.3) and counts (6). */
@Injectable()
export class CollectorRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Records a processed message inside the caller's transaction. Answers
   * false when the message id already has a receipt (a duplicate): the
   * caller rolls its transaction back. A concurrent insert of the same id
   * waits for the other transaction and then sees its row.
   */
  async insertReceipt(messageId: string, eventType: string, sql: Sql = this.db): Promise<boolean> {
    const inserted = await runRows<{ message_id: string }>(
      sql,
      `INSERT INTO notification_receipts (message_id, event_type) VALUES ($1, $2) ON CONFLICT (message_id) DO NOTHING RETURNING message_id`,
      [messageId, eventType],
    );
    return inserted.length === 1;
  }

  async hasReceipt(messageId: string, sql: Sql = this.db): Promise<boolean> {
    const rows = await runRows<{ one: number }>(sql, `SELECT 1 AS one FROM notification_receipts WHERE message_id = $1`, [messageId]);
    return rows.length > 0;
  }

  /** Removes receipts older than `days` days; answers how many. */
  async pruneReceipts(days: number, sql: Sql = this.db): Promise<number> {
    return runCount(sql, `DELETE FROM notification_receipts WHERE received_at < now() - make_interval(days => $1)`, [days]);
  }

  /** Adds counts to the totals, one statement for the whole batch. */
  async addCounts(counts: OutcomeCount[], sql: Sql = this.db): Promise<void> {
    if (counts.length === 0) return;
    await sql.query(
      `INSERT INTO notification_counts (event_type, outcome, count, updated_at)
       SELECT e, o, c, now() FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(e, o, c)
       ON CONFLICT (event_type, outcome) DO UPDATE SET count = notification_counts.count + EXCLUDED.count, updated_at = now()`,
      [counts.map((c) => c.eventType), counts.map((c) => c.outcome), counts.map((c) => String(c.count))],
    );
  }

  /** The totals, for `/metrics` (collector.md 6) and tests. */
  async totals(sql: Sql = this.db): Promise<OutcomeCount[]> {
    const rows = await runRows<{ event_type: string; outcome: string; count: string }>(
      sql,
      `SELECT event_type, outcome, count::text AS count FROM notification_counts ORDER BY event_type, outcome`,
    );
    return rows.map((r) => ({ eventType: r.event_type, outcome: r.outcome, count: Number(r.count) }));
  }

  /** The database answers (heartbeat). */
  async ping(sql: Sql = this.db): Promise<void> {
    await sql.query('SELECT 1');
  }
}
