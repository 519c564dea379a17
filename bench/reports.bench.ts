import { BudgetAccruals } from '../src/reports/budgets/debits/budget-accruals.service';
import { BudgetDebitsRepository } from '../src/reports/budgets/debits/budget-debits.repository';
import { BudgetOutside } from '../src/reports/budgets/debits/budget-outside.service';
import { BudgetLedgerService } from '../src/reports/budgets/ledger/budget-ledger.service';
import { BudgetLedgerRepository } from '../src/reports/budgets/ledger/budget-ledger.repository';
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { BACKFILL as FLOOR_BACKFILL } from '../migrations/1763802090000-AlmanachFloorLocalDay';
import { BACKFILL as END_BACKFILL } from '../migrations/1763802080000-AlmanachEntityEnd';
import { AppConfig } from '../src/config/app-config';
import { createRootLogger } from '../src/logging/logger';
import { MetricCounts } from '../src/reports/ops/metric-counts.service';
import { OpsRepository } from '../src/reports/ops/ops.repository';
import { AdjustmentPoster } from '../src/reports/rating/periods/adjustment-poster.service';
import { PeriodsRepository } from '../src/reports/rating/periods/periods.repository';
import { RollupDrainer } from '../src/reports/rollups/rollup-drainer.service';
import { RollupRepository } from '../src/reports/rollups/rollup.repository';
import { RatingEngine } from '../src/reports/rating/engine/rating-engine.service';
import { RatingRepository } from '../src/reports/rating/engine/rating.repository';
import { percentile, report, startBenchProcess, stopWorkers, withBenchRuntime } from './support';

/**
 * Reports at scale (reports.md §7.6, the reports benchmark issue):
 *
 * - seeds in SQL, set-based, VERSIONS Almanach versions (PROJECTS projects,
 *   50 flavors, 10 volume types, two years ending now, 5 % open: entities of
 *   two versions, every tenth entity's second version open) and AMIE_RECORDS
 *   AMIE records (three sites, five resources, 5 % storage), with the
 *   dirty-key triggers and the secondary indexes off during the load;
 * - marks the whole history dirty with the app's own first-start path
 *   (RollupRepository.createClock) and builds the rollups from nothing with
 *   DRAINERS concurrent RollupDrainer.drainAll loops (one per worker process
 *   a deployment would run), timing until report_dirty_key is empty;
 * - starts the API (a child process; with REDIS_URL also WORKERS worker
 *   processes, where the reports loops then run) and measures the warm p95
 *   of each §7.6 query through GET /reports/usage, each beside its target;
 * - the CSV export: the time to its 1M-th line (the transfer then stopped),
 *   with the server's RSS growth, when the route answers CSV;
 * - write → visible: Almanach writes over HTTP at WRITE_RATE per second and
 *   AMIE batches, with probe writes (a flavor or resource of their own)
 *   polled until GET /reports/usage shows them; p99 beside 60 s;
 * - check: the consistency check of last month, fleet
 *   (POST /admin/reports/consistency-checks, run by the workers), its time
 *   beside 2 min;
 * - roll: a day roll (`RollupRepository.rollOneDay` with the clock moved a
 *   day back in the same transaction, so the booked day is unchanged after
 *   it) and the workers' drain of the keys it marks, beside 30 s.
 *
 * Scale and lengths come from the environment (defaults are the issue's):
 * REPORTS_BENCH_VERSIONS, REPORTS_BENCH_AMIE, REPORTS_BENCH_PROJECTS,
 * REPORTS_BENCH_DRAINERS, REPORTS_BENCH_DRAIN_MAX_S (stop the build early and
 * project its length), REPORTS_BENCH_SAMPLES, REPORTS_BENCH_WRITE_RATE,
 * REPORTS_BENCH_LOAD_S, REPORTS_BENCH_WORKERS; REPORTS_BENCH_REUSE_DATABASE
 * (the name of a database a run kept with BENCH_KEEP_DATABASE) measures on
 * it again, skipping the seed and the build; REPORTS_BENCH_PHASES (a
 * comma-separated subset of queries,csv,check,roll,write) runs only those phases
 * (with `drain` too, a reused database's dirty keys are drained first: a
 * build stopped part way is resumed), and
 * REPORTS_BENCH_QUERIES (names as printed, e.g. project-month-by-key) only
 * those queries; REPORTS_BENCH_FLEET_COPIES copies the last month's month
 * cells under more project ids (`copyFleet`); REPORTS_BENCH_CSV_LINES (1M)
 * the lines the CSV phase reads before it stops the transfer.
 */
