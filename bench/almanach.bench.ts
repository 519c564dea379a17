import { DataSource } from 'typeorm';
import { AppConfig } from '../src/config/app-config';
import { percentile, report, runConcurrently, startBenchProcess } from './support';

const PROJECTS = Number(process.env.BENCH_ALMANACH_PROJECTS ?? 10_000);
const ENTITIES_PER_PROJECT = 50; // two versions each: 1,000,000 versions by default
const WRITE_EVENTS = Number(process.env.BENCH_ALMANACH_WRITES ?? 3_000);
const LISTINGS = Number(process.env.BENCH_ALMANACH_LISTINGS ?? 2_000);
const CONCURRENCY = 50;
const BACKDATED = Number(process.env.BENCH_ALMANACH_BACKDATED ?? 30);

/**
 * Almanach v1 (issue 2): seeds PROJECTS × 50 entities × 2 versions straight in
 * SQL, then measures over HTTP event writes per second (create, resize,
 * delete; 16 clients) and window-listing latency with 50 concurrent clients,
 * plus the SQL execution time of one window listing, and the latency of
 * one back-dated create (an instance open since 2016: its dirty days are
 * one report_dirty_range row, §7.2) beside one dated 20 days back (21 dirty
 * keys), BACKDATED of each: in SQL alone (the insert and its triggers, rolled
 * back, before the server starts) and over HTTP with one client (the drain
 * of the previous creates runs meanwhile: on PGlite it shares the one
 * session, so that figure includes waiting for it).
 */
