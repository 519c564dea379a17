import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { QUEUE_NAME } from '../src/queue/job-payloads';
import { report, runConcurrently, startBenchServer } from './support';

/**
 * AMIE usage (amie-usage.md 5.2, issue 3 "Speed"):
 * - end-to-end: POSTs of 500-record compute messages, 4 in flight, until every
 *   row is in the ledger (with REDIS_URL: one `node dist/src/worker.js`
 *   process, as deployed; without: the in-process queue of the API);
 * - HTTP accept: the same records over the time until the last 200;
 * - raw: the same rows upserted straight into amie_usage_record with batched
 *   unnest statements of 500 rows on one connection, and the ratio.
 */
const MESSAGES = 60;
const PER_MESSAGE = 500;
const CONCURRENCY = 4;
/**
 * Embedded PGlite's socket server interleaves the protocol messages of large
 * concurrent queries (seen as "unnamed prepared statement does not exist"),
 * so without DATABASE_URL the bench sends one message at a time.
 */
const EMBEDDED_CONCURRENCY = 1;

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

export async function run(): Promise<void> {
  const prefix = `bench-usage-${randomUUID()}`;
  const server = await startBenchServer({ ...process.env, QUEUE_PREFIX: prefix });
  let worker: ChildProcess | undefined;
  try {
    const config = server.runtime.config;
    if (config.redisUrl) {
      worker = spawn(process.execPath, [join(__dirname, '..', 'src', 'worker.js')], {
        env: { PATH: process.env.PATH, DATABASE_URL: config.databaseUrl, REDIS_URL: config.redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
    const concurrency = config.databaseUrl ? CONCURRENCY : EMBEDDED_CONCURRENCY;
    process.stdout.write(`# ${server.description}; worker: ${worker ? 'one worker process' : 'in-process'}; ${concurrency} POSTs in flight\n`);
    const site = await fetch(`${server.baseUrl}/admin/sites`, {
      method: 'POST',
      headers: { 'X-Auth-Token': server.adminToken, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'bench-site' }),
    }).then((r) => r.json() as Promise<{ api_key: string }>);
    const headers = { 'XA-SITE': 'bench-site', 'XA-API-KEY': site.api_key, 'Content-Type': 'application/json' };
    const now = Date.now();
    const post = async (body: string) => {
      const res = await fetch(`${server.baseUrl}/amie/usage/`, { method: 'POST', headers, body });
      const answer = (await res.json()) as { QueuedRecordCount: number };
      if (res.status !== 200 || answer.QueuedRecordCount !== PER_MESSAGE) throw new Error(`submission failed: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
    };
    const db = server.runtime.dataSource;
    const pending = async () => (await db.query(`SELECT count(*)::int AS n FROM amie_usage_batch WHERE state = 'pending'`))[0].n as number;
    const waitLoaded = async () => {
      while ((await pending()) > 0) await new Promise((r) => setTimeout(r, 5));
    };

    // Warm-up (JIT, connections, the worker's start-up), not measured.
    await post(JSON.stringify({ UsageType: 'Compute', Records: Array.from({ length: PER_MESSAGE }, (_, i) => record(-1, i, now)) }));
    await waitLoaded();

    const bodies = Array.from({ length: MESSAGES }, (_, m) =>
      JSON.stringify({ UsageType: 'Compute', Records: Array.from({ length: PER_MESSAGE }, (_, i) => record(m, i, now)) }),
    );
    const total = MESSAGES * PER_MESSAGE;
    const started = process.hrtime.bigint();
    await runConcurrently(MESSAGES, concurrency, (i) => post(bodies[i]));
    const accepted = process.hrtime.bigint();
    await waitLoaded();
    const loaded = process.hrtime.bigint();
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM amie_usage_record WHERE local_record_id NOT LIKE 'job--1-%'`);
    if (n !== total) throw new Error(`expected ${total} loaded rows, found ${n}`);
    const seconds = (from: bigint, to: bigint) => Number(to - from) / 1e9;
    const endToEnd = total / seconds(started, loaded);
    report('usage_end_to_end_records_per_s', endToEnd, 'records/s');
    report('usage_http_accept_records_per_s', total / seconds(started, accepted), 'records/s');

    // Raw: the same rows, same table and conflict rule, no HTTP, no queue.
    const client = new Client({ connectionString: config.databaseUrl ?? undefined, ...(config.databaseUrl ? {} : pgliteOptions(server)) });
    await client.connect();
    try {
      const rawStarted = process.hrtime.bigint();
      for (let m = 0; m < MESSAGES; m++) {
        const rows = Array.from({ length: PER_MESSAGE }, (_, i) => record(m, i, now));
        await client.query(
          `INSERT INTO amie_usage_record AS cur
             (site, usage_type, resource, local_record_id, seq, batch_id, local_project_id, username, charge,
              adjustment_type, usage_start, usage_end, record, processed_at)
           SELECT 'raw-site', 'Compute', x.resource, x.local_record_id, x.seq, 0, x.project, x.username, x.charge,
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
          ],
        );
      }
      const raw = total / seconds(rawStarted, process.hrtime.bigint());
      report('usage_raw_upsert_records_per_s', raw, 'records/s');
      report('usage_end_to_end_to_raw_ratio', endToEnd / raw, 'ratio');
    } finally {
      await client.end();
    }
  } finally {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker!.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
    const redis = server.runtime.queue.redis;
    if (redis) {
      const queue = new Queue(QUEUE_NAME, { connection: redis, prefix });
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
    await server.close();
  }
}

/** Embedded PGlite: connect through the server's Unix socket. */
function pgliteOptions(server: Awaited<ReturnType<typeof startBenchServer>>) {
  const embedded = server.runtime.database.embedded!;
  return { host: embedded.host, port: embedded.port, user: 'postgres', database: 'postgres' };
}