const env = process.env;
const VERSIONS = Number(env.REPORTS_BENCH_VERSIONS ?? 20_000_000);
const AMIE_RECORDS = Number(env.REPORTS_BENCH_AMIE ?? 5_000_000);
const PROJECTS = Number(env.REPORTS_BENCH_PROJECTS ?? 10_000);
const DRAINERS = Number(env.REPORTS_BENCH_DRAINERS ?? 2);
const DRAIN_MAX_S = Number(env.REPORTS_BENCH_DRAIN_MAX_S ?? Infinity);
const SAMPLES = Number(env.REPORTS_BENCH_SAMPLES ?? 40);
const WRITE_RATE = Number(env.REPORTS_BENCH_WRITE_RATE ?? 1000);
const LOAD_S = Number(env.REPORTS_BENCH_LOAD_S ?? 60);
const WORKERS = Number(env.REPORTS_BENCH_WORKERS ?? 2);
const VISIBLE_MAX_S = Number(env.REPORTS_BENCH_VISIBLE_MAX_S ?? 300);
/** `app`: RollupRepository.createClock as the first start runs it; `range` (default): the clock row, then the same keys from range_agg per project (5.6× faster at 200k versions, same keys). */
const MARK = env.REPORTS_BENCH_MARK ?? 'range';
/** A database an earlier run kept (BENCH_KEEP_DATABASE): measure on it again, without seeding or building (after a change to the read path). */
const REUSE = env.REPORTS_BENCH_REUSE_DATABASE || undefined;
/** Only these §7.6 queries (comma-separated names as printed, without `reports-` and `-p95`); all by default. */
const ONLY_QUERIES = env.REPORTS_BENCH_QUERIES ? new Set(env.REPORTS_BENCH_QUERIES.split(',').map((x) => x.trim())) : null;
/** Which measuring phases run after the build (comma-separated): queries, csv, check, roll, write; all by default. */
const PHASES = new Set((env.REPORTS_BENCH_PHASES ?? 'queries,csv,check,roll,write').split(',').map((x) => x.trim()));
/** Copies of each project's last-month month cells under other project ids (`copyFleet`), for the fleet page at a larger fleet; 0 by default. */
const FLEET_COPIES = Number(env.REPORTS_BENCH_FLEET_COPIES ?? 0);
/** The CSV phase reads this many lines of its export and stops the transfer (1M by default, §7.6's figure). */
const CSV_LINES = Number(env.REPORTS_BENCH_CSV_LINES ?? 1_000_000);
const AMIE_BATCH = 500;
const AMIE_EVERY_MS = 2000;
const SEED_CHUNK = 1_000_000;
const FLAVORS = 50;
const VOLUME_TYPES = 10;

const project = (i: number) => `p-${String(i % PROJECTS).padStart(5, '0')}`;
const seconds = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;
const say = (line: string) => process.stdout.write(`# ${line}\n`);
/** The app's configuration from this run's environment, as the worker the bench stands in for would read it. */
const benchConfig = () => AppConfig.fromValues({ ...env, DATA_DIR: 'memory://' });

