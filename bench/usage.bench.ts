import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { report, runConcurrently, startBenchProcess, startChildServer, stopChild, stopWorkers } from './support';

/**
 * AMIE usage (amie-usage.md 5.2; issue 3 "Speed", issue 14), every figure
 * beside its limit measured in the same run. The API runs in a child process
 * (`node dist/src/main.js`, as deployed), so the load generator does not
 * share its event loop and its RSS can be sampled; with REDIS_URL the loader
 * is one `node dist/src/worker.js` process, without it the API's in-process
 * queue.
 *
 * 1. bare: the same bodies (MESSAGES POSTs of PER_MESSAGE compute records,
 *    SENDERS in flight) against a bare Fastify server validating them with
 *    its ajv against the service's schema (bench/bare-amie-server.ts).
 * 2. accept: the same bodies against the API, the worker not yet started
 *    (the API alone, as the bare server is alone): records per second until
 *    the last 200 (each 200 means the batch is committed), in ROUNDS slices
 *    alternating with bare's. Limit: ≥ 0.5 of bare.
 * 3. load: the worker started, the time until the accepted batches are
 *    loaded (the loader alone).
 * 4. end to end: MESSAGES new bodies with the worker running, until every
 *    row is in the ledger.
 * 5. raw: the same rows upserted straight into amie_usage_record by batched
 *    `unnest` statements of PER_MESSAGE rows on one connection. Limit: end to
 *    end ≥ 0.8 of raw.
 * Through 2-4 the API's RSS (and the worker's) is sampled every 100 ms.
 * Limit: API RSS < 250 MB and flat (the median of the last second within
 * RSS_FLAT_MB of the median of the first second of phase 2).
 *
 * BENCH_USAGE_MESSAGES sets MESSAGES (default 200: 100,000 records a phase);
 * BENCH_API_NODE_ARGS / BENCH_WORKER_NODE_ARGS are node options for the API /
 * worker process (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`).
 */
const MESSAGES = Number(process.env.BENCH_USAGE_MESSAGES ?? 200);
const PER_MESSAGE = 500;
const SENDERS = 4;
const WARM_UP = 20;
/** Alternating slices of bare and API sends in phase 2. */
const ROUNDS = 5;
/**
 * Embedded PGlite's socket server interleaves the protocol messages of large
 * concurrent queries (seen as "unnamed prepared statement does not exist"),
 * so without DATABASE_URL the bench sends one message at a time.
 */
const EMBEDDED_SENDERS = 1;
const ACCEPT_LIMIT = 0.5;
const LOAD_LIMIT = 0.8;
const RSS_LIMIT_MB = 250;
const RSS_FLAT_MB = 25;

function record(message: number, i: number, now: number) {
  const t0 = now - 3 * 3_600_000;
  return {
    Username: `user${i % 50}`,
    LocalProjectID: `TG-PRJ${i % 20}`,
    LocalRecordID: `job-${message}-${i}`,
    Resource: `cluster-${i % 3}`,
    SubmitTime: new Date(t0).toISOString(),
    StartTime: new Date(t0 + 60_000).toISOString(),
    EndTime: new Date(t0 + 3_600_000).toISOString(),
    Charge: `${(i % 97) + 0.25}`,
    Attributes: { NodeCount: 1 + (i % 4), CpuCoreCount: 16, JobName: `job${i}`, Memory: '4096', Queue: 'normal' },
    ParentRecordID: [null],
    LocalReference: `ref-${message}-${i}`,
  };
}

const body = (message: number, now: number) =>
  JSON.stringify({ UsageType: 'Compute', Records: Array.from({ length: PER_MESSAGE }, (_, i) => record(message, i, now)) });

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}