export async function run(): Promise<void> {
  let listing: Listing = { ms: NaN, rows: NaN, pages: NaN, returned: NaN };
  let backdatedSql: [string, number][] = [];
  const server = await startBenchProcess(async (db) => {
    const seeded = Date.now();
    await seed(db);
    const [{ n }] = await db.query('SELECT count(*)::int AS n FROM almanach_entity_version');
    report('almanach-seeded-versions', n, 'versions');
    report('almanach-seed-time', (Date.now() - seeded) / 1000, 's');
    listing = await explainListing(db);
    backdatedSql = await backdatedInserts(db);
  });
  try {
    process.stdout.write(`# on ${server.description}\n`);
    report('almanach-window-listing-sql', listing.ms, 'ms');
    // What one listing reads against what it answers (issue 14: reads follow the answer, not the project's history).
    report('almanach-window-listing-sql-returned', listing.returned, 'versions');
    report('almanach-window-listing-sql-rows-read', listing.rows, 'versions');
    report('almanach-window-listing-sql-pages', listing.pages, 'pages');
    for (const [name, ms] of backdatedSql) report(name, ms, 'ms');
    const token = await createToken(server.baseUrl, server.adminToken);
    const headers = { 'X-Auth-Token': token, 'Content-Type': 'application/json' };

    // Writes: each entity gets create, resize, delete (3 events), 16 clients.
    const entities = Math.ceil(WRITE_EVENTS / 3);
    const started = process.hrtime.bigint();
    await runConcurrently(entities, 16, async (i) => {
      const id = `bench-${i}`;
      const project = `project-${i % PROJECTS}`;
      await call(`${server.baseUrl}/v1/project/${project}/instance`, 'POST', headers, instance(id, '2025-01-01T00:00:00Z'), 201);
      await call(`${server.baseUrl}/v1/instance/${id}/resize`, 'PUT', headers, { date: '2025-01-02T00:00:00Z', flavor: 'm1.large' }, 200);
      await call(`${server.baseUrl}/v1/instance/${id}`, 'DELETE', headers, { date: '2025-01-03T00:00:00Z' }, 202);
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    report('almanach-event-writes', (entities * 3) / seconds, 'events/s');

    // One create at a time, dated 2016 (about 4,000 days to today) or 20 days back.
    const createdAt = (daysBack: number | null) => (daysBack === null ? '2016-01-01T00:00:00Z' : new Date(Date.now() - daysBack * 86_400_000).toISOString());
    for (const [name, daysBack] of [['almanach-backdated-create-2016', null], ['almanach-backdated-create-20d', 20]] as const) {
      const latencies = await runConcurrently(BACKDATED, 1, async (i) => {
        const id = `backdated-${daysBack ?? 2016}-${i}`;
        await call(`${server.baseUrl}/v1/project/backdated-${i}/instance`, 'POST', headers, instance(id, createdAt(daysBack)), 201);
      });
      latencies.sort((a, b) => a - b);
      report(`${name}-p50`, percentile(latencies, 50), 'ms');
    }

    // Window listings: a random project, a 30-day window, 50 clients.
    let rows = 0;
    const latencies = await runConcurrently(LISTINGS, CONCURRENCY, async (i) => {
      const project = `project-${(i * 7919) % PROJECTS}`;
      const url = `${server.baseUrl}/v1/project/${project}/entities?start=2024-06-01+00:00:00.000000&end=2024-07-01+00:00:00.000000`;
      const res = await fetch(url, { headers });
      if (res.status !== 200) throw new Error(`listing answered ${res.status}`);
      rows += ((await res.json()) as unknown[]).length;
    });
    latencies.sort((a, b) => a - b);
    report('almanach-window-listing-p50', percentile(latencies, 50), 'ms');
    report('almanach-window-listing-p99', percentile(latencies, 99), 'ms');
    report('almanach-window-listing-rows', rows / LISTINGS, 'versions/listing');
  } finally {
    await server.close();
  }
}

/** Entity e of project e % PROJECTS: a closed version [t0, t0 + 10 days], then an open one. */
async function seed(db: DataSource): Promise<void> {
  // The seeded versions close in 2024 and early 2025: their months get their partitions first, as the
  // worker's pass (src/almanach/partitions) would have made them while that history was written.
  await db.query(`SELECT almanach_version_ensure_month(m::date, 'UTC') FROM generate_series(date '2024-01-01', date '2025-02-01', interval '1 month') AS m`);
  await db.query(
    `INSERT INTO almanach_entity_version (entity_id, entity_type, project_id, start, "end", last_event, name, flavor, image_meta, metadata, volume_type, size, attached_to)
     SELECT 'seed-' || e,
            CASE WHEN e % 2 = 0 THEN 'instance' ELSE 'volume' END,
            'project-' || (e % $1::int),
            ts + (v * interval '10 days'),
            CASE WHEN v = 0 THEN ts + interval '10 days' END,
            ts + (v * interval '10 days'),
            'seed',
            CASE WHEN e % 2 = 0 THEN 'm1.small' END,
            CASE WHEN e % 2 = 0 THEN '{"distro":"ubuntu","version":"22.04","os_type":"linux"}'::jsonb END,
            CASE WHEN e % 2 = 0 THEN '{}'::jsonb END,
            CASE WHEN e % 2 = 1 THEN 'ssd' END,
            CASE WHEN e % 2 = 1 THEN 10 END,
            CASE WHEN e % 2 = 1 THEN '{}'::text[] END
     FROM generate_series(0, $1::int * $2::int - 1) AS e,
          generate_series(0, 1) AS v,
          LATERAL (SELECT timestamptz '2024-01-01' + ((e::bigint * 7919) % 365) * interval '1 day' AS ts) AS base`,
    [PROJECTS, ENTITIES_PER_PROJECT],
  );
  // The reports' clock after the seed, as a previous start would have left it: the first start of the API
  // creates it by marking every day of the history dirty (minutes at 2M versions, and the server did not
  // answer within the bench's 60 s), which is the reports' cost (reports bench), not this bench's.
  const config = AppConfig.fromValues({ ...process.env, DATA_DIR: 'memory://' });
  await db.query(`INSERT INTO report_clock (id, time_zone, cloud_site, booked_day) VALUES (1, $1, $2, report_local_day(now(), $1))`, [
    config.reportTimeZone,
    config.cloudSite,
  ]);
  await db.query('ANALYZE almanach_entity_version');
}

/**
 * The write transaction of one back-dated create in SQL alone (the dirty-key
 * triggers included, no drain running): BACKDATED inserts of an open
 * instance version dated 2016-01-01, then 20 days back, each in a
 * transaction rolled back; the median of each.
 */
async function backdatedInserts(db: DataSource): Promise<[string, number][]> {
  // The triggers mark nothing before the clock exists; the app creates it at its start, so it is removed again after.
  const [{ created }] = await db.query(
    `INSERT INTO report_clock (id, time_zone, cloud_site, booked_day) VALUES (1, $1::text, $2, report_local_day(now(), $1::text))
     ON CONFLICT (id) DO NOTHING RETURNING true AS created`,
    [process.env.REPORT_TIME_ZONE ?? 'UTC', process.env.CLOUD_SITE ?? 'cloud'],
  ).then((rows: { created: boolean }[]) => (rows.length ? rows : [{ created: false }]));
  const out: [string, number][] = [];
  for (const [name, start] of [
    ['almanach-backdated-insert-sql-2016-p50', '2016-01-01T00:00:00Z'],
    ['almanach-backdated-insert-sql-20d-p50', new Date(Date.now() - 20 * 86_400_000).toISOString()],
  ]) {
    const times: number[] = [];
    for (let i = 0; i < BACKDATED; i++) {
      const runner = db.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        const began = process.hrtime.bigint();
        await runner.query(
          `INSERT INTO almanach_entity_version (entity_id, entity_type, project_id, start, last_event, name, flavor, image_meta, metadata)
           VALUES ($1, 'instance', $2, $3, $3, 'sql', 'm1.small', '{"distro":"ubuntu","version":"22.04","os_type":"linux"}', '{}')`,
          [`sql-${i}`, `sql-project-${i}`, start],
        );
        times.push(Number(process.hrtime.bigint() - began) / 1e6);
        await runner.rollbackTransaction();
      } finally {
        await runner.release();
      }
    }
    times.sort((a, b) => a - b);
    out.push([name, percentile(times, 50)]);
  }
  if (created) await db.query(`DELETE FROM report_clock WHERE id = 1`);
  return out;
}

interface Listing {
  ms: number;
  /** Versions the scans produced before the filter, summed over every scanned partition. */
  rows: number;
  /** Shared buffers hit or read. */
  pages: number;
  returned: number;
}

/** One project's 30-day window listing in SQL alone (the route's statement): time, versions read, pages, versions answered. */
async function explainListing(db: DataSource): Promise<Listing> {
  const [{ 'QUERY PLAN': plan }]: { 'QUERY PLAN': Explained[] }[] = await db.query(
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM almanach_entity_version
     WHERE project_id = 'project-42' AND start <= '2024-07-01' AND coalesce("end", 'infinity') >= '2024-06-01' ORDER BY start, id`,
  );
  const top = plan[0];
  let rows = 0;
  const visit = (node: PlanNode) => {
    if (/Scan$/.test(node['Node Type'])) rows += (node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0);
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(top.Plan);
  return {
    ms: top['Execution Time'],
    rows,
    pages: (top.Plan['Shared Hit Blocks'] ?? 0) + (top.Plan['Shared Read Blocks'] ?? 0),
    returned: top.Plan['Actual Rows'] ?? NaN,
  };
}

interface PlanNode {
  'Node Type': string;
  'Actual Rows'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

/** One element of EXPLAIN's JSON answer. */
interface Explained {
  Plan: PlanNode;
  'Execution Time': number;
}

/** The body of an Almanach instance create (almanach-v1.md 5.2). */
function instance(id: string, createdAt: string): Record<string, unknown> {
  return { id, created_at: createdAt, name: id, flavor: 'm1.small', os_distro: 'ubuntu', os_version: '22.04', os_type: 'linux' };
}

async function createToken(baseUrl: string, adminToken: string): Promise<string> {
  const res = await fetch(`${baseUrl}/admin/tokens`, {
    method: 'POST',
    headers: { 'X-Auth-Token': adminToken, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'bench', role: 'service' }),
  });
  return ((await res.json()) as { token: string }).token;
}

async function call(url: string, method: string, headers: Record<string, string>, body: unknown, expected: number): Promise<void> {
  const res = await fetch(url, { method, headers, body: JSON.stringify(body) });
  await res.arrayBuffer();
  if (res.status !== expected) throw new Error(`${method} ${url} answered ${res.status}, expected ${expected}`);
}