export async function run(): Promise<void> {
  const prefix = `bench-reports-${randomUUID()}`;
  say(`scale: ${VERSIONS} Almanach versions, ${AMIE_RECORDS} AMIE records, ${PROJECTS} projects, ${FLAVORS} flavors, ${VOLUME_TYPES} volume types, two years, 5 % open`);
  let drainNote = '';
  const server = await startBenchProcess(
    async (db) => {
      if (REUSE) {
        say(`reusing database ${REUSE} as a previous run left it (seed and build skipped: the scale variables must be those of the run that made it)`);
        if (PHASES.has('drain')) {
          const [{ keys }] = await db.query(`SELECT count(*)::int AS keys FROM report_dirty_key`);
          say(`drain: resuming a stopped build, ${keys} dirty keys left`);
          drainNote = await drain(db, keys, 'resume');
        }
      } else {
        await seed(db);
        drainNote = await buildRollups(db);
      }
      await copyFleet(db);
    },
    { ...env, QUEUE_PREFIX: prefix },
    { reuseDatabase: REUSE },
  );
  const workers: ChildProcess[] = [];
  try {
    if (env.REDIS_URL) {
      const databaseUrl = server.databaseUrl!;
      for (let i = 0; i < WORKERS; i++) {
        workers.push(
          spawn(process.execPath, [join(__dirname, '..', 'src', 'worker.js')], {
            env: { PATH: env.PATH, DATABASE_URL: databaseUrl, REDIS_URL: env.REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' },
            stdio: ['ignore', 'ignore', 'inherit'],
          }),
        );
      }
    }
    await settled(workers);
    say(`on ${server.description}; reports loops: ${workers.length ? `${workers.length} worker processes` : 'in the API process'}${drainNote}`);
    const admin = { 'X-Auth-Token': server.adminToken };
    if (PHASES.has('queries')) await queries(server.baseUrl, admin);
    if (PHASES.has('csv')) await csv(server.baseUrl, admin, server.pid);
    if (PHASES.has('check')) await consistencyCheck(server.baseUrl, admin);
    if (PHASES.has('roll')) await dayRoll(server.databaseUrl);
    if (PHASES.has('write')) await writeToVisible(server.baseUrl, server.adminToken);
  } finally {
    await stopWorkers(workers, env.REDIS_URL, prefix);
    await server.close();
  }
}

// --- seed ---------------------------------------------------------------

/**
 * The history, set-based: entity e (of project e % PROJECTS) has a closed
 * version of 1 h to 20 days from a start in the first 690 days of the two
 * years, then a second version as long, open for every tenth entity (5 % of
 * versions); 70 % instances (one of 50 flavors, resized on the second
 * version), 30 % volumes (one of 10 types, 1–500 GB). The dirty-key triggers
 * and the secondary indexes are off during the load (indexes rebuilt after).
 */
async function seed(db: DataSource): Promise<void> {
  const started = process.hrtime.bigint();
  await db.query(`SET synchronous_commit = off`);
  await db.query(`ALTER TABLE almanach_entity_version DISABLE TRIGGER USER`);
  await db.query(`ALTER TABLE amie_usage_record DISABLE TRIGGER USER`);
  const indexes: { indexname: string; indexdef: string }[] = await db.query(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
     WHERE i.schemaname = current_schema() AND i.tablename IN ('almanach_entity_version', 'amie_usage_record')
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
  );
  for (const { indexname } of indexes) await db.query(`DROP INDEX "${indexname}"`);
  const [{ t0 }] = await db.query(`SELECT date_trunc('hour', now() - interval '730 days') AS t0`);
  // The seeded versions close over the two years: their months get their partitions first (UTC, the
  // API's default zone), as the migration (for an existing history) or the worker's pass
  // (src/almanach/partitions) would have made them while that history was written. Left in the default
  // partition, they were moved out by the worker's first pass one month at a time, about 1.1 s each
  // with the history locked, and the first queries measured that wait (p95 about 1 s).
  await db.query(
    `SELECT almanach_version_ensure_month(m::date, 'UTC') FROM generate_series(date_trunc('month', $1::timestamptz AT TIME ZONE 'UTC'), date_trunc('month', now() AT TIME ZONE 'UTC'), interval '1 month') AS m`,
    [t0],
  );

  const entities = Math.ceil(VERSIONS / 2);
  for (let from = 0; from < entities; from += SEED_CHUNK / 2) {
    const to = Math.min(entities, from + SEED_CHUNK / 2) - 1;
    await db.query(
      `INSERT INTO almanach_entity_version (entity_id, entity_type, project_id, start, "end", last_event, name, flavor, image_meta, metadata, volume_type, size, attached_to)
       SELECT 'e-' || e, x.kind, 'p-' || lpad((e % $2::int)::text, 5, '0'), x.vs, x.ve, coalesce(x.ve, x.vs), 'seed',
              CASE WHEN x.kind = 'instance' THEN 'f' || ((h.h5 + v) % ${FLAVORS}) END,
              CASE WHEN x.kind = 'instance' THEN '{"distro":"ubuntu","version":"22.04","os_type":"linux"}'::jsonb END,
              CASE WHEN x.kind = 'instance' THEN '{}'::jsonb END,
              CASE WHEN x.kind = 'volume' THEN 'vt' || (h.h5 % ${VOLUME_TYPES}) END,
              CASE WHEN x.kind = 'volume' THEN 1 + (h.h5 + v * 7) % 500 END,
              CASE WHEN x.kind = 'volume' THEN '{}'::text[] END
       FROM generate_series($3::bigint, $4::bigint) AS e
       CROSS JOIN LATERAL (
         SELECT abs(hashint8(e)::bigint) AS h1, abs(hashint8(e + 1000000007)::bigint) AS h2,
                abs(hashint8(e + 2000000014)::bigint) AS h3, abs(hashint8(e + 3000000021)::bigint) AS h5
       ) h
       CROSS JOIN LATERAL (
         SELECT $1::timestamptz + (h.h1 % (690 * 86400)) * interval '1 second' AS s0,
                (3600 + h.h2 % (20 * 86400)) * interval '1 second' AS d0,
                (3600 + h.h3 % (20 * 86400)) * interval '1 second' AS d1
       ) t
       CROSS JOIN generate_series(0, 1) AS v
       CROSS JOIN LATERAL (
         SELECT CASE WHEN h.h5 % 10 < 7 THEN 'instance' ELSE 'volume' END AS kind,
                CASE WHEN v = 0 THEN t.s0 ELSE t.s0 + t.d0 END AS vs,
                CASE WHEN v = 0 THEN t.s0 + t.d0 WHEN e % 10 = 0 THEN NULL ELSE t.s0 + t.d0 + t.d1 END AS ve
       ) x
       WHERE e * 2 + v < $5::bigint`,
      [t0, PROJECTS, from, to, VERSIONS],
    );
    say(`seeded versions of entities up to ${to + 1}/${entities} at ${seconds(started).toFixed(0)} s`);
  }

  for (let from = 0; from < AMIE_RECORDS; from += SEED_CHUNK) {
    const to = Math.min(AMIE_RECORDS, from + SEED_CHUNK) - 1;
    await db.query(
      `INSERT INTO amie_usage_record (site, usage_type, resource, local_record_id, seq, batch_id, local_project_id, username, charge,
                                      adjustment_type, usage_start, usage_end, record, processed_at)
       SELECT 'amie-' || (i % 3), CASE WHEN i % 20 = 0 THEN 'Storage' ELSE 'Compute' END, 'res-' || (h.h1 % 5), 'r-' || i, i, 0,
              'p-' || lpad((h.h2 % $2::int)::text, 5, '0'), 'user' || (i % 1000), (h.h1 % 100000) / 100.0, NULL,
              t.ue - (60 + h.h3 % 86400) * interval '1 second', t.ue,
              CASE WHEN i % 20 = 0 THEN '{}'::jsonb
                   ELSE jsonb_build_object('Attributes', jsonb_build_object('NodeCount', 1 + h.h1 % 4, 'CpuCoreCount', 16 * (1 + h.h3 % 4))) END,
              now()
       FROM generate_series($3::bigint, $4::bigint) AS i
       CROSS JOIN LATERAL (
         SELECT abs(hashint8(i + 4000000028)::bigint) AS h1, abs(hashint8(i + 5000000035)::bigint) AS h2, abs(hashint8(i + 6000000042)::bigint) AS h3
       ) h
       CROSS JOIN LATERAL (SELECT $1::timestamptz + interval '1 day' + (h.h1 % (728 * 86400)) * interval '1 second' AS ue) t`,
      [t0, PROJECTS, from, to],
    );
    say(`seeded AMIE records up to ${to + 1}/${AMIE_RECORDS} at ${seconds(started).toFixed(0)} s`);
  }
  const loaded = seconds(started);
  const indexing = process.hrtime.bigint();
  // pg_indexes writes a partitioned table's index as `ON ONLY` (the parent alone, left invalid): run as
  // is, it would leave the open and default partitions, and every month created after, without them.
  for (const { indexdef } of indexes) await db.query(indexdef.replace(/ ON ONLY /, ' ON '));
  await db.query(`ALTER TABLE almanach_entity_version ENABLE TRIGGER USER`);
  await db.query(`ALTER TABLE amie_usage_record ENABLE TRIGGER USER`);
  // The Almanach listing's month floors and entity end bounds, which the disabled triggers would have kept.
  await db.query(FLOOR_BACKFILL);
  await db.query(END_BACKFILL);
  await db.query(`VACUUM ANALYZE almanach_entity_version`);
  await db.query(`VACUUM ANALYZE amie_usage_record`);
  const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM almanach_entity_version`);
  const [{ open }] = await db.query(`SELECT count(*)::int AS open FROM almanach_entity_version WHERE "end" IS NULL`);
  const [{ m }] = await db.query(`SELECT count(*)::int AS m FROM amie_usage_record`);
  report('reports-seeded-versions', n, 'versions');
  report('reports-seeded-open-versions', open, 'versions');
  report('reports-seeded-amie-records', m, 'records');
  report('reports-seed-load-time', loaded, 's');
  report('reports-seed-index-and-analyze-time', seconds(indexing), 's');
}

/**
 * Builds the rollups from nothing: the first start's clock creation marks
 * every key of the history dirty (timed apart), then DRAINERS concurrent
 * drains empty report_dirty_key.
 */
async function buildRollups(db: DataSource): Promise<string> {
  const config = benchConfig();
  const rollups = new RollupRepository(db);
  const marking = process.hrtime.bigint();
  if (MARK === 'app') {
    await db.transaction((tx) => rollups.createClock(config.reportTimeZone, config.cloudSite, tx));
  } else {
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO report_clock (id, time_zone, cloud_site, booked_day) VALUES (1, $1, $2, report_local_day(now(), $1))`, [
        config.reportTimeZone,
        config.cloudSite,
      ]);
      await tx.query(
        `INSERT INTO report_dirty_key (project_id, site, day)
         SELECT x.project_id, c.cloud_site, d.day
         FROM (SELECT project_id, unnest(range_agg(tstzrange(start, coalesce("end", 'infinity'), '[)'))) AS r
               FROM almanach_entity_version GROUP BY project_id) x
         CROSS JOIN report_clock c
         CROSS JOIN LATERAL report_span_days(lower(x.r), upper(x.r), c.time_zone, c.booked_day) AS d(day)
         UNION
         SELECT r.local_project_id, r.site, least(report_local_day(coalesce(r.usage_end, r.usage_start), c.time_zone), c.booked_day)
         FROM amie_usage_record r CROSS JOIN report_clock c
         WHERE coalesce(r.usage_end, r.usage_start) IS NOT NULL
         ON CONFLICT (project_id, site, day) DO NOTHING`,
      );
    });
  }
  const [{ keys }] = await db.query(`SELECT count(*)::int AS keys FROM report_dirty_key`);
  report('reports-first-start-mark-dirty-time', seconds(marking), `s (${MARK === 'app' ? 'RollupRepository.createClock' : 'range_agg per project'})`);
  report('reports-dirty-keys-from-nothing', keys, 'keys');
  await db.query(`ANALYZE report_dirty_key`);
  return drain(db, keys, 'build-from-nothing');
}

