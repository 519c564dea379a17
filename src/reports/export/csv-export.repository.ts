import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { types } from 'pg';
import Cursor from 'pg-cursor';
import { DataSource, QueryRunner } from 'typeorm';
import { isConnectionLoss } from '../../http/connection-loss';

/**
 * Rows of one export, read in batches from a server-side cursor on one
 * dedicated connection inside one `REPEATABLE READ READ ONLY` transaction
 * (reports.md 1.7): the whole file is one snapshot while ingest continues.
 */
export interface SnapshotCursor {
  /** The next rows, at most `max`; fewer than `max` means the result is exhausted. */
  read(max: number): Promise<Record<string, unknown>[]>;
  /**
   * Ends the transaction and gives the connection back; a connection that
   * failed (lost, or in an unknown state) is dropped from the pool instead.
   * Idempotent; waits for a read in flight first. Never throws.
   */
  close(failure?: unknown): Promise<void>;
}

const DATE_OID = 1082;
const TIMESTAMP_OID = 1114;

/**
 * node-postgres's parsers, but a `date` stays its `YYYY-MM-DD` text (the
 * default makes a local-midnight Date of it, which would shift the day) and
 * a `timestamp` without zone is read as UTC. `numeric` and `bigint` are
 * already text; `timestamptz` is a Date.
 */
const EXPORT_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === DATE_OID) return (text: string) => text;
    if (oid === TIMESTAMP_OID) return (text: string) => new Date(`${text.replace(' ', 'T')}Z`);
    return types.getTypeParser(oid, format ?? 'text');
  },
};

/** The statements of an export; the SQL of the rows is the caller's (a report repository). */
const BEGIN_SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

@Injectable()
export class CsvExportRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Takes a connection of its own from the pool, opens the snapshot and
   * starts the cursor. On embedded PostgreSQL (one connection) this holds
   * the database until `close` (reports.md 7.6 accepts it); nothing else of
   * the export may use the DataSource meanwhile.
   */
  async openSnapshot(text: string, params: readonly unknown[], settings: Readonly<Record<string, string>> = {}): Promise<SnapshotCursor> {
    const runner = this.dataSource.createQueryRunner();
    let client: PoolClient;
    try {
      client = (await runner.connect()) as PoolClient;
      await client.query(BEGIN_SNAPSHOT);
      // Settings of this transaction only (`SET LOCAL`), such as jit = off for a report's statement.
      for (const [name, value] of Object.entries(settings)) await client.query('SELECT set_config($1, $2, true)', [name, value]);
    } catch (error) {
      await dropConnection(runner, error);
      throw error;
    }
    const cursor = client.query(new Cursor(text, [...params], { types: EXPORT_TYPES }));
    let inFlight: Promise<unknown> = Promise.resolve();
    // A cursor that failed has already ended its statement (pg-cursor sent
    // Sync); closing it would wait for a second ReadyForQuery that never comes.
    let cursorFailed = false;
    let closed: Promise<void> | undefined;
    return {
      read(max: number) {
        if (closed) return Promise.reject(new Error('the export cursor is closed'));
        const batch = cursor.read(max) as Promise<Record<string, unknown>[]>;
        inFlight = batch.catch(() => {
          cursorFailed = true;
        });
        return batch;
      },
      close(failure?: unknown) {
        closed ??= (async () => {
          await inFlight;
          if (failure !== undefined && isConnectionLoss(failure)) return dropConnection(runner, failure);
          try {
            if (!cursorFailed) await cursor.close();
            await client.query('ROLLBACK');
            await runner.release();
          } catch (error) {
            await dropConnection(runner, error);
          }
        })();
        return closed;
      },
    };
  }
}

/** Gives the connection back marked broken: the pool closes it instead of reusing it. */
async function dropConnection(runner: QueryRunner, error: unknown): Promise<void> {
  const release = (runner as unknown as { releasePostgresConnection?(error?: unknown): Promise<void> }).releasePostgresConnection;
  try {
    if (release) await release.call(runner, error instanceof Error ? error : new Error(String(error)));
    else await runner.release();
  } catch {
    // Already released (the pool saw the connection fail first).
  }
}
