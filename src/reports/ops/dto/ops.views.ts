import { ApiProperty } from '@nestjs/swagger';

export class SourceFreshnessView {
  @ApiProperty({ enum: ['almanach', 'amie', 'notifications'] }) source: string;
  @ApiProperty({ description: 'CLOUD_SITE for almanach and notifications, the AMIE site name for amie', example: 'cloud' }) site: string;
  @ApiProperty({ description: "almanach: the writing token's name; amie: the site's name; notifications: NOTIFICATIONS_QUEUE", example: 'nova-writer' }) collector: string;
  @ApiProperty({ example: '2025-03-01T10:00:00.000Z' }) last_event_at: string;
  @ApiProperty({ description: 'now minus last_event_at', example: 12.5 }) age_seconds: number;
  @ApiProperty({ description: 'age_seconds above threshold_seconds' }) silent: boolean;
  @ApiProperty({ description: "the source's SOURCE_SILENCE_SECONDS", example: 3600 }) threshold_seconds: number;
}

export class RollupFreshnessView {
  @ApiProperty({ description: 'dirty keys waiting for the rollup worker (7.2)' }) dirty_keys: number;
  @ApiProperty({ description: 'age of the oldest dirty key; 0 when none' }) lag_seconds: number;
  @ApiProperty({ type: String, nullable: true, description: 'the booked day: local days before it are booked (7.2)', example: '2025-03-02' }) booked_horizon: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'the last day roll (or the first start)', example: '2025-03-01T23:00:20.000Z' }) day_roll_at: string | null;
}

export class FreshnessView {
  @ApiProperty({ type: [SourceFreshnessView], description: 'sorted by source, site, collector' }) sources: SourceFreshnessView[];
  @ApiProperty({ type: RollupFreshnessView }) rollup: RollupFreshnessView;
}

export class QueueDepthView {
  @ApiProperty({ enum: ['jobs', 'events'], description: 'without QUEUE_PREFIX; with REDIS_URL unset, jobs is the in-process queue' }) queue: string;
  @ApiProperty() waiting: number;
  @ApiProperty() active: number;
  @ApiProperty() delayed: number;
  @ApiProperty() failed: number;
  @ApiProperty({ description: 'age of the oldest waiting job; 0 when none' }) oldest_waiting_age_seconds: number;
}

export class QueueSampleView {
  @ApiProperty({ example: '2025-03-01T10:00:15.000Z', description: 'the 15-second slot of the sample' }) at: string;
  @ApiProperty({ enum: ['jobs', 'events'] }) queue: string;
  @ApiProperty() waiting: number;
  @ApiProperty() active: number;
  @ApiProperty() delayed: number;
  @ApiProperty() failed: number;
}

export class QueuesView {
  @ApiProperty({ type: [QueueDepthView] }) queues: QueueDepthView[];
  @ApiProperty({ type: [QueueSampleView], description: 'with history: the samples of that span, oldest first; otherwise empty' }) history: QueueSampleView[];
}

export class FailureGroupView {
  @ApiProperty({ example: 'site-a' }) site: string;
  @ApiProperty({ description: '"" when the record had no usable resource', example: 'cluster-a' }) resource: string;
  @ApiProperty({ example: 'Charge: must not be negative' }) error: string;
  @ApiProperty({ enum: ['Compute', 'Storage', 'Adjustment'] }) usage_type: string;
  @ApiProperty() count: number;
  @ApiProperty({ description: 'the oldest FailedAt of the group' }) oldest_failed_at: string;
  @ApiProperty({ description: 'the newest FailedAt of the group' }) newest_failed_at: string;
}

export class FailuresView {
  @ApiProperty({ type: [FailureGroupView], description: 'sorted by site, resource, error, usage_type' }) groups: FailureGroupView[];
  @ApiProperty({ description: 'the sum of the counts' }) total: number;
}