/**
 * Drains every dirty key with DRAINERS lanes of the worker's drainer, and
 * reports the time and rate (`what`: build-from-nothing, or resume on a
 * reused database whose build was stopped, REPORTS_BENCH_PHASES=drain).
 */
async function drain(db: DataSource, keys: number, what: 'build-from-nothing' | 'resume'): Promise<string> {
  const log = createRootLogger('warn');
  const rollups = new RollupRepository(db);
  // Counted in memory and never flushed (no timer started): the bench measures the drain alone.
  const ledger = new BudgetLedgerService(new BudgetLedgerRepository(db));
  const drainer = new RollupDrainer(benchConfig(), db, rollups, log, new MetricCounts(new OpsRepository(db), log), new RatingEngine(new RatingRepository(db)), new AdjustmentPoster(new PeriodsRepository(db)), new BudgetAccruals(new BudgetDebitsRepository(), ledger, new BudgetOutside(new BudgetDebitsRepository(), ledger)));
  const started = process.hrtime.bigint();
  let stop = false;
  let done = 0;
  const lanes = Array.from({ length: DRAINERS }, async () => {
    while (!stop) {
      const n = await drainer.drainBatch();
      if (n === 0) return;
      done += n;
    }
  });
  const progress = setInterval(() => {
    const elapsed = seconds(started);
    const rate = done / elapsed;
    say(`drain: ${done}/${keys} keys in ${elapsed.toFixed(0)} s, ${rate.toFixed(0)} keys/s, about ${((keys - done) / rate).toFixed(0)} s left`);
    if (elapsed > DRAIN_MAX_S) stop = true;
  }, 30_000);
  try {
    await Promise.all(lanes);
  } finally {
    clearInterval(progress);
  }
  const elapsed = seconds(started);
  const [{ left }] = await db.query(`SELECT count(*)::int AS left FROM report_dirty_key`);
  if (left === 0) {
    report(what === 'resume' ? 'reports-rollup-build-resumed-to-the-end' : 'reports-rollup-build-from-nothing', elapsed, `s (${keys} keys)`);
  } else {
    report('reports-rollup-build-stopped-after', elapsed, 's');
    report('reports-rollup-build-keys-done', done, 'keys');
    report('reports-rollup-build-projected', (elapsed * keys) / done, 's');
  }
  report('reports-rollup-build-rate', done / elapsed, 'keys/s');
  // What each worker's loop does at the end of its pass (RollupDrainer.afterDrained): the lanes here are its drain without the loop.
  const vacuuming = process.hrtime.bigint();
  await drainer.afterDrained(done);
  const [{ size }] = await db.query(`SELECT pg_size_pretty(pg_relation_size('report_dirty_key')) AS size`);
  report('reports-dirty-key-vacuum-time', seconds(vacuuming), `s (ROLLUP_VACUUM_AFTER_KEYS; report_dirty_key is ${size} after it)`);
  await db.query(`VACUUM ANALYZE report_usage_day_cell`);
  await db.query(`VACUUM ANALYZE report_usage_month_cell`);
  await db.query(`VACUUM ANALYZE report_usage_site_day_cell`);
  await db.query(`VACUUM ANALYZE report_usage_today_cell`);
  const [cells] = await db.query(
    `SELECT (SELECT count(*) FROM report_usage_day_cell)::bigint AS day, (SELECT count(*) FROM report_usage_month_cell)::bigint AS month,
            (SELECT count(*) FROM report_usage_site_day_cell)::bigint AS site_day, (SELECT count(*) FROM report_usage_today_cell)::bigint AS today`,
  );
  say(`cells: ${cells.day} day, ${cells.month} month, ${cells.site_day} site-day, ${cells.today} today; ${DRAINERS} drainers`);
  return left === 0 ? '' : `; NOTE: rollup build stopped with ${left} dirty keys left (REPORTS_BENCH_DRAIN_MAX_S), figures below read incomplete rollups`;
}