/** CPU seconds (user + system) of a process so far; 0 when it is gone. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The PostgreSQL backends serving `database` (their process titles name it). */
function backends(database: string | undefined): number[] {
  if (!database) return [];
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').startsWith(`postgres: `) && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(` ${database} `);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** CPU seconds of the API, the bare server and the bench database's backends, to tell where a phase's time went. */
function cpuOf(pids: { api?: number; bare?: number; worker?: number; database?: string }): { api: number; bare: number; worker: number; pg: number } {
  return {
    api: cpuSeconds(pids.api),
    bare: cpuSeconds(pids.bare),
    worker: cpuSeconds(pids.worker),
    pg: backends(pids.database).reduce((n, pid) => n + cpuSeconds(pid), 0),
  };
}

/** Where a phase of `records` records spent its CPU, in µs per record (backends that exit within the phase are not counted). */
function cpuPerRecord(before: ReturnType<typeof cpuOf>, after: ReturnType<typeof cpuOf>, records: number): string {
  const us = (x: number) => ((1e6 * x) / records).toFixed(1);
  return `API ${us(after.api - before.api)}, worker ${us(after.worker - before.worker)}, database backends ${us(after.pg - before.pg)} µs of CPU per record`;
}

const seconds = (from: bigint, to: bigint) => Number(to - from) / 1e9;

/** POSTs `bodies` with `senders` in flight; records per second until the last answer. */
async function send(url: string, headers: Record<string, string>, bodies: string[], senders: number): Promise<number> {
  const post = async (i: number) => {
    const res = await fetch(url, { method: 'POST', headers, body: bodies[i] });
    const answer = (await res.json()) as { QueuedRecordCount: number };
    if (res.status !== 200 || answer.QueuedRecordCount !== PER_MESSAGE) throw new Error(`submission failed: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
  };
  const started = process.hrtime.bigint();
  await runConcurrently(bodies.length, senders, post);
  return (bodies.length * PER_MESSAGE) / seconds(started, process.hrtime.bigint());
}

async function startBare(): Promise<{ url: string; child: ChildProcess }> {
  const { port, child } = await startChildServer('bare-amie-server.js');
  return { url: `http://127.0.0.1:${port}/amie/usage/`, child };
}

export async function run(): Promise<void> {
  const now = Date.now();
  const senders = process.env.DATABASE_URL ? SENDERS : EMBEDDED_SENDERS;
  const warmUp = Array.from({ length: WARM_UP }, (_, m) => body(-1 - m, now));
  const first = Array.from({ length: MESSAGES }, (_, m) => body(m, now));
  const second = Array.from({ length: MESSAGES }, (_, m) => body(MESSAGES + m, now));
  const total = MESSAGES * PER_MESSAGE;
  process.stdout.write(`# ${MESSAGES} POSTs of ${PER_MESSAGE} compute records (${(first[0].length / 1024).toFixed(0)} KiB each) per phase, ${senders} in flight; load average ${load()}\n`);

  // 1. The limit of the accept figure: bare Fastify + ajv, the same bodies (measured in 2, interleaved).
  const bare = await startBare();
  const prefix = `bench-usage-${process.pid}-${now}`;
  const server = await startBenchProcess(async () => undefined, { ...process.env, QUEUE_PREFIX: prefix }).catch(async (error: unknown) => {
    await stopChild(bare.child);
    throw error;
  });
  let worker: ChildProcess | undefined;
  const rss: { phase: string; api: number; worker: number }[] = [];
  let phase = 'accept';
  const sampler = setInterval(() => rss.push({ phase, api: rssMb(server.pid), worker: rssMb(worker?.pid) }), 100);
  const db = new Client({ connectionString: server.databaseUrl });
  try {
    process.stdout.write(`# ${server.description}; loader: ${process.env.REDIS_URL ? 'one worker process' : 'in-process'}\n`);
    const site = await fetch(`${server.baseUrl}/admin/sites`, {
      method: 'POST',
      headers: { 'X-Auth-Token': server.adminToken, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'bench-site' }),
    }).then((r) => r.json() as Promise<{ api_key: string }>);
    const url = `${server.baseUrl}/amie/usage/`;
    const headers = { 'XA-SITE': 'bench-site', 'XA-API-KEY': site.api_key, 'Content-Type': 'application/json' };
    if (server.databaseUrl) await db.connect();
    // Embedded PostgreSQL lives inside the API process: ask its status route instead.
    const pending = server.databaseUrl
      ? async () => (await db.query(`SELECT count(*)::int AS n FROM amie_usage_batch WHERE state = 'pending'`)).rows[0].n as number
      : async () => {
          const entries = (await fetch(`${server.baseUrl}/amie/usage/status`, { headers }).then((r) => r.json())) as { PendingRecordCount: number }[];
          return entries.reduce((n, e) => n + e.PendingRecordCount, 0);
        };
    const waitLoaded = async () => {
      while ((await pending()) > 0) await new Promise((r) => setTimeout(r, server.databaseUrl ? 5 : 50));
    };

    // 2. Accept: the API alone, against bare in ROUNDS alternating slices of the same
    // bodies, so that the load of the shared machine weighs on both alike (JIT
    // warmed by WARM_UP bodies each, not measured).
    const bareHeaders = { 'Content-Type': 'application/json' };
    await send(bare.url, bareHeaders, warmUp, senders);
    await send(url, headers, warmUp, senders);
    rss.length = 0;
    let bareSeconds = 0;
    let acceptSeconds = 0;
    const slice = Math.ceil(MESSAGES / ROUNDS);
    const database = server.databaseUrl ? new URL(server.databaseUrl).pathname.slice(1) : undefined;
    const pids = { api: server.pid, bare: bare.child.pid, database };
    const cpu = { api: 0, bare: 0, pg: 0 };
    for (let r = 0; r * slice < MESSAGES; r++) {
      const bodies = first.slice(r * slice, (r + 1) * slice);
      let before = cpuOf(pids);
      bareSeconds += (bodies.length * PER_MESSAGE) / (await send(bare.url, bareHeaders, bodies, senders));
      let after = cpuOf(pids);
      cpu.bare += after.bare - before.bare;
      before = after;
      acceptSeconds += (bodies.length * PER_MESSAGE) / (await send(url, headers, bodies, senders));
      after = cpuOf(pids);
      cpu.api += after.api - before.api;
      cpu.pg += after.pg - before.pg;
    }
    const bareRate = total / bareSeconds;
    const acceptRate = total / acceptSeconds;
    const perMessage = (x: number) => ((1000 * x) / MESSAGES).toFixed(1);
    process.stdout.write(
      `# CPU per message: bare ${perMessage(cpu.bare)} ms (${perMessage(bareSeconds)} ms of wall time); ` +
        `API ${perMessage(cpu.api)} ms + its database backends ${perMessage(cpu.pg)} ms (${perMessage(acceptSeconds)} ms of wall time)\n`,
    );
    await stopChild(bare.child);

    // 3. The loader alone, on what 2 accepted.
    phase = 'load';
    const loadStarted = process.hrtime.bigint();
    if (process.env.REDIS_URL) {
      const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
      worker = spawn(process.execPath, [...nodeArgs, join(__dirname, '..', 'src', 'worker.js')], {
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: server.databaseUrl,
          REDIS_URL: process.env.REDIS_URL,
          QUEUE_PREFIX: prefix,
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
    const loadPids = { ...pids, worker: worker?.pid };
    const loadCpu = cpuOf(loadPids);
    await waitLoaded();
    process.stdout.write(`# load: ${cpuPerRecord(loadCpu, cpuOf(loadPids), (MESSAGES + WARM_UP) * PER_MESSAGE)} (the worker's start-up included)\n`);
    const loaderRate = ((MESSAGES + WARM_UP) * PER_MESSAGE) / seconds(loadStarted, process.hrtime.bigint());

    /** 5. Raw: the rows of 4 under `site`, same table and conflict rule, no HTTP, no queue; on a PostgreSQL server only (embedded PostgreSQL is inside the API process). */
    const rawUpsert = async (site: string): Promise<number> => {
      if (!server.databaseUrl) return NaN;
      const rawCpu = cpuOf(loadPids);
      const rawStarted = process.hrtime.bigint();
      for (let m = 0; m < MESSAGES; m++) {
        const rows = Array.from({ length: PER_MESSAGE }, (_, i) => record(MESSAGES + m, i, now));
        await db.query(
          `INSERT INTO amie_usage_record AS cur
             (site, usage_type, resource, local_record_id, seq, batch_id, local_project_id, username, charge,
              adjustment_type, usage_start, usage_end, record, processed_at)
           SELECT $10, 'Compute', x.resource, x.local_record_id, x.seq, 0, x.project, x.username, x.charge,
                  NULL, x.start_time, x.end_time, x.record, now()
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::numeric[], $7::timestamptz[], $8::timestamptz[], $9::jsonb[])
                AS x(resource, local_record_id, seq, project, username, charge, start_time, end_time, record)
           ON CONFLICT ON CONSTRAINT amie_usage_record_pk DO UPDATE SET
             seq = EXCLUDED.seq, local_project_id = EXCLUDED.local_project_id, username = EXCLUDED.username,
             charge = EXCLUDED.charge, usage_start = EXCLUDED.usage_start, usage_end = EXCLUDED.usage_end,
             record = EXCLUDED.record, processed_at = EXCLUDED.processed_at
           WHERE cur.seq < EXCLUDED.seq`,
          [
            rows.map((r) => r.Resource),
            rows.map((r) => r.LocalRecordID),
            rows.map((_, i) => String(m * PER_MESSAGE + i)),
            rows.map((r) => r.LocalProjectID),
            rows.map((r) => r.Username),
            rows.map((r) => r.Charge),
            rows.map((r) => r.StartTime),
            rows.map((r) => r.EndTime),
            rows.map((r) => JSON.stringify(r)),
            site,
          ],
        );
      }
      const rate = total / seconds(rawStarted, process.hrtime.bigint());
      process.stdout.write(`# raw upsert (${site}): ${cpuPerRecord(rawCpu, cpuOf(loadPids), total)} (the worker drains the rollups meanwhile)\n`);
      return rate;
    };

    const rawBefore = await rawUpsert('raw-before');
    // 4. End to end, the worker running.
    phase = 'end-to-end';
    const endToEndCpu = cpuOf(loadPids);
    const started = process.hrtime.bigint();
    const acceptWithWorker = await send(url, headers, second, senders);
    await waitLoaded();
    process.stdout.write(`# end to end: ${cpuPerRecord(endToEndCpu, cpuOf(loadPids), total)}\n`);
    const endToEnd = total / seconds(started, process.hrtime.bigint());
    clearInterval(sampler);
    const loaded = server.databaseUrl
      ? ((await db.query(`SELECT count(*)::int AS n FROM amie_usage_record`)).rows[0].n as number)
      : ((await fetch(`${server.baseUrl}/amie/usage/status`, { headers }).then((r) => r.json())) as { LoadedRecordCount: number }[]).reduce((n, e) => n + e.LoadedRecordCount, 0);
    const expected = (2 * MESSAGES + WARM_UP) * PER_MESSAGE + (server.databaseUrl ? total : 0);
    if (loaded !== expected) throw new Error(`expected ${expected} loaded rows, found ${loaded}`);

    report('usage_bare_fastify_ajv_records_per_s', bareRate, 'records/s');
    report('usage_http_accept_records_per_s', acceptRate, 'records/s (the API alone)');
    report('usage_accept_to_bare_ratio', acceptRate / bareRate, `ratio (limit ≥ ${ACCEPT_LIMIT})`);
    report('usage_loader_records_per_s', loaderRate, 'records/s (the loader alone, on the accepted backlog)');
    report('usage_http_accept_with_worker_records_per_s', acceptWithWorker, 'records/s');
    report('usage_end_to_end_records_per_s', endToEnd, 'records/s');

    // 5. Raw, after: the same rows again under another site (new identities, as in 4).
    const raw = (rawBefore + (await rawUpsert('raw-after'))) / 2;
    if (server.databaseUrl) {
      report('usage_raw_upsert_records_per_s', raw, `records/s (mean of ${rawBefore.toFixed(0)} before and ${(2 * raw - rawBefore).toFixed(0)} after the end-to-end phase)`);
      report('usage_end_to_end_to_raw_ratio', endToEnd / raw, `ratio (limit ≥ ${LOAD_LIMIT})`);
    }
    const api = rss.map((s) => s.api).filter((x) => !Number.isNaN(x));
    const workers = rss.map((s) => s.worker).filter((x) => !Number.isNaN(x));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const firstSecond = median(api.slice(0, 10));
    const lastSecond = median(api.slice(-10));
    report('usage_api_rss_first_s_mb', firstSecond, 'MB (median of the first second of the accept phase)');
    report('usage_api_rss_last_s_mb', lastSecond, 'MB (median of the last second of the end-to-end phase)');
    report('usage_api_rss_max_mb', Math.max(...api), `MB (limit < ${RSS_LIMIT_MB})`);
    report('usage_api_rss_growth_mb', lastSecond - firstSecond, `MB (limit < ${RSS_FLAT_MB}: flat)`);
    for (const p of ['accept', 'load', 'end-to-end']) {
      const xs = rss.filter((s) => s.phase === p).map((s) => s.api);
      if (xs.length) process.stdout.write(`# API RSS during ${p}: min ${Math.min(...xs).toFixed(0)} / median ${median(xs).toFixed(0)} / max ${Math.max(...xs).toFixed(0)} MB\n`);
    }
    if (workers.length) report('usage_worker_rss_max_mb', Math.max(...workers), 'MB');
    process.stdout.write(`# load average at the end ${load()}\n`);
  } finally {
    clearInterval(sampler);
    await stopChild(bare.child);
    await db.end().catch(() => undefined);
    await stopWorkers(worker ? [worker] : [], process.env.REDIS_URL, prefix);
    await server.close();
  }
}
