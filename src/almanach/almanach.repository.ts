import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { escapeLiteral } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { AuthError, TOKEN_UNKNOWN } from '../auth/auth.errors';
import { tokenStoredSql } from '../auth/auth.repository';
import { StatementCredential } from '../auth/statement-credential';
import { transactionBegunWith } from '../database/begun-with';
import { DomainError } from '../http/domain-error';
import { runPrepared, runPreparedCount } from '../database/prepared';
import { runCount, runOne, runRows, Sql } from '../database/query-result';
import { Micros, toSqlTimestamp } from './almanach-dates';
import { ImageMeta, Version } from './almanach-version';
import { EntityType } from './entity-version.entity';

const TABLE = 'almanach_entity_version';
const TALLY = 'almanach_version_tally';
const FLOOR = 'almanach_version_floor';
/** Listings tried with floors that turn out stale before the one-snapshot fallback (listWindow). */
const ATTEMPTS = 3;
/** The longest window listWindow lists first with its own months (62 days in µs: a month's bill and its edges). */
const GUESSED_SPAN = 62n * 86_400_000_000n;
/**
 * A listing reading at most this many ranges of months runs prepared
 * (readWindow). Its generic plan with the values' statement holds about
 * 130 KB of the backend's memory for one range, 400 KB for six, 1.3 MB for
 * eighteen (PostgreSQL 15): the rare listing of many months is planned on
 * each call instead, and keeps nothing.
 */
const PREPARED_RANGES = 4;

/** Exact microseconds of a timestamptz expression, as text (pg returns bigint as text). */
const microsOf = (expression: string) => `(floor(extract(epoch FROM ${expression}) * 1000000))::bigint::text`;
/** The same of a column. */
const micros = (column: string) => microsOf(`"${column}"`);

const COLUMNS = `id::text AS id, entity_id, entity_type, project_id,
  ${micros('start')} AS start_us, ${micros('end')} AS end_us, ${micros('last_event')} AS last_event_us,
  ${micros('processed')} AS processed_us, name, flavor, image_meta, metadata, volume_type, size, attached_to`;

interface Row {
  id: string;
  entity_id: string;
  entity_type: EntityType;
  project_id: string;
  start_us: string;
  end_us: string | null;
  last_event_us: string;
  processed_us: string;
  name: string | null;
  flavor: string | null;
  image_meta: ImageMeta | null;
  metadata: Record<string, unknown> | null;
  volume_type: string | null;
  size: number | null;
  attached_to: string[] | null;
}

function toVersion(row: Row): Version {
  return {
    id: row.id,
    entityId: row.entity_id,
    entityType: row.entity_type,
    projectId: row.project_id,
    start: BigInt(row.start_us),
    end: row.end_us === null ? null : BigInt(row.end_us),
    lastEvent: BigInt(row.last_event_us),
    processed: BigInt(row.processed_us),
    name: row.name,
    flavor: row.flavor,
    imageMeta: row.image_meta ?? {},
    metadata: row.metadata ?? {},
    volumeType: row.volume_type,
    size: row.size,
    attachedTo: row.attached_to ?? [],
  };
}

/** SQL text on one line, each run of white space one space (no literal in these texts holds two spaces or a line break). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ');
}

/**
 * A version's wire shape (almanach-v1.md 3.2 and 3.3) built by PostgreSQL,
 * as `versionToWire` builds it from a Version: the same keys, in the same
 * order, and the same values (almanach-wire.e2e holds the two together).
 */
const WIRE = oneLine(`CASE WHEN entity_type = 'instance' THEN json_build_object(
    'entity_id', entity_id, 'entity_type', entity_type, 'project_id', project_id,
    'start', d.s, 'end', d.e, 'last_event', d.l,
    'name', name, 'flavor', flavor, 'image_meta', coalesce(image_meta, '{}'), 'os', coalesce(image_meta, '{}'),
    'metadata', coalesce(metadata, '{}'), 'processed', d.p)
  ELSE json_build_object(
    'entity_id', entity_id, 'entity_type', entity_type, 'project_id', project_id,
    'start', d.s, 'end', d.e, 'last_event', d.l, 'processed', d.p,
    'name', name, 'volume_type', volume_type, 'size', size, 'attached_to', coalesce(to_json(attached_to), '[]'))
  END`);
