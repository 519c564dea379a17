import { MetricCounts } from '../../src/reports/ops/metric-counts.service';
import { openTestWorker } from '../support/test-worker';

/**
 * The worker's side of reports.md §9, booted as `npm run start:worker` boots
 * it (WorkerModule, no HTTP): it samples the queue into report_queue_sample,
 * copies the collector's newest receipt into report_source_seen, and adds
 * its counts to report_metric_counts when it stops. Without REDIS_URL the
 * in-process queue is consumed at start instead.
 */
describe('WorkerModule: queue samples, notifications freshness, counts on stop (reports.md §9)', () => {
  it('samples at start, copies the newest receipt, and flushes its counts when it stops', async () => {
    const worker = await openTestWorker({ CLOUD_SITE: 'cloud-w', NOTIFICATIONS_QUEUE: 'w.notifications' });
    const db = worker.runtime.dataSource;
    const messageId = `m-${Date.now()}-${Math.random()}`;
    try {
      await db.query(`DELETE FROM report_queue_sample`);
      await db.query(`DELETE FROM report_source_seen WHERE source = 'notifications'`);
      await db.query(`DELETE FROM report_metric_counts WHERE metric = 'ledger_test_total'`);
      await db.query(`INSERT INTO notification_receipts (message_id, event_type, received_at) VALUES ($1, 'volume.create.end', now() - interval '1 minute')`, [messageId]);
      const context = await worker.start();
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
      await worker.stop();
      const [row] = await db.query(`SELECT value FROM report_metric_counts WHERE metric = 'ledger_test_total'`);
      expect(Number(row.value)).toBe(3);
    } finally {
      await db.query(`DELETE FROM report_metric_counts WHERE metric = 'ledger_test_total'`).catch(() => undefined);
      await db.query(`DELETE FROM notification_receipts WHERE message_id = $1`, [messageId]).catch(() => undefined);
      await worker.close();
    }
  });
});
