import { AlmanachVersionPartitions1763801950000 } from '../../migrations/1763801950000-AlmanachVersionPartitions';
import { AlmanachVersionFloor1763801980000 } from '../../migrations/1763801980000-AlmanachVersionFloor';
import { AlmanachLockOpen1763802050000 } from '../../migrations/1763802050000-AlmanachLockOpen';
import { AlmanachLockOpenToken1763802070000 } from '../../migrations/1763802070000-AlmanachLockOpenToken';
import { AlmanachEntityEnd1763802080000 } from '../../migrations/1763802080000-AlmanachEntityEnd';
import { AlmanachFloorLocalDay1763802090000 } from '../../migrations/1763802090000-AlmanachFloorLocalDay';
import { AlmanachRepository } from '../../src/almanach/almanach.repository';
import { HistoryPartitionsLoop } from '../../src/almanach/partitions/history-partitions.loop';
import { parsePrometheusText } from '../support/prometheus-text';
import { Client, escapeLiteral } from 'pg';
import { realServers, useTestApp } from '../support/test-app';

/**
 * The Almanach history partitioned by time (reports.md §7.3; issue 14):
 * open versions in their own partition, closed ones in their month's,
 * closing moves the row, the one-open-version rule still holds, a version
 * closed in a month that has no partition waits in the default partition
 * (`ledger_default_partition_rows`) until the worker's pass makes its month,
 * and the migration rebuilds an existing table keeping every row, id and the
 * identity's next value.
 */