/**
 * REPORTS_BENCH_FLEET_COPIES: the last month's month cells copied under that
 * many more project ids each (`<project>-c001` …), as a fleet of
 * (copies + 1) × PROJECTS projects would have them, without seeding and
 * building that fleet (hours at §7.6's 10,000 projects on the 2-core
 * machine). Only the month cells are copied: the fleet page by project reads
 * them, its totals read site-day cells (not multiplied, so their figures are
 * those of PROJECTS projects; their cost is the same). The copies leave the
 * rollups inconsistent (month cells without day cells): a database with
 * them is for these queries only. Idempotent on a reused database.
 */
async function copyFleet(db: DataSource): Promise<void> {
  if (FLEET_COPIES <= 0) return;
  const month = `${months().last}-01`;
  const started = process.hrtime.bigint();
  const [{ n }] = await db.query(
    `WITH c AS (
       INSERT INTO report_usage_month_cell (project_id, site, month, meter, key, subkey, quantity, cells)
       SELECT m.project_id || '-c' || lpad(c::text, 3, '0'), m.site, m.month, m.meter, m.key, m.subkey, m.quantity, m.cells
       FROM report_usage_month_cell m CROSS JOIN generate_series(1, $2::int) c
       WHERE m.month = $1::date AND m.project_id NOT LIKE '%-c%'
       ON CONFLICT DO NOTHING RETURNING 1)
     SELECT count(*)::int AS n FROM c`,
    [month, FLEET_COPIES],
  );
  await db.query(`VACUUM ANALYZE report_usage_month_cell`);
  const [{ total }] = await db.query(`SELECT count(*)::int AS total FROM report_usage_month_cell WHERE month = $1::date`, [month]);
  say(`fleet copies: ${n} month cells added under ${FLEET_COPIES} copies of each project (${month}: ${total} month cells, as ${(FLEET_COPIES + 1) * PROJECTS} projects) in ${seconds(started).toFixed(1)} s`);
}

// --- §7.6 queries ---------------------------------------------------------

