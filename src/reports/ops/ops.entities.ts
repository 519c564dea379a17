import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The tables of the metrics and operations views (reports.md §9).
 * migrations/1763801000000-ReportsOps.ts is the truth.
 */

/**
 * The last accepted write of each source, site and collector (§9.1, "source
 * freshness"). Never deleted: a source silent for weeks still shows.
 */
@Entity('report_source_seen')
@Check('report_source_seen_source_ck', `"source" IN ('almanach', 'amie', 'notifications')`)
export class ReportSourceSeen {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_source_seen_pk' })
  source: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_source_seen_pk' })
  site: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_source_seen_pk' })
  collector: string;

  @Column('timestamptz', { name: 'last_event_at' })
  lastEventAt: Date;
}

/**
 * The job queue's depth, sampled every 15 s by whichever process consumes the
 * queue (§9.2); kept 7 days. `at` is the sample's 15-second slot, so several
 * workers sampling the same slot write one row.
 */
@Entity('report_queue_sample')
export class ReportQueueSample {
  @PrimaryColumn('timestamptz', { primaryKeyConstraintName: 'report_queue_sample_pk' })
  at: Date;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_queue_sample_pk' })
  queue: string;

  @Column('integer')
  waiting: number;

  @Column('integer')
  active: number;

  @Column('integer')
  delayed: number;

  @Column('integer')
  failed: number;
}

/**
 * Deployment totals of the counters and histograms of §9.1 (every series but
 * `ledger_http_*` and `ledger_report_*`): each process adds its counts at
 * most every 5 s and when it stops; `/metrics` reads them at scrape time.
 * A histogram is stored as its `_bucket` (label `le`), `_sum` and `_count`
 * series. `labels` is a JSON object of label name → value (jsonb: key order
 * does not matter for the key).
 */
@Entity('report_metric_counts')
export class ReportMetricCount {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_metric_counts_pk' })
  metric: string;

  @PrimaryColumn('jsonb', { primaryKeyConstraintName: 'report_metric_counts_pk' })
  labels: Record<string, string>;

  @Column('double precision', { default: 0 })
  value: number;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;
}

export const OPS_ENTITIES = [ReportSourceSeen, ReportQueueSample, ReportMetricCount];