/** The four dates WIRE reads (as d), from the version's row, as formatAlmanachDate writes them (migration 1763802060000). */
const WIRE_DATES = oneLine(`LATERAL (SELECT almanach_wire_date(start) AS s, almanach_wire_date("end") AS e,
  almanach_wire_date(last_event) AS l, almanach_wire_date(processed) AS p) AS d`);

/** The SQLSTATE of almanach_lock_open(entity, after, token_hash) for a token no longer stored (migration 1763802070000). */
const TOKEN_NOT_STORED = 'UL401';

/** The window listing's statement (windowListing), and how many ranges of months it reads. */
export interface WindowStatement {
  text: string;
  params: unknown[];
  ranges: number;
}

/** A month of version ends [lo, hi) of a project, and a time at or before the start of each of its closed versions. */
export interface Floor {
  lo: Micros;
  hi: Micros;
  minStart: Micros;
}

/**
 * A project's month floors ($1), the lowest per month (almanach_version_floor), as one text: `lo,hi,minStart`
 * in microseconds, months by lo and hi, `;` between them; NULL for none (parseFloors).
 */
const FLOORS_TEXT = oneLine(`(SELECT string_agg(${micros('lo')} || ',' || ${micros('hi')} || ',' || ${microsOf('g.min_start')}, ';' ORDER BY lo, hi)
  FROM (SELECT lo, hi, min(min_start) AS min_start FROM ${FLOOR} WHERE project_id = $1 GROUP BY lo, hi) AS g)`);

function parseFloors(text: string | null): Floor[] {
  if (!text) return [];
  return text.split(';').map((month) => {
    const [lo, hi, minStart] = month.split(',');
    return { lo: BigInt(lo), hi: BigInt(hi), minStart: BigInt(minStart) };
  });
}

/**
 * The listing of [start, end] given a project's floors: versions of the open
 * partition and of the months whose floor is at or before the window's end
 * and that end after its start (adjacent months merged), in start order, as
 * the answer's JSON text (`body`: an array of each version's wire shape,
 * built by PostgreSQL: parsing rows into objects and writing them out again
 * was most of the API's work per listing), and `stale`: whether this
 * snapshot holds a floor of the window that those months do not cover (then
 * the floors given were out of date). One row.
 *
 * The months' bounds are literals in the text, the project, the window and
 * the type parameters: listWindow runs it prepared, and the generic plan
 * PostgreSQL keeps after five runs prunes to those months at plan time (a
 * parameter there would leave every month in it). One text per set of
 * months: a connection keeps as many as runPrepared's bound of `varied`
 * statements allows, and only those of few months (PREPARED_RANGES).
 */
export function windowListing(
  projectId: string,
  start: Micros,
  end: Micros,
  type: EntityType | undefined,
  floors: Floor[],
  credential?: string,
  withFloors = false,
): WindowStatement {
  const params: unknown[] = [projectId, toSqlTimestamp(start), toSqlTimestamp(end)];
  const ends = [`coalesce("end", 'infinity') = 'infinity'`];
  const covered = ['false'];
  for (const [lo, hi] of mergeRanges(floors.filter((f) => f.minStart <= end && f.hi > start).map((f) => [f.lo, f.hi]))) {
    // Literals, not parameters: the plan PostgreSQL keeps for the prepared statement then reads only these months.
    const [a, b] = [`${escapeLiteral(toSqlTimestamp(lo))}::timestamptz`, `${escapeLiteral(toSqlTimestamp(hi))}::timestamptz`];
    ends.push(`(coalesce("end", 'infinity') >= ${a} AND coalesce("end", 'infinity') < ${b})`);
    covered.push(`(f.lo >= ${a} AND f.hi <= ${b})`);
  }
  if (type) params.push(type);
  const typeParam = params.length;
  // A token taken from memory (AccessRule checkedByStatement), confirmed in this round trip.
  if (credential !== undefined) params.push(credential);
  return {
    text: `SELECT s.stale, ${credential !== undefined ? tokenStoredSql(`$${params.length}`) : 'true'} AS token_stored, coalesce(v.body, '[]') AS body,
         ${withFloors ? FLOORS_TEXT : 'NULL::text'} AS floors FROM (
         SELECT EXISTS (
           SELECT 1 FROM ${FLOOR} f
           WHERE f.project_id = $1 AND f.min_start <= $3::timestamptz AND f.hi > $2::timestamptz AND NOT (${covered.join(' OR ')})
         ) AS stale
       ) AS s
       CROSS JOIN LATERAL (
         SELECT json_agg(${WIRE} ORDER BY start, id)::text AS body FROM ${TABLE}, ${WIRE_DATES}
         WHERE project_id = $1 AND start <= $3::timestamptz AND coalesce("end", 'infinity') >= $2::timestamptz
           AND (${ends.join(' OR ')})
           ${type ? `AND entity_type = $${typeParam}` : ''}
       ) AS v`,
    params,
    ranges: ends.length - 1,
  };
}

