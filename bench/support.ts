import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
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
  let databaseUrl = env.DATABASE_URL;
  let dropDatabase: (() => Promise<void>) | undefined;
  if (databaseUrl) {
    const name = `usage_ledger_bench_${Date.now()}_${process.pid}`;
    const admin = new Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const url = new URL(databaseUrl);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    dropDatabase = async () => {
      const client = new Client({ connectionString: env.DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    };
  }
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
      await dropDatabase?.();
    },
  };
}

/** One figure a line, `name: value unit` (the issues' format). */
export function report(name: string, value: number, unit: string): void {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 2 : 4;
  process.stdout.write(`${name}: ${value.toFixed(digits)} ${unit}\n`);
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
