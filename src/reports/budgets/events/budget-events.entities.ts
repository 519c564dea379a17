import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ReportEvent } from '../budgets.entities';

/**
 * The tables of event delivery (reports.md 6.7).
 * migrations/1763801840000-BudgetEvents.ts is the truth; it also holds
 * `report_emit_event` and the triggers emitting `period.closed` and
 * `job.finished`, which TypeORM cannot describe.
 */

/** A registered webhook. `secret` signs every delivery; it is answered only when the webhook is created. */
@Entity('report_webhook')
export class ReportWebhook {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_webhook_pk' })
  id: string;

  @Column('text')
  url: string;

  /** Event types it receives; null: every type. */
  @Column('text', { array: true, nullable: true })
  types: string[] | null;

  /** Projects whose events it receives (never project-less ones); null: every event. */
  @Column('text', { name: 'project_ids', array: true, nullable: true })
  projectIds: string[] | null;

  @Column('text', { nullable: true })
  description: string | null;

  @Column('text')
  secret: string;

  @Column('timestamptz', { name: 'created_at', default: () => 'clock_timestamp()' })
  createdAt: Date;

  @Column('timestamptz', { name: 'last_success_at', nullable: true })
  lastSuccessAt: Date | null;

  @Column('text', { name: 'last_error', nullable: true })
  lastError: string | null;
}

/**
 * The webhook outbox: one row per (webhook, event), written by
 * `report_emit_event` in the emitting transaction for every webhook whose
 * filters match; delivered, or given up 72 h after the event.
 */
@Entity('report_webhook_delivery')
@Index('report_webhook_delivery_due_idx', ['nextAttemptAt'], { where: `"delivered_at" IS NULL AND "given_up_at" IS NULL` })
@Index('report_webhook_delivery_event_idx', ['eventId'])
export class ReportWebhookDelivery {
  @PrimaryColumn('text', { name: 'webhook_id', primaryKeyConstraintName: 'report_webhook_delivery_pk' })
  webhookId: string;

  @PrimaryColumn('bigint', { name: 'event_id', primaryKeyConstraintName: 'report_webhook_delivery_pk' })
  eventId: string;

  @ManyToOne(() => ReportWebhook, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'webhook_id', foreignKeyConstraintName: 'report_webhook_delivery_webhook_fk' })
  webhook?: ReportWebhook;

  @ManyToOne(() => ReportEvent, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id', foreignKeyConstraintName: 'report_webhook_delivery_event_fk' })
  event?: ReportEvent;

  @Column('integer', { default: 0 })
  attempts: number;

  @Column('timestamptz', { name: 'next_attempt_at', default: () => 'clock_timestamp()' })
  nextAttemptAt: Date;

  @Column('timestamptz', { name: 'delivered_at', nullable: true })
  deliveredAt: Date | null;

  @Column('timestamptz', { name: 'given_up_at', nullable: true })
  givenUpAt: Date | null;

  @Column('text', { name: 'last_error', nullable: true })
  lastError: string | null;
}

/**
 * How far a channel fed by the event table itself has got (the `events`
 * queue): the last event id handed over. Event ids commit in order, so the
 * cursor never passes an event that commits later.
 */
@Entity('report_event_relay')
export class ReportEventRelay {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_event_relay_pk' })
  channel: string;

  @Column('bigint', { name: 'last_event_id', default: 0 })
  lastEventId: string;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;
}

export const BUDGET_EVENT_ENTITIES = [ReportWebhook, ReportWebhookDelivery, ReportEventRelay];
