import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runCount, runOne, runRows, Sql } from '../database/query-result';
import { Micros, toSqlTimestamp } from './almanach-dates';
import { ImageMeta, Version } from './almanach-version';
import { EntityType } from './entity-version.entity';

const TABLE = 'almanach_entity_version';
const TALLY = 'almanach_version_tally';
const FLOOR = 'almanach_version_floor';

/** Exact microseconds of a timestamptz column, as text (pg returns bigint as text). */
const micros = (column: string) => `(floor(extract(epoch FROM "${column}") * 1000000))::bigint::text`;

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

/**
 * The months of version ends of project $1 that may hold a version
 * overlapping [$2, $3]: those whose floor is at or before $3 and that end
 * after $2 (migrations/1763801980000-AlmanachVersionFloor.ts).
 */
export const WINDOW_MONTHS = `SELECT ${micros('lo')} AS lo_us, ${micros('hi')} AS hi_us FROM ${FLOOR}
  WHERE project_id = $1 AND min_start <= $3::timestamptz AND hi > $2::timestamptz
  GROUP BY lo, hi ORDER BY lo, hi`;

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

/**
 * Every SQL statement on Almanach versions (almanach_entity_version). Each
 * method takes the caller's transaction (`sql`, an EntityManager) as its last
 * argument: embedded PGlite serves one connection at a time while a
 * transaction is open, so a write must run all its statements on it.
 */
@Injectable()
export class AlmanachRepository {
  constructor(private readonly db: DataSource) {}

  /** Serialises every write to one key (an entity id, or `volume_type:<id>`) for the rest of the transaction. */
  async lockEntity(key: string, sql: Sql = this.db): Promise<void> {
    await runRows(sql, 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
  }

  async findOpen(entityId: string, sql: Sql = this.db): Promise<Version | null> {
    const row = await runOne<Row>(sql, `SELECT ${COLUMNS} FROM ${TABLE} WHERE entity_id = $1 AND coalesce("end", 'infinity') = 'infinity'`, [entityId]);
    return row ? toVersion(row) : null;
  }

  async latestEnd(entityId: string, sql: Sql = this.db): Promise<Micros | null> {
    const row = await runOne<{ end_us: string | null }>(
      sql,
      `SELECT ${micros('end')} AS end_us FROM ${TABLE} WHERE entity_id = $1 ORDER BY "end" DESC NULLS LAST LIMIT 1`,
      [entityId],
    );
    return row && row.end_us !== null ? BigInt(row.end_us) : null;
  }

  async countVersions(entityId: string, sql: Sql = this.db): Promise<number> {
    const row = await runOne<{ n: number }>(sql, `SELECT count(*)::int AS n FROM ${TABLE} WHERE entity_id = $1`, [entityId]);
    return row?.n ?? 0;
  }

  async insert(v: NewVersion, sql: Sql = this.db): Promise<void> {
    await runCount(
      sql,
      `INSERT INTO ${TABLE} (entity_id, entity_type, project_id, start, "end", last_event, processed, name, flavor,
         image_meta, metadata, volume_type, size, attached_to)
       VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz, $6::timestamptz, now(), $7, $8, $9::jsonb, $10::jsonb, $11, $12, $13::text[])`,
      [
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
      ],
    );
  }

  /** Closes an open version at `date` (end = last_event = date); the row moves from the open partition to its month's. */
  async close(id: string, date: Micros, sql: Sql = this.db): Promise<void> {
    const sqlText = `UPDATE ${TABLE} SET "end" = $2::timestamptz, last_event = $2::timestamptz, processed = now()
       WHERE id = $1 AND coalesce("end", 'infinity') = 'infinity'`;
    const closed = await runCount(sql, sqlText, [
      id,
      toSqlTimestamp(date),
    ]);
    if (closed !== 1) throw new Error(`version ${id} is not open inside its own transaction`);
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
   * (almanach-v1.md 5.6), read in one REPEATABLE READ snapshot: first the
   * months of version ends that may hold one (almanach_version_floor), then
   * the versions of the open partition and of those months only.
   */
  async listWindow(projectId: string, start: Micros, end: Micros, type?: EntityType, sql?: Sql): Promise<Version[]> {
    const read = async (tx: Sql) => {
      const statement = await this.windowStatement(projectId, start, end, type, tx);
      return (await runRows<Row>(tx, statement.text, statement.params)).map(toVersion);
    };
    return sql ? read(sql) : this.db.transaction('REPEATABLE READ', read);
  }

  /**
   * The statement listWindow runs (exposed for the plan test): the window's
   * overlap test, and the version ends allowed to the open one (infinity) and
   * to the months whose floor is at or before the window's end, adjacent
   * months merged, so the planner reads no other partition.
   */
  async windowStatement(projectId: string, start: Micros, end: Micros, type: EntityType | undefined, sql: Sql): Promise<{ text: string; params: unknown[] }> {
    const params: unknown[] = [projectId, toSqlTimestamp(start), toSqlTimestamp(end)];
    const months = await runRows<{ lo_us: string; hi_us: string }>(sql, WINDOW_MONTHS, params);
    const ends = ['coalesce("end", \'infinity\') = \'infinity\''];
    for (const [lo, hi] of mergeRanges(months.map((m) => [BigInt(m.lo_us), BigInt(m.hi_us)]))) {
      params.push(toSqlTimestamp(lo), toSqlTimestamp(hi));
      ends.push(`(coalesce("end", 'infinity') >= $${params.length - 1}::timestamptz AND coalesce("end", 'infinity') < $${params.length}::timestamptz)`);
    }
    if (type) params.push(type);
    return {
      text: `SELECT ${COLUMNS} FROM ${TABLE}
       WHERE project_id = $1 AND start <= $3::timestamptz AND coalesce("end", 'infinity') >= $2::timestamptz
         AND (${ends.join(' OR ')})
         ${type ? `AND entity_type = $${params.length}` : ''}
       ORDER BY start, id`,
      params,
    };
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
    const row = await runOne<{ all: string; active: string }>(
      sql,
      `SELECT coalesce(sum(versions), 0)::bigint::text AS all, coalesce(sum(open_versions), 0)::bigint::text AS active FROM ${TALLY}`,
    );
    return row ? { all: Number(row.all), active: Number(row.active) } : { all: 0, active: 0 };
  }
}
