import { loadavg } from 'node:os';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AppConfig } from '../src/config/app-config';
import { httpRequest, percentile, report, runConcurrently, sizeLabel, startBenchProcess, startChildServer, stopChild } from './support';

/** The history sizes measured, in order, each grown from the last (issue 14: 2M and 20M); embedded PostgreSQL measures the first only. */
const SIZES = (process.env.BENCH_INFO_VERSIONS ?? '2000000,20000000').split(',').map(Number);
const READS = Number(process.env.BENCH_INFO_READS ?? 3_000);
const READERS = Number(process.env.BENCH_INFO_READERS ?? 8);
const PROBES = 1; // a monitoring probe or the CLI's `version`: one request at a time
const WRITERS = Number(process.env.BENCH_INFO_WRITERS ?? 16);
/** Write events per second over all writers; 0: as fast as they go (the API process saturated, every route queues). */
const WRITE_RATE = Number(process.env.BENCH_INFO_WRITE_RATE ?? 100);
/** Issue 14: GET /v1/info p99 below 5 ms at 2M and 20M versions while writes run. */
const LIMIT_MS = 5;
const SEED_CHUNK = 500_000;

/**
 * GET /v1/info (issue 14, docs/almanach.md "Counts of /v1/info"): seeds the
 * first of BENCH_INFO_VERSIONS (sizes, comma-separated: 2M,20M by default)
 * straight in SQL (the history triggers keep the tally; the reports'
 * dirty-key trigger is off for the seed only, or millions of back-dated
 * versions would mark every day since 2024), then at each size measures the
 * latency of /v1/info over HTTP, first alone, then while BENCH_INFO_WRITERS
 * clients run create → resize → delete cycles (BENCH_INFO_WRITE_RATE events/s
 * in all, 100 by default; 0: as fast as they go), then grows the history to
 * the next size and measures again. `info-p99-<size>` is one client probing
 * (a monitoring probe, the CLI's `version`), against the issue's 5 ms, beside
 * two floors probed the same way in the same phase, alternately with it:
 * /health (a PostgreSQL and Redis ping: the API's cheapest route that reaches its servers) and
 * a bare Node server answering a constant body (bench/bare-node-server.ts: what
 * one request costs on that machine then). Then BENCH_INFO_READERS clients at
 * once, beside /health again. Prints the count(*) the route ran before, in SQL
 * on the same data, and checks at each size that the answer is that count(*),
 * before the writers and after them.
 *
 * `BENCH_INFO_VERSIONS=200000 npm run bench -- info` runs in about a minute;
 * the default, 2M then 20M, in about 20 (the growth to 20M is 15 of them).
 */
