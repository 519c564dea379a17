import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows, Sql } from '../../../database/query-result';
import { CellKey, keyArrays } from '../../rollups/rollup.repository';
import { dirtyCountSql } from '../../rollups/dirty-sql';

/** A period's state as the routes give it (reports.md 5.2). */
export type PeriodState = 'open' | 'closing' | 'closed';

/** A stored period row, its state made effective (a closing whose job was cancelled or failed is open again). */
export interface PeriodRow {
  /** `YYYY-MM-01`. */
  month: string;
  state: PeriodState;
  job_id: string | null;
  closed_at: string | null;
  closed_by: string | null;
}

/** What still keeps a closing period from its snapshot. */
export interface PendingRow {
  /** Dirty keys of the period's days. */
  dirty_keys: number;
  /** The day roll has not yet booked the period's last day. */
  unbooked: boolean;
  /** Seconds since `since`, by the database's clock. */
  waited_seconds: number;
}

/** An instant as the answers give it: UTC, milliseconds, `Z`. */
const UTC_MILLIS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/**
 * The effective state of a `report_period` row `p` joined to its job `j`: a
 * `closing` period whose close job was cancelled or failed before its
 * snapshot is open again (reports.md 5.2: a cancelled close leaves it open).
 */
const effectiveState = (p: string, j: string) => `CASE WHEN ${p}.state = 'closing' AND ${j}.state IN ('cancelled', 'failed') THEN 'open' ELSE ${p}.state END`;

/** The period (month) lock shared by whatever posts adjustments and taken alone by the snapshot. */
const monthLock = (m: string) => `hashtextextended('period' || chr(1) || ${m}, 7919)`;

/**
 * Periods, frozen cells and adjustment lines (reports.md 5.2, 5.3, I5):
 * every SQL statement of the periods work.
 */
@Injectable()
export class PeriodsRepository {
  constructor(private readonly db: DataSource) {}

  /** The period of `month` (`YYYY-MM-01`), or undefined when it has no row (open). */
  async find(month: string, sql: Sql = this.db): Promise<PeriodRow | undefined> {
    return runOne<PeriodRow>(
      sql,
      `SELECT p.month::text AS month, ${effectiveState('p', 'j')} AS state, p.job_id,
              to_char(p.closed_at AT TIME ZONE 'UTC', ${UTC_MILLIS}) AS closed_at,
              CASE WHEN p.state = 'closed' THEN j.created_by END AS closed_by
       FROM report_period p LEFT JOIN report_job j ON j.id = p.job_id
       WHERE p.month = $1::date`,
      [month],
    );
  }

  /** The periods with a row among `months`, effective states. */
  async findMany(months: string[], sql: Sql = this.db): Promise<PeriodRow[]> {
    if (months.length === 0) return [];
    return runRows<PeriodRow>(
      sql,
      `SELECT p.month::text AS month, ${effectiveState('p', 'j')} AS state, p.job_id,
              to_char(p.closed_at AT TIME ZONE 'UTC', ${UTC_MILLIS}) AS closed_at,
              CASE WHEN p.state = 'closed' THEN j.created_by END AS closed_by
       FROM report_period p LEFT JOIN report_job j ON j.id = p.job_id
       WHERE p.month = ANY($1::date[])`,
      [months],
    );
  }

  /**
   * State, close and automatic close of each month of `months` (`YYYY-MM-01`)
   * for GET /reports/periods (reports.md 3.4): `auto_close_at` is the start
   * of the local day `autoCloseDays` days after the month's last day, null
   * when the automatic close is off (0) or the period is closed.
   */
  async describe(months: string[], autoCloseDays: number, zone: string, sql: Sql = this.db): Promise<(PeriodRow & { auto_close_at: string | null })[]> {
    if (months.length === 0) return [];
    return runRows(
      sql,
      `SELECT m.month::text AS month, coalesce(${effectiveState('p', 'j')}, 'open') AS state, p.job_id,
              to_char(p.closed_at AT TIME ZONE 'UTC', ${UTC_MILLIS}) AS closed_at,
              CASE WHEN p.state = 'closed' THEN j.created_by END AS closed_by,
              CASE WHEN $2::int > 0 AND p.state IS DISTINCT FROM 'closed'
                   THEN to_char(report_day_start((m.month + interval '1 month')::date + $2::int, $3::text) AT TIME ZONE 'UTC', ${UTC_MILLIS}) END AS auto_close_at
       FROM unnest($1::date[]) AS m(month)
       LEFT JOIN report_period p ON p.month = m.month
       LEFT JOIN report_job j ON j.id = p.job_id`,
      [months, autoCloseDays, zone],
    );
  }

