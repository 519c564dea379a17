import { randomUUID } from 'node:crypto';
import { CollectorRunner } from '../../src/collector/collector-runner';
import { brokerUnavailableReason, createVhost, drain, Notification, payloads, publish, queueDepth, until, Vhost } from '../collector/broker';
import { ADMIN_TOKEN, useTestApp } from '../support/test-app';

/**
 * The late-data horizon (reports.md 5.4) on the collector's path: it writes
 * through AlmanachService like the HTTP API, so a notification whose change
 * reaches beyond the horizon is refused (dead-lettered `refused`, with the
 * horizon's message), never retried as a database failure; one inside the
 * horizon is applied.
 */
const reason = brokerUnavailableReason();
if (reason) console.log(`reports-horizon-collector e2e: skipped, ${reason}`);
const maybe = reason ? describe.skip : describe;

const QUEUE = 'usage-ledger.notifications';

maybe('late-data horizon: notifications from the collector', () => {
  const vhostName = `ul-test-${randomUUID()}`;
  let vhost: Vhost;
  beforeAll(() => {
    vhost = createVhost(vhostName);
  });
  afterAll(() => {
    vhost?.remove();
  });

  const t = useTestApp({
    NOTIFICATIONS_URL: `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhostName)}`,
    NOTIFICATIONS_RETRY_DELAY_S: '1',
    NOTIFICATIONS_MAX_RETRIES: '3',
    LATE_HORIZON_DAYS: '400',
    REPORT_TIME_ZONE: 'UTC',
  });
  beforeAll(async () => {
    await t.app.get(CollectorRunner).start({ waitReady: true });
  });

  const nova = (n: Omit<Notification, 'exchange'>): Notification => ({ exchange: 'nova', publisher_id: 'compute.host1', ...n });
  const history = async (id: string) => {
    const res = await t.http.get(`/v1/entity/${id}`).set('X-Auth-Token', ADMIN_TOKEN);
    return res.status === 200 ? (res.body as Record<string, unknown>[]) : [];
  };

  it('a create dated 2016 is dead-lettered refused with the horizon message; a recent one is applied', async () => {
    const recent = new Date(Date.now() - 3_600_000).toISOString().replace('Z', '+00:00');
    await publish(vhost, [
      nova({ event_type: 'compute.instance.create.end', payload: payloads.instanceCreate('i-old') }),
      nova({ event_type: 'compute.instance.create.end', payload: payloads.instanceCreate('i-new', { created_at: recent, launched_at: recent.replace('+00:00', '') }) }),
    ]);
    await until('one dead letter', async () => (await queueDepth(vhost, `${QUEUE}.dead`)) === 1, 30_000);
    await until('i-new applied', async () => (await history('i-new')).length === 1, 30_000);
    const dead = await drain(vhost, `${QUEUE}.dead`);
    expect(dead.map((m) => m.properties.headers?.['x-ledger-reason'])).toEqual(['refused']);
    expect(dead[0].properties.headers?.['x-ledger-error']).toBe('Change reaches 2016-01-01, beyond the late-data horizon of 400 days');
    expect(await history('i-old')).toEqual([]);
  });
});
