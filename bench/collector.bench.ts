import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { benchDatabase, percentile, report, runConcurrently, startBenchProcess } from './support';

const INSTANCES = Number(process.env.BENCH_COLLECTOR_INSTANCES ?? 1_000); // 3 events each
const LATENCY_EVENTS = Number(process.env.BENCH_COLLECTOR_LATENCY_EVENTS ?? 1_000);
const ROOT = join(__dirname, '..', '..');
const PUBLISH = join(ROOT, 'test', 'collector', 'publish.py');
const PYTHON = process.env.COLLECTOR_PYTHON ?? '/usr/bin/python3';
const BROKER = new URL(process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
const QUEUE = 'usage-ledger.notifications';

/**
 * OpenStack notification collector (issue 13), one run on PostgreSQL:
 *  - collector-drain: notifications/s applied by one collector process
 *    (prefetch 32) draining a queue holding INSTANCES × (create, resize,
 *    delete) published beforehand by oslo.messaging;
 *  - almanach-http-writes: the same events through the Almanach HTTP API
 *    (16 clients) in the same run;
 *  - collector-publish-to-commit p50/p99: a steady stream published while the
 *    collector runs, from the publisher's return to the receipt's
 *    transaction (`notification_receipts.received_at`).
 * Needs DATABASE_URL, rabbitmqctl and Debian's python3-oslo.messaging.
 */
export async function run(): Promise<void> {
  const why = unavailable();
  if (why) {
    process.stdout.write(`# collector bench skipped: ${why}\n`);
    return;
  }
  const vhost = `ul-bench-${randomUUID()}`;
  execFileSync('rabbitmqctl', ['-q', 'add_vhost', vhost]);
  execFileSync('rabbitmqctl', ['-q', 'set_permissions', '-p', vhost, decodeURIComponent(BROKER.username || 'guest'), '.*', '.*', '.*']);
  const creds = `${BROKER.username || 'guest'}:${BROKER.password || 'guest'}@${BROKER.host}`;
  const amqpUrl = `amqp://${creds}/${encodeURIComponent(vhost)}`;
  const rabbitUrl = `rabbit://${creds}/${encodeURIComponent(vhost)}`;
  const database = (await benchDatabase(process.env.DATABASE_URL!)) as { url: string; drop(): Promise<void> };
  try {
    // HTTP first, on a database of its own (startBenchProcess), for the comparison.
    const server = await startBenchProcess(async () => undefined);
    let httpRate: number;
    try {
      process.stdout.write(`# on ${server.description}; broker ${BROKER.host} vhost ${vhost}\n`);
      const token = await adminCall(server.baseUrl, server.adminToken);
      const headers = { 'X-Auth-Token': token, 'Content-Type': 'application/json' };
      const started = process.hrtime.bigint();
      await runConcurrently(INSTANCES, 16, async (i) => {
        const id = `http-${i}`;
        await call(`${server.baseUrl}/v1/project/project-${i % 100}/instance`, 'POST', headers, { id, created_at: '2016-01-01T18:00:00.123456Z', name: id, flavor: 'm1.small', os_distro: 'ubuntu', os_version: '14.04', os_type: 'linux' }, 201);
        await call(`${server.baseUrl}/v1/instance/${id}/resize`, 'PUT', headers, { date: '2016-01-02T10:00:00Z', flavor: 'm1.large' }, 200);
        await call(`${server.baseUrl}/v1/instance/${id}`, 'DELETE', headers, { date: '2016-01-03T21:30:00.345678Z' }, 202);
      });
      httpRate = (INSTANCES * 3) / (Number(process.hrtime.bigint() - started) / 1e9);
    } finally {
      await server.close();
    }

    // Drain: declare the queue with a first collector, stop it, publish, then time a fresh collector.
    const env = { DATABASE_URL: database.url, NOTIFICATIONS_URL: amqpUrl, NOTIFICATIONS_PREFETCH: '32', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' };
    let collector = startCollector(env);
    await waitConsumer(vhost, 1);
    await stop(collector);
    const events = [];
    for (let i = 0; i < INSTANCES; i++) {
      const payload = { instance_id: `amqp-${i}`, tenant_id: `project-${i % 100}`, hostname: `amqp-${i}`, instance_type: 'm1.small', created_at: '2016-01-01 18:00:00.123456+00:00', image_meta: { os_distro: 'ubuntu', os_version: '14.04' }, os_type: 'linux' };
      events.push({ exchange: 'nova', event_type: 'compute.instance.create.end', payload });
      events.push({ exchange: 'nova', event_type: 'compute.instance.resize.confirm.end', payload: { ...payload, instance_type: 'm1.large' }, timestamp: '2016-01-02T10:00:00' });
      events.push({ exchange: 'nova', event_type: 'compute.instance.delete.end', payload: { ...payload, terminated_at: '2016-01-03T21:30:00.345678', state: 'deleted' } });
    }
    await publishAll(rabbitUrl, events);
    const db = new Client({ connectionString: database.url });
    await db.connect();
    try {
      const started = Date.now();
      collector = startCollector(env);
      await until(async () => Number((await db.query('SELECT count(*)::int AS n FROM notification_receipts')).rows[0].n) >= INSTANCES * 3, 600_000);
      const drainRate = (INSTANCES * 3) / ((Date.now() - started) / 1000);
      report('collector-drain', drainRate, 'notifications/s');
      report('almanach-http-writes', httpRate, 'events/s');

      // Latency: a steady stream of creates while the collector runs.
      const stream = Array.from({ length: LATENCY_EVENTS }, (_, i) => ({
        exchange: 'nova',
        event_type: 'compute.instance.create.end',
        payload: { instance_id: `lat-${i}`, tenant_id: 'project-lat', created_at: '2016-01-01T18:00:00Z' },
      }));
      const published = await publishAll(rabbitUrl, stream);
      await until(async () => Number((await db.query(`SELECT count(*)::int AS n FROM notification_receipts WHERE message_id = ANY($1)`, [published.message_ids])).rows[0].n) === LATENCY_EVENTS, 300_000);
      const rows = await db.query(`SELECT message_id, extract(epoch FROM received_at) * 1000 AS at FROM notification_receipts WHERE message_id = ANY($1)`, [published.message_ids]);
      const committed = new Map(rows.rows.map((r) => [r.message_id as string, Number(r.at)]));
      const latencies = published.message_ids.map((id, i) => committed.get(id)! - published.published_at[i] * 1000).sort((a, b) => a - b);
      report('collector-publish-to-commit-p50', percentile(latencies, 50), 'ms');
      report('collector-publish-to-commit-p99', percentile(latencies, 99), 'ms');
      report('collector-stream-publish-rate', LATENCY_EVENTS / ((published.published_at[LATENCY_EVENTS - 1] - published.published_at[0]) || 1), 'notifications/s');
    } finally {
      await db.end();
      await stop(collector);
    }
  } finally {
    await database.drop();
    execFileSync('rabbitmqctl', ['-q', 'delete_vhost', vhost]);
  }
}

function unavailable(): string | null {
  if (!process.env.DATABASE_URL) return 'it needs DATABASE_URL (the collector is its own process)';
  try {
    execFileSync('rabbitmqctl', ['-q', 'list_vhosts'], { stdio: 'pipe' });
    execFileSync(PYTHON, ['-c', 'import oslo_messaging'], { stdio: 'pipe' });
  } catch (error) {
    return `no broker or publisher: ${(error as Error).message.split('\n')[0]}`;
  }
  return null;
}

function startCollector(env: Record<string, string>) {
  return spawn(process.execPath, [join(__dirname, '..', 'src', 'collector.js')], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stop(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function waitConsumer(vhost: string, consumers: number): Promise<void> {
  await until(async () => {
    const out = execFileSync('rabbitmqctl', ['-q', 'list_queues', '-p', vhost, 'name', 'consumers'], { encoding: 'utf8' });
    return out.split('\n').some((l) => l.trim() === `${QUEUE}\t${consumers}`);
  }, 120_000);
}

async function publishAll(url: string, notifications: unknown[]): Promise<{ message_ids: string[]; published_at: number[] }> {
  const child = spawn(PYTHON, [PUBLISH], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stdin.end(JSON.stringify({ url, notifications }));
  const code = await new Promise((r) => child.once('close', r));
  if (code !== 0) throw new Error(`publish.py exited ${code}`);
  return JSON.parse(out);
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('collector bench: timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function adminCall(baseUrl: string, adminToken: string): Promise<string> {
  const res = await fetch(`${baseUrl}/admin/tokens`, {
    method: 'POST',
    headers: { 'X-Auth-Token': adminToken, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'bench-collector', role: 'service' }),
  });
  if (res.status !== 201) throw new Error(`token creation answered ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

async function call(url: string, method: string, headers: Record<string, string>, body: unknown, expected: number): Promise<void> {
  const res = await fetch(url, { method, headers, body: JSON.stringify(body) });
  if (res.status !== expected) throw new Error(`${method} ${url} answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer().catch(() => undefined);
}