  /** Serialises every change of a period's state (the close route, the automatic close) to the transaction's end. */
  async lockPeriods(sql: Sql): Promise<void> {
    await sql.query(`SELECT pg_advisory_xact_lock(hashtextextended('report_period', 7919))`);
  }

  /**
   * Marks `month` closing for job `jobId` (a new row, or the row of an open
   * period: a closing whose job ended without a snapshot). Call under
   * `lockPeriods` after `find` said it is open.
   */
  async startClosing(month: string, jobId: string, sql: Sql): Promise<void> {
    await sql.query(
      `INSERT INTO report_period (month, state, job_id, closing_since, closed_at) VALUES ($1::date, 'closing', $2, now(), NULL)
       ON CONFLICT (month) DO UPDATE SET state = 'closing', job_id = excluded.job_id, closing_since = now(), closed_at = NULL`,
      [month, jobId],
    );
  }

  /**
   * The start instant of local day `day` in `zone`, and whether it is
   * already past (a period has ended when the start of the next month is).
   */
  async dayStart(day: string, zone: string, sql: Sql = this.db): Promise<{ start: string; past: boolean }> {
    const row = await runOne<{ start: string; past: boolean }>(
      sql,
      `SELECT to_char(report_day_start($1::date, $2::text) AT TIME ZONE 'UTC', ${UTC_MILLIS}) AS start, report_day_start($1::date, $2::text) <= now() AS past`,
      [day, zone],
    );
    return row!;
  }

  /** What keeps the period [month, next) from its snapshot: its dirty keys (and days of dirty ranges), and an unbooked last day. */
  async pending(month: string, next: string, since: string, sql: Sql): Promise<PendingRow> {
    const row = await runOne<PendingRow>(
      sql,
      `SELECT ${dirtyCountSql({ lo: '$1::date', hi: '$2::date - 1', where: () => '' })}::int AS dirty_keys,
              coalesce((SELECT c.booked_day < $2::date FROM report_clock c WHERE c.id = 1), true) AS unbooked,
              greatest(0, floor(extract(epoch FROM clock_timestamp() - $3::timestamptz)))::int AS waited_seconds`,
      [month, next, since],
    );
    return row!;
  }

  /** The database's clock now, as an instant string (the start of a close job's wait). */
  async now(sql: Sql = this.db): Promise<string> {
    const row = await runOne<{ now: string }>(sql, `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`);
    return row!.now;
  }

  /**
   * Takes the month locks of `months` shared (sorted): whatever recomputes
   * cells of those months and then posts adjustments holds them to its
   * commit, so the snapshot (which takes one exclusively) sees either none
   * of its changes or all of them.
   */
  async lockMonthsShared(months: string[], sql: Sql): Promise<void> {
    const sorted = [...new Set(months)].sort();
    if (sorted.length === 0) return;
    await sql.query(`SELECT pg_advisory_xact_lock_shared(${monthLock('m')}) FROM (SELECT m FROM unnest($1::text[]) AS u(m) ORDER BY m COLLATE "C") s`, [sorted]);
  }

  /** Which of `months` (`YYYY-MM-01`) are closed. */
  async closedAmong(months: string[], sql: Sql): Promise<string[]> {
    if (months.length === 0) return [];
    const rows = await runRows<{ month: string }>(sql, `SELECT month::text AS month FROM report_period WHERE month = ANY($1::date[]) AND state = 'closed'`, [[...new Set(months)]]);
    return rows.map((r) => r.month);
  }