export async function run(): Promise<void> {
  if (SIZES.some((n, i) => !Number.isInteger(n) || n < 2 || (i > 0 && n <= SIZES[i - 1]))) {
    throw new Error(`BENCH_INFO_VERSIONS must be growing whole numbers of at least 2, comma-separated (got ${process.env.BENCH_INFO_VERSIONS})`);
  }
  let stored: Stored = { all: 0, open: 0, countStarMs: NaN };
  const server = await startBenchProcess(async (db) => {
    await startReportClock(db);
    // One connection: each chunk is a transaction of its own.
    const runner = db.createQueryRunner();
    await runner.connect();
    try {
      const query: Query = (text, params) => runner.query(text, params);
      await timedSeed(query, 0, SIZES[0]);
      stored = await countStored(query);
    } finally {
      await runner.release();
    }
  });
  const sql = server.databaseUrl ? new Client({ connectionString: server.databaseUrl }) : undefined;
  let floor: Awaited<ReturnType<typeof startChildServer>> | undefined;
  try {
    floor = await startChildServer('bare-node-server.js');
    process.stdout.write(`# on ${server.description}; ${WRITERS} writers, ${WRITE_RATE > 0 ? `paced to ${WRITE_RATE} events/s` : 'unpaced'}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
    const token = await createToken(server.baseUrl, server.adminToken);
    const headers = { 'X-Auth-Token': token, 'Content-Type': 'application/json' };
    const floorUrl = `http://127.0.0.1:${floor.port}`;
    await sql?.connect();
    // Warm the API (its JIT, connections and prepared statements) and the bare server, untimed, so the first
    // size's figures are not its first requests.
    await probeAlternately(server.baseUrl, floorUrl, WARM_UP);
    report('info-p99-limit', LIMIT_MS, 'ms');
    for (const [i, size] of SIZES.entries()) {
      if (i > 0) {
        if (!sql) {
          process.stdout.write(`# ${SIZES.slice(i).map(sizeLabel).join(', ')} not measured: growing the history while the API runs needs DATABASE_URL (embedded PostgreSQL has one connection)\n`);
          break;
        }
        const query: Query = (text, params) => sql.query(text, params).then((r) => r.rows);
        await timedSeed(query, SIZES[i - 1], size);
        stored = await countStored(query);
      }
      report(`info-stored-versions-${sizeLabel(size)}`, stored.all, 'versions (count(*), the writers\' earlier cycles included)');
      report(`info-count-star-sql-before-${sizeLabel(size)}`, stored.countStarMs, 'ms');
      await measure(sizeLabel(size), server.baseUrl, floorUrl, headers, stored);
    }
    if (sql) {
      // The read /v1/info runs now, in SQL alone, and the tally's size after the writers.
      const { rows } = await sql.query(`SELECT count(*)::int AS n, pg_relation_size('almanach_version_tally')::int AS bytes FROM almanach_version_tally`);
      report('info-tally-rows', rows[0].n, 'rows');
      report('info-tally-size', rows[0].bytes / 1024, 'KiB');
      const plan = await sql.query(`EXPLAIN (ANALYZE, FORMAT TEXT) SELECT coalesce(sum(versions), 0), coalesce(sum(open_versions), 0) FROM almanach_version_tally`);
      const line = (plan.rows as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).find((l) => l.startsWith('Execution Time'));
      report('info-tally-sql', Number(/([\d.]+) ms/.exec(line ?? '')?.[1] ?? NaN), 'ms');
    }
  } finally {
    await sql?.end();
    if (floor) await stopChild(floor.child);
    await server.close();
  }
}

/** The versions and open versions stored, by count(*) (not the tally /v1/info sums), and the time that count took. */
interface Stored {
  all: number;
  open: number;
  countStarMs: number;
}

/**
 * One size: /v1/info alone, then while the writers run, each beside its floors. The answer is checked
 * against count(*) before the writers (`stored`) and after them (+2 versions per cycle, open unchanged).
 */
async function measure(size: string, baseUrl: string, floorUrl: string, headers: Record<string, string>, stored: Stored): Promise<void> {
  const first = await readInfo(baseUrl);
  if (first.all_entities !== stored.all || first.active_entities !== stored.open) {
    throw new Error(`/v1/info answered ${JSON.stringify(first)} at ${size}, count(*) ${JSON.stringify(stored)}`);
  }

  // Alone.
  const idle = await probeAlternately(baseUrl, floorUrl, Math.min(READS, 2_000));
  report(`info-p50-idle-${size}`, percentile(idle.info, 50), 'ms');
  report(`info-p99-idle-${size}`, percentile(idle.info, 99), 'ms');
  report(`health-p99-idle-${size}`, percentile(idle.health, 99), 'ms');
  report(`floor-p99-idle-${size}`, percentile(idle.floor, 99), 'ms');

  // While writes run: each writer loops create → resize → delete on new instances.
  let stop = false;
  const writeStarted = process.hrtime.bigint();
  const writeLatencies: number[] = [];
  const cycles = { done: 0 };
  const writers = Array.from({ length: WRITERS }, (_, w) => writeLoop(baseUrl, headers, `${size}-${w}`, w, writeLatencies, cycles, () => stop));
  let busy: Probed;
  let crowd: number[];
  let health: number[];
  try {
    // Let the writers reach their pace before reading.
    await new Promise((r) => setTimeout(r, 2_000));
    busy = await probeAlternately(baseUrl, floorUrl, READS);
    crowd = await readMany(baseUrl, READS, READERS);
    health = await readMany(baseUrl, READS, READERS, '/health');
  } finally {
    // Stopped and awaited whatever happened: a writer left running would fail against the closed API.
    stop = true;
    const ended = await Promise.allSettled(writers);
    const failed = ended.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  const writeSeconds = Number(process.hrtime.bigint() - writeStarted) / 1e9;
  writeLatencies.sort((a, b) => a - b);
  report(`info-p50-${size}`, percentile(busy.info, 50), 'ms');
  report(`info-p99-${size}`, percentile(busy.info, 99), 'ms');
  report(`health-p99-${size}`, percentile(busy.health, 99), 'ms');
  report(`floor-p99-${size}`, percentile(busy.floor, 99), 'ms');
  report(`info-p99-${READERS}-readers-${size}`, percentile(crowd, 99), 'ms');
  report(`health-p99-${READERS}-readers-${size}`, percentile(health, 99), 'ms');
  const p99 = percentile(busy.info, 99);
  process.stdout.write(
    `# info-p99 ${p99 < LIMIT_MS ? 'within' : 'OVER'} its limit at ${size}; ${(p99 - percentile(busy.floor, 99)).toFixed(2)} ms above the bare server's p99, ${(p99 - percentile(busy.health, 99)).toFixed(2)} ms above /health's\n`,
  );
  report(`info-writes-meanwhile-${size}`, writeLatencies.length / writeSeconds, 'events/s');
  report(`info-writes-meanwhile-p99-${size}`, percentile(writeLatencies, 99), 'ms');

  const last = await readInfo(baseUrl);
  const expected = { all_entities: stored.all + 2 * cycles.done, active_entities: stored.open };
  if (last.all_entities !== expected.all_entities || last.active_entities !== expected.active_entities) {
    throw new Error(`/v1/info answered ${JSON.stringify(last)} after ${cycles.done} write cycles, expected ${JSON.stringify(expected)}`);
  }
  process.stdout.write(`# /v1/info exact at ${size} after ${cycles.done} write cycles (count(*) before them: ${stored.all}): ${JSON.stringify(last)}\n`);
}

async function writeLoop(baseUrl: string, headers: Record<string, string>, prefix: string, w: number, latencies: number[], cycles: { done: number }, stopped: () => boolean): Promise<void> {
  const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
  const timed = async (url: string, method: string, body: unknown, expected: number) => {
    const t0 = process.hrtime.bigint();
    await call(url, method, headers, body, expected);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    latencies.push(ms);
    if (WRITE_RATE > 0) await new Promise((r) => setTimeout(r, Math.max(0, (WRITERS * 1000) / WRITE_RATE - ms)));
  };
  for (let k = 0; !stopped(); k++) {
    const id = `info-${prefix}-${k}`;
    await timed(`${baseUrl}/v1/project/project-${(w * 7919 + k) % 1000}/instance`, 'POST', {
      id,
      created_at: `${day(2)}T00:00:00Z`,
      name: id,
      flavor: 'm1.small',
      os_distro: 'ubuntu',
      os_version: '22.04',
      os_type: 'linux',
    }, 201);
    await timed(`${baseUrl}/v1/instance/${id}/resize`, 'PUT', { date: `${day(1)}T00:00:00Z`, flavor: 'm1.large' }, 200);
    await timed(`${baseUrl}/v1/instance/${id}`, 'DELETE', { date: `${day(0)}T00:00:00Z` }, 202);
    cycles.done++;
  }
}

/**
 * One probe at a time, in slices of 100 requests alternating between
 * /v1/info, /health and the bare server, so the three see the same moments
 * of the machine.
 */
async function probeAlternately(baseUrl: string, floorUrl: string, count: number): Promise<Probed> {
  const out: Probed = { info: [], health: [], floor: [] };
  for (let done = 0; done < count; done += SLICE) {
    const n = Math.min(SLICE, count - done);
    out.info.push(...(await readMany(baseUrl, n, PROBES)));
    out.health.push(...(await readMany(baseUrl, n, PROBES, '/health')));
    out.floor.push(...(await readMany(floorUrl, n, PROBES, '/v1/info')));
  }
  for (const list of [out.info, out.health, out.floor]) list.sort((a, b) => a - b);
  return out;
}

const SLICE = 100;
const WARM_UP = 1_000;

interface Probed {
  info: number[];
  health: number[];
  floor: number[];
}

type Query = (text: string, params?: unknown[]) => Promise<{ [key: string]: unknown }[]>;

/**
 * The reports' clock first, as a previous start would have left it: the
 * first start of the API creates it by marking every day of the history
 * dirty (minutes at 2M versions), which is the reports' cost, not this bench's.
 */
async function startReportClock(db: DataSource): Promise<void> {
  const config = AppConfig.fromValues({ ...process.env, DATA_DIR: 'memory://' });
  await db.query(`INSERT INTO report_clock (id, time_zone, cloud_site, booked_day) VALUES (1, $1, $2, report_local_day(now(), $1))`, [
    config.reportTimeZone,
    config.cloudSite,
  ]);
}

/** Seeds versions [from, to) and reports the time it took. */
async function timedSeed(query: Query, from: number, to: number): Promise<void> {
  const started = Date.now();
  await seed(query, from, to);
  report(`info-seed-time-${sizeLabel(to)}`, (Date.now() - started) / 1000, 's');
}

/**
 * Versions [from, to) in chunks, two per entity: entity e has a closed
 * version, then an open one (project e % 20,000). The tally triggers run; the
 * reports' insert trigger is disabled inside each chunk's transaction only
 * (the reports never see the seed; this bench reads no report).
 */
async function seed(query: Query, from: number, to: number): Promise<void> {
  for (let first = Math.ceil(from / 2); first < Math.ceil(to / 2); first += SEED_CHUNK / 2) {
    const last = Math.min(Math.ceil(to / 2), first + SEED_CHUNK / 2) - 1;
    await query('BEGIN');
    try {
      await query(`ALTER TABLE almanach_entity_version DISABLE TRIGGER report_dirty_almanach_insert`);
      await query(
        `INSERT INTO almanach_entity_version (entity_id, entity_type, project_id, start, "end", last_event, name, flavor, image_meta, metadata)
         SELECT 'seed-' || e, 'instance', 'project-' || (e % 20000),
                ts + (v * interval '10 days'), CASE WHEN v = 0 THEN ts + interval '10 days' END, ts + (v * interval '10 days'),
                'seed', 'm1.small', '{"distro":"ubuntu","version":"22.04","os_type":"linux"}'::jsonb, '{}'::jsonb
         FROM generate_series($1::int, $2::int) AS e, generate_series(0, 1) AS v,
              LATERAL (SELECT timestamptz '2024-01-01' + ((e::bigint * 7919) % 365) * interval '1 day' AS ts) AS base`,
        [first, last],
      );
      await query(`ALTER TABLE almanach_entity_version ENABLE TRIGGER report_dirty_almanach_insert`);
      await query('COMMIT');
    } catch (error) {
      await query('ROLLBACK');
      throw error;
    }
  }
  await query('VACUUM ANALYZE almanach_entity_version');
}

/**
 * The statement /v1/info ran before the tally, three times: its answer (what /v1/info must answer, counted
 * without the tally) and its median time.
 */
async function countStored(query: Query): Promise<Stored> {
  const times: number[] = [];
  let counts = { all: 0, open: 0 };
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    const [row] = await query(`SELECT (SELECT count(*) FROM almanach_entity_version)::int AS all, (SELECT count(*) FROM almanach_entity_version WHERE "end" IS NULL)::int AS active`);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    counts = { all: Number(row.all), open: Number(row.active) };
  }
  return { ...counts, countStarMs: times.sort((a, b) => a - b)[1] };
}

// The probes and writers go through httpRequest (node:http, kept-alive connections): global fetch's own
// CPU and timers on the shared cores were part of the p99 it measured (/health idle p99 5-7 ms with fetch).
async function readInfo(baseUrl: string): Promise<{ all_entities: number; active_entities: number }> {
  const res = await httpRequest(`${baseUrl}/v1/info`, 'GET', {});
  if (res.status !== 200) throw new Error(`/v1/info answered ${res.status}`);
  return (JSON.parse(res.body.toString('utf8')) as { database: { all_entities: number; active_entities: number } }).database;
}

async function readMany(baseUrl: string, count: number, clients: number, path = '/v1/info'): Promise<number[]> {
  const read = path === '/v1/info' ? () => readInfo(baseUrl) : () => httpRequest(`${baseUrl}${path}`, 'GET', {});
  const latencies = await runConcurrently(count, clients, async () => void (await read()));
  return latencies.sort((a, b) => a - b);
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
  const res = await httpRequest(url, method, headers, JSON.stringify(body));
  if (res.status !== expected) throw new Error(`${method} ${url} answered ${res.status}, expected ${expected}`);
}