function months(now = new Date()) {
  const ym = (d: Date) => `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return { current: ym(now), last: ym(last), lastYear: String(now.getUTCFullYear() - 1), today: now.toISOString().slice(0, 10) };
}

async function queries(baseUrl: string, headers: Record<string, string>): Promise<void> {
  const m = months();
  const cut = (day: string, time: string) => `${m.last}-${day}T${time}Z`;
  const cases: { name: string; target: number; query: (p: string) => string }[] = [
    { name: 'project-month-by-key', target: 20, query: (p) => `project_id=${p}&period=${m.last}&group_by=key` },
    { name: 'fleet-month-by-project-key-page', target: 100, query: () => `period=${m.last}&group_by=project_id,key&limit=1000` },
    { name: 'fleet-month-by-key', target: 100, query: () => `period=${m.last}&group_by=key` },
    { name: 'fleet-month-daily-by-meter', target: 100, query: () => `period=${m.last}&granularity=day&group_by=meter` },
    { name: 'project-year-daily', target: 100, query: (p) => `project_id=${p}&period=${m.lastYear}&granularity=day` },
    { name: 'fleet-current-month-by-key', target: 100, query: () => `period=${m.current}&group_by=key` },
    { name: 'project-unaligned', target: 50, query: (p) => `project_id=${p}&start=${cut('03', '10:17:00')}&end=${cut('20', '15:45:30')}` },
    { name: 'fleet-unaligned-by-key', target: 1000, query: () => `start=${cut('03', '10:17:00')}&end=${cut('20', '15:45:30')}&group_by=key` },
  ];
  say(`queries: ${SAMPLES} warm samples each after 3 warm-up calls, one at a time; project queries on a different project each call; last month ${m.last}`);
  for (const c of cases.filter((x) => !ONLY_QUERIES || ONLY_QUERIES.has(x.name))) {
    let i = 0;
    const call = async () => {
      const url = `${baseUrl}/reports/usage?${c.query(project((i++ * 7919) % PROJECTS))}`;
      const res = await fetch(url, { headers });
      const body = (await res.json()) as { rows?: unknown[]; complete?: boolean };
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
      return body;
    };
    for (let w = 0; w < 3; w++) await call();
    const latencies: number[] = [];
    let rows = 0;
    let complete = true;
    const budget = Date.now() + 120_000;
    for (let s = 0; s < SAMPLES && (s < 5 || Date.now() < budget); s++) {
      const started = process.hrtime.bigint();
      const body = await call();
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      rows += (body.rows?.length ?? 0) / SAMPLES;
      complete &&= body.complete === true;
    }
    latencies.sort((a, b) => a - b);
    report(
      `reports-${c.name}-p95`,
      percentile(latencies, 95),
      `ms (target < ${c.target} ms; p50 ${percentile(latencies, 50).toFixed(1)} ms; ${latencies.length} samples; about ${Math.round((rows * SAMPLES) / latencies.length)} rows${complete ? '' : '; complete: false'})`,
    );
  }
}

/**
 * Waits until the worker processes have started (their CPU use over half a
 * second below 5 % each, at most 60 s): the queries are measured after, not
 * beside, two node processes loading the application (which took the first
 * query's p50 from 10 to 25 ms on two cores).
 */
async function settled(workers: ChildProcess[]): Promise<void> {
  const ticks = (pid: number) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (1/100 s)
  };
  const deadline = Date.now() + 60_000;
  const pids = workers.map((w) => w.pid).filter((pid): pid is number => pid !== undefined);
  while (Date.now() < deadline) {
    const before = pids.map(ticks);
    await new Promise((r) => setTimeout(r, 500));
    if (pids.every((pid, i) => ticks(pid) - before[i] < 3)) return;
  }
  say('the worker processes were still busy after 60 s; measuring anyway');
}

// --- consistency check and day roll ---------------------------------------------

/** §7.6 "consistency check, one month, fleet < 2 min": last month, every project, to the job's end. */
async function consistencyCheck(baseUrl: string, headers: Record<string, string>): Promise<void> {
  const m = months();
  if (FLEET_COPIES > 0) say('check: the fleet copies (REPORTS_BENCH_FLEET_COPIES) are month cells without day cells: I3 mismatches are expected');
  const started = process.hrtime.bigint();
  const res = await fetch(`${baseUrl}/admin/reports/consistency-checks`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ period: m.last, reason: 'bench' }),
  });
  const created = (await res.json()) as { id?: string };
  if (res.status !== 202 || !created.id) throw new Error(`consistency check answered ${res.status}: ${JSON.stringify(created).slice(0, 300)}`);
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const job = (await (await fetch(`${baseUrl}/admin/reports/jobs/${created.id}`, { headers })).json()) as {
      state: string;
      progress?: { done?: number; total?: number };
      result?: { mismatch_count?: number; skipped_dirty?: number };
      error?: unknown;
    };
    if (!['succeeded', 'failed', 'cancelled'].includes(job.state)) continue;
    if (job.state !== 'succeeded') throw new Error(`consistency check ${created.id} ended ${job.state}: ${JSON.stringify(job.error)}`);
    report(
      'reports-consistency-check-month-fleet',
      seconds(started),
      `s (target < 120 s; ${m.last}, ${job.progress?.total ?? '?'} (project, day) pairs; ${job.result?.mismatch_count ?? '?'} mismatches, ${job.result?.skipped_dirty ?? 0} skipped dirty)`,
    );
    return;
  }
}

/**
 * §7.6 "day roll < 30 s": the clock moved a day back and rolled in one
 * transaction (`rollOneDay` marks every key with history on the booked day
 * and the next, then books the day: the booked day is today again at the
 * commit), then the workers' drain of those keys. The cells were right
 * before and are right after; the work is a real roll's.
 */
async function dayRoll(databaseUrl: string | undefined): Promise<void> {
  if (!databaseUrl || !env.REDIS_URL) {
    say('roll: skipped (needs PostgreSQL and the worker processes: DATABASE_URL and REDIS_URL)');
    return;
  }
  await withBenchRuntime(databaseUrl, async (runtime) => {
    const db = runtime.dataSource;
    const rollups = new RollupRepository(db);
    const started = process.hrtime.bigint();
    const { booked, keys } = await db.transaction(async (tx) => {
      await tx.query(`UPDATE report_clock SET booked_day = booked_day - 1 WHERE id = 1`);
      const day = await rollups.rollOneDay(tx);
      const [{ n }] = await tx.query(`SELECT count(*)::int AS n FROM report_dirty_key`);
      return { booked: day, keys: n as number };
    });
    const rolled = seconds(started);
    for (;;) {
      const [{ left }] = await db.query(`SELECT (SELECT count(*)::int FROM report_dirty_key) + (SELECT count(*)::int FROM report_dirty_range) AS left`);
      if (left === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const total = seconds(started);
    report('reports-day-roll', total, `s (target < 30 s; booked day ${booked}; the roll's transaction ${rolled.toFixed(2)} s marking ${keys} keys, their drain ${(total - rolled).toFixed(1)} s)`);
  });
}

// --- CSV ---------------------------------------------------------------------

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/**
 * The CSV of 1M lines (§7.6): fleet, by day and project, key, subkey
 * (GET /reports/usage?format=csv), over as many days from January 1 of
 * last year as make about CSV_LINES lines (one day's export is counted
 * first: about 15,000 lines at 1,000 projects, 220,000 at 10,000), the time
 * to its CSV_LINES-th line or its last (a longer export's transfer is then
 * stopped), the time to its first row, and the server's RSS growth,
 * sampled every 50 ms. When the route does not answer CSV,
 * /reports/usage/entities?format=csv; when neither does, the figure is
 * left out and said so.
 */