/** Ranges [lo, hi) sorted by lo, overlapping or touching ones merged. */
export function mergeRanges(ranges: [Micros, Micros][]): [Micros, Micros][] {
  const merged: [Micros, Micros][] = [];
  for (const [lo, hi] of ranges) {
    const last = merged[merged.length - 1];
    if (last && lo <= last[1]) last[1] = hi > last[1] ? hi : last[1];
    else merged.push([lo, hi]);
  }
  return merged;
}

export type NewVersion = Omit<Version, 'id' | 'processed' | 'end'> & { end?: Micros | null };

/** The columns insert writes, and their values from insertParams ($1-$13, each typed: insert's VALUES and closeAndInsert's SELECT alike). */
const INSERT_COLUMNS = `entity_id, entity_type, project_id, start, "end", last_event, processed, name, flavor,
  image_meta, metadata, volume_type, size, attached_to`;
const INSERT_VALUES = `$1::text, $2::text, $3::text, $4::timestamptz, $5::timestamptz, $6::timestamptz, now(), $7::text, $8::text,
  $9::jsonb, $10::jsonb, $11::text, $12::int, $13::text[]`;

function insertParams(v: NewVersion): unknown[] {
  return [
    v.entityId,
    v.entityType,
    v.projectId,
    toSqlTimestamp(v.start),
    v.end == null ? null : toSqlTimestamp(v.end),
    toSqlTimestamp(v.lastEvent),
    v.name,
    v.flavor,
    v.entityType === 'instance' ? JSON.stringify(v.imageMeta) : null,
    v.entityType === 'instance' ? JSON.stringify(v.metadata) : null,
    v.volumeType,
    v.size,
    v.entityType === 'volume' ? v.attachedTo : null,
  ];
}

/**
 * Every SQL statement on Almanach versions (almanach_entity_version). Each
 * method takes the caller's transaction (`sql`, an EntityManager) as its last
 * argument: embedded PGlite serves one connection at a time while a
 * transaction is open, so a write must run all its statements on it.
 */
@Injectable()
export class AlmanachRepository {
  /** Each project's month floors as last read (listWindow), about 100,000 months in all at most. */
  private readonly floors = new LRUCache<string, Floor[]>({ max: 20_000, maxSize: 100_000, sizeCalculation: (f) => Math.max(1, f.length) });
  /** windowMonths per window (`start:end`): a billing run lists every project over the same one. */
  private readonly months = new LRUCache<string, Floor[]>({ max: 1_000 });

  constructor(private readonly db: DataSource) {}

