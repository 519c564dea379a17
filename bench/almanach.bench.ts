import { DataSource } from 'typeorm';
import { percentile, report, runConcurrently, startBenchProcess } from './support';

const PROJECTS = Number(process.env.BENCH_ALMANACH_PROJECTS ?? 10_000);
const ENTITIES_PER_PROJECT = 50; // two versions each: 1,000,000 versions by default
const WRITE_EVENTS = Number(process.env.BENCH_ALMANACH_WRITES ?? 3_000);
const LISTINGS = Number(process.env.BENCH_ALMANACH_LISTINGS ?? 2_000);
const CONCURRENCY = 50;

/**
 * Almanach v1 (issue 2): seeds PROJECTS × 50 entities × 2 versions straight in
 * SQL, then measures over HTTP event writes per second (create, resize,
 * delete; 16 clients) and window-listing latency with 50 concurrent clients,
 * plus the SQL execution time of one window listing.
 */
export async function run(): Promise<void> {
  let sqlListing = NaN;
  const server = await startBenchProcess(async (db) => {
    const seeded = Date.now();
    await seed(db);
    const [{ n }] = await db.query('SELECT count(*)::int AS n FROM almanach_entity_version');
    report('almanach-seeded-versions', n, 'versions');
    report('almanach-seed-time', (Date.now() - seeded) / 1000, 's');
    sqlListing = await explainListing(db);
  });
  try {
    process.stdout.write(`# on ${server.description}\n`);
    report('almanach-window-listing-sql', sqlListing, 'ms');
    const token = await createToken(server.baseUrl, server.adminToken);
    const headers = { 'X-Auth-Token': token, 'Content-Type': 'application/json' };

    // Writes: each entity gets create, resize, delete (3 events), 16 clients.
    const entities = Math.ceil(WRITE_EVENTS / 3);
    const started = process.hrtime.bigint();
    await runConcurrently(entities, 16, async (i) => {
      const id = `bench-${i}`;
      const project = `project-${i % PROJECTS}`;
      await call(`${server.baseUrl}/v1/project/${project}/instance`, 'POST', headers, {
        id,
        created_at: '2025-01-01T00:00:00Z',
        name: id,
        flavor: 'm1.small',
        os_distro: 'ubuntu',
        os_version: '22.04',
        os_type: 'linux',
      }, 201);
      await call(`${server.baseUrl}/v1/instance/${id}/resize`, 'PUT', headers, { date: '2025-01-02T00:00:00Z', flavor: 'm1.large' }, 200);
      await call(`${server.baseUrl}/v1/instance/${id}`, 'DELETE', headers, { date: '2025-01-03T00:00:00Z' }, 202);
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    report('almanach-event-writes', (entities * 3) / seconds, 'events/s');

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
  await db.query('ANALYZE almanach_entity_version');
}

/** Execution time of one project's 30-day window listing, in SQL alone. */
async function explainListing(db: DataSource): Promise<number> {
  const plan: { 'QUERY PLAN': string }[] = await db.query(
    `EXPLAIN (ANALYZE, FORMAT TEXT) SELECT * FROM almanach_entity_version
     WHERE project_id = 'project-42' AND start <= '2024-07-01' AND ("end" IS NULL OR "end" >= '2024-06-01') ORDER BY start, id`,
  );
  const execution = plan.map((r) => r['QUERY PLAN']).find((line) => line.startsWith('Execution Time'));
  return Number(/([\d.]+) ms/.exec(execution ?? '')?.[1] ?? NaN);
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
