import { Client } from 'pg';
import { until } from '../support/processes';
import { APP_START_TIMEOUT_MS, realServers, startTestApp, TestApp } from '../support/test-app';

/**
 * DATABASE_POOL_SIZE (README "Configuration"): a process opens at most that
 * many connections to a PostgreSQL server, and requests beyond it wait for
 * one instead of failing. Needs a real server: embedded PostgreSQL has one
 * connection whatever the setting.
 */
const maybe = realServers.database ? describe : describe.skip;
if (!realServers.database) console.log('database-pool: skipped, it needs DATABASE_URL (embedded PostgreSQL has one connection whatever DATABASE_POOL_SIZE says)');

maybe('DATABASE_POOL_SIZE on a PostgreSQL server', () => {
  let t: TestApp;
  /** Holds the lock, in a transaction. */
  let admin: Client;
  /** Reads pg_stat_activity outside any transaction: a transaction sees one snapshot of it until it ends. */
  let observer: Client;

  beforeAll(async () => {
    t = await startTestApp({ DATABASE_POOL_SIZE: '3', REPORT_MAX_EXPORTS: '1' });
    await t.reset();
    admin = new Client({ connectionString: process.env.DATABASE_URL, application_name: 'pool-test' });
    await admin.connect();
    observer = new Client({ connectionString: process.env.DATABASE_URL, application_name: 'pool-test-observer' });
    await observer.connect();
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await admin?.end();
    await observer?.end();
    await t?.close();
  });

  const appConnections = async () =>
    (await observer.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'usage-ledger'`)).rows[0].n as number;

  it('holds ten concurrent reports to three connections; the others wait and all are answered', async () => {
    const token = await t.token('reader');
    // Every report reads the clock row's table: while this lock is held, each report holds its connection.
    await admin.query('BEGIN');
    await admin.query('LOCK TABLE report_clock IN ACCESS EXCLUSIVE MODE');
    let answers: Promise<{ status: number }[]> | undefined;
    try {
      answers = Promise.all(Array.from({ length: 10 }, () => t.http.get('/reports/usage?period=2025-01').set('X-Auth-Token', token).then((res) => res)));
      await until('three connections of the app waiting on the lock', async () => {
        const { rows } = await observer.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'usage-ledger' AND wait_event_type = 'Lock'`,
        );
        return rows[0].n >= 3;
      });
      // More time for a fourth connection to open, if the pool were larger.
      await new Promise((r) => setTimeout(r, 500));
      expect(await appConnections()).toBe(3);
    } finally {
      await admin.query('COMMIT');
    }
    const done = await answers!;
    expect(done.map((res) => res.status)).toEqual(Array(10).fill(200));
    expect(await appConnections()).toBeLessThanOrEqual(3);
  });
});
