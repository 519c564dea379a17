import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer, Server, Socket } from 'node:net';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { Client } from 'pg';
import { buildDist, startDist, stopProcess } from '../support/processes';
import { brokerUnavailableReason, closeConnections, createVhost, Notification, payloads, publish, queueDepth, until, Vhost } from '../collector/broker';

/**
 * "Nothing lost, nothing doubled" (collector.md 5) with the real collector
 * process (`node dist/src/collector.js`): killed with SIGKILL mid-stream, its
 * broker connection cut mid-stream (rabbitmqctl close_connection), and its
 * database unreachable for a while. Every run is checked against what was
 * published. Needs PostgreSQL (DATABASE_URL): only one process may open the
 * embedded database.
 */
const reason = !process.env.DATABASE_URL ? 'it needs DATABASE_URL (the collector process and the test share the database)' : brokerUnavailableReason();
if (reason) console.log(`collector-durability: skipped, ${reason}`);
const maybe = reason ? describe.skip : describe;

const root = join(__dirname, '..', '..');
const QUEUE = 'usage-ledger.notifications';

function startCollector(env: Record<string, string>): ChildProcess {
  return startDist('collector', { NOTIFICATIONS_RETRY_DELAY_S: '1', ...env });
}

/** create, resize to m1.large, resize to m1.xlarge: three versions per instance when each applies once, in order. */
function lifecycle(prefix: string, count: number): Notification[] {
  const out: Notification[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${i}`;
    out.push({ exchange: 'nova', event_type: 'compute.instance.create.end', payload: payloads.instanceCreate(id) });
    out.push({ exchange: 'nova', event_type: 'compute.instance.resize.confirm.end', payload: payloads.instanceCreate(id, { instance_type: 'm1.large' }), timestamp: '2016-01-02T10:00:00.000001' });
    out.push({ exchange: 'nova', event_type: 'compute.instance.resize.confirm.end', payload: payloads.instanceCreate(id, { instance_type: 'm1.xlarge' }), timestamp: '2016-01-02T11:00:00.000002' });
  }
  return out;
}

/** A TCP relay to PostgreSQL that the test can take down (the database "unavailable for a while"). */
class Relay {
  private server?: Server;
  private sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.targetPort, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

maybe('collector durability (real processes)', () => {
  let vhost: Vhost;
  let db: Client;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    buildDist();
    db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
  }, 300_000);

  afterAll(async () => {
    await db?.end();
  });

  beforeEach(async () => {
    vhost = createVhost();
    const tables = await db.query(`SELECT to_regclass('notification_receipts') AS r`);
    if (tables.rows[0].r) await db.query('TRUNCATE almanach_entity_version, almanach_volume_type, notification_receipts, notification_counts');
  });

  afterEach(async () => {
    await stopProcess(child, 'SIGKILL');
    child = undefined;
    vhost.remove();
  });

  const env = () => ({ DATABASE_URL: process.env.DATABASE_URL!, NOTIFICATIONS_URL: vhost.amqpUrl });

  async function readyCollector(extra: Record<string, string> = {}): Promise<ChildProcess> {
    const started = startCollector({ ...env(), ...extra });
    // Ready once its queue exists and has a consumer.
    await until('the collector to consume', async () => {
      const out = execFileSync('rabbitmqctl', ['-q', 'list_queues', '-p', vhost.name, 'name', 'consumers'], { encoding: 'utf8' });
      return out.split('\n').some((l) => l.trim() === `${QUEUE}\t1`);
    }, 60_000, 250);
    return started;
  }

  async function versions(): Promise<number> {
    return Number((await db.query('SELECT count(*)::int AS n FROM almanach_entity_version')).rows[0].n);
  }

  /** Everything published is applied exactly once: 3 versions an instance, one receipt a message, no dead letters. */
  async function expectExactlyOnce(prefix: string, instances: number, messageIds: string[]): Promise<void> {
    await until('every version', async () => (await versions()) === instances * 3, 120_000, 500);
    const perEntity = await db.query(
      `SELECT entity_id, array_agg(flavor ORDER BY start) AS flavors FROM almanach_entity_version WHERE entity_id LIKE $1 GROUP BY entity_id`,
      [`${prefix}-%`],
    );
    expect(perEntity.rows).toHaveLength(instances);
    for (const row of perEntity.rows) expect(row.flavors).toEqual(['m1.small', 'm1.large', 'm1.xlarge']);
    const receipts = await db.query('SELECT message_id FROM notification_receipts');
    expect(new Set(receipts.rows.map((r) => r.message_id))).toEqual(new Set(messageIds));
    expect(await queueDepth(vhost, `${QUEUE}.dead`)).toBe(0);
  }

  it('SIGKILL mid-stream: the restarted collector applies the rest, nothing lost or doubled', async () => {
    child = await readyCollector();
    const published = publish(vhost, lifecycle('k', 300));
    await until('the stream to be under way', async () => (await versions()) >= 100, 120_000, 50);
    await stopProcess(child, 'SIGKILL');
    const applied = await versions();
    expect(applied).toBeLessThan(900);
    child = await readyCollector();
    await expectExactlyOnce('k', 300, await published);
  }, 300_000);

  it('the broker connection cut mid-stream (rabbitmqctl close_connection): it reconnects, nothing lost or doubled', async () => {
    child = await readyCollector();
    const published = publish(vhost, lifecycle('c', 300));
    await until('the stream to be under way', async () => (await versions()) >= 100, 120_000, 50);
    expect(closeConnections(vhost)).toBeGreaterThanOrEqual(1);
    await until('more progress', async () => (await versions()) >= 400, 120_000, 50);
    closeConnections(vhost);
    await expectExactlyOnce('c', 300, await published);
    expect(child.exitCode).toBeNull();
  }, 300_000);

  it('the database unavailable for a while: messages are held and retried in place, then applied; none dead-lettered', async () => {
    const target = new URL(process.env.DATABASE_URL!);
    const relay = new Relay(target.hostname, Number(target.port || 5432));
    await relay.up();
    const viaRelay = new URL(process.env.DATABASE_URL!);
    viaRelay.port = String(relay.port);
    try {
      child = await readyCollector({ DATABASE_URL: viaRelay.toString(), NOTIFICATIONS_PREFETCH: '8' });
      await relay.down();
      const ids = await publish(vhost, lifecycle('d', 20));
      await new Promise((r) => setTimeout(r, 4000));
      expect(await versions()).toBe(0);
      expect(await queueDepth(vhost, `${QUEUE}.dead`)).toBe(0);
      // At most the prefetch is held; the rest waits in the queue.
      expect(await queueDepth(vhost, QUEUE)).toBeGreaterThanOrEqual(60 - 8);
      await relay.up();
      await expectExactlyOnce('d', 20, ids);
      expect(child.exitCode).toBeNull();
    } finally {
      await relay.down();
    }
  }, 300_000);

  it('uses an existing exchange as it is (passive check first); SIGTERM exits 0; without NOTIFICATIONS_URL it exits 2 and says why', async () => {
    // A site whose services run with amqp_durable_queues = true already has durable exchanges:
    // the collector (durable = false by default) must neither fail nor redeclare them.
    const setup = await connect(vhost.amqpUrl);
    await (await setup.createChannel()).assertExchange('openstack', 'topic', { durable: true, autoDelete: false });
    await setup.close();
    child = await readyCollector();
    const exchanges = execFileSync('rabbitmqctl', ['-q', 'list_exchanges', '-p', vhost.name, 'name', 'durable'], { encoding: 'utf8' });
    expect(exchanges).toMatch(/^openstack\ttrue$/m);
    expect(exchanges).toMatch(/^nova\tfalse$/m);
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const disabled = spawn(process.execPath, [join(root, 'dist', 'src', 'collector.js')], { env: { PATH: process.env.PATH, DATABASE_URL: process.env.DATABASE_URL } });
    let stderr = '';
    disabled.stderr.on('data', (d) => (stderr += d));
    expect(await new Promise((r) => disabled.once('exit', r))).toBe(2);
    expect(stderr).toContain('usage-ledger collector: NOTIFICATIONS_URL is not set; the OpenStack notification collector is disabled');
    const bad = spawn(process.execPath, [join(root, 'dist', 'src', 'collector.js')], { env: { PATH: process.env.PATH, NOTIFICATIONS_URL: vhost.amqpUrl, NOTIFICATIONS_PREFETCH: '0' } });
    let badErr = '';
    bad.stderr.on('data', (d) => (badErr += d));
    expect(await new Promise((r) => bad.once('exit', r))).toBe(2);
    expect(badErr).toContain('NOTIFICATIONS_PREFETCH');
    // Embedded database: the API runs the collector; start:collector exits 0 and says so.
    const embedded = spawn(process.execPath, [join(root, 'dist', 'src', 'collector.js')], { env: { PATH: process.env.PATH, NOTIFICATIONS_URL: vhost.amqpUrl, LOG_LEVEL: 'silent' } });
    let embeddedErr = '';
    embedded.stderr.on('data', (d) => (embeddedErr += d));
    expect(await new Promise((r) => embedded.once('exit', r))).toBe(0);
    expect(embeddedErr).toContain('the API process (npm start) runs the collector');
  }, 120_000);
});
