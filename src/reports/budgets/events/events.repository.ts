import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { runCount, runOne, runRows, Sql } from '../../../database/query-result';
import { EventObject } from './event-types';

const ISO = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const EVENT_COLUMNS = `e."id"::text AS "id", e."type", ${ISO('e."created_at"')} AS "created_at", e."project_id", e."data"`;

/** What the feed asks for (reports.md 6.7). */
export interface FeedFilter {
  after: string;
  types?: string[];
  /** undefined: every event, project-less ones included; a list: events of those projects only. */
  projectIds?: string[];
  limit: number;
}

/**
 * report_event: emitting (through `report_emit_event`, which also writes
 * the webhook outbox rows, in the caller's transaction), the feed, the
 * queue relay's cursor and retention.
 */
@Injectable()
export class EventsRepository {
  constructor(private readonly db: DataSource) {}

  /** Emits an event in the caller's transaction; answers its id. */
  async emit(m: EntityManager, type: string, projectId: string | null, data: Record<string, unknown>): Promise<string> {
    const row = await runOne<{ id: string }>(m, `SELECT "report_emit_event"($1, $2, $3::jsonb)::text AS "id"`, [type, projectId, JSON.stringify(data)]);
    return row!.id;
  }

  /** Events after `after`, ascending by id. Event ids commit in order (see the migration), so a page never skips a later commit. */
  feed(filter: FeedFilter, sql: Sql = this.db): Promise<EventObject[]> {
    const params: unknown[] = [filter.after, filter.limit];
    const where = [`e."id" > $1::bigint`];
    if (filter.types?.length) where.push(`e."type" = ANY($${params.push(filter.types)}::text[])`);
    if (filter.projectIds) where.push(`e."project_id" = ANY($${params.push(filter.projectIds)}::text[])`);
    return runRows<EventObject>(sql, `SELECT ${EVENT_COLUMNS} FROM "report_event" e WHERE ${where.join(' AND ')} ORDER BY e."id" LIMIT $2`, params);
  }

  /**
   * Removes events older than `days` (EVENT_RETENTION_DAYS) with their
   * outbox rows; an event an arming names (the budget's `thresholds`) stays
   * while the arming does.
   */
  prune(days: number, sql: Sql = this.db): Promise<number> {
    return runCount(
      sql,
      `DELETE FROM "report_event" e WHERE e."created_at" < now() - make_interval(days => $1)
         AND NOT EXISTS (SELECT 1 FROM "report_budget_arming" a WHERE a."crossed_event_id" = e."id" OR a."rearmed_event_id" = e."id")`,
      [days],
    );
  }

  /**
   * Locks a relay channel's cursor for this transaction and reads it;
   * undefined when another process holds it (that one relays meanwhile).
   */
  async lockRelay(m: EntityManager, channel: string): Promise<string | undefined> {
    await m.query(`INSERT INTO "report_event_relay" ("channel") VALUES ($1) ON CONFLICT ("channel") DO NOTHING`, [channel]);
    const row = await runOne<{ last: string }>(
      m,
      `SELECT "last_event_id"::text AS "last" FROM "report_event_relay" WHERE "channel" = $1 FOR UPDATE SKIP LOCKED`,
      [channel],
    );
    return row?.last;
  }

  async saveRelay(m: EntityManager, channel: string, lastEventId: string): Promise<void> {
    await m.query(`UPDATE "report_event_relay" SET "last_event_id" = $2, "updated_at" = now() WHERE "channel" = $1`, [channel, lastEventId]);
  }
}