describe('Almanach history partitions (reports.md 7.3)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'UTC' });
  let service: string;

  beforeEach(async () => {
    service = await t.token('service');
  });

  const send = (method: 'post' | 'put' | 'delete', url: string, body: object, status: number) =>
    t.http[method](url).set('X-Auth-Token', service).set('Content-Type', 'application/json').send(body).expect(status);
  const instance = (id: string, createdAt: string) => ({ id, created_at: createdAt, name: id, flavor: 'm1.small', os_distro: 'ubuntu', os_version: '22.04', os_type: 'linux' });
  /** Where each version of an entity is stored: [partition, end or null] in start order. */
  const placed = async (entity: string): Promise<[string, string | null][]> =>
    (
      await t.runtime.dataSource.query(
        `SELECT tableoid::regclass::text AS part, to_char("end" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS "end" FROM almanach_entity_version WHERE entity_id = $1 ORDER BY start, id`,
        [entity],
      )
    ).map((r: { part: string; end: string | null }) => [r.part, r.end]);
  const month = (offset: number) => {
    const d = new Date();
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() + offset);
    return d.toISOString().slice(0, 7);
  };
  const partitionOf = (yyyyMm: string) => `almanach_entity_version_${yyyyMm.replace('-', '_')}`;
  const defaultRows = async () => {
    const res = await t.http.get('/metrics').expect(200);
    const family = parsePrometheusText(res.text).get('ledger_default_partition_rows');
    expect(family?.type).toBe('gauge');
    return family!.samples.find((s) => s.labels.table === 'almanach_entity_version')?.value;
  };

  it('is partitioned by coalesce(end, infinity): months, open and default partitions; no primary key; the indexes and triggers on the parent', async () => {
    const db = t.runtime.dataSource;
    const [{ key }] = await db.query(`SELECT pg_get_partkeydef('almanach_entity_version'::regclass) AS key`);
    expect(key).toBe(`RANGE (COALESCE("end", 'infinity'::timestamp with time zone))`);
    const parts: { name: string; bound: string }[] = await db.query(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'almanach_entity_version'::regclass ORDER BY c.relname`,
    );
    const names = parts.map((p) => p.name);
    // Last month to three months ahead exist from the start.
    for (const offset of [-1, 0, 1, 2, 3]) expect(names).toContain(partitionOf(month(offset)));
    expect(parts.find((p) => p.name === 'almanach_entity_version_open')?.bound).toBe(`FOR VALUES FROM ('infinity') TO (MAXVALUE)`);
    expect(parts.find((p) => p.name === 'almanach_entity_version_default')?.bound).toBe('DEFAULT');
    const constraints: { conname: string; contype: string }[] = await db.query(
      `SELECT conname, contype FROM pg_constraint WHERE conrelid = 'almanach_entity_version'::regclass AND contype <> 'n' ORDER BY conname`,
    );
    // No primary key (nor unique constraint) on the parent; NOT NULLs, which newer servers list here too, aside.
    expect(constraints).toEqual([
      { conname: 'almanach_entity_version_period_ck', contype: 'c' },
      { conname: 'almanach_entity_version_type_ck', contype: 'c' },
    ]);
    const indexes: { name: string }[] = await db.query(
      `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'almanach_entity_version'::regclass ORDER BY 1`,
    );
    expect(indexes.map((i) => i.name)).toEqual([
      'almanach_entity_version_end_idx',
      'almanach_entity_version_entity_start_idx',
      'almanach_entity_version_id_idx',
      'almanach_entity_version_instance_flavor_idx',
      'almanach_entity_version_project_cover_idx',
      'almanach_entity_version_start_idx',
    ]);
    const [open] = await db.query(
      `SELECT indisunique AS "unique", pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indexrelid = 'almanach_entity_version_one_open_uq'::regclass`,
    );
    expect(open.unique).toBe(true);
    expect(open.def).toMatch(/ON public\.almanach_entity_version_open USING btree \(entity_id\)$/);
    const triggers: { tgname: string }[] = await db.query(
      `SELECT tgname FROM pg_trigger WHERE tgrelid = 'almanach_entity_version'::regclass AND NOT tgisinternal ORDER BY 1`,
    );
    expect(triggers.map((x) => x.tgname)).toEqual([
      'almanach_entity_end_truncate',
      'almanach_floor_truncate',
      'almanach_history_note_insert',
      'almanach_history_note_update',
      'almanach_tally_delete',
      'almanach_tally_insert',
      'almanach_tally_truncate',
      'almanach_tally_update',
      'report_dirty_almanach_delete',
      'report_dirty_almanach_insert',
      'report_dirty_almanach_update',
    ]);
  });

  it('keeps open versions in the open partition and moves a closed one to its month; one open version per entity still', async () => {
    const thisMonth = month(0);
    const created = `${month(-1)}-02T00:00:00Z`;
    await send('post', '/v1/project/p1/instance', instance('i1', created), 201);
    expect(await placed('i1')).toEqual([['almanach_entity_version_open', null]]);
    await send('put', '/v1/instance/i1/resize', { date: `${month(-1)}-10T00:00:00Z`, flavor: 'm1.large' }, 200);
    expect(await placed('i1')).toEqual([
      [partitionOf(month(-1)), `${month(-1)}-10`],
      ['almanach_entity_version_open', null],
    ]);
    await send('delete', '/v1/instance/i1', { date: `${thisMonth}-01T00:00:00Z` }, 202);
    expect(await placed('i1')).toEqual([
      [partitionOf(month(-1)), `${month(-1)}-10`],
      [partitionOf(thisMonth), `${thisMonth}-01`],
    ]);
    // The listing and /v1/info read across the partitions as before.
    const listed = await t.http
      .get(`/v1/project/p1/entities?start=${month(-1)}-01T00:00:00.000000Z&end=${thisMonth}-01T00:00:00.000000Z`)
      .set('X-Auth-Token', service)
      .expect(200);
    expect(listed.body.map((e: { entity_id: string; flavor: string; end: string }) => [e.entity_id, e.flavor])).toEqual([
      ['i1', 'm1.small'],
      ['i1', 'm1.large'],
    ]);
    expect((await t.http.get('/v1/info').expect(200)).body.database).toEqual({ all_entities: 2, active_entities: 0 });

    // A second open version of one entity, written by hand, is refused by the open partition's unique index.
    await send('post', '/v1/project/p1/instance', instance('i2', created), 201);
    await expect(
      t.runtime.dataSource.query(
        `INSERT INTO almanach_entity_version (entity_id, entity_type, project_id, start, last_event) VALUES ('i2', 'instance', 'p1', now(), now())`,
      ),
    ).rejects.toMatchObject({ code: '23505', constraint: 'almanach_entity_version_one_open_uq' });
  });

  it('a version closed in a month without a partition waits in the default partition until the pass makes its month; the move changes no count and no report key', async () => {
    // A database shared with earlier runs may have made that month already (a reset empties partitions, it does not drop them).
    await t.runtime.dataSource.query(`DROP TABLE IF EXISTS almanach_entity_version_2019_03`);
    await send('post', '/v1/project/p2/instance', instance('old', '2019-03-01T00:00:00Z'), 201);
    await send('delete', '/v1/instance/old', { date: '2019-03-05T12:00:00Z' }, 202);
    expect(await placed('old')).toEqual([['almanach_entity_version_default', '2019-03-05']]);
    expect(await defaultRows()).toBe(1);
    const [before] = await t.runtime.dataSource.query(`SELECT id::text, row_to_json(v)::text AS body FROM almanach_entity_version v WHERE entity_id = 'old'`);
    await t.runtime.dataSource.query(`DELETE FROM report_dirty_key`);
    const tally = async () => (await t.http.get('/v1/info').expect(200)).body.database;
    const counts = await tally();

    const created = await t.app.get(HistoryPartitionsLoop).pass();
    expect(created).toEqual(['almanach_entity_version_2019_03']);
    expect(await placed('old')).toEqual([['almanach_entity_version_2019_03', '2019-03-05']]);
    const [after] = await t.runtime.dataSource.query(`SELECT id::text, row_to_json(v)::text AS body FROM almanach_entity_version v WHERE entity_id = 'old'`);
    expect(after).toEqual(before);
    expect(await defaultRows()).toBe(0);
    expect(await tally()).toEqual(counts);
    const [{ keys }] = await t.runtime.dataSource.query(`SELECT count(*)::int AS keys FROM report_dirty_key`);
    expect(keys).toBe(0);
    // A second pass has nothing to do.
    expect(await t.app.get(HistoryPartitionsLoop).pass()).toEqual([]);
  });

  it('the migration rebuilds an existing table: every row and id kept, each in its partition, the identity goes on where it was', async () => {
    const db = t.runtime.dataSource;
    const migration = new AlmanachVersionPartitions1763801950000();
    // Later migrations' functions return the table's row type, which the rebuild would drop: reverted first, as a revert to here would.
    const lockOpen = new AlmanachLockOpen1763802050000();
    const lockOpenToken = new AlmanachLockOpenToken1763802070000();
    const entityEnd = new AlmanachEntityEnd1763802080000();
    const floorLocalDay = new AlmanachFloorLocalDay1763802090000();
    await db.transaction(async (m) => {
      await floorLocalDay.down(m.queryRunner!);
      await entityEnd.down(m.queryRunner!);
      await lockOpenToken.down(m.queryRunner!);
      await lockOpen.down(m.queryRunner!);
      await migration.down(m.queryRunner!);
    });
    let snapshot: string[] = [];
    let next: string;
    try {
      const [{ key }] = await db.query(`SELECT pg_get_partkeydef('almanach_entity_version'::regclass) AS key`);
      expect(key).toBeNull(); // a plain table again
      await db.query(
        `INSERT INTO almanach_entity_version (entity_id, entity_type, project_id, start, "end", last_event, name, flavor, image_meta, metadata)
         SELECT 'seed-' || e, 'instance', 'p-seed', timestamptz '2018-01-01' + make_interval(days => e),
                CASE WHEN e % 4 = 0 THEN NULL ELSE timestamptz '2018-01-01' + make_interval(days => 2 * e) END,
                timestamptz '2018-01-01', 'n' || e, 'm1.small', '{"distro":"ubuntu"}', jsonb_build_object('k', e)
         FROM generate_series(1, 120) AS e`,
      );
      // Deleted rows leave a gap: the identity must not give their ids again.
      await db.query(`DELETE FROM almanach_entity_version WHERE entity_id IN ('seed-119', 'seed-118')`);
      snapshot = (await db.query(`SELECT row_to_json(v)::text AS body FROM almanach_entity_version v ORDER BY id`)).map((r: { body: string }) => r.body);
      [{ next }] = await db.query(`SELECT (last_value + 1)::text AS next FROM almanach_entity_version_id_seq`);
    } finally {
      await db.transaction(async (m) => {
        await migration.up(m.queryRunner!);
        await lockOpen.up(m.queryRunner!);
        await lockOpenToken.up(m.queryRunner!);
        await entityEnd.up(m.queryRunner!);
        await floorLocalDay.up(m.queryRunner!);
      });
    }
    const rebuilt = (await db.query(`SELECT row_to_json(v)::text AS body FROM almanach_entity_version v ORDER BY id`)).map((r: { body: string }) => r.body);
    expect(rebuilt).toEqual(snapshot);
    const misplaced = await db.query(
      `SELECT entity_id, tableoid::regclass::text AS part FROM almanach_entity_version
       WHERE tableoid::regclass::text <> CASE WHEN "end" IS NULL THEN 'almanach_entity_version_open' ELSE 'almanach_entity_version_' || to_char("end" AT TIME ZONE 'UTC', 'YYYY_MM') END`,
    );
    expect(misplaced).toEqual([]);
    // The end bounds of the rows written while 1763802080000 was reverted come from its backfill: one per closed entity, its latest end.
    const [ends] = await db.query(
      `SELECT count(*)::int AS bounds,
              count(*) FILTER (WHERE e.last_end IS DISTINCT FROM (SELECT max(v."end") FROM almanach_entity_version v WHERE v.entity_id = e.entity_id))::int AS wrong
       FROM almanach_entity_end e WHERE e.entity_id LIKE 'seed-%'`,
    );
    expect(ends).toEqual({ bounds: 88, wrong: 0 }); // 120 seeded, 30 open, 2 deleted
    await send('post', '/v1/project/p-seed/instance', instance('after', '2026-01-01T00:00:00Z'), 201);
    const [{ id }] = await db.query(`SELECT id::text FROM almanach_entity_version WHERE entity_id = 'after'`);
    expect(id).toBe(next);
    // The triggers are back: the tally counts the 118 rows copied (30 open) and the new open one.
    expect((await t.http.get('/v1/info').expect(200)).body.database).toEqual({ all_entities: 119, active_entities: 31 });
  });

  it('a listing of a recent window reads no partition of a month before it (the planner prunes them)', async () => {
    await send('post', '/v1/project/p3/instance', instance('x', '2019-03-01T00:00:00Z'), 201);
    await send('delete', '/v1/instance/x', { date: '2019-03-05T00:00:00Z' }, 202);
    await t.app.get(HistoryPartitionsLoop).pass();
    const start = `${month(0)}-01T00:00:00Z`;
    const plan: string = (
      await t.runtime.dataSource.query(
        `EXPLAIN SELECT id FROM almanach_entity_version
         WHERE project_id = 'p3' AND start <= now() AND coalesce("end", 'infinity') >= timestamptz '${start}'`,
      )
    )
      .map((r: Record<string, string>) => Object.values(r)[0])
      .join('\n');
    expect(plan).toContain('almanach_entity_version_open');
    expect(plan).toContain(partitionOf(month(0)));
    expect(plan).not.toContain(partitionOf(month(-1)));
    expect(plan).not.toContain('almanach_entity_version_2019_03');
    // The default partition may hold any month without a partition, so it is never pruned: the worker keeps it empty.
  });

  /** Micros of an ISO instant. */
  const us = (iso: string) => BigInt(Date.parse(iso)) * 1000n;
  /** The history partitions a plan scans (the table after "on"; not the indexes, which a generic plan may choose otherwise). */
  const partitionsOf = (plan: Record<string, string>[]) =>
    [...new Set<string>([...plan.map((r) => Object.values(r)[0]).join('\n').matchAll(/ on (almanach_entity_version_\w+)/g)].map((m) => m[1]))].sort();
  /**
   * The history partitions the plan of listWindow's statement for `project`
   * and [start, end] reads. The route runs it prepared, so the generic plan
   * PostgreSQL keeps after five runs must read the same ones, pruned when
   * planned (no "Subplans Removed": a partition bound given as a parameter
   * would leave every month in the plan, pruned only at each run).
   */
  const partitionsRead = async (project: string, start: string, end: string): Promise<string[]> => {
    const db = t.runtime.dataSource;
    const statement = await t.app.get(AlmanachRepository).windowStatement(project, us(start), us(end), undefined, db);
    const custom = partitionsOf(await db.query(`EXPLAIN ${statement.text}`, statement.params));
    const runner = db.createQueryRunner();
    let generic: Record<string, string>[];
    let prepared = false;
    try {
      await runner.query(`SET plan_cache_mode = force_generic_plan`);
      await runner.query(`PREPARE listing_generic AS ${statement.text}`);
      prepared = true;
      generic = await runner.query(`EXPLAIN EXECUTE listing_generic(${statement.params.map((p) => escapeLiteral(String(p))).join(', ')})`);
    } finally {
      // Only this name: the pooled connection keeps the app's own prepared statements.
      if (prepared) await runner.query(`DEALLOCATE listing_generic`);
      await runner.query(`RESET plan_cache_mode`);
      await runner.release();
    }
    expect(generic.map((r) => Object.values(r)[0]).join('\n')).not.toContain('Subplans Removed');
    expect(partitionsOf(generic)).toEqual(custom);
    return custom;
  };
  /** The route's answer and the same overlap test over the whole history, unpruned: [entity, start] each. */
  const listedAndAll = async (project: string, start: string, end: string, path = 'entities') => {
    const res = await t.http
      .get(`/v1/project/${project}/${path}?start=${start}&end=${end}`)
      .set('X-Auth-Token', service)
      .expect(200);
    const type = path === 'instances' ? `AND entity_type = 'instance'` : path === 'volumes' ? `AND entity_type = 'volume'` : '';
    const all: { entity_id: string; start: string }[] = await t.runtime.dataSource.query(
      `SELECT entity_id, to_char(start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS start FROM almanach_entity_version
       WHERE project_id = $1 AND start <= $3::timestamptz AND coalesce("end", 'infinity') >= $2::timestamptz ${type} ORDER BY start, id`,
      [project, start, end],
    );
    return {
      listed: res.body.map((e: { entity_id: string; start: string }) => [e.entity_id, e.start.slice(0, 19)]),
      all: all.map((r) => [r.entity_id, r.start]),
    };
  };

  it('a listing of a past window reads the open partition and only the months that may hold one of its versions (almanach_version_floor)', async () => {
    await send('post', '/v1/project/p4/instance', instance('a', '2024-06-10T00:00:00Z'), 201);
    await send('delete', '/v1/instance/a', { date: '2024-06-20T00:00:00Z' }, 202);
    await send('post', '/v1/project/p4/instance', instance('b', '2024-08-01T00:00:00Z'), 201);
    await send('delete', '/v1/instance/b', { date: '2024-09-15T00:00:00Z' }, 202);
    await send('post', '/v1/project/p4/instance', instance('c', '2024-05-01T00:00:00Z'), 201);
    await send('put', '/v1/instance/c/resize', { date: '2024-05-15T00:00:00Z', flavor: 'm1.large' }, 200);
    await send('delete', '/v1/instance/c', { date: '2024-11-10T00:00:00Z' }, 202);
    await send('post', '/v1/project/p4/instance', instance('d', '2024-06-25T00:00:00Z'), 201);
    // Another project's long version closed in September does not make p4 read September.
    await send('post', '/v1/project/p5/instance', instance('e', '2024-01-01T00:00:00Z'), 201);
    await send('delete', '/v1/instance/e', { date: '2024-09-20T00:00:00Z' }, 202);
    await t.app.get(HistoryPartitionsLoop).pass();

    const window = ['2024-06-01T00:00:00.000000Z', '2024-06-30T23:59:59.999999Z'] as const;
    const read = await partitionsRead('p4', ...window);
    expect(read).toEqual(expect.arrayContaining(['almanach_entity_version_open', 'almanach_entity_version_2024_06', 'almanach_entity_version_2024_11']));
    // September's versions of p4 all started after June; May's all ended before it; July, August and October hold none of p4.
    for (const month of ['2024_05', '2024_07', '2024_08', '2024_09', '2024_10']) expect(read).not.toContain(`almanach_entity_version_${month}`);
    const june = await listedAndAll('p4', ...window);
    expect(june.listed).toEqual([
      ['c', '2024-05-15 00:00:00'],
      ['a', '2024-06-10 00:00:00'],
      ['d', '2024-06-25 00:00:00'],
    ]);
    expect(june.listed).toEqual(june.all);

    // A start moved earlier by hand lowers September's floor: the listing reads September and finds b.
    await t.runtime.dataSource.query(`UPDATE almanach_entity_version SET start = '2024-06-05T00:00:00Z' WHERE entity_id = 'b'`);
    expect(await partitionsRead('p4', ...window)).toContain('almanach_entity_version_2024_09');
    const moved = await listedAndAll('p4', ...window);
    expect(moved.listed.map((r: string[]) => r[0])).toEqual(['c', 'b', 'a', 'd']);
    expect(moved.listed).toEqual(moved.all);

    // A window of months with no partition yet (the default partition) and one with no floor at all still answer in full.
    await send('post', '/v1/project/p4/instance', instance('f', '2019-02-01T00:00:00Z'), 201);
    await send('delete', '/v1/instance/f', { date: '2019-04-01T00:00:00Z' }, 202);
    const old = await listedAndAll('p4', '2019-03-01T00:00:00.000000Z', '2019-03-02T00:00:00.000000Z');
    expect(old.listed).toEqual([['f', '2019-02-01 00:00:00']]);
    expect((await listedAndAll('p-none', ...window)).listed).toEqual([]);
  });

  it('a listing whose project closed versions in more separate later months than a prepared listing reads answers in full (planned on each call)', async () => {
    const ends = ['2024-03-15', '2024-05-15', '2024-07-15', '2024-09-15', '2024-11-15', '2025-01-15'];
    for (const [k, end] of ends.entries()) {
      await send('post', '/v1/project/p9/instance', instance(`many${k}`, `2024-01-0${k + 1}T00:00:00Z`), 201);
      await send('delete', `/v1/instance/many${k}`, { date: `${end}T00:00:00Z` }, 202);
    }
    await t.app.get(HistoryPartitionsLoop).pass();
    const window = ['2024-01-10T00:00:00.000000Z', '2024-01-11T00:00:00.000000Z'] as const;
    // Six ranges of months: more than a prepared listing reads (PREPARED_RANGES in almanach.repository.ts).
    const statement = await t.app.get(AlmanachRepository).windowStatement('p9', us(window[0]), us(window[1]), undefined, t.runtime.dataSource);
    expect(statement.ranges).toBe(6);
    const listed = await listedAndAll('p9', ...window);
    expect(listed.listed.map((r: string[]) => r[0])).toEqual(ends.map((_, k) => `many${k}`));
    expect(listed.listed).toEqual(listed.all);
  });

  it('the floor migration fills the floors of an existing history and a TRUNCATE empties them', async () => {
    await send('post', '/v1/project/p6/instance', instance('g', '2024-03-03T00:00:00Z'), 201);
    await send('put', '/v1/instance/g/resize', { date: '2024-03-20T00:00:00Z', flavor: 'm1.large' }, 200);
    await send('delete', '/v1/instance/g', { date: '2024-05-02T00:00:00Z' }, 202);
    await send('post', '/v1/project/p6/instance', instance('h', '2024-04-30T00:00:00Z'), 201);
    await send('delete', '/v1/instance/h', { date: '2024-05-01T00:00:00Z' }, 202);
    const db = t.runtime.dataSource;
    const floors = async () =>
      (
        await db.query(
          `SELECT project_id, to_char(lo AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS lo, to_char(hi AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS hi,
                  to_char(min(min_start) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS floor
           FROM almanach_version_floor GROUP BY 1, 2, 3 ORDER BY 1, 2`,
        )
      ).map((r: Record<string, string>) => Object.values(r));
    const kept = [
      ['p6', '2024-03-01', '2024-04-01', '2024-03-03'],
      ['p6', '2024-05-01', '2024-06-01', '2024-03-20'],
    ];
    expect(await floors()).toEqual(kept);
    const migration = new AlmanachVersionFloor1763801980000();
    // 1763802080000 moved the floors' statement into its own trigger function (which 1763802090000 replaced): both
    // reverted first, as a revert to here would.
    const entityEnd = new AlmanachEntityEnd1763802080000();
    const floorLocalDay = new AlmanachFloorLocalDay1763802090000();
    await db.transaction(async (m) => {
      await floorLocalDay.down(m.queryRunner!);
      await entityEnd.down(m.queryRunner!);
      await migration.down(m.queryRunner!);
    });
    await db.transaction(async (m) => {
      await migration.up(m.queryRunner!);
      await entityEnd.up(m.queryRunner!);
      await floorLocalDay.up(m.queryRunner!);
    });
    expect(await floors()).toEqual(kept);
    const may = await listedAndAll('p6', '2024-04-15T00:00:00.000000Z', '2024-04-16T00:00:00.000000Z');
    expect(may.listed.map((r: string[]) => r[0])).toEqual(['g']);
    await db.query(`TRUNCATE almanach_entity_version`);
    expect(await floors()).toEqual([]);
  });

  it("a create reads its entity's end bound (almanach_entity_end): raised by every later end, never lowered, so it never misses a conflict", async () => {
    const db = t.runtime.dataSource;
    const bound = async (entity: string) =>
      (await db.query(`SELECT to_char(last_end AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS d FROM almanach_entity_end WHERE entity_id = $1`, [entity]))[0]?.d ?? null;
    await send('post', '/v1/project/pb/instance', instance('b', '2024-01-01T00:00:00Z'), 201);
    expect(await bound('b')).toBeNull(); // nothing closed yet
    await send('put', '/v1/instance/b/resize', { date: '2024-02-01T00:00:00Z', flavor: 'm1.large' }, 200);
    expect(await bound('b')).toBe('2024-02-01');
    await send('delete', '/v1/instance/b', { date: '2024-03-01T00:00:00Z' }, 202);
    expect(await bound('b')).toBe('2024-03-01');
    // A correction moving the last end later raises the bound: a create before that end is a conflict.
    await send('put', '/v1/entity/instance/b?start=2024-02-01&end=2024-03-01', { end_date: '2024-05-01T00:00:00Z' }, 200);
    expect(await bound('b')).toBe('2024-05-01');
    const refused = await send('post', '/v1/project/pb/instance', instance('b', '2024-04-01T00:00:00Z'), 409);
    expect(refused.body.error).toContain('2024-05-01');
    // Moving it earlier leaves the bound too high: the create reads the history and is accepted after the true end.
    await send('put', '/v1/entity/instance/b?start=2024-02-01&end=2024-05-01', { end_date: '2024-02-15T00:00:00Z' }, 200);
    expect(await bound('b')).toBe('2024-05-01');
    await send('post', '/v1/project/pb/instance', instance('b', '2024-04-01T00:00:00Z'), 201);
    // An entity never closed has no bound, and a create of it is not refused by another's.
    await send('post', '/v1/project/pb/instance', instance('c', '2024-01-01T00:00:00Z'), 201);
    expect(await bound('c')).toBeNull();
    await db.query(`TRUNCATE almanach_entity_version`);
    expect(await db.query(`SELECT entity_id FROM almanach_entity_end`)).toEqual([]);
  });

  it('random histories: every listing answers what the whole history holds, for random windows, with and without the type filter', async () => {
    // A seeded generator: the same history on every run; FLOOR_TEST_SEED tries another (the seed is in each expectation).
    const seed = Number(process.env.FLOOR_TEST_SEED ?? 49065);
    let state = seed;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    const day = (n: number) => new Date(Date.UTC(2023, 0, 1) + n * 86_400_000).toISOString().replace('.000Z', '.000000Z');
    const projects = ['r1', 'r2', 'r3'];
    for (let e = 0; e < 24; e++) {
      const project = projects[e % 3];
      const volume = e % 4 === 3;
      let at = Math.floor(random() * 900);
      if (volume) {
        await t.http.post(`/v1/project/${project}/volume`).set('X-Auth-Token', service)
          .send({ volume_id: `rv${e}`, start: day(at), volume_type: null, size: 10, volume_name: `rv${e}`, attached_to: [] }).expect(201);
      } else {
        await send('post', `/v1/project/${project}/instance`, instance(`ri${e}`, day(at)), 201);
      }
      const changes = Math.floor(random() * 4);
      for (let c = 0; c < changes; c++) {
        at += 1 + Math.floor(random() * 120);
        if (volume) await send('put', `/v1/volume/rv${e}/resize`, { date: day(at), size: 10 + c + 1 }, 200);
        else await send('put', `/v1/instance/ri${e}/resize`, { date: day(at), flavor: c % 2 ? 'm1.small' : 'm1.large' }, 200);
      }
      if (random() < 0.7) {
        at += 1 + Math.floor(random() * 300);
        await send('delete', volume ? `/v1/volume/rv${e}` : `/v1/instance/ri${e}`, { date: day(at) }, 202);
      }
      // Half of the history is written before the partitions of its months exist (the default partition).
      if (e === 12) await t.app.get(HistoryPartitionsLoop).pass();
    }
    const repository = t.app.get(AlmanachRepository);
    for (let w = 0; w < 40; w++) {
      const from = Math.floor(random() * 1300);
      const to = from + Math.floor(random() * (w % 2 ? 20 : 200));
      const path = ['entities', 'instances', 'volumes'][w % 3];
      const project = projects[w % 3];
      const { listed, all } = await listedAndAll(project, day(from), day(to), path);
      expect({ seed, window: [day(from), day(to), path], listed }).toEqual({ seed, window: [day(from), day(to), path], listed: all });
      // The same listing inside a caller's transaction (the floors read in it) answers the same.
      const inTransaction = await t.runtime.dataSource.transaction((m) =>
        repository.listWindow(project, BigInt(Date.parse(day(from))) * 1000n, BigInt(Date.parse(day(to))) * 1000n, path === 'entities' ? undefined : path === 'instances' ? 'instance' : 'volume', m),
      );
      expect((JSON.parse(inTransaction) as { entity_id: string }[]).map((v) => v.entity_id)).toEqual(listed.map((r: string[]) => r[0]));
      // Then a write the API's floors of that project do not know yet: a version back-dated into a new month, closed
      // much later, so that the next listings of the project must find out that their floors are stale.
      if (w % 4 === 0) {
        const at = Math.floor(random() * 600);
        await send('post', `/v1/project/${project}/instance`, instance(`late${w}`, day(at)), 201);
        await send('delete', `/v1/instance/late${w}`, { date: day(at + 200 + Math.floor(random() * 500)) }, 202);
      }
    }
  });

  const real = realServers.database ? it : it.skip;
  if (!realServers.database) console.log('the concurrent floor writers test is skipped: it needs real PostgreSQL (set DATABASE_URL) for a second connection');

  real('two writers closing versions of the same project and month never wait for each other over the floors (PostgreSQL)', async () => {
    await send('post', '/v1/project/p7/instance', instance('j1', '2024-02-01T00:00:00Z'), 201);
    await send('post', '/v1/project/p7/instance', instance('j2', '2024-01-01T00:00:00Z'), 201);
    const other = new Client({ connectionString: process.env.DATABASE_URL, application_name: 'floor-writer' });
    await other.connect();
    try {
      // The other writer closes j1 in March and keeps its transaction open: its March floor row is uncommitted.
      await other.query('BEGIN');
      await other.query(`UPDATE almanach_entity_version SET "end" = '2024-03-10T00:00:00Z' WHERE entity_id = 'j1' AND "end" IS NULL`);
      // The API closes j2 in March too (an earlier start: a lower floor of the same month) and answers at once.
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("the API's close waited for the other writer's floor row")), 10_000);
      });
      await Promise.race([send('delete', '/v1/instance/j2', { date: '2024-03-05T00:00:00Z' }, 202), waited]).finally(() => clearTimeout(timer));
      await other.query('COMMIT');
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      await other.end();
    }
    const floors = await t.runtime.dataSource.query(
      `SELECT to_char(min_start AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS floor FROM almanach_version_floor WHERE project_id = 'p7' ORDER BY 1`,
    );
    // Both rows are there (no upsert, no unique key); the listing takes the lower.
    expect(floors.map((r: { floor: string }) => r.floor)).toEqual(['2024-01-01', '2024-02-01']);
    const listed = await listedAndAll('p7', '2024-01-15T00:00:00.000000Z', '2024-01-16T00:00:00.000000Z');
    expect(listed.listed).toEqual([['j2', '2024-01-01 00:00:00']]);
    expect(listed.listed).toEqual(listed.all);
  }, 30_000);

  it("a project's first listing in the process is with its window's months and brings its floors: one statement when no version of the window ended later, two when one did; the next listings use the floors it brought", async () => {
    const repository = t.app.get(AlmanachRepository);
    const target = repository as unknown as { readWindow: (...args: unknown[]) => Promise<unknown>; readFloors: (...args: unknown[]) => Promise<unknown> };
    const windows = jest.spyOn(target, 'readWindow');
    const floors = jest.spyOn(target, 'readFloors');
    try {
      // q1: every version of May ended in May or June (the window's months and the next).
      await send('post', '/v1/project/q1/instance', instance('m1', '2024-04-20T00:00:00Z'), 201);
      await send('delete', '/v1/instance/m1', { date: '2024-05-10T00:00:00Z' }, 202);
      await send('post', '/v1/project/q1/instance', instance('m2', '2024-05-20T00:00:00Z'), 201);
      await send('delete', '/v1/instance/m2', { date: '2024-06-01T00:00:00Z' }, 202);
      await send('post', '/v1/project/q1/instance', instance('m3', '2024-05-25T00:00:00Z'), 201); // still open
      windows.mockClear();
      floors.mockClear();
      const may = await listedAndAll('q1', '2024-05-01T00:00:00.000000Z', '2024-06-01T00:00:00.000000Z');
      expect(may.listed).toEqual(may.all);
      expect(may.listed.map((r: string[]) => r[0])).toEqual(['m1', 'm2', 'm3']);
      expect([windows.mock.calls.length, floors.mock.calls.length]).toEqual([1, 0]);
      // The guess brought q1's floors, in the same snapshot: May and June.
      const held = (repository as unknown as { floors: Map<string, { lo: bigint; hi: bigint; minStart: bigint }[]> }).floors.get('q1');
      expect(held?.map((f) => [new Date(Number(f.lo / 1000n)).toISOString(), new Date(Number(f.minStart / 1000n)).toISOString()])).toEqual([
        ['2024-05-01T00:00:00.000Z', '2024-04-20T00:00:00.000Z'],
        ['2024-06-01T00:00:00.000Z', '2024-05-20T00:00:00.000Z'],
      ]);
      // q2: a version of May ended in September: its floor is outside the guess, so it is listed again with the floors
      // the guess brought, and no statement reads them on their own.
      await send('post', '/v1/project/q2/instance', instance('l1', '2024-04-01T00:00:00Z'), 201);
      await send('delete', '/v1/instance/l1', { date: '2024-09-15T00:00:00Z' }, 202);
      windows.mockClear();
      floors.mockClear();
      const long = await listedAndAll('q2', '2024-05-01T00:00:00.000000Z', '2024-05-31T00:00:00.000000Z');
      expect(long.listed).toEqual([['l1', '2024-04-01 00:00:00']]);
      expect([windows.mock.calls.length, floors.mock.calls.length]).toEqual([2, 0]);
      // Held now: the next listing of q2 uses its floors at once.
      windows.mockClear();
      floors.mockClear();
      expect((await listedAndAll('q2', '2024-05-01T00:00:00.000000Z', '2024-05-31T00:00:00.000000Z')).listed).toEqual(long.listed);
      expect([windows.mock.calls.length, floors.mock.calls.length]).toEqual([1, 0]);
      // q1 again (a window without `end` is a new window on every call): one statement each time, with the floors held.
      for (let again = 0; again < 2; again++) {
        windows.mockClear();
        floors.mockClear();
        expect((await listedAndAll('q1', '2024-05-01T00:00:00.000000Z', '2024-06-01T00:00:00.000000Z')).listed).toEqual(may.listed);
        expect([windows.mock.calls.length, floors.mock.calls.length]).toEqual([1, 0]);
      }
      // A version of q1 back-dated into March, closed in August, after its floors were brought: the held floors are
      // stale for a March window (the floor of August is not among them), so the listing reads them again.
      await send('post', '/v1/project/q1/instance', instance('m4', '2024-03-10T00:00:00Z'), 201);
      await send('delete', '/v1/instance/m4', { date: '2024-08-10T00:00:00Z' }, 202);
      windows.mockClear();
      floors.mockClear();
      const march = await listedAndAll('q1', '2024-03-01T00:00:00.000000Z', '2024-03-31T00:00:00.000000Z');
      expect(march.listed).toEqual([['m4', '2024-03-10 00:00:00']]);
      expect(march.listed).toEqual(march.all);
      expect([windows.mock.calls.length, floors.mock.calls.length]).toEqual([2, 1]);
      // The months of a window are computed once: q3's first listing of May finds them kept.
      const months = (repository as unknown as { months: Map<string, unknown> }).months;
      const kept = months.size;
      await send('post', '/v1/project/q3/instance', instance('n1', '2024-05-02T00:00:00Z'), 201);
      windows.mockClear();
      floors.mockClear();
      expect((await listedAndAll('q3', '2024-05-01T00:00:00.000000Z', '2024-06-01T00:00:00.000000Z')).listed).toEqual([['n1', '2024-05-02 00:00:00']]);
      expect([windows.mock.calls.length, floors.mock.calls.length, months.size]).toEqual([1, 0, kept]);
      // A window longer than two months reads the floors first: they prune it to the project's own months.
      await send('post', '/v1/project/q4/instance', instance('y1', '2024-01-02T00:00:00Z'), 201);
      windows.mockClear();
      floors.mockClear();
      expect((await listedAndAll('q4', '2024-01-01T00:00:00.000000Z', '2024-12-31T00:00:00.000000Z')).listed).toEqual([['y1', '2024-01-02 00:00:00']]);
      expect([windows.mock.calls.length, floors.mock.calls.length, months.size]).toEqual([1, 1, kept]);
    } finally {
      windows.mockRestore();
      floors.mockRestore();
    }
  });

  it('three stale answers in a row fall back to one REPEATABLE READ snapshot; in a caller\'s transaction they are an error', async () => {
    await send('post', '/v1/project/p8/instance', instance('k1', '2024-04-01T00:00:00Z'), 201);
    await send('delete', '/v1/instance/k1', { date: '2024-06-15T00:00:00Z' }, 202);
    const repository = t.app.get(AlmanachRepository);
    type ReadWindow = (...args: unknown[]) => Promise<{ json: string; stale: boolean }>;
    const target = repository as unknown as { readWindow: ReadWindow };
    const real = target.readWindow.bind(repository);
    const isolation: string[] = [];
    // Every answer outside a REPEATABLE READ snapshot says its floors were stale, as if a write kept landing in between.
    const spy = jest.spyOn(target, 'readWindow').mockImplementation(async (...args: unknown[]) => {
      const sql = args[5] as { query(text: string): Promise<{ transaction_isolation: string }[]> };
      const [{ transaction_isolation: level }] = await sql.query('SHOW transaction_isolation');
      isolation.push(level);
      const answer = await real(...args);
      return level === 'repeatable read' ? answer : { ...answer, stale: true };
    });
    try {
      const may = await listedAndAll('p8', '2024-05-01T00:00:00.000000Z', '2024-05-02T00:00:00.000000Z');
      expect(may.listed).toEqual([['k1', '2024-04-01 00:00:00']]);
      // The first with the window's own months (p8's floors not held yet), then three with its floors.
      expect(isolation).toEqual(['read committed', 'read committed', 'read committed', 'read committed', 'repeatable read']);
      await expect(
        t.runtime.dataSource.transaction((m) => repository.listWindow('p8', us('2024-05-01T00:00:00Z'), us('2024-05-02T00:00:00Z'), undefined, m)),
      ).rejects.toThrow('the month floors of project p8 changed during each of 3 listings');
    } finally {
      spy.mockRestore();
    }
  });
});

describe('Almanach month floors in a zone whose midnight happens twice (America/Havana)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'America/Havana' });

  it('a version ending in the first of the two midnights of 2026-11-01 is in November\'s floor and listed', async () => {
    const service = await t.token('service');
    const send = (method: 'post' | 'delete', url: string, body: object, status: number) =>
      t.http[method](url).set('X-Auth-Token', service).set('Content-Type', 'application/json').send(body).expect(status);
    await send('post', '/v1/project/h1/instance', { id: 'hv', created_at: '2026-10-01T00:00:00Z', name: 'hv', flavor: 'm1.small', os_distro: 'ubuntu', os_version: '22.04', os_type: 'linux' }, 201);
    // 04:30Z is 00:30 local, daylight time: the first of the two 00:30s of that day (clocks go back at 01:00).
    await send('delete', '/v1/instance/hv', { date: '2026-11-01T04:30:00Z' }, 202);
    const floors = await t.runtime.dataSource.query(
      `SELECT to_char(lo AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS lo, to_char(hi AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS hi FROM almanach_version_floor WHERE project_id = 'h1'`,
    );
    // November starts at the first midnight (04:00Z), not the second (05:00Z): the version's end is inside its month.
    expect(floors).toEqual([{ lo: '2026-11-01 04:00', hi: '2026-12-01 05:00' }]);
    const res = await t.http.get('/v1/project/h1/entities?start=2026-10-10T00:00:00.000000Z&end=2026-10-11T00:00:00.000000Z').set('X-Auth-Token', service).expect(200);
    expect(res.body.map((e: { entity_id: string; end: string }) => [e.entity_id, e.end])).toEqual([['hv', '2026-11-01 04:30:00+00:00']]);
  });

  it("a version ending between the two midnights of a month with no partition yet leaves the default partition on the worker's pass", async () => {
    const service = await t.token('service');
    const send = (method: 'post' | 'delete', url: string, body: object, status: number) =>
      t.http[method](url).set('X-Auth-Token', service).set('Content-Type', 'application/json').send(body).expect(status);
    await send('post', '/v1/project/h2/instance', { id: 'hw', created_at: '2020-10-01T00:00:00Z', name: 'hw', flavor: 'm1.small', os_distro: 'ubuntu', os_version: '22.04', os_type: 'linux' }, 201);
    // 04:30Z on 2020-11-01 is the first 00:30 of November; PostgreSQL reads November's midnight as the second (05:00Z),
    // where the partition of November starts: the row belongs to October's.
    await send('delete', '/v1/instance/hw', { date: '2020-11-01T04:30:00Z' }, 202);
    const where = async () =>
      (await t.runtime.dataSource.query(`SELECT tableoid::regclass::text AS part FROM almanach_entity_version WHERE entity_id = 'hw'`))[0].part;
    expect(await where()).toBe('almanach_entity_version_default');
    const created = await t.app.get(HistoryPartitionsLoop).pass();
    expect(created).toContain('almanach_entity_version_2020_10');
    expect(await where()).toBe('almanach_entity_version_2020_10');
    expect(await t.app.get(HistoryPartitionsLoop).pass()).toEqual([]);
  });
});

describe('Almanach month floors in a zone whose fall-back crosses a month\'s first midnight (America/St_Johns, 2009-11-01)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'America/St_Johns' });
  let service: string;

  beforeEach(async () => {
    service = await t.token('service');
  });

  const send = (method: 'post' | 'delete', url: string, body: object, status: number) =>
    t.http[method](url).set('X-Auth-Token', service).set('Content-Type', 'application/json').send(body).expect(status);
  const instance = (id: string, createdAt: string) => ({ id, created_at: createdAt, name: id, flavor: 'm1.small', os_distro: 'ubuntu', os_version: '22.04', os_type: 'linux' });
  const floorsOf = async (project: string) =>
    (
      await t.runtime.dataSource.query(
        `SELECT to_char(lo AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS lo, to_char(hi AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS hi
         FROM almanach_version_floor WHERE project_id = $1 ORDER BY lo, hi`,
        [project],
      )
    ).map((r: { lo: string; hi: string }) => [r.lo, r.hi]);
  const october = async (project: string) => {
    const res = await t.http
      .get(`/v1/project/${project}/entities?start=2009-10-10T00:00:00.000000Z&end=2009-10-11T00:00:00.000000Z`)
      .set('X-Auth-Token', service)
      .expect(200);
    return res.body.map((e: { entity_id: string; end: string }) => [e.entity_id, e.end]);
  };
  // November began at the first midnight, 02:30Z (daylight time, UTC-2:30); at 00:01 the clocks went back to
  // 23:01 of October 31st (standard time, UTC-3:30) until 03:30Z. 02:45Z is 23:15 on October 31st again, but
  // inside November's bounds.
  const ended = '2009-11-01T02:45:00Z';
  const november = ['2009-11-01 02:30', '2009-12-01 03:30'];

  it("a version ending in the hour after November's first midnight is filed under November's floor and listed in an October window, guessed or with the floors held", async () => {
    await send('post', '/v1/project/s1/instance', instance('sj', '2009-10-01T00:00:00Z'), 201);
    await send('delete', '/v1/instance/sj', { date: ended }, 202);
    expect(await floorsOf('s1')).toEqual([november]);
    const repository = t.app.get(AlmanachRepository);
    const target = repository as unknown as { readWindow: (...args: unknown[]) => Promise<unknown>; readFloors: (...args: unknown[]) => Promise<unknown> };
    const windows = jest.spyOn(target, 'readWindow');
    const floors = jest.spyOn(target, 'readFloors');
    try {
      // The first listing guesses the window's months (October), answers stale and lists again with the floors it
      // brought; the second is one statement with them.
      for (const expected of [
        [2, 0],
        [1, 0],
      ]) {
        windows.mockClear();
        floors.mockClear();
        expect(await october('s1')).toEqual([['sj', '2009-11-01 02:45:00+00:00']]);
        expect([windows.mock.calls.length, floors.mock.calls.length]).toEqual(expected);
      }
      // A window ending in the fold (02:50Z, October 31st 23:20 again on the wall clock) is in November's accounting
      // day: its months are October and November, which cover the version's floor: one statement.
      await send('post', '/v1/project/s3/instance', instance('sl', '2009-10-20T00:00:00Z'), 201);
      await send('delete', '/v1/instance/sl', { date: ended }, 202);
      windows.mockClear();
      floors.mockClear();
      const res = await t.http
        .get('/v1/project/s3/entities?start=2009-10-25T00:00:00.000000Z&end=2009-11-01T02:50:00.000000Z')
        .set('X-Auth-Token', service)
        .expect(200);
      expect(res.body.map((e: { entity_id: string }) => e.entity_id)).toEqual(['sl']);
      expect([windows.mock.calls.length, floors.mock.calls.length]).toEqual([1, 0]);
    } finally {
      windows.mockRestore();
      floors.mockRestore();
    }
  });

  it('the migration adds the November floor of a version filed under October before it', async () => {
    const db = t.runtime.dataSource;
    const migration = new AlmanachFloorLocalDay1763802090000();
    await db.transaction(async (m) => migration.down(m.queryRunner!));
    try {
      await send('post', '/v1/project/s2/instance', instance('sk', '2009-10-01T00:00:00Z'), 201);
      await send('delete', '/v1/instance/sk', { date: ended }, 202);
      // Filed by its wall-clock date, October 31st: a month whose hi is before the end.
      expect(await floorsOf('s2')).toEqual([['2009-10-01 02:30', '2009-11-01 02:30']]);
    } finally {
      await db.transaction(async (m) => migration.up(m.queryRunner!));
    }
    // The October floor stays (a read too many, never a version missed); November's is added.
    expect(await floorsOf('s2')).toEqual([['2009-10-01 02:30', '2009-11-01 02:30'], november]);
    expect(await october('s2')).toEqual([['sk', '2009-11-01 02:45:00+00:00']]);
    // Run again, the repair adds nothing.
    await db.transaction(async (m) => migration.up(m.queryRunner!));
    expect(await floorsOf('s2')).toEqual([['2009-10-01 02:30', '2009-11-01 02:30'], november]);
  });
});

describe.each(['Pacific/Kiritimati', 'Etc/GMT+12'])('the window-months guess in a zone far from UTC (%s)', (zone) => {
  const t = useTestApp({ REPORT_TIME_ZONE: zone });

  it("is the zone's months of the window: a version of the window ending early in the local month of the window's end is listed in one statement", async () => {
    const service = await t.token('service');
    const send = (method: 'post' | 'delete', url: string, body: object, status: number) =>
      t.http[method](url).set('X-Auth-Token', service).set('Content-Type', 'application/json').send(body).expect(status);
    // The window is local June: in Kiritimati (UTC+14) 2024-05-31T10:00Z to 2024-06-30T10:00Z, in Etc/GMT+12
    // (UTC-12) 2024-06-01T12:00Z to 2024-07-01T12:00Z. Its end is local July 1st, so July is one of its months; the
    // version ends an hour into local July, which the UTC months of the window's end (June, or July to Aug 1 00:00Z)
    // would not cover: a guess in UTC months answers stale, and two statements list it.
    const firstInstant = zone === 'Pacific/Kiritimati' ? '2024-05-31T10:00:00Z' : '2024-06-01T12:00:00Z';
    const lastInstant = zone === 'Pacific/Kiritimati' ? '2024-06-30T10:00:00Z' : '2024-07-01T12:00:00Z';
    const ended = zone === 'Pacific/Kiritimati' ? '2024-06-30T11:00:00Z' : '2024-07-01T13:00:00Z';
    await send('post', '/v1/project/z1/instance', { id: 'z', created_at: firstInstant, name: 'z', flavor: 'm1.small', os_distro: 'ubuntu', os_version: '22.04', os_type: 'linux' }, 201);
    await send('delete', '/v1/instance/z', { date: ended }, 202);
    const repository = t.app.get(AlmanachRepository);
    const target = repository as unknown as { readWindow: (...args: unknown[]) => Promise<unknown>; readFloors: (...args: unknown[]) => Promise<unknown> };
    const windows = jest.spyOn(target, 'readWindow');
    const floors = jest.spyOn(target, 'readFloors');
    try {
      const res = await t.http.get(`/v1/project/z1/entities?start=${firstInstant}&end=${lastInstant}`).set('X-Auth-Token', service).expect(200);
      expect(res.body.map((e: { entity_id: string }) => e.entity_id)).toEqual(['z']);
      expect([windows.mock.calls.length, floors.mock.calls.length]).toEqual([1, 0]);
    } finally {
      windows.mockRestore();
      floors.mockRestore();
    }
  });
});
