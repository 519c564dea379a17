import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runCount, runOne, Sql } from '../../database/query-result';

/** What a request brings with its key: compared with the stored row on a repeat. */
export interface IdempotentRequest {
  tokenName: string;
  key: string;
  method: string;
  path: string;
  bodyHash: string;
}

export interface IdempotencyRow {
  method: string;
  path: string;
  body_hash: string;
  state: 'pending' | 'done';
  status: number | null;
  answer: string | null;
  content_type: string | null;
  location: string | null;
}

export interface StoredOutcome {
  status: number;
  answer: string;
  contentType: string | null;
  location: string | null;
}

/**
 * Every statement of `report_idempotency_key` (reports.md 1.8). Each runs on
 * its own (autocommit): the pending row must be visible to a repeat in
 * another process before the first call's handler starts, and no transaction
 * stays open while a handler runs (embedded PostgreSQL has one connection).
 */
@Injectable()
export class IdempotencyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Inserts the key `pending` for this call, or takes over a row that expired,
   * or a pending row of the same request whose call stopped answering (older
   * than `leaseSeconds`: its process died). True when this call owns the key.
   * ON CONFLICT waits for a concurrent insert of the same key, so exactly one
   * of two simultaneous calls wins.
   */
  async claim(request: IdempotentRequest, claim: string, ttlHours: number, leaseSeconds: number, sql: Sql = this.dataSource): Promise<boolean> {
    const row = await runOne<{ claim: string }>(
      sql,
      `INSERT INTO report_idempotency_key AS k (token_name, key, method, path, body_hash, state, claim, claimed_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6, now(), now() + make_interval(hours => $7))
       ON CONFLICT (token_name, key) DO UPDATE
         SET method = EXCLUDED.method, path = EXCLUDED.path, body_hash = EXCLUDED.body_hash, state = 'pending', claim = EXCLUDED.claim,
             status = NULL, answer = NULL, content_type = NULL, location = NULL, claimed_at = now(), expires_at = EXCLUDED.expires_at
         WHERE k.expires_at <= now()
            OR (k.state = 'pending' AND k.claimed_at < now() - make_interval(secs => $8)
                AND k.method = EXCLUDED.method AND k.path = EXCLUDED.path AND k.body_hash = EXCLUDED.body_hash)
       RETURNING k.claim`,
      [request.tokenName, request.key, request.method, request.path, request.bodyHash, claim, ttlHours, leaseSeconds],
    );
    return row?.claim === claim;
  }

  /** The key's row, unless it expired (then the next claim takes it over). */
  find(tokenName: string, key: string, sql: Sql = this.dataSource): Promise<IdempotencyRow | undefined> {
    return runOne<IdempotencyRow>(
      sql,
      `SELECT method, path, body_hash, state, status, answer, content_type, location
         FROM report_idempotency_key WHERE token_name = $1 AND key = $2 AND expires_at > now()`,
      [tokenName, key],
    );
  }

  /** Stores the first call's answer; nothing when the row is no longer this call's. */
  async complete(tokenName: string, key: string, claim: string, outcome: StoredOutcome, sql: Sql = this.dataSource): Promise<void> {
    await runCount(
      sql,
      `UPDATE report_idempotency_key SET state = 'done', status = $4, answer = $5, content_type = $6, location = $7
        WHERE token_name = $1 AND key = $2 AND claim = $3 AND state = 'pending'`,
      [tokenName, key, claim, outcome.status, outcome.answer, outcome.contentType, outcome.location],
    );
  }

  /** Forgets the key (the first call failed with an answer not worth keeping): a repeat runs again. */
  async release(tokenName: string, key: string, claim: string, sql: Sql = this.dataSource): Promise<void> {
    await runCount(sql, `DELETE FROM report_idempotency_key WHERE token_name = $1 AND key = $2 AND claim = $3 AND state = 'pending'`, [tokenName, key, claim]);
  }

  /** Deletes up to `limit` expired keys; returns how many. */
  prune(limit: number, sql: Sql = this.dataSource): Promise<number> {
    return runCount(
      sql,
      `DELETE FROM report_idempotency_key WHERE ctid IN (SELECT ctid FROM report_idempotency_key WHERE expires_at <= now() ORDER BY expires_at LIMIT $1)`,
      [limit],
    );
  }
}
