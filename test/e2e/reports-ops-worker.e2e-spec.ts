import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import { AppConfig } from '../../src/config/app-config';
import { JsonNestLogger, createRootLogger } from '../../src/logging/logger';
import { QUEUE_NAME } from '../../src/queue/job-payloads';
import { JobQueueService } from '../../src/queue/job-queue.service';
import { MetricCounts } from '../../src/reports/ops/metric-counts.service';
import { Runtime } from '../../src/runtime';
import { WorkerModule } from '../../src/worker.module';

/**
 * The worker's side of reports.md §9, booted as `npm run start:worker` boots
 * it (WorkerModule, no HTTP): it samples the queue into report_queue_sample,
 * copies the collector's newest receipt into report_source_seen, and adds
 * its counts to report_metric_counts when it stops. Without REDIS_URL the
 * in-process queue is consumed at start instead.
 */
describe('WorkerModule: queue samples, notifications freshness, counts on stop (reports.md §9)', () => {
  it('samples at start, copies the newest receipt, and flushes its counts when it stops', async () => {
    const prefix = `test-opsworker-${randomUUID()}`;
    const config = AppConfig.fromValues({ ...process.env, DATA_DIR: 'memory://', QUEUE_PREFIX: prefix, CLOUD_SITE: 'cloud-w', NOTIFICATIONS_QUEUE: 'w.notifications' });
    const log = createRootLogger(config.logLevel);
    const runtime = await Runtime.open(config, log, { runMigrations: true });
    const db = runtime.dataSource;
    try {
      // As in test-app.ts: this suite's CLOUD_SITE is a first start.
      await db.query(`DELETE FROM report_clock`);
      await db.query(`DELETE FROM report_queue_sample`);
      await db.query(`DELETE FROM report_source_seen WHERE source = 'notifications'`);
      await db.query(`DELETE FROM report_metric_counts WHERE metric = 'ledger_test_total'`);
      await db.query(`INSERT INTO notification_receipts (message_id, event_type, received_at) VALUES ($1, 'volume.create.end', now() - interval '1 minute')`, [`m-${prefix}`]);
      const context = await NestFactory.createApplicationContext(WorkerModule.forRoot(runtime), { logger: new JsonNestLogger(log), abortOnError: false });
      await context.init();
      context.get(JobQueueService).startWorker();
      const deadline = Date.now() + 15_000;
      let samples: { queue: string }[] = [];
      let seen: { site: string; collector: string }[] = [];
      while (Date.now() < deadline && (!samples.length || !seen.length)) {
        samples = await db.query(`SELECT queue FROM report_queue_sample`);
        seen = await db.query(`SELECT site, collector FROM report_source_seen WHERE source = 'notifications'`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(samples).toEqual([{ queue: 'jobs' }]);
      expect(seen).toEqual([{ site: 'cloud-w', collector: 'w.notifications' }]);
      context.get(MetricCounts).add('ledger_test_total', { site: 'cloud-w' }, 3);
      await context.close();
      const [row] = await db.query(`SELECT value FROM report_metric_counts WHERE metric = 'ledger_test_total'`);
      expect(Number(row.value)).toBe(3);
    } finally {
      await db.query(`DELETE FROM report_metric_counts WHERE metric = 'ledger_test_total'`).catch(() => undefined);
      await db.query(`DELETE FROM notification_receipts WHERE message_id = $1`, [`m-${prefix}`]).catch(() => undefined);
      if (runtime.queue.redis) {
        const queue = new Queue(QUEUE_NAME, { connection: runtime.queue.redis, prefix });
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
      }
      await runtime.close();
    }
  });
});
