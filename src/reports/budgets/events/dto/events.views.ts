import { ApiProperty } from '@nestjs/swagger';
import { EVENT_TYPES } from '../event-types';

/** An event (reports.md 6.7), the same on every channel. */
export class EventView {
  @ApiProperty({ description: 'Decimal string from one increasing sequence.', example: '1771' })
  id: string;

  @ApiProperty({ enum: EVENT_TYPES, example: 'budget.threshold_crossed' })
  type: string;

  @ApiProperty({ example: '2025-10-03T11:20:04.000Z' })
  created_at: string;

  @ApiProperty({ type: String, nullable: true, description: 'The project; null for period.closed and job.finished.', example: 'p-123' })
  project_id: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Per type (6.7): budget events {allocation_id, threshold, arming, ratio, granted, consumed, unit, period}; period.closed {period, job_id, closed_by}; job.finished {job_id, kind, state}.',
  })
  data: Record<string, unknown>;
}

/** `GET /reports/events`: ascending by id. */
export class EventsFeedView {
  @ApiProperty({ type: [EventView] })
  events: EventView[];

  @ApiProperty({ description: 'The id of the last event returned, or `after` itself when none was: the next page\'s `after`.', example: '1771' })
  next_after: string;
}

/** A webhook as listed (6.7): never its secret. */
export class WebhookView {
  @ApiProperty({ example: 'wh_01JD0Q7W5N3XKZ4E2M8R6T9Y1B' })
  id: string;

  @ApiProperty({ example: 'https://billing.example.org/ledger-events' })
  url: string;

  @ApiProperty({ type: [String], nullable: true, description: 'Event types it receives; null: every type.' })
  types: string[] | null;

  @ApiProperty({ type: [String], nullable: true, description: 'Projects whose events it receives; null: every event.' })
  project_ids: string[] | null;

  @ApiProperty({ example: '2026-11-30T12:00:00.000Z' })
  created_at: string;

  @ApiProperty({ type: String, nullable: true, description: 'Last 2xx answer.' })
  last_success_at: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The last failed attempt (or given-up delivery), with its event id.', example: 'event 1771: HTTP 503' })
  last_error: string | null;

  @ApiProperty({ description: 'Events not yet delivered to it (neither delivered nor given up).', example: 0 })
  pending: number;
}

/** `GET /admin/reports/webhooks`: oldest first. */
export class WebhookListView {
  @ApiProperty({ type: [WebhookView] })
  webhooks: WebhookView[];
}

/** `POST /admin/reports/webhooks`: the one answer carrying the secret. */
export class CreatedWebhookView {
  @ApiProperty({ example: 'wh_01JD0Q7W5N3XKZ4E2M8R6T9Y1B' })
  id: string;

  @ApiProperty({ example: 'https://billing.example.org/ledger-events' })
  url: string;

  @ApiProperty({ type: [String], nullable: true })
  types: string[] | null;

  @ApiProperty({ type: [String], nullable: true })
  project_ids: string[] | null;

  @ApiProperty({ description: 'Signs every delivery (X-Ledger-Signature); shown only in this answer.', example: '5f0c…' })
  secret: string;

  @ApiProperty({ example: '2026-11-30T12:00:00.000Z' })
  created_at: string;
}
