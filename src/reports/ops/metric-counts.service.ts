import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Logger } from 'pino';
import { LOGGER } from '../../core/tokens';
import { MetricCountRow, OpsRepository } from './ops.repository';

/** How often a process adds what it counted to report_metric_counts (reports.md §9.1: at most every 5 s). */
export const METRIC_FLUSH_MS = 5000;

/**
 * The deployment-total counters of §9.1 ("one scrape target"): a process
 * counts in memory and adds its counts to `report_metric_counts` at most
 * every 5 s and when it stops; the API's `/metrics` reads the table. Label
 * values must be sites, collectors, queue names, route patterns, mounts or
 * fixed enumerations — never a project id or a user name.
 */
@Injectable()
export class MetricCounts implements OnModuleInit, OnModuleDestroy {
  private pending = new Map<string, MetricCountRow>();
  private timer?: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(
    private readonly repository: OpsRepository,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'metrics' });
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), METRIC_FLUSH_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  add(metric: string, labels: Record<string, string>, value = 1): void {
    if (value === 0) return;
    const key = `${metric}\u0000${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
    const entry = this.pending.get(key);
    if (entry) entry.value += value;
    else this.pending.set(key, { metric, labels: { ...labels }, value });
  }

  /** Adds one observation to a histogram kept as `_bucket` (cumulative, label `le`), `_sum` and `_count` series. */
  observe(metric: string, labels: Record<string, string>, buckets: readonly number[], value: number): void {
    for (const le of buckets) if (value <= le) this.add(`${metric}_bucket`, { ...labels, le: String(le) });
    this.add(`${metric}_bucket`, { ...labels, le: '+Inf' });
    this.add(`${metric}_sum`, labels, value);
    this.add(`${metric}_count`, labels);
  }

  /** Writes what was counted since the last flush; kept for the next one when the database fails. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.repository.addMetricCounts(batch);
    } catch (error) {
      for (const c of batch) this.add(c.metric, c.labels, c.value);
      this.log.warn({ err: { message: (error as Error).message } }, 'metrics: counts not written, kept for the next flush');
    }
  }
}
