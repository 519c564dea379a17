import { ApiProperty } from '@nestjs/swagger';
import { HoldRow, HoldState } from '../holds.repository';

const HOLD_STATES: HoldState[] = ['held', 'settled', 'released', 'expired'];

/** The AMIE record a hold names. */
export class AmieRecordView {
  @ApiProperty({ example: 'hpc-a' })
  site: string;

  @ApiProperty({ example: 'cluster.hpc-a.example.org' })
  resource: string;

  @ApiProperty({ example: 'job-8812' })
  local_record_id: string;
}

/** The hold object (reports.md 6.4). SU amounts are decimal strings with 6 places. */
export class HoldView {
  @ApiProperty({ example: 'hold_01JD3X4Y5Z6A7B8C9D0E1F2G3H' })
  id: string;

  @ApiProperty({ example: 'p-123' })
  project_id: string;

  @ApiProperty({ example: '10.000000' })
  amount: string;

  @ApiProperty({ example: 'slurm-job-8812' })
  reference: string;

  @ApiProperty({ enum: HOLD_STATES })
  state: HoldState;

  @ApiProperty({ type: String, nullable: true, description: 'What settling debited; null unless settled.', example: '15.000000' })
  settled_amount: string | null;

  @ApiProperty({ description: 'What refunds gave back of the settled amount.', example: '0.000000' })
  refunded_amount: string;

  @ApiProperty({ example: '2025-03-01T12:00:00.000Z' })
  created_at: string;

  @ApiProperty({ example: '2025-03-08T12:00:00.000Z' })
  expires_at: string;

  @ApiProperty({ type: String, nullable: true, description: 'When it was settled, released or expired.' })
  resolved_at: string | null;

  @ApiProperty({ type: AmieRecordView, nullable: true })
  amie_record: AmieRecordView | null;

  @ApiProperty({ type: String, nullable: true })
  description: string | null;
}

export function holdView(row: HoldRow): HoldView {
  return {
    id: row.id,
    project_id: row.projectId,
    amount: row.amount,
    reference: row.reference,
    state: row.state,
    settled_amount: row.settledAmount,
    refunded_amount: row.refundedAmount,
    created_at: row.createdAt,
    expires_at: row.expiresAt,
    resolved_at: row.resolvedAt,
    amie_record: row.amieSite === null ? null : { site: row.amieSite, resource: row.amieResource!, local_record_id: row.amieLocalRecordId! },
    description: row.description,
  };
}
