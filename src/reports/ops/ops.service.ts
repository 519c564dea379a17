import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { QUEUE_NAME } from '../../queue/job-payloads';
import { JobQueueService } from '../../queue/job-queue.service';
import { invalid } from '../window/reports-input';
import { FailuresView, FreshnessView, QueueDepthView, QueuesView } from './dto/ops.views';
import { HISTORY_RULE } from './dto/ops-query.dto';
import { SAMPLE_KEEP_DAYS } from './ops-loops.service';
import { OpsRepository } from './ops.repository';

const UNIT_SECONDS = { m: 60, h: 3600, d: 86400 } as const;

/** The operations views of reports.md §9.2. */
@Injectable()
export class OpsService {
  constructor(
    private readonly repository: OpsRepository,
    private readonly jobs: JobQueueService,
    private readonly config: AppConfig,
  ) {}

  async freshness(): Promise<FreshnessView> {
    const thresholds = this.config.sourceSilenceSeconds;
    const [sources, rollup] = await Promise.all([this.repository.sources(), this.repository.rollupState()]);
    return {
      sources: sources.map((s) => ({
        source: s.source,
        site: s.site,
        collector: s.collector,
        last_event_at: s.last_event_at.toISOString(),
        age_seconds: round3(s.age_seconds),
        silent: s.age_seconds > thresholds[s.source],
        threshold_seconds: thresholds[s.source],
      })),
      rollup: {
        dirty_keys: rollup.dirty_keys,
        lag_seconds: round3(rollup.lag_seconds),
        booked_horizon: rollup.booked_day,
        day_roll_at: rollup.day_roll_at ? rollup.day_roll_at.toISOString() : null,
      },
    };
  }

  /** The queue's depth now; with `history`, the samples of that span too. */
  async queues(history?: string): Promise<QueuesView> {
    const seconds = history === undefined ? undefined : historySeconds(history);
    const [queues, samples] = await Promise.all([this.queueDepths(), seconds === undefined ? [] : this.repository.queueSamples(seconds)]);
    return {
      queues,
      history: samples.map((s) => ({ at: s.at.toISOString(), queue: s.queue, waiting: s.waiting, active: s.active, delayed: s.delayed, failed: s.failed })),
    };
  }

  /** `jobs` (BullMQ or in-process); `events` (6.7) joins when budgets land. */
  async queueDepths(now = Date.now()): Promise<QueueDepthView[]> {
    const depth = await this.jobs.depth();
    return [
      {
        queue: QUEUE_NAME,
        waiting: depth.waiting,
        active: depth.active,
        delayed: depth.delayed,
        failed: depth.failed,
        oldest_waiting_age_seconds: depth.oldestWaitingAt ? round3(Math.max(0, now - depth.oldestWaitingAt.getTime()) / 1000) : 0,
      },
    ];
  }

  async failures(filter: { site?: string; resource?: string }): Promise<FailuresView> {
    const groups = await this.repository.failureGroups(filter);
    return {
      groups: groups.map((g) => ({
        site: g.site,
        resource: g.resource,
        error: g.error,
        usage_type: g.usage_type,
        count: g.count,
        oldest_failed_at: g.oldest_failed_at.toISOString(),
        newest_failed_at: g.newest_failed_at.toISOString(),
      })),
      total: groups.reduce((sum, g) => sum + g.count, 0),
    };
  }
}

/** `<n>m|<n>h|<n>d` in seconds; more than 7 days is a 400 naming `history`. */
export function historySeconds(history: string): number {
  const m = /^([1-9]\d{0,5})([mhd])$/.exec(history);
  if (!m) throw invalid('history', HISTORY_RULE);
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
  if (seconds > SAMPLE_KEEP_DAYS * 86400) throw invalid('history', HISTORY_RULE);
  return seconds;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
