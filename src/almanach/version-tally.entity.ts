import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Partial counts of Almanach versions (GET /v1/info, almanach-v1.md 5.1): the
 * answer is the sum over every row. Written only by the triggers of
 * migrations/1763801400000-AlmanachVersionTally.ts, in the transaction of each
 * history write; a writer adds to a row no other transaction holds: 64 slots,
 * and a row more only while more than 64 writers are in flight at once.
 */
@Entity('almanach_version_tally')
export class VersionTally {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'almanach_version_tally_pk' })
  slot: number;

  @Column('bigint')
  versions: string;

  @Column('bigint', { name: 'open_versions' })
  openVersions: string;
}