  /** Serialises every write to one key (an entity id, or `volume_type:<id>`) for the rest of the transaction. */
  async lockEntity(key: string, sql: Sql = this.db): Promise<void> {
    await runPrepared(sql, 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
  }

  async findOpen(entityId: string, sql: Sql = this.db): Promise<Version | null> {
    const [row] = await runPrepared<Row>(sql, `SELECT ${COLUMNS} FROM ${TABLE} WHERE entity_id = $1 AND coalesce("end", 'infinity') = 'infinity'`, [entityId]);
    return row ? toVersion(row) : null;
  }

  /**
   * An Almanach write's transaction (migration 1763802050000), begun in one
   * round trip with its first step (transactionBegunWith): the entity's lock
   * (as lockEntity), then, in a snapshot taken after it, the entity's open
   * version; with `after` (a create) and no open version, its version of
   * latest end if that end is after `after` (almanach-v1.md 5.14), read only
   * in the partitions of such ends; else null. `work` gets that version.
   * Replaces a START TRANSACTION, lockEntity, findOpen and a create's
   * later-end check: four round trips before, one now.
   */
  async inEntityTransaction<T>(
    entityId: string,
    after: Micros | null,
    work: (m: EntityManager, found: Version | null) => Promise<T>,
    credential?: StatementCredential,
  ): Promise<T> {
    const at = after === null ? 'NULL' : escapeLiteral(toSqlTimestamp(after));
    // A token taken from memory (AccessRule checkedByStatement) is confirmed by the same call, once it holds the
    // lock (migration 1763802070000: SQLSTATE UL401 when it is no longer stored).
    const token = credential === undefined ? '' : `, ${escapeLiteral(credential.hash)}`;
    try {
      return await transactionBegunWith<T, Row>(this.db, `SELECT ${COLUMNS} FROM almanach_lock_open(${escapeLiteral(entityId)}, ${at}::timestamptz${token})`, (m, rows) => {
        credential?.confirmed();
        return work(m, rows[0] ? toVersion(rows[0]) : null);
      });
    } catch (error) {
      if (credential !== undefined && (error as { code?: unknown }).code === TOKEN_NOT_STORED) {
        credential.revoked();
        throw new DomainError(AuthError.Unauthorized, TOKEN_UNKNOWN);
      }
      throw error;
    }
  }

  async countVersions(entityId: string, sql: Sql = this.db): Promise<number> {
    const row = await runOne<{ n: number }>(sql, `SELECT count(*)::int AS n FROM ${TABLE} WHERE entity_id = $1`, [entityId]);
    return row?.n ?? 0;
  }

  async insert(v: NewVersion, sql: Sql = this.db): Promise<void> {
    await runPreparedCount(sql, `INSERT INTO ${TABLE} (${INSERT_COLUMNS}) VALUES (${INSERT_VALUES})`, insertParams(v));
  }

  /** Closes an open version at `date` (end = last_event = date); the row moves from the open partition to its month's. */
  async close(id: string, date: Micros, sql: Sql = this.db): Promise<void> {
    const sqlText = `UPDATE ${TABLE} SET "end" = $2::timestamptz, last_event = $2::timestamptz, processed = now()
       WHERE id = $1 AND coalesce("end", 'infinity') = 'infinity'`;
    const closed = await runPreparedCount(sql, sqlText, [id, toSqlTimestamp(date)]);
    if (closed !== 1) throw new Error(`version ${id} is not open inside its own transaction`);
  }

  /**
   * close(id, date), then insert(next), in one statement (one round trip):
   * the successor is inserted only from the row the close returned. The
   * unique index on open versions sees the closed row as deleted by this
   * transaction, so the successor takes its place in the same statement.
   */
  async closeAndInsert(id: string, date: Micros, next: NewVersion, sql: Sql = this.db): Promise<void> {
    const inserted = await runPreparedCount(
      sql,
      `WITH closed AS (
         UPDATE ${TABLE} SET "end" = $15::timestamptz, last_event = $15::timestamptz, processed = now()
         WHERE id = $14::bigint AND coalesce("end", 'infinity') = 'infinity' RETURNING id
       )
       INSERT INTO ${TABLE} (${INSERT_COLUMNS}) SELECT ${INSERT_VALUES} FROM closed`,
      [...insertParams(next), id, toSqlTimestamp(date)],
    );
    if (inserted !== 1) throw new Error(`version ${id} is not open inside its own transaction`);
  }

  async remove(id: string, sql: Sql = this.db): Promise<void> {
    await runCount(sql, `DELETE FROM ${TABLE} WHERE id = $1`, [id]);
  }

  /** Rewrites the mutable fields of one version in place and answers it as stored. */
  async save(v: Version, sql: Sql = this.db): Promise<Version> {
    const row = await runOne<Row>(
      sql,
      `UPDATE ${TABLE} SET start = $2::timestamptz, "end" = $3::timestamptz, last_event = $4::timestamptz, processed = now(),
         name = $5, flavor = $6, image_meta = $7::jsonb, metadata = $8::jsonb, attached_to = $9::text[]
       WHERE id = $1
       RETURNING ${COLUMNS}`,
      [
        v.id,
        toSqlTimestamp(v.start),
        v.end === null ? null : toSqlTimestamp(v.end),
        toSqlTimestamp(v.lastEvent),
        v.name,
        v.flavor,
        v.entityType === 'instance' ? JSON.stringify(v.imageMeta) : null,
        v.entityType === 'instance' ? JSON.stringify(v.metadata) : null,
        v.entityType === 'volume' ? v.attachedTo : null,
      ],
    );
    if (!row) throw new Error(`version ${v.id} vanished inside its own transaction`);
    return toVersion(row);
  }

  /**
   * Every version of a project overlapping [start, end], both inclusive
   * (almanach-v1.md 5.6), as the answer's JSON text (an array of wire shapes
   * in start order, windowListing): the versions of the open partition and of the
   * months of version ends that may hold one (almanach_version_floor), so the
   * planner reads no other month.
   *
   * The project's floors are kept per process (LRU). A project not held,
   * over a window of GUESSED_SPAN at most, is first listed with the window's
   * own months (windowMonths) by a statement that also returns its floors,
   * which are kept: one round trip, and the floors of its next listings. The
   * one statement that lists also says whether its own snapshot holds a
   * floor of the window that the months read do not cover; if so the listing
   * runs again with the floors (read again if that answer is stale too;
   * three attempts with floors in all), then floors and listing run in one REPEATABLE
   * READ snapshot, where they cannot disagree. An answer is therefore always
   * that of one snapshot: every closed version visible there has a floor
   * visible there (written in its transaction), and a floor covered by the
   * months read means its version's month was read. With `sql` (a caller's
   * transaction) the floors are read in it, never from the cache, with the
   * same check: in READ COMMITTED a write can commit between the two
   * statements, and three stale answers in a row are an error.
   */
  async listWindow(projectId: string, start: Micros, end: Micros, type?: EntityType, sql?: Sql, credential?: StatementCredential): Promise<string> {
    // The guess is right whenever no version of the window ended in a later month, and its floors come in the same
    // round trip (a billing run lists every project once; a project listed again, as a window without `end` is a
    // new window on each call, finds them held). A longer window reads the floors first: they prune it to the
    // project's own months, where the window's months could be many partitions.
    if (!sql && end - start <= GUESSED_SPAN && !this.floors.has(projectId)) {
      const guess = await this.listWith(projectId, start, end, type, await this.windowMonths(start, end), this.db, credential, true);
      this.floors.set(projectId, guess.floors!);
      if (guess.json !== undefined) return guess.json;
    }
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      let floors = sql ? undefined : this.floors.get(projectId);
      if (!floors) {
        floors = await this.readFloors(projectId, sql ?? this.db);
        if (!sql) this.floors.set(projectId, floors);
      }
      const { json } = await this.listWith(projectId, start, end, type, floors, sql ?? this.db, credential);
      if (json !== undefined) return json;
      if (!sql) this.floors.delete(projectId);
    }
    if (sql) throw new Error(`the month floors of project ${projectId} changed during each of ${ATTEMPTS} listings`);
    return this.db.transaction('REPEATABLE READ', (tx) => this.listWindow(projectId, start, end, type, tx, credential));
  }

