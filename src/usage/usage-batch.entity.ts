import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type UsageBatchState = 'pending' | 'loaded' | 'failed';

/**
 * The accepted records of one message, stored before the 200 (amie-usage.md
 * 5.2): the unit of work of a queue job and, with REDIS_URL unset, the durable
 * queue itself. `id` comes from amie_usage_receipt_seq; a record's receipt
 * sequence is id * 2^20 + its index in the message. Read and written through
 * raw SQL (usage.repository.ts).
 */
@Entity('amie_usage_batch')
@Index('amie_usage_batch_pending_idx', ['site', 'receivedAt'], { where: `"state" = 'pending'` })
@Check('amie_usage_batch_state_ck', `"state" IN ('pending', 'loaded', 'failed')`)
export class UsageBatch {
  @PrimaryColumn('bigint', { primaryKeyConstraintName: 'amie_usage_batch_pk' })
  id: string;

  @Column('text')
  site: string;

  @Column('text', { name: 'usage_type' })
  usageType: string;

  @Column('integer', { name: 'record_count' })
  recordCount: number;

  /** Resource name → number of records, for PendingRecordCount in status. */
  @Column('jsonb', { name: 'resource_counts' })
  resourceCounts: Record<string, number>;

  /**
   * The normalised records (usage-validation.ts NormalizedRecord), in message
   * order, as JSON text: parsed once, by the loader (migration 1763801930000).
   */
  @Column('text')
  records: string;

  /**
   * The message's JSON text, when PostgreSQL reads it as the API did: the
   * records above then omit `d`, read from its `Records[n]` instead.
   */
  @Column('text', { nullable: true })
  body: string | null;

  @Column('text', { default: 'pending' })
  state: UsageBatchState;

  @Column('integer', { name: 'loaded_count', nullable: true })
  loadedCount: number | null;

  @Column('text', { name: 'last_error', nullable: true })
  lastError: string | null;

  @Column('timestamptz', { name: 'received_at', default: () => 'now()' })
  receivedAt: Date;

  @Column('timestamptz', { name: 'processed_at', nullable: true })
  processedAt: Date | null;
}
