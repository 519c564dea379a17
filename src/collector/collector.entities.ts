import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One processed notification (collector.md 5.3), written in the transaction
 * of its history change: a redelivery of the same `message_id` finds it and
 * changes nothing. Pruned after 7 days.
 */
@Entity('notification_receipts')
@Index('notification_receipts_received_at_idx', ['receivedAt'])
export class NotificationReceipt {
  @PrimaryColumn('text', { name: 'message_id', primaryKeyConstraintName: 'notification_receipts_pk' })
  messageId: string;

  @Column('text', { name: 'event_type' })
  eventType: string;

  @Column('timestamptz', { name: 'received_at', default: () => 'now()' })
  receivedAt: Date;
}

/** `ledger_notifications_total{event_type, outcome}` summed over every collector (collector.md 6). */
@Entity('notification_counts')
export class NotificationCount {
  @PrimaryColumn('text', { name: 'event_type', primaryKeyConstraintName: 'notification_counts_pk' })
  eventType: string;

  @PrimaryColumn('text', { name: 'outcome', primaryKeyConstraintName: 'notification_counts_pk' })
  outcome: string;

  @Column('bigint', { name: 'count', default: 0 })
  count: string;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;
}
