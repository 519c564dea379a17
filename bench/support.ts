import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import IORedis from 'ioredis';
import { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../src/app.factory';
import { AppConfig } from '../src/config/app-config';
import { createRootLogger } from '../src/logging/logger';
import { Runtime } from '../src/runtime';

export interface BenchServer {
  baseUrl: string;
  runtime: Runtime;
  app: NestFastifyApplication;
  adminToken: string;
  /** What the bench ran on, for the report. */
  description: string;
  close(): Promise<void>;
}

/**
 * Starts the real API on a free loopback port for a bench. With DATABASE_URL
 * set, the bench gets a database of its own on that server (created here,
 * dropped on close), so a bench never touches real data; otherwise embedded
 * PostgreSQL in memory. REDIS_URL is used as given.
 */
export async function startBenchServer(env: Record<string, string | undefined> = process.env): Promise<BenchServer> {
  const adminToken = `bench-${randomUUID()}`;
  const database = await benchDatabase(env.DATABASE_URL);
  const databaseUrl = database.url;
  const config = AppConfig.fromValues({
    ...env,
    DATABASE_URL: databaseUrl,
    DATA_DIR: 'memory://',
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: env.BENCH_LOG_LEVEL ?? 'warn',
  });
  const runtime = await Runtime.open(config, createRootLogger(config.logLevel), { runMigrations: true });
  const app = await createApp(runtime);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    runtime,
    app,
    adminToken,
    description: `${runtime.database.description}; ${runtime.queue.description}`,
    async close() {
      await app.close();
      await runtime.close();
      await database.drop();
    },
  };
}

/**
 * Runs `task` on the app's runtime opened on an existing, migrated database
 * (no migrations run, no server started), and closes it after.
 */
export async function withBenchRuntime<T>(
  databaseUrl: string,
  task: (runtime: Runtime) => Promise<T>,
  env: Record<string, string | undefined> = process.env,
): Promise<T> {
  const config = AppConfig.fromValues({ ...env, DATABASE_URL: databaseUrl, DATA_DIR: 'memory://' });
  const runtime = await Runtime.open(config, createRootLogger('warn'), { runMigrations: false });
  try {
    return await task(runtime);
  } finally {
    await runtime.close();
  }
}

/** One figure a line, `name: value unit` (the issues' format). */
export function report(name: string, value: number, unit: string): void {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 2 : 4;
  process.stdout.write(`${name}: ${value.toFixed(digits)} ${unit}\n`);
}