  /** The month lock of `month`, exclusively (the snapshot). */
  async lockMonthExclusive(month: string, sql: Sql): Promise<void> {
    await sql.query(`SELECT pg_advisory_xact_lock(${monthLock('$1::text')})`, [month]);
  }

  /**
   * The snapshot of a closing period (reports.md 5.2), in the caller's
   * transaction: frozen copies of every live usage day cell (price list
   * '') and every live rated day cell (per list, with the item that rated
   * it) of the days [month, next), and the period closed. Answers the cells frozen.
   */
  async snapshot(month: string, next: string, sql: Sql): Promise<{ usage: number; rated: number }> {
    const usage = await inserted(
      sql,
      `INSERT INTO report_closed_cell (month, project_id, site, day, meter, key, subkey, price_list_id, currency, quantity, cost)
       SELECT $1::date, c.project_id, c.site, c.day, c.meter, c.key, c.subkey, '', NULL, c.quantity, NULL
       FROM report_usage_day_cell c WHERE c.day >= $1::date AND c.day < $2::date
       RETURNING 1`,
      [month, next],
    );
    const rated = await inserted(
      sql,
      `INSERT INTO report_closed_cell (month, project_id, site, day, meter, key, subkey, price_list_id, currency, quantity, cost, item_id)
       SELECT $1::date, r.project_id, r.site, r.day, r.meter, r.key, r.subkey, r.price_list_id, r.currency, r.quantity, r.cost, r.item_id
       FROM report_rated_day_cell r WHERE r.day >= $1::date AND r.day < $2::date AND r.superseded_by IS NULL
       RETURNING 1`,
      [month, next],
    );
    await sql.query(`UPDATE report_period SET state = 'closed', closed_at = now() WHERE month = $1::date`, [month]);
    return { usage, rated };
  }