  /**
   * The listing with `floors` (the project's, or windowMonths' guess): its JSON, or undefined when its
   * snapshot holds a floor of the window that the months read do not cover, and with `withFloors` the
   * project's floors in that snapshot. A token no longer stored answers 401 here, whatever the months.
   */
  private async listWith(
    projectId: string,
    start: Micros,
    end: Micros,
    type: EntityType | undefined,
    floors: Floor[],
    sql: Sql,
    credential: StatementCredential | undefined,
    withFloors = false,
  ): Promise<{ json: string | undefined; floors?: Floor[] }> {
    const window = await this.readWindow(projectId, start, end, type, floors, sql, credential?.hash, withFloors);
    if (!window.tokenStored) {
      credential?.revoked();
      throw new DomainError(AuthError.Unauthorized, TOKEN_UNKNOWN);
    }
    credential?.confirmed();
    return { json: window.stale ? undefined : window.json, floors: window.floors };
  }

  /**
   * The accounting zone's months from that of `start`'s accounting day to that of `end`'s
   * (report_local_day), as one floor-shaped range (`minStart` the window's start): listWindow's guess at
   * the floors of a project it does not hold. Its bounds are those of the floors (the earliest instants
   * of the months' first local dates, report_day_start, in report_clock's zone, UTC before the reports'
   * first start), so the statement's check counts those months' floors as covered.
   * Kept per window; the zone never changes under a running API (ReportClockService refuses to start
   * with another).
   */
  private async windowMonths(start: Micros, end: Micros): Promise<Floor[]> {
    const key = `${start}:${end}`;
    const held = this.months.get(key);
    if (held) return held;
    const [row] = await runPrepared<{ lo_us: string; hi_us: string }>(
      this.db,
      `SELECT ${microsOf('m.lo')} AS lo_us, ${microsOf('m.hi')} AS hi_us
       FROM (SELECT coalesce((SELECT c.time_zone FROM report_clock c WHERE c.id = 1), 'UTC') AS z) AS c,
            LATERAL (SELECT report_day_start(date_trunc('month', report_local_day($1::timestamptz, c.z))::date, c.z) AS lo,
                            report_day_start((date_trunc('month', report_local_day($2::timestamptz, c.z)) + interval '1 month')::date, c.z) AS hi) AS m`,
      [toSqlTimestamp(start), toSqlTimestamp(end)],
    );
    const months = [{ lo: BigInt(row.lo_us), hi: BigInt(row.hi_us), minStart: start }];
    this.months.set(key, months);
    return months;
  }

