import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows, Sql } from '../../database/query-result';

/** The states of reports.md 4.7; the last three are final. */
export const JOB_STATES = ['queued', 'running', 'cancelling', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const FINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];
/** States whose job still owes work: the sweeper makes sure each has a queue job. */
export const OWED_STATES: readonly JobState[] = ['queued', 'running', 'cancelling'];

/** One job as stored, with its dates already in the wire form. */
export interface JobRow {
  id: string;
  kind: string;
  state: JobState;
  reason: string | null;
  created_at: string;
  created_by: string;
  started_at: string | null;
  finished_at: string | null;
  scope: unknown;
  progress_total: number | null;
  progress_done: number;
  cursor: unknown;
  result: unknown;
  error: string | null;
  /** Seconds since the job started (to its end when finished); null before it started. */
  elapsed_seconds: number | null;
  /** created_at with its microseconds: the keyset position of the listing. */
  position: string;
}

export interface NewJob {
  id: string;
  kind: string;
  reason: string | null;
  createdBy: string;
  scope: unknown;
}

/** A keyset position of the listing (newest first). */
export interface JobPosition {
  createdAt: string;
  id: string;
}

export interface JobFilter {
  kind?: string;
  state?: string;
}

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const COLUMNS = `id, kind, state, reason, ${iso('created_at')} AS created_at, created_by,
  ${iso('started_at')} AS started_at, ${iso('finished_at')} AS finished_at, scope,
  progress_total::float8 AS progress_total, progress_done::float8 AS progress_done, cursor, result, error,
  extract(epoch FROM coalesce(finished_at, now()) - started_at)::float8 AS elapsed_seconds,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position`;

/** report_job: every statement on the job table (reports.md 4.7). */
@Injectable()
export class ReportJobRepository {
  constructor(private readonly db: DataSource) {}

  async insert(job: NewJob, sql: Sql = this.db): Promise<JobRow> {
    const row = await runOne<JobRow>(
      sql,
      `INSERT INTO report_job (id, kind, reason, created_by, scope) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [job.id, job.kind, job.reason, job.createdBy, JSON.stringify(job.scope)],
    );
    return row!;
  }

  async find(id: string, sql: Sql = this.db): Promise<JobRow | undefined> {
    return runOne<JobRow>(sql, `SELECT ${COLUMNS} FROM report_job WHERE id = $1`, [id]);
  }

  /** Locks the job row (a chunk's transaction takes it first, so a cancel waits for the chunk, never the reverse). */
  async lock(id: string, sql: Sql): Promise<JobRow | undefined> {
    return runOne<JobRow>(sql, `SELECT ${COLUMNS} FROM report_job WHERE id = $1 FOR UPDATE`, [id]);
  }

  /** Newest first, after `after`; `limit` rows at most. */
  async list(filter: JobFilter, after: JobPosition | undefined, limit: number, sql: Sql = this.db): Promise<JobRow[]> {
    const params: unknown[] = [limit];
    const where: string[] = [];
    if (filter.kind !== undefined) where.push(`kind = $${params.push(filter.kind)}`);
    if (filter.state !== undefined) where.push(`state = $${params.push(filter.state)}`);
    if (after) {
      const at = `$${params.push(after.createdAt)}::timestamptz`;
      where.push(`(created_at < ${at} OR (created_at = ${at} AND id COLLATE "C" < $${params.push(after.id)}))`);
    }
    return runRows<JobRow>(
      sql,
      `SELECT ${COLUMNS} FROM report_job ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $1`,
      params,
    );
  }

  /** queued → running (started_at kept on a resume); undefined when the job is not queued or running. */
  async markRunning(id: string, sql: Sql = this.db): Promise<JobRow | undefined> {
    return runOne<JobRow>(
      sql,
      `UPDATE report_job SET state = 'running', started_at = coalesce(started_at, now()), updated_at = now()
       WHERE id = $1 AND state IN ('queued', 'running') RETURNING ${COLUMNS}`,
      [id],
    );
  }

  /** The job's plan: its total and first cursor (written once, before the first chunk). */
  async savePlan(id: string, plan: { total: number; cursor: unknown; result: unknown }, sql: Sql = this.db): Promise<void> {
    await runRows(sql, `UPDATE report_job SET progress_total = $2, cursor = $3, result = $4, updated_at = now() WHERE id = $1`, [
      id,
      plan.total,
      JSON.stringify(plan.cursor),
      JSON.stringify(plan.result),
    ]);
  }

  /** A finished chunk: the new cursor, progress and result; `last` ends the job as succeeded. */
  async saveChunk(id: string, chunk: { cursor: unknown; done: number; result: unknown; last: boolean }, sql: Sql): Promise<void> {
    await runRows(
      sql,
      `UPDATE report_job SET cursor = $2, progress_done = progress_done + $3, result = $4, updated_at = now(),
         state = CASE WHEN $5 THEN 'succeeded' ELSE state END,
         finished_at = CASE WHEN $5 THEN now() ELSE finished_at END
       WHERE id = $1`,
      [id, JSON.stringify(chunk.cursor), chunk.done, JSON.stringify(chunk.result), chunk.last],
    );
  }

  /** cancelling → cancelled at a chunk boundary. */
  async markCancelled(id: string, sql: Sql = this.db): Promise<void> {
    await runRows(sql, `UPDATE report_job SET state = 'cancelled', finished_at = now(), updated_at = now() WHERE id = $1 AND state = 'cancelling'`, [id]);
  }

  /** Ends a job that still owes work as failed with its error. */
  async markFailed(id: string, error: string, sql: Sql = this.db): Promise<void> {
    await runRows(
      sql,
      `UPDATE report_job SET state = 'failed', error = $2, finished_at = now(), updated_at = now()
       WHERE id = $1 AND state IN ('queued', 'running', 'cancelling')`,
      [id, error],
    );
  }

  /**
   * A cancel request: a queued job (no chunk run yet) is cancelled at once, a
   * running one becomes cancelling and stops at its next chunk boundary.
   * Undefined when the job is unknown or already finished.
   */
  async requestCancel(id: string, sql: Sql = this.db): Promise<JobRow | undefined> {
    return runOne<JobRow>(
      sql,
      `UPDATE report_job SET cancel_requested = true, updated_at = now(),
         state = CASE state WHEN 'queued' THEN 'cancelled' WHEN 'running' THEN 'cancelling' ELSE state END,
         finished_at = CASE state WHEN 'queued' THEN now() ELSE finished_at END
       WHERE id = $1 AND state IN ('queued', 'running', 'cancelling') RETURNING ${COLUMNS}`,
      [id],
    );
  }

  /** Ids of jobs owing work, untouched for at least `minAgeSeconds`, oldest first (the sweeper's list). */
  async owedIds(minAgeSeconds: number, limit: number, sql: Sql = this.db): Promise<string[]> {
    const rows = await runRows<{ id: string }>(
      sql,
      `SELECT id FROM report_job WHERE state IN ('queued', 'running', 'cancelling') AND updated_at <= now() - make_interval(secs => $1)
       ORDER BY created_at, id LIMIT $2`,
      [minAgeSeconds, limit],
    );
    return rows.map((r) => r.id);
  }
}