  /**
   * Adjustment lines for the cells of `keys` in closed periods (reports.md
   * 5.3, I5), in one statement: per cell (meter, key, subkey; per price list
   * for cost) the live figure (the usage day cell; the live rated day cell)
   * minus frozen + Σ the lines posted so far; one line per cell that
   * differs. Recomputed from current state, so a repeat posts nothing.
   * `posted_in_period` is the month of now in the accounting zone. Late
   * data (`late_data`) on a day an active backfill window covers (5.4) is
   * posted with cause `backfill`: the window is what let it in. A cost
   * line names the item of the live rated cell (`item_id`) and that of the
   * figures it corrects (`prior_item_id`: the latest line's, else the
   * frozen cell's), so a report row can say whether one item rated it (3.1).
   */
  async postAdjustments(keys: CellKey[], cause: string, jobId: string | null, sql: Sql): Promise<number> {
    if (keys.length === 0) return 0;
    const cell = ['project_id', 'site', 'day', 'meter', 'key', 'subkey', 'price_list_id'];
    const on = cell.map((c) => `l.${c} = b.${c}`).join(' AND ');
    const pick = cell.map((c) => `coalesce(l.${c}, b.${c}) AS ${c}`).join(', ');
    return inserted(
      sql,
      `WITH k AS (
         SELECT DISTINCT u.project_id, u.site, u.day
         FROM unnest($1::text[], $2::text[], $3::date[]) AS u(project_id, site, day)
         JOIN report_period p ON p.month = date_trunc('month', u.day)::date AND p.state = 'closed'
       ),
       live AS (
         SELECT c.project_id, c.site, c.day, c.meter, c.key, c.subkey, ''::text AS price_list_id, NULL::text AS currency, c.quantity, NULL::numeric AS cost, NULL::text AS item_id
         FROM report_usage_day_cell c JOIN k ON c.project_id = k.project_id AND c.site = k.site AND c.day = k.day
         UNION ALL
         SELECT r.project_id, r.site, r.day, r.meter, r.key, r.subkey, r.price_list_id, r.currency, r.quantity, r.cost, r.item_id
         FROM report_rated_day_cell r JOIN k ON r.project_id = k.project_id AND r.site = k.site AND r.day = k.day
         WHERE r.superseded_by IS NULL
       ),
       booked AS (
         SELECT f.project_id, f.site, f.day, f.meter, f.key, f.subkey, f.price_list_id, f.currency, f.quantity, f.cost, f.item_id, 0::bigint AS seq
         FROM report_closed_cell f JOIN k ON f.project_id = k.project_id AND f.site = k.site AND f.day = k.day
         UNION ALL
         SELECT a.project_id, a.site, a.day, a.meter, a.key, a.subkey, a.price_list_id, a.currency, a.quantity_delta, a.cost_delta, a.item_id, a.id
         FROM report_adjustment_line a JOIN k ON a.project_id = k.project_id AND a.site = k.site AND a.day = k.day
       ),
       b AS (
         SELECT project_id, site, day, meter, key, subkey, price_list_id, max(currency) AS currency, sum(quantity) AS quantity, sum(cost) AS cost,
                (array_agg(item_id ORDER BY seq DESC))[1] AS item_id
         FROM booked GROUP BY 1, 2, 3, 4, 5, 6, 7
       ),
       d AS (
         SELECT ${pick}, coalesce(l.currency, b.currency) AS currency,
                coalesce(l.quantity, 0) - coalesce(b.quantity, 0) AS dq,
                CASE WHEN coalesce(l.price_list_id, b.price_list_id) = '' THEN NULL ELSE coalesce(l.cost, 0) - coalesce(b.cost, 0) END AS dc,
                l.item_id, b.item_id AS prior_item_id
         FROM live l FULL JOIN b ON ${on}
       )
       INSERT INTO report_adjustment_line (applies_to_period, day, posted_in_period, project_id, site, meter, key, subkey, price_list_id, currency, quantity_delta, cost_delta, cause, job_id, item_id, prior_item_id)
       SELECT date_trunc('month', d.day)::date, d.day, date_trunc('month', report_local_day(now(), c.time_zone))::date,
              d.project_id, d.site, d.meter, d.key, d.subkey, d.price_list_id, d.currency, d.dq, d.dc,
              CASE WHEN $4::text = 'late_data' AND EXISTS (
                     SELECT 1 FROM report_backfill bf WHERE bf.start_day <= d.day AND bf.end_day > d.day AND bf.expires_at > now()
                   ) THEN 'backfill' ELSE $4::text END,
              $5::text, d.item_id, d.prior_item_id
       FROM d CROSS JOIN report_clock c
       WHERE c.id = 1 AND (d.dq <> 0 OR coalesce(d.dc, 0) <> 0)
       ORDER BY d.project_id, d.site, d.day, d.meter, d.key, d.subkey, d.price_list_id
       RETURNING 1`,
      [...keyArrays(keys), cause, jobId],
    );
  }

  /**
   * Months due for the automatic close (reports.md 5.2): months of `zone`
   * from the first with a usage cell up to the last one that ended at least
   * `days` days ago (the start of the local day `days` days after its last
   * day is past), that are open.
   */
  async dueForAutoClose(days: number, zone: string, sql: Sql): Promise<string[]> {
    const rows = await runRows<{ month: string }>(
      sql,
      `WITH first AS (SELECT min(month) AS m FROM report_usage_month_cell),
       months AS (
         SELECT g.m::date AS month
         FROM first, generate_series(first.m::timestamp, date_trunc('month', report_local_day(now(), $2::text))::timestamp, interval '1 month') AS g(m)
         WHERE first.m IS NOT NULL
           AND report_day_start((g.m + interval '1 month')::date + $1::int, $2::text) <= now()
       )
       SELECT m.month::text AS month FROM months m
       LEFT JOIN report_period p ON p.month = m.month
       LEFT JOIN report_job j ON j.id = p.job_id
       WHERE p.month IS NULL OR ${effectiveState('p', 'j')} = 'open'
       ORDER BY m.month`,
      [days, zone],
    );
    return rows.map((r) => r.month);
  }
}

/**
 * Runs an `INSERT … RETURNING 1` as the body of a CTE and answers how many
 * rows it inserted (one number back, not one row per insert).
 */
async function inserted(sql: Sql, insert: string, params: unknown[]): Promise<number> {
  const row = await runOne<{ n: number }>(sql, `WITH ins AS (${insert}) SELECT count(*)::int AS n FROM ins`, params);
  return row!.n;
}
