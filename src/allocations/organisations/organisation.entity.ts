import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An organisation (allocations.md 8, Organisations): ROR entries, admin entries and vetted proposals. */
@Entity('alloc_organisation')
export class AllocOrganisation {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'alloc_organisation_pk' })
  id: number;

  @Column('text', { name: 'ror_id', default: '' })
  rorId: string;

  @Column('text', { name: 'full_name' })
  fullName: string;

  @Column('text', { name: 'short_name' })
  shortName: string;

  @Column('text', { default: '' })
  url: string;

  @Column('text', { default: 'AU' })
  country: string;

  @Column('integer', { nullable: true })
  parent: number | null;

  @Column('integer', { array: true, default: () => "'{}'" })
  precedes: number[];

  @Column('boolean', { default: true })
  enabled: boolean;

  @Column('text', { name: 'proposed_by', nullable: true })
  proposedBy: string | null;

  @Column('text', { name: 'vetted_by', nullable: true })
  vettedBy: string | null;
}

export const ORGANISATION_ENTITIES = [AllocOrganisation];
