import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows, Sql } from '../database/query-result';
import { counterParams, CounterWrite, HoldingKey, UPDATE_COUNTERS } from './quota-holdings.repository';
import { LOG_COLUMNS, logArrays, LogEntry, logParams } from './quota-provision-log';

/** One provision to store with a pending commission. */
export interface ProvisionWrite {
  holdingId: string;
  quantity: number;
}

/** A commission row of the caller, locked for resolution, with one of its provisions (null columns for none). */
export interface LockedProvisionRow {
  serial: string;
  name: string;
  issue_time: Date;
  holding_id: string | null;
  quantity: string | null;
}

/**
 * Every SQL statement on quota_commission and quota_provision, and the
 * writes of the provision log (quotas.md 4.6–4.10, 5.7–5.9). Each step of
 * 5.2 is one statement: the counters (CTE `u`), the commission rows and the
 * log rows together.
 */
@Injectable()
export class QuotaCommissionsRepository {
  constructor(private readonly db: DataSource) {}

  /** Issue: counters, a serial from the shared sequence, the pending commission and its provisions in position order. */
  async insertPending(counters: CounterWrite[], clientKey: string, name: string, provisions: ProvisionWrite[], sql: Sql): Promise<string> {
    const row = await runOne<{ serial: string }>(
      sql,
      `WITH ${UPDATE_COUNTERS}, c AS (
         INSERT INTO quota_commission (serial, client_key, name) VALUES (nextval('quota_commission_serial_seq'), $4, $5) RETURNING serial
       ), p AS (
         INSERT INTO quota_provision (serial, position, holding_id, quantity)
         SELECT c.serial, v.position, v.holding_id, v.quantity
         FROM c, unnest($6::int[], $7::bigint[], $8::bigint[]) AS v(position, holding_id, quantity)
       )
       SELECT serial FROM c`,
      [...counterParams(counters), clientKey, name, provisions.map((_, i) => i), provisions.map((p) => p.holdingId), provisions.map((p) => p.quantity)],
    );
    return row!.serial;
  }

  /** Issue with auto_accept: counters, a serial, and only the log rows (never pending, 5.5). */
  async insertAccepted(counters: CounterWrite[], log: LogEntry[], sql: Sql): Promise<string> {
    const row = await runOne<{ serial: string }>(
      sql,
      `WITH ${UPDATE_COUNTERS}, s AS (SELECT nextval('quota_commission_serial_seq') AS serial),
       l AS (INSERT INTO quota_provision_log (serial, ${LOG_COLUMNS}) SELECT s.serial, v.* FROM s, unnest(${logArrays(4)}) AS v)
       SELECT serial FROM s`,
      [...counterParams(counters), ...logParams(log)],
    );
    return row!.serial;
  }

  /** The caller's pending serials, ascending. */
  async pendingSerials(clientKey: string, sql: Sql = this.db): Promise<string[]> {
    const rows = await runRows<{ serial: string }>(sql, `SELECT serial FROM quota_commission WHERE client_key = $1 ORDER BY serial`, [clientKey]);
    return rows.map((r) => r.serial);
  }

  /** One pending commission of the caller, or undefined. */
  find(clientKey: string, serial: number, sql: Sql = this.db): Promise<{ name: string; issue_time: Date } | undefined> {
    return runOne(sql, `SELECT name, issue_time FROM quota_commission WHERE client_key = $1 AND serial = $2`, [clientKey, serial]);
  }

  /** The provisions of a commission with their holding keys, in position order. */
  provisions(serial: number, sql: Sql = this.db): Promise<(HoldingKey & { quantity: string })[]> {
    return runRows(
      sql,
      `SELECT h.holder, h.source, h.resource, p.quantity FROM quota_provision p JOIN quota_holding h ON h.id = p.holding_id
       WHERE p.serial = $1 ORDER BY p.position`,
      [serial],
    );
  }

  /**
   * Locks the caller's commissions among these serials, in ascending serial,
   * first of all (5.9); their provisions come in the same statement.
   */
  lockForResolve(clientKey: string, serials: number[], sql: Sql): Promise<LockedProvisionRow[]> {
    return runRows<LockedProvisionRow>(
      sql,
      `SELECT c.serial, c.name, c.issue_time, p.holding_id, p.quantity
       FROM quota_commission c LEFT JOIN quota_provision p ON p.serial = c.serial
       WHERE c.client_key = $1 AND c.serial = ANY($2::bigint[])
       ORDER BY c.serial, p.position
       FOR UPDATE OF c`,
      [clientKey, serials],
    );
  }

  /** Resolve: counters, the commissions deleted (their provisions cascade), the log, in one statement. */
  async resolve(counters: CounterWrite[], serials: string[], log: LogEntry[], sql: Sql): Promise<void> {
    await runRows(
      sql,
      `WITH ${UPDATE_COUNTERS}, d AS (DELETE FROM quota_commission WHERE serial = ANY($4::bigint[]))
       INSERT INTO quota_provision_log (serial, ${LOG_COLUMNS})
       SELECT * FROM unnest($5::bigint[], ${logArrays(6)})`,
      [...counterParams(counters), serials, log.map((e) => e.serial), ...logParams(log)],
    );
  }
}
