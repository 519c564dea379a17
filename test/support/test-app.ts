import { randomUUID } from 'node:crypto';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { createApp } from '../../src/app.factory';
import { AppConfig } from '../../src/config/app-config';
import { createRootLogger } from '../../src/logging/logger';
import { ReportClockService } from '../../src/reports/clock/report-clock.service';
import { ReportsLoops } from '../../src/reports/rollups/reports-loops.service';
import { Runtime } from '../../src/runtime';
import { emptyDatabase } from './empty-database';
import { testLog, testLogLevel } from './test-log';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestApp {
  app: NestFastifyApplication;
  runtime: Runtime;
  http: TestAgent;
  /** Empties every table but the migration log. */
  reset(): Promise<void>;
  /** Creates a token through the admin API and returns its secret. */
  token(role: 'admin' | 'service' | 'reader' | 'user', options?: { userId?: string; projectIds?: string[]; name?: string }): Promise<string>;
  close(): Promise<void>;
}

/**
 * How long a suite may take to start its app: an embedded PGlite applying
 * every migration on a busy 2-core machine can take over a minute (jest's
 * default for a hook here is 60 s). Not a speed target: a start-up budget.
 */
export const APP_START_TIMEOUT_MS = 300_000;

/** Whether the suite runs on real PostgreSQL and Redis (CI) or embedded defaults. */
export const realServers = {
  database: Boolean(process.env.DATABASE_URL),
  redis: Boolean(process.env.REDIS_URL),
};

/**
 * Boots the real application exactly as main.ts does, on the configured
 * database (or a fresh in-memory PGlite), migrated.
 */
export interface TestAppOptions {
  /**
   * Keep the reports loops (rollup drain, day roll) running where the queue
   * is consumed. Off by default: suites drain the rollups by hand
   * (test/support/reports.ts) so that what is pending is deterministic.
   */
  reportLoops?: boolean;
  /** Remove the queue prefix's keys from Redis on close even when the caller chose the prefix. */
  dropQueueKeys?: boolean;
}

export async function startTestApp(overrides: Record<string, string | undefined> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  // Each test app has queue keys of its own in a shared Redis, removed on
  // close unless the test chose the prefix (durability tests reuse one) and
  // did not ask for it (dropQueueKeys).
  const ownPrefix = overrides.QUEUE_PREFIX === undefined ? `test-${randomUUID()}` : undefined;
  const config = AppConfig.fromValues({
    ...process.env,
    DATA_DIR: 'memory://',
    QUEUE_PREFIX: ownPrefix,
    ADMIN_TOKEN,
    ...overrides,
  });
  // Warnings and errors go to the test's log buffer, printed only if the test
  // fails (test/support/test-log.ts); TEST_LOG_LEVEL prints at that level instead.
  const log = testLogLevel ? createRootLogger(config.logLevel) : createRootLogger('warn', testLog.stream);
  const runtime = await Runtime.open(config, log, { runMigrations: true });
  // Each suite chooses its own accounting zone and site (REPORT_TIME_ZONE,
  // CLOUD_SITE): the clock a previous suite recorded in a shared database
  // is forgotten, as if this were the first start.
  await runtime.dataSource.query(`DELETE FROM report_clock`);
  const dropOwnKeys = async () => {
    if (ownPrefix || options.dropQueueKeys) await dropPrefixKeys(runtime, config.queuePrefix);
  };
  const app = await createApp(runtime).catch(async (error: unknown) => {
    // A start refused by the application (a setting checked against the database) has already
    // made its queues, whose `meta` keys would otherwise stay in the shared Redis.
    await dropOwnKeys();
    await runtime.close();
    throw error;
  });
  if (!options.reportLoops) await app.get(ReportsLoops).stop();
  const http = request(app.getHttpServer());
  const testApp: TestApp = {
    app,
    runtime,
    http,
    async reset() {
      await emptyDatabase(runtime.dataSource);
      await app.get(ReportClockService).ensure();
    },
    async token(role, options = {}) {
      const res = await http
        .post('/admin/tokens')
        .set('X-Auth-Token', ADMIN_TOKEN)
        .send({ name: options.name ?? `${role}-token`, role, user_id: options.userId ?? (role === 'user' ? 'user-1' : undefined), project_ids: options.projectIds });
      if (res.status !== 201) throw new Error(`token creation failed: ${res.status} ${res.text}`);
      return res.body.token as string;
    },
    async close() {
      await app.close();
      await dropOwnKeys();
      await runtime.close();
    },
  };
  return testApp;
}

/** Removes every key under a queue prefix from the runtime's Redis (none with the in-process queue). */
export async function dropPrefixKeys(runtime: Runtime, prefix: string): Promise<void> {
  const redis = runtime.queue.redis;
  if (!redis) return;
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
}

/**
 * The usual suite set-up in one call: one app for the suite (started before
 * it, closed after it) and every table emptied before each test. Returns a
 * stand-in that forwards to that app once it has started.
 */
export function useTestApp(overrides: Record<string, string | undefined> = {}, options: TestAppOptions = {}): TestApp {
  let current: TestApp | undefined;
  beforeAll(async () => {
    current = await startTestApp(overrides, options);
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await current?.close();
  });
  beforeEach(async () => {
    await current!.reset();
  });
  return new Proxy({} as TestApp, {
    get(_target, key) {
      if (!current) throw new Error('the test app is used before beforeAll started it');
      const value = current[key as keyof TestApp];
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });
}