async function csv(baseUrl: string, headers: Record<string, string>, pid: number | undefined): Promise<void> {
  const m = months();
  const usageCsv = (query: string) => `${baseUrl}/reports/usage?${query}&granularity=day&group_by=project_id,key,subkey&format=csv`;
  const first = Date.UTC(Number(m.lastYear), 0, 1);
  const probe = await fetch(usageCsv(`period=${m.lastYear}-01-01`), { headers: { ...headers, Accept: 'text/csv' } });
  const perDay = probe.status === 200 ? (await probe.text()).split('\n').filter(Boolean).length - 1 : 0;
  const days = Math.min(365, Math.max(1, Math.ceil(CSV_LINES / Math.max(1, perDay))));
  say(`CSV: one day's export is ${perDay} lines; the export measured covers ${days} days`);
  const candidates = [
    usageCsv(`start=${new Date(first).toISOString()}&end=${new Date(first + days * 86_400_000).toISOString()}`),
    `${baseUrl}/reports/usage/entities?period=${m.last}&format=csv`,
  ];
  for (const url of candidates) {
    const before = pid ? rssBytes(pid) : NaN;
    let peak = before;
    const sampler = setInterval(() => {
      if (pid) peak = Math.max(peak, rssBytes(pid));
    }, 50);
    const started = process.hrtime.bigint();
    try {
      const res = await fetch(url, { headers: { ...headers, Accept: 'text/csv' } });
      const type = res.headers.get('content-type') ?? '';
      if (res.status !== 200 || !type.includes('text/csv')) {
        await res.arrayBuffer();
        say(`CSV: ${url.slice(baseUrl.length)} answered ${res.status} ${type}: not measured`);
        continue;
      }
      let lines = 0;
      let bytes = 0;
      let cut = false;
      let firstLine = NaN;
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.length;
        for (let i = 0; i < value.length; i++) if (value[i] === 10) lines++;
        // The header is the first line; the time to the second is the time to the first row.
        if (lines >= 2 && Number.isNaN(firstLine)) firstLine = seconds(started);
        if (lines >= CSV_LINES) {
          // At full scale the export is far longer (the last year by day at 10,000 projects: about 36M lines).
          cut = true;
          await reader.cancel();
          break;
        }
      }
      const elapsed = seconds(started);
      const extent = cut ? `the first ${lines} lines of a longer export, the transfer then stopped` : `${lines} lines, the whole export`;
      report('reports-csv-time', elapsed, `s (target < 30 s for 1M lines; ${extent}, ${(bytes / 1e6).toFixed(0)} MB, the first row at ${firstLine.toFixed(1)} s; ${url.slice(baseUrl.length)})`);
      report('reports-csv-server-rss-growth', (peak - before) / 1e6, 'MB (target < 100 MB)');
      return;
    } finally {
      clearInterval(sampler);
    }
  }
  say('CSV: no CSV route answers on this build: figure left out');
}

// --- write → visible ------------------------------------------------------

/**
 * Almanach writes over HTTP at WRITE_RATE per second for LOAD_S seconds (an
 * open loop, at most 128 in flight: instance creates on random projects,
 * deletes of them, volume creates), an AMIE batch of 500 records every 2 s,
 * and probes: one write in every WRITE_RATE/4 creates an instance with a
 * flavor of its own, one record per AMIE batch a resource of its own. Each
 * probe's latency runs from its write's answer until GET /reports/usage for
 * its project today, filtered to its flavor or resource, shows a row (polled
 * every max(250 ms, 5 % of the time waited)).
 */