  /** The statement listWindow runs, the project's floors read now (for the plan test and the bench). */
  async windowStatement(projectId: string, start: Micros, end: Micros, type: EntityType | undefined, sql: Sql, credential?: string): Promise<WindowStatement> {
    return windowListing(projectId, start, end, type, await this.readFloors(projectId, sql), credential);
  }

  private async readWindow(
    projectId: string,
    start: Micros,
    end: Micros,
    type: EntityType | undefined,
    floors: Floor[],
    sql: Sql,
    credential: string | undefined,
    withFloors = false,
  ): Promise<{ json: string; stale: boolean; tokenStored: boolean; floors?: Floor[] }> {
    const statement = windowListing(projectId, start, end, type, floors, credential, withFloors);
    // Prepared: planning was most of the statement's cost (about 0.25 ms against 0.05 ms run, pgbench of
    // one listing's text: 3,600 listings/s planned each time, 16,500/s prepared). Its months are literals,
    // so the kept generic plan reads only them (windowListing). One text per set of months: `varied`, in a
    // bound of its own (prepared.ts); a listing of many months is planned each time and keeps nothing.
    type Answer = { stale: boolean; token_stored: boolean; body: string; floors: string | null };
    const [row] =
      statement.ranges <= PREPARED_RANGES
        ? await runPrepared<Answer>(sql, statement.text, statement.params, 'varied')
        : await runRows<Answer>(sql, statement.text, statement.params);
    return { json: row.body, stale: row.stale, tokenStored: row.token_stored, floors: withFloors ? parseFloors(row.floors) : undefined };
  }

  /** A project's month floors, the lowest per month (almanach_version_floor). */
  private async readFloors(projectId: string, sql: Sql): Promise<Floor[]> {
    const [row] = await runPrepared<{ floors: string | null }>(sql, `SELECT ${FLOORS_TEXT} AS floors`, [projectId]);
    return parseFloors(row.floors);
  }

  async listEntity(entityId: string, sql: Sql = this.db): Promise<Version[]> {
    const rows = await runRows<Row>(sql, `SELECT ${COLUMNS} FROM ${TABLE} WHERE entity_id = $1 ORDER BY start, id`, [entityId]);
    return rows.map(toVersion);
  }

  /** Closed versions of an instance inside [start, end] (update, closed mode, almanach-v1.md 5.13). */
  async listClosedWithin(entityId: string, start: Micros, end: Micros, sql: Sql = this.db): Promise<Version[]> {
    const rows = await runRows<Row>(
      sql,
      `SELECT ${COLUMNS} FROM ${TABLE}
       WHERE entity_id = $1 AND entity_type = 'instance' AND "end" IS NOT NULL
         AND start >= $2::timestamptz AND "end" <= $3::timestamptz
       ORDER BY start, id`,
      [entityId, toSqlTimestamp(start), toSqlTimestamp(end)],
    );
    return rows.map(toVersion);
  }

  /**
   * Counts of every version and of the open ones (GET /v1/info, 5.1): the sum
   * of the partial counts the history triggers keep in almanach_version_tally
   * (a few rows, whatever the size of the history).
   */
  async counts(sql: Sql = this.db): Promise<{ all: number; active: number }> {
    // Prepared, on a pooled client straight from node-postgres (runPrepared): no TypeORM query runner, no parse or plan.
    const [row] = await runPrepared<{ all: string; active: string }>(
      sql,
      `SELECT coalesce(sum(versions), 0)::bigint::text AS all, coalesce(sum(open_versions), 0)::bigint::text AS active FROM ${TALLY}`,
      [],
    );
    return row ? { all: Number(row.all), active: Number(row.active) } : { all: 0, active: 0 };
  }
}