/** A JSON caller of the bench server: `send(method, path, token, body?)` answers the parsed body, and throws on any status ≥ 300. */
export function jsonClient(baseUrl: string): (method: string, path: string, token: string, body?: unknown) => Promise<any> {
  return async (method, path, token, body) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { 'X-Auth-Token': token, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

/** Connections kept alive for every bench request made with `httpRequest`. */
const keptAlive = new Agent({ keepAlive: true, maxSockets: 256 });

/**
 * One HTTP request on a kept-alive connection, with node:http. The load
 * generator shares the machine's two cores with the server and PostgreSQL:
 * global fetch (undici) spent about 1.2 ms of CPU per Almanach write, about
 * a fifth of the machine during the write phase; node:http spends a fraction
 * of that, leaving the cores to what is measured.
 */
export function httpRequest(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const sent = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = request(url, { method, headers: sent, agent: keptAlive }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Linux's clock ticks per second in /proc (USER_HZ, 100 on every mainstream kernel). */
const TICKS = 100;

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat; undefined where that cannot be read. */
function cpuOfPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by the API (`apiPid`), every PostgreSQL process of this machine, and this bench process. */
export interface CpuSample {
  api?: number;
  postgres?: number;
  client: number;
}

export function sampleCpu(apiPid: number | undefined): CpuSample {
  let postgres: number | undefined;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let comm: string;
      try {
        comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
      if (comm !== 'postgres') continue;
      postgres = (postgres ?? 0) + (cpuOfPid(Number(entry)) ?? 0);
    }
  } catch {
    postgres = undefined;
  }
  const own = process.cpuUsage();
  return { api: apiPid === undefined ? undefined : cpuOfPid(apiPid), postgres, client: (own.user + own.system) / 1e6 };
}

/**
 * Reports the CPU milliseconds per operation each side used between two
 * samples: `<name>-api`, `<name>-postgres` (every PostgreSQL process on the
 * machine: the bench's backends, and anything else the server runs
 * meanwhile), `<name>-client` (the bench's own load generator). Where /proc
 * cannot be read (not Linux) the line says so.
 */
export function reportCpu(name: string, before: CpuSample, after: CpuSample, operations: number): void {
  const per = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : ((b - a) * 1000) / operations);
  for (const [side, value] of [
    ['api', per(before.api, after.api)],
    ['postgres', per(before.postgres, after.postgres)],
    ['client', per(before.client, after.client)],
  ] as const) {
    if (value === undefined) process.stdout.write(`# ${name}-${side}: not measured (no /proc)\n`);
    else report(`${name}-${side}`, value, 'ms CPU/op');
  }
}

/** PostgreSQL's write-ahead log and checkpoint counters at one moment (the whole server: every database). */
export interface WalSample {
  bytes: number;
  fullPageImages: number;
  checkpoints: number;
}

/**
 * Reads the log's insert position (bytes: exact at once), pg_stat_wal's full-page images (PostgreSQL
 * 14+) and the checkpoint counters (pg_stat_checkpointer from 17, pg_stat_bgwriter before); undefined
 * where the server has none of them (PGlite). A backend adds its counts to pg_stat_wal at most once a
 * second, and an idle one up to 10 s later, so over a phase the full-page images are a lower bound; the
 * bytes come from the position for that reason.
 */
export async function sampleWal(query: (text: string) => Promise<{ rows: any[] }>): Promise<WalSample | undefined> {
  try {
    const [{ checkpointer }] = (await query(`SELECT to_regclass('pg_catalog.pg_stat_checkpointer') IS NOT NULL AS checkpointer`)).rows;
    const checkpoints = checkpointer
      ? '(SELECT num_timed + num_requested FROM pg_stat_checkpointer)'
      : '(SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)';
    const [row] = (
      await query(
        `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::float8 AS bytes, wal_fpi::float8 AS fpi, ${checkpoints}::float8 AS checkpoints FROM pg_stat_wal`,
      )
    ).rows;
    return { bytes: Number(row.bytes), fullPageImages: Number(row.fpi), checkpoints: Number(row.checkpoints) };
  } catch {
    return undefined;
  }
}

/**
 * Reports the write-ahead log written per operation between two samples (`<name>-wal`, bytes, and
 * `<name>-wal-fpi`, full-page images: the first change to a page after a checkpoint logs the whole
 * page; a lower bound, see sampleWal) and the checkpoints that began meanwhile. Server-wide: anything
 * else writing meanwhile counts.
 */
export function reportWal(name: string, before: WalSample | undefined, after: WalSample | undefined, operations: number): void {
  if (!before || !after) {
    process.stdout.write(`# ${name}-wal: not measured (no pg_stat_wal)\n`);
    return;
  }
  report(`${name}-wal`, (after.bytes - before.bytes) / operations, 'bytes/op');
  report(`${name}-wal-fpi`, (after.fullPageImages - before.fullPageImages) / operations, 'full-page images/op (at least)');
  report(`${name}-checkpoints`, after.checkpoints - before.checkpoints, 'checkpoints begun');
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** Runs `count` calls of `task` with `concurrency` in flight; returns each call's latency in ms. */
export async function runConcurrently(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number[]> {
  const latencies: number[] = new Array(count);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      const started = process.hrtime.bigint();
      await task(i);
      latencies[i] = Number(process.hrtime.bigint() - started) / 1e6;
    }
  });
  await Promise.all(lanes);
  return latencies;
}

/**
 * The node options the API runs with when deployed (package.json `start`,
 * the Dockerfile's CMD): a heap limit, without which V8 on a large machine
 * lets the heap grow by hundreds of MB of garbage before collecting
 * (docs/amie-usage.md, "Memory").
 */
export const API_NODE_ARGS = ['--max-old-space-size=1024'];

export interface BenchProcess {
  baseUrl: string;
  adminToken: string;
  /** The server process (for its memory), and its database on a PostgreSQL server (for worker processes). */
  pid?: number;
  databaseUrl?: string;
  description: string;
  close(): Promise<void>;
}

/**
 * A bench database of its own and the real API in a child process
 * (`node dist/src/main.js`), so the load generator does not share the
 * server's event loop. `prepare` runs first, in this process, on the migrated
 * database (seeding in SQL); with embedded PostgreSQL the data folder is then
 * handed to the server.
 */
export async function startBenchProcess(
  prepare: (db: Runtime['dataSource']) => Promise<void>,
  env: Record<string, string | undefined> = process.env,
  options: { reuseDatabase?: string } = {},
): Promise<BenchProcess> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { createServer } = await import('node:net');
  const adminToken = `bench-${randomUUID()}`;
  const database = options.reuseDatabase ? existingDatabase(env.DATABASE_URL, options.reuseDatabase) : await benchDatabase(env.DATABASE_URL);
  const dataDir = database.url ? undefined : mkdtempSync(join(tmpdir(), 'usage-ledger-bench-'));
  const childEnv: Record<string, string | undefined> = {
    ...env,
    DATABASE_URL: database.url,
    DATA_DIR: dataDir ?? 'memory://',
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: env.BENCH_LOG_LEVEL ?? 'warn',
  };
  const config = AppConfig.fromValues(childEnv);
  const runtime = await Runtime.open(config, createRootLogger(config.logLevel), { runMigrations: true });
  let server = '';
  try {
    await prepare(runtime.dataSource);
    if (database.url) {
      // The server's settings the figures depend on (CI's PostgreSQL runs with autovacuum off).
      const [row] = await runtime.dataSource.query(`SELECT current_setting('autovacuum') AS autovacuum, current_setting('shared_buffers') AS shared_buffers`);
      server = `; autovacuum ${row.autovacuum}, shared_buffers ${row.shared_buffers}`;
    }
  } catch (error) {
    await runtime.close();
    await database.drop();
    throw error;
  }
  await runtime.close();
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  // BENCH_API_NODE_ARGS: more node options for the server (`--cpu-prof --cpu-prof-dir=/tmp/p`, which NODE_OPTIONS refuses).
  const nodeArgs = [...API_NODE_ARGS, ...(env.BENCH_API_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)];
  // BENCH_API_STDOUT: a file for the server's stdout, where `--trace-gc` writes (otherwise dropped: the bench's own
  // stdout is its figures).
  const stdout = env.BENCH_API_STDOUT ? openSync(env.BENCH_API_STDOUT, 'w') : 'ignore';
  const child = spawn(process.execPath, [...nodeArgs, join(__dirname, '..', 'src', 'main.js')], {
    env: { ...childEnv, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', stdout, 'inherit'],
  });
  if (typeof stdout === 'number') closeSync(stdout); // the child holds its own copy
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bench server exited with ${child.exitCode}`);
    const up = await fetch(`${baseUrl}/health`).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > deadline) {
      // Not left running (it holds the bench's stderr and its database).
      child.kill('SIGKILL');
      await database.drop();
      throw new Error('bench server did not start within 60 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    baseUrl,
    adminToken,
    pid: child.pid,
    databaseUrl: database.url,
    description: `${database.url ? `PostgreSQL (a bench database of its own${server})` : 'embedded PostgreSQL (PGlite)'}; ${env.REDIS_URL ? 'BullMQ on Redis' : 'in-process queue'}; API in a child process`,
    async close() {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        // A server that does not stop within 30 s (a drain loop finishing a
        // long backlog, say) is killed, so the bench can drop its database.
        const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      });
      await database.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A database a previous run kept (BENCH_KEEP_DATABASE), on the server of `serverUrl`: migrated again, never dropped. */
function existingDatabase(serverUrl: string | undefined, name: string): { url: string; drop(): Promise<void> } {
  if (!serverUrl || !/^[a-z0-9_]+$/i.test(name)) throw new Error(`reusing database ${JSON.stringify(name)} needs DATABASE_URL and a plain name`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: async () => void process.stdout.write(`# left the reused database ${name} in place\n`) };
}

/** A database of the bench's own on the server of `serverUrl` (dropped by `drop`); none without a server (embedded). */
export async function benchDatabase(serverUrl: string | undefined): Promise<{ url?: string; drop(): Promise<void> }> {
  if (!serverUrl) return { drop: async () => undefined };
  // BENCH_DB_TAG (letters, digits, `_`) names whose bench this is, when several share a server.
  const tag = /^[a-z0-9_]+$/i.test(process.env.BENCH_DB_TAG ?? '') ? `${process.env.BENCH_DB_TAG!.toLowerCase()}_` : '';
  const name = `usage_ledger_bench_${tag}${Date.now()}_${process.pid}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      if (process.env.BENCH_KEEP_DATABASE) {
        process.stdout.write(`# kept the bench database ${name} (BENCH_KEEP_DATABASE)\n`);
        return;
      }
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Stops the bench's worker processes (SIGTERM, waiting for each) and empties its queue under `prefix` when there is Redis. */
export async function stopWorkers(workers: ChildProcess[], redisUrl: string | undefined, prefix: string): Promise<void> {
  for (const worker of workers) {
    if (worker.exitCode === null) {
      const exited = new Promise((r) => worker.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
  }
  if (redisUrl) {
    // Every key of the bench's prefix (its job and event queues): BullMQ's obliterate leaves the
    // queue's `meta` and does not know the second queue.
    const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
    try {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  }
}

/**
 * A server of the bench's own (a script in dist/bench that prints `{"port": n}`
 * once listening), in a child process: the limits measured beside the API
 * (bench/bare-amie-server.ts, bench/bare-node-server.ts).
 */
export async function startChildServer(script: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(__dirname, script)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve((JSON.parse(text.split('\n')[0]) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { port, child };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** A history size in report names: 2m, 2.5m, 200k (the almanach and info benches). */
export function sizeLabel(versions: number): string {
  return versions >= 1_000_000 ? `${+(versions / 1_000_000).toFixed(1)}m` : `${+(versions / 1000).toFixed(0)}k`;
}