async function writeToVisible(baseUrl: string, adminToken: string): Promise<void> {
  const admin = { 'X-Auth-Token': adminToken, 'Content-Type': 'application/json' };
  const token = await fetch(`${baseUrl}/admin/tokens`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'bench', role: 'service' }) })
    .then((r) => r.json() as Promise<{ token: string }>)
    .then((b) => b.token);
  // A site and entity ids of this run's own: a reused database (REPORTS_BENCH_REUSE_DATABASE) holds the earlier runs' sites and entities.
  const run = Date.now().toString(36);
  const amieSite = `amie-bench-${run}`;
  const site = await fetch(`${baseUrl}/admin/sites`, { method: 'POST', headers: admin, body: JSON.stringify({ name: amieSite }) }).then(
    (r) => r.json() as Promise<{ api_key: string }>,
  );
  const headers = { 'X-Auth-Token': token, 'Content-Type': 'application/json' };
  // Almanach creates volumes of registered types only (almanach-v1.md); the same id and name again changes nothing.
  for (let v = 0; v < VOLUME_TYPES; v++) {
    const res = await fetch(`${baseUrl}/v1/volume_type`, { method: 'POST', headers, body: JSON.stringify({ type_id: `vt${v}`, type_name: `vt${v}` }) });
    if (res.status !== 201) throw new Error(`volume type vt${v}: ${res.status} ${await res.text()}`);
  }
  const amieHeaders = { 'XA-SITE': amieSite, 'XA-API-KEY': site.api_key, 'Content-Type': 'application/json' };
  const today = new Date().toISOString().slice(0, 10);
  const probeEvery = Math.max(1, Math.round(WRITE_RATE / 4));
  const almanachLatency: number[] = [];
  const amieLatency: number[] = [];
  const polls: Promise<void>[] = [];
  let unseen = 0;
  let failures = 0;
  let firstFailure = '';
  let pollCalls = 0;
  const watch = (project: string, filter: string, into: number[]) => {
    const accepted = Date.now();
    polls.push(
      (async () => {
        for (;;) {
          const waited = Date.now() - accepted;
          if (waited > VISIBLE_MAX_S * 1000) {
            unseen++;
            return;
          }
          await new Promise((r) => setTimeout(r, Math.max(250, waited * 0.05)));
          pollCalls++;
          const res = await fetch(`${baseUrl}/reports/usage?project_id=${project}&period=${today}&group_by=key&${filter}`, { headers: { 'X-Auth-Token': adminToken } });
          const body = (await res.json()) as { rows?: unknown[] };
          if (res.status === 200 && (body.rows?.length ?? 0) > 0) {
            into.push(Date.now() - accepted);
            return;
          }
        }
      })(),
    );
  };

  const created: string[] = [];
  const failedStatus = new Map<number, number>();
  let inFlight = 0;
  let sent = 0;
  let skipped = 0;
  const write = async (i: number) => {
    let failureBody = '';
    const now = Date.now();
    const p = project(i * 31);
    const kind = i % 10;
    let res: Response;
    if (i % probeEvery === 0) {
      const id = `probe-${run}-${i}`;
      res = await fetch(`${baseUrl}/v1/project/${p}/instance`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ id, created_at: new Date(now - 60_000).toISOString(), name: id, flavor: `probe-${run}-${i}`, os_distro: 'ubuntu', os_version: '22.04', os_type: 'linux' }),
      });
      failureBody = (await res.text()).slice(0, 300);
      if (res.status === 201) watch(p, `flavor=probe-${run}-${i}`, almanachLatency);
    } else if (kind < 6 || created.length === 0) {
      const id = `w-${run}-${i}`;
      res = await fetch(`${baseUrl}/v1/project/${p}/instance`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ id, created_at: new Date(now - (i % 3600) * 1000).toISOString(), name: id, flavor: `f${i % FLAVORS}`, os_distro: 'ubuntu', os_version: '22.04', os_type: 'linux' }),
      });
      failureBody = (await res.text()).slice(0, 300);
      if (res.status === 201) created.push(id);
    } else if (kind < 8) {
      const id = created.shift()!;
      res = await fetch(`${baseUrl}/v1/instance/${id}`, { method: 'DELETE', headers, body: JSON.stringify({ date: new Date(now).toISOString() }) });
      failureBody = (await res.text()).slice(0, 300);
    } else {
      const id = `wv-${run}-${i}`;
      res = await fetch(`${baseUrl}/v1/project/${p}/volume`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ volume_id: id, start: new Date(now - (i % 3600) * 1000).toISOString(), volume_type: `vt${i % VOLUME_TYPES}`, size: 1 + (i % 100), volume_name: id, attached_to: [] }),
      });
      failureBody = (await res.text()).slice(0, 300);
    }
    if (res.status >= 300) {
      failures++;
      failedStatus.set(res.status, (failedStatus.get(res.status) ?? 0) + 1);
      if (!firstFailure) firstFailure = `${res.status} ${res.url}: ${failureBody}`;
    }
  };

  let batch = 0;
  const amieBatch = async () => {
    const b = batch++;
    const now = Date.now();
    const probeProject = project(b * 13);
    const records = Array.from({ length: AMIE_BATCH }, (_, i) => ({
      Username: `user${i % 50}`,
      LocalProjectID: i === 0 ? probeProject : project(b * AMIE_BATCH + i),
      LocalRecordID: `bench-${b}-${i}`,
      Resource: i === 0 ? `probe-res-${b}` : `res-${i % 5}`,
      SubmitTime: new Date(now - 3_600_000).toISOString(),
      StartTime: new Date(now - 3_000_000).toISOString(),
      EndTime: new Date(now - 60_000).toISOString(),
      Charge: `${(i % 97) + 0.25}`,
      Attributes: { NodeCount: 1 + (i % 4), CpuCoreCount: 16, JobName: `job${i}`, Memory: '4096', Queue: 'normal' },
      ParentRecordID: [null],
      LocalReference: `ref-${b}-${i}`,
    }));
    const res = await fetch(`${baseUrl}/amie/usage/`, { method: 'POST', headers: amieHeaders, body: JSON.stringify({ UsageType: 'Compute', Records: records }) });
    await res.arrayBuffer();
    if (res.status === 200) watch(probeProject, `resource=probe-res-${b}`, amieLatency);
    else failures++;
  };

  say(`write load: ${WRITE_RATE} Almanach writes/s for ${LOAD_S} s (at most 128 in flight), an AMIE batch of ${AMIE_BATCH} every ${AMIE_EVERY_MS} ms`);
  const started = Date.now();
  const amieTimer = setInterval(() => void amieBatch(), AMIE_EVERY_MS);
  const pending: Promise<void>[] = [];
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = (Date.now() - started) / 1000;
      if (elapsed >= LOAD_S) {
        clearInterval(tick);
        resolve();
        return;
      }
      const due = Math.floor(elapsed * WRITE_RATE);
      while (sent + skipped < due) {
        if (inFlight >= 128) {
          skipped++;
          continue;
        }
        const i = sent++;
        inFlight++;
        pending.push(
          write(i).then(
            () => void inFlight--,
            () => {
              inFlight--;
              failures++;
            },
          ),
        );
      }
    }, 10);
  });
  clearInterval(amieTimer);
  await Promise.all(pending);
  const loadSeconds = (Date.now() - started) / 1000;
  await Promise.all(polls);
  const all = [...almanachLatency, ...amieLatency].sort((a, b) => a - b);
  almanachLatency.sort((a, b) => a - b);
  amieLatency.sort((a, b) => a - b);
  report('reports-write-load-almanach-writes-per-s', sent / loadSeconds, `writes/s (asked ${WRITE_RATE}; ${skipped} not sent at the in-flight cap; ${failures} failed${failedStatus.size ? `: ${[...failedStatus].map(([status, n]) => `${n} × ${status}`).join(', ')}` : ''})`);
  if (firstFailure) say(`first failed write: ${firstFailure}`);
  report('reports-write-load-amie-records-per-s', (batch * AMIE_BATCH) / loadSeconds, 'records/s');
  const probes = all.length + unseen;
  // Probes never seen count as the cap: the p99 is then "at least" that.
  const p99 = percentile([...all, ...Array.from({ length: unseen }, () => VISIBLE_MAX_S * 1000)].sort((a, b) => a - b), 99) / 1000;
  report(
    'reports-write-to-visible-p99',
    p99,
    `s (target <= 60 s; ${probes} probes, ${unseen} not visible within ${VISIBLE_MAX_S} s${unseen > probes / 100 ? ': p99 is at least this' : ''}; ${pollCalls} report polls)`,
  );
  report('reports-write-to-visible-almanach-p50', percentile(almanachLatency, 50) / 1000, `s (p99 ${(percentile(almanachLatency, 99) / 1000).toFixed(2)} s, ${almanachLatency.length} probes)`);
  report('reports-write-to-visible-amie-p50', percentile(amieLatency, 50) / 1000, `s (p99 ${(percentile(amieLatency, 99) / 1000).toFixed(2)} s, ${amieLatency.length} probes)`);
}
