import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connect, GetMessage } from 'amqplib';

/**
 * The tests' RabbitMQ: the broker on this machine (.ci/run starts Debian's
 * rabbitmq-server and exports RABBITMQ_URL), one vhost per test run, made and
 * removed with rabbitmqctl. Notifications are published by the real
 * publisher, oslo.messaging (test/collector/publish.py).
 */
export const BROKER_URL = (process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672').replace(/\/+$/, '');
const PYTHON = process.env.COLLECTOR_PYTHON ?? '/usr/bin/python3';
const RABBITMQCTL = process.env.RABBITMQCTL ?? 'rabbitmqctl';
const PUBLISH = join(__dirname, 'publish.py');

/** Why the broker tests cannot run here, or null when they can. */
export function brokerUnavailableReason(): string | null {
  try {
    execFileSync(RABBITMQCTL, ['-q', 'list_vhosts'], { stdio: 'pipe', timeout: 30_000 });
  } catch (error) {
    return `no RabbitMQ reachable through rabbitmqctl (${(error as Error).message.split('\n')[0]})`;
  }
  try {
    execFileSync(PYTHON, ['-c', 'import oslo_messaging, kombu'], { stdio: 'pipe', timeout: 30_000 });
  } catch {
    return `${PYTHON} cannot import oslo_messaging and kombu (apt-get install python3-oslo.messaging python3-kombu)`;
  }
  return null;
}

export interface Vhost {
  name: string;
  /** amqp:// URL of the vhost (NOTIFICATIONS_URL). */
  amqpUrl: string;
  /** oslo transport_url of the vhost (the publisher's). */
  rabbitUrl: string;
  remove(): void;
}

export function createVhost(name = `ul-test-${randomUUID()}`): Vhost {
  const user = new URL(BROKER_URL);
  execFileSync(RABBITMQCTL, ['-q', 'add_vhost', name], { stdio: 'pipe' });
  execFileSync(RABBITMQCTL, ['-q', 'set_permissions', '-p', name, decodeURIComponent(user.username || 'guest'), '.*', '.*', '.*'], { stdio: 'pipe' });
  const credentials = `${user.username || 'guest'}:${user.password || 'guest'}@${user.host}`;
  return {
    name,
    amqpUrl: `amqp://${credentials}/${encodeURIComponent(name)}`,
    rabbitUrl: `rabbit://${credentials}/${encodeURIComponent(name)}`,
    remove() {
      execFileSync(RABBITMQCTL, ['-q', 'delete_vhost', name], { stdio: 'pipe' });
    },
  };
}

export interface Notification {
  event_type: string;
  payload: Record<string, unknown>;
  exchange?: string;
  publisher_id?: string;
  timestamp?: string;
  message_id?: string;
  context?: Record<string, unknown>;
  priority?: string;
  topic?: string;
}

/** Publishes through oslo.messaging's Notifier; answers the message ids. */
export async function publish(vhost: Vhost, notifications: Notification[]): Promise<string[]> {
  return (await publishTimed(vhost, notifications)).messageIds;
}

/** Publishes and answers each message's id and the time its publish returned (ms since the epoch). */
export async function publishTimed(vhost: Vhost, notifications: Notification[]): Promise<{ messageIds: string[]; publishedAt: number[] }> {
  const input = JSON.stringify({ url: vhost.rabbitUrl, notifications });
  const child = spawn(PYTHON, [PUBLISH], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  child.stdin.end(input);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`publish.py exited ${code}: ${err.slice(-2000)}`);
  const result = JSON.parse(out) as { message_ids: string[]; published_at: number[] };
  return { messageIds: result.message_ids, publishedAt: result.published_at.map((s) => s * 1000) };
}

/** Publishes raw bodies (what no oslo publisher would send: malformed messages). */
export async function publishRaw(vhost: Vhost, exchange: string, routingKey: string, bodies: Buffer[]): Promise<void> {
  const connection = await connect(vhost.amqpUrl);
  try {
    const channel = await connection.createConfirmChannel();
    for (const body of bodies) channel.publish(exchange, routingKey, body, { persistent: true, contentType: 'application/json' });
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

/** Takes every message of a queue (dead letters), acking them. */
export async function drain(vhost: Vhost, queue: string): Promise<GetMessage[]> {
  const connection = await connect(vhost.amqpUrl);
  try {
    const channel = await connection.createChannel();
    const messages: GetMessage[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (!message) break;
      messages.push(message);
    }
    return messages;
  } finally {
    await connection.close();
  }
}

/** Message count of a queue. */
export async function queueDepth(vhost: Vhost, queue: string): Promise<number> {
  const connection = await connect(vhost.amqpUrl);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}

/** Closes every client connection of the vhost (a broker connection cut). */
export function closeConnections(vhost: Vhost): number {
  const out = execFileSync(RABBITMQCTL, ['-q', 'list_connections', 'pid', 'vhost'], { encoding: 'utf8' });
  let closed = 0;
  for (const line of out.split('\n')) {
    const [pid, name] = line.trim().split(/\s+/);
    if (!pid || name !== vhost.name) continue;
    execFileSync(RABBITMQCTL, ['-q', 'close_connection', pid, 'cut by the collector test'], { stdio: 'pipe' });
    closed++;
  }
  return closed;
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Reference payloads (Almanach's tests/unit/builders/notification.py; Nova info_from_instance; Cinder _usage_from_volume). */
export const payloads = {
  instanceCreate: (id: string, extra: Record<string, unknown> = {}) => ({
    instance_id: id,
    tenant_id: 'project-a',
    hostname: `vm-${id}`,
    display_name: `Display ${id}`,
    instance_type: 'm1.small',
    created_at: '2016-01-01 18:00:00.123456+00:00',
    launched_at: '2016-01-01T18:00:30.000000',
    terminated_at: '',
    deleted_at: '',
    state: 'active',
    os_type: 'linux',
    image_meta: { os_distro: 'ubuntu', os_version: '14.04', base_image_ref: 'abc' },
    metadata: { group: 'db', owner: 'alice' },
    ...extra,
  }),
  instanceDelete: (id: string, extra: Record<string, unknown> = {}) => ({
    instance_id: id,
    tenant_id: 'project-a',
    hostname: `vm-${id}`,
    instance_type: 'm1.small',
    created_at: '2016-01-01 18:00:00.123456+00:00',
    launched_at: '2016-01-01T18:00:30.000000',
    terminated_at: '2016-01-03T21:30:00.345678',
    deleted_at: '2016-01-03T21:30:01.000000',
    state: 'deleted',
    ...extra,
  }),
  volumeCreate: (id: string, extra: Record<string, unknown> = {}) => ({
    volume_id: id,
    tenant_id: 'project-a',
    display_name: `vol-${id}`,
    volume_type: null,
    size: 10,
    created_at: '2016-01-01T18:00:00.654321+00:00',
    launched_at: '2016-01-01T18:00:05.000000',
    status: 'available',
    volume_attachment: [],
    ...extra,
  }),
};
