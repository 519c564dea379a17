import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One report job (reports.md 4.7): its state lives here, the queue job
 * `reports.run-job` only schedules it. `cursor` is the kind's own position
 * after the last finished chunk (never shown on the wire); `result` is the
 * kind's result so far, both written in that chunk's transaction.
 */
@Entity('report_job')
@Index('report_job_created_idx', ['createdAt', 'id'])
@Index('report_job_state_idx', ['state', 'updatedAt'])
export class ReportJob {
  /** `job_` + a ULID (reports.md 1.9): opaque, no `:` (BullMQ refuses it), used as the BullMQ job id. */
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_job_pk' })
  id: string;

  @Column('text')
  kind: string;

  @Column('text', { default: 'queued' })
  state: string;

  @Column('text', { nullable: true })
  reason: string | null;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt: Date;

  @Column('text', { name: 'created_by' })
  createdBy: string;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt: Date | null;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt: Date | null;

  @Column('jsonb')
  scope: unknown;

  /** Units of work (project-days for most kinds); null until the job has planned its work. */
  @Column('bigint', { name: 'progress_total', nullable: true })
  progressTotal: string | null;

  @Column('bigint', { name: 'progress_done', default: 0 })
  progressDone: string;

  @Column('jsonb', { nullable: true })
  cursor: unknown;

  @Column('jsonb', { nullable: true })
  result: unknown;

  @Column('text', { nullable: true })
  error: string | null;

  @Column('boolean', { name: 'cancel_requested', default: false })
  cancelRequested: boolean;

  /** Last change of state or progress: the sweeper leaves recently touched jobs alone. */
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;
}
