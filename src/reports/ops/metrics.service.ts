import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { AppConfig } from '../../config/app-config';
import { mountOf } from '../../http/mounts';
import { csvRowsStreamed } from '../export/csv-export.service';
import '../report-level';
import { ROLLUP_BATCH_BUCKETS } from '../rollups/rollup-drainer.service';
import { histogramFromCounts, MetricFamily, renderFamilies } from './exposition';
import { OpsRepository } from './ops.repository';
import { OpsService } from './ops.service';
import { METERS } from '../usage/dto/usage-filters.dto';

/** Buckets of `ledger_report_duration_seconds`: 5 ms … 30 s (reports.md §9.1). */
export const REPORT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** `ledger_unsized_flavors` scans the month cells: computed at most once a minute. */
const UNSIZED_TTL_MS = 60_000;
/** `ledger_unpriced_cells` scans the booked day cells of open periods: computed at most once a minute too. */
const UNPRICED_TTL_MS = 60_000;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    /** The length of a `/reports/…` JSON answer's `rows`, read before serialization. */
    reportRows?: number;
    /** The body of a `/reports/…` CSV answer: its streamed rows are read once it has ended. */
    reportCsv?: object;
  }
}

/**
 * `GET /metrics` (reports.md §9.1, "one scrape target"). Per process, in
 * prom-client's registry: `ledger_http_*` (every answer) and
 * `ledger_report_*` (the `/reports/…` routes), with the library's default
 * process and Node.js metrics. At scrape time, from PostgreSQL: the
 * freshness, queue, rollup, job and failed-record gauges, and the
 * deployment-total counters of report_metric_counts and notification_counts.
 * Labels hold sites, collectors, queue names, route patterns, mounts and
 * fixed enumerations only: never a project id or a user name.
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'mount' | 'method' | 'status_class'>;
  private readonly httpDuration: Histogram<'mount' | 'method' | 'status_class'>;
  private readonly reportDuration: Histogram<'route' | 'format' | 'level'>;
  private readonly reportRows: Counter<'route' | 'format'>;
  private unsized?: { at: number; value: Promise<number> };
  private unpriced?: { at: number; value: Promise<{ meter: string; count: number }[]> };

  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly repository: OpsRepository,
    private readonly ops: OpsService,
    private readonly config: AppConfig,
  ) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.httpRequests = new Counter({ name: 'ledger_http_requests_total', help: 'HTTP answers of this process', labelNames: ['mount', 'method', 'status_class'], registers });
    this.httpDuration = new Histogram({ name: 'ledger_http_request_duration_seconds', help: 'HTTP answer time of this process', labelNames: ['mount', 'method', 'status_class'], registers });
    this.reportDuration = new Histogram({
      name: 'ledger_report_duration_seconds',
      help: 'Answer time of the /reports routes in this process, by route pattern, format and (where the route knows it) the finest cell level read',
      labelNames: ['route', 'format', 'level'],
      buckets: REPORT_BUCKETS,
      registers,
    });
    this.reportRows = new Counter({
      name: 'ledger_report_rows_total',
      help: 'Rows answered by the /reports routes in this process: the rows of a JSON answer, the data lines of a CSV stream',
      labelNames: ['route', 'format'],
      registers,
    });
  }

  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    // Rows are counted from what is answered, so every report route counts the same way: the
    // `rows` list of a JSON answer (before serialization), the lines a CSV export streamed.
    fastify.addHook('preSerialization', async (request: FastifyRequest, _reply: FastifyReply, payload: unknown) => {
      const rows = (payload as { rows?: unknown } | null)?.rows;
      if (request.routeOptions.url?.startsWith('/reports/') && Array.isArray(rows)) request.reportRows = rows.length;
      return payload;
    });
    fastify.addHook('onSend', async (request: FastifyRequest, _reply: FastifyReply, payload: unknown) => {
      if (csvRowsStreamed(payload) !== undefined) request.reportCsv = payload as object;
      return payload;
    });
    fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => this.observe(request, reply));
  }

  private observe(request: FastifyRequest, reply: FastifyReply): void {
    const seconds = reply.elapsedTime / 1000;
    const labels = { mount: mountOf(request.url), method: METHODS.has(request.method) ? request.method : 'other', status_class: `${Math.floor(reply.statusCode / 100)}xx` };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
    const route = request.routeOptions.url;
    if (route?.startsWith('/reports/') && reply.statusCode < 400) {
      const format = String(reply.getHeader('content-type') ?? '').startsWith('text/csv') ? 'csv' : 'json';
      this.reportDuration.observe(request.reportLevel ? { route, format, level: request.reportLevel } : { route, format }, seconds);
      const rows = request.reportCsv ? csvRowsStreamed(request.reportCsv) : request.reportRows;
      if (rows !== undefined) this.reportRows.inc({ route, format }, rows);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The whole exposition: this process's registry, then the series read from PostgreSQL now. */
  async exposition(): Promise<string> {
    const [own, shared] = await Promise.all([this.registry.metrics(), this.sharedFamilies()]);
    return own + renderFamilies(shared);
  }

  /** Forgets the cached scrape-time figures: for a database emptied under a running app (tests' reset). */
  forgetCache(): void {
    this.unsized = undefined;
    this.unpriced = undefined;
  }

  private unsizedFlavors(now = Date.now()): Promise<number> {
    if (!this.unsized || now - this.unsized.at > UNSIZED_TTL_MS) {
      const value = this.repository.unsizedFlavors();
      this.unsized = { at: now, value };
      // A failed count is asked again at the next scrape.
      value.catch(() => (this.unsized = undefined));
    }
    return this.unsized.value;
  }

  private unpricedCells(now = Date.now()): Promise<{ meter: string; count: number }[]> {
    if (!this.unpriced || now - this.unpriced.at > UNPRICED_TTL_MS) {
      const value = this.repository.unpricedCells();
      this.unpriced = { at: now, value };
      value.catch(() => (this.unpriced = undefined));
    }
    return this.unpriced.value;
  }

  private async sharedFamilies(): Promise<MetricFamily[]> {
    const thresholds = this.config.sourceSilenceSeconds;
    const [sources, rollup, counts, notifications, failed, sites, queues, progress, unsized, rerates, unpriced, defaults] = await Promise.all([
      this.repository.sources(),
      this.repository.rollupState(),
      this.repository.metricCounts(),
      this.repository.notificationCounts(),
      this.repository.failedRecordsPerSite(),
      this.repository.amieSites(),
      this.ops.queueDepths(),
      this.repository.runningJobProgress(),
      this.unsizedFlavors(),
      this.repository.rerateJobsByState(),
      this.unpricedCells(),
      this.repository.defaultPartitionRows(),
    ]);
    const key = (s: (typeof sources)[number]) => ({ source: s.source, site: s.site, collector: s.collector });
    const counter = (name: string, help: string): MetricFamily => ({
      name,
      help,
      type: 'counter',
      samples: counts.filter((c) => c.metric === name).map((c) => ({ labels: c.labels, value: c.value })),
    });
    const failedBySite = new Map(sites.map((s) => [s, 0]));
    // Every meter of §2.1 has its series (0 when none of its cells is unpriced).
    const unpricedByMeter = new Map<string, number>(METERS.map((m) => [m, 0]));
    for (const u of unpriced) unpricedByMeter.set(u.meter, u.count);
    for (const f of failed) failedBySite.set(f.site, f.count);
    return [
      { name: 'ledger_source_last_event_timestamp_seconds', help: 'Time of the last accepted event of a source, site and collector', type: 'gauge', samples: sources.map((s) => ({ labels: key(s), value: s.last_event_at.getTime() / 1000 })) },
      { name: 'ledger_source_last_event_age_seconds', help: 'Now minus the time of the last accepted event', type: 'gauge', samples: sources.map((s) => ({ labels: key(s), value: s.age_seconds })) },
      { name: 'ledger_source_silent', help: "1 when the last event is older than the source's SOURCE_SILENCE_SECONDS", type: 'gauge', samples: sources.map((s) => ({ labels: key(s), value: s.age_seconds > thresholds[s.source] ? 1 : 0 })) },
      counter('ledger_ingest_total', 'Records and writes accepted (AMIE records queued, Almanach writes answered 2xx) and AMIE records failed at submission'),
      { name: 'ledger_amie_failed_records', help: 'Outstanding failed AMIE records', type: 'gauge', samples: [...failedBySite].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([site, value]) => ({ labels: { site }, value })) },
      {
        name: 'ledger_queue_jobs',
        help: 'Jobs in the queue by state',
        type: 'gauge',
        samples: queues.flatMap((q) => (['waiting', 'active', 'delayed', 'failed'] as const).map((state) => ({ labels: { queue: q.queue, state }, value: q[state] }))),
      },
      { name: 'ledger_queue_oldest_waiting_age_seconds', help: 'Age of the oldest waiting job; 0 when none', type: 'gauge', samples: queues.map((q) => ({ labels: { queue: q.queue }, value: q.oldest_waiting_age_seconds })) },
      { name: 'ledger_rollup_dirty_keys', help: 'Dirty keys waiting for the rollup worker, with the days of undrained dirty ranges', type: 'gauge', samples: [{ labels: {}, value: rollup.dirty_keys }] },
      { name: 'ledger_rollup_lag_seconds', help: 'Age of the oldest dirty key or range (the report lag); 0 when none', type: 'gauge', samples: [{ labels: {}, value: rollup.lag_seconds }] },
      counter('ledger_rollup_batches_total', 'Rollup drain batches that handled dirty keys, every worker'),
      histogramFromCounts('ledger_rollup_batch_duration_seconds', 'Time of one rollup drain batch, every worker', ROLLUP_BATCH_BUCKETS, counts),
      { name: 'ledger_day_roll_last_timestamp_seconds', help: 'Time of the last day roll (or of the first start)', type: 'gauge', samples: rollup.day_roll_at ? [{ labels: {}, value: rollup.day_roll_at.getTime() / 1000 }] : [] },
      counter('ledger_rollup_mismatches_total', 'Mismatches found by consistency checks, by invariant'),
      { name: 'ledger_unpriced_cells', help: 'Booked usage cells of periods not closed that a price list applying to their project does not price', type: 'gauge', samples: [...unpricedByMeter].map(([meter, value]) => ({ labels: { meter }, value })) },
      { name: 'ledger_default_partition_rows', help: 'Rows in the default partition of a partitioned history table (must stay 0)', type: 'gauge', samples: defaults.map((d) => ({ labels: { table: d.table }, value: d.rows })) },
      { name: 'ledger_unsized_flavors', help: 'Flavors of instance usage in the rollups that the catalogue does not size (name or alias)', type: 'gauge', samples: [{ labels: {}, value: unsized }] },
      { name: 'ledger_rerate_jobs', help: 'Re-rate and correction jobs by state', type: 'gauge', samples: rerates.map((r) => ({ labels: { state: r.state }, value: r.count })) },
      { name: 'ledger_job_progress_ratio', help: 'Progress of the running report job of each kind', type: 'gauge', samples: progress.map((p) => ({ labels: { kind: p.kind }, value: p.ratio })) },
      {
        name: 'ledger_notifications_total',
        help: 'OpenStack notifications handled by every collector, by event type and outcome',
        type: 'counter',
        samples: notifications.map((n) => ({ labels: { event_type: n.event_type, outcome: n.outcome }, value: n.count })),
      },
    ];
  }
}
