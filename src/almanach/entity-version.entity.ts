import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type EntityType = 'instance' | 'volume';

/**
 * One version of an instance or volume (almanach-v1.md 3.1): the period
 * [start, end] in which its billable attributes did not change. `id` gives the
 * creation order used to break ties between equal starts (5.6).
 *
 * Dates are read and written through raw SQL as text with microseconds
 * (JavaScript's Date keeps only milliseconds; the contract keeps microseconds).
 */
// Partitioned by coalesce("end", 'infinity') (reports.md §7.3,
// migrations/1763801950000-AlmanachVersionPartitions.ts), which the schema
// builder cannot express (no primary key on such a table; the one-open rule is
// a unique index of the open partition): the migrations own this table, and
// test/e2e/almanach-partitions.e2e-spec.ts checks its shape instead of the
// schema-drift suite. The decorators below document the columns.
@Entity({ name: 'almanach_entity_version', synchronize: false })
@Index('almanach_entity_version_one_open_uq', ['entityId'], { unique: true, where: '"end" IS NULL' })
// Carries the columns the reports' recomputation reads (INCLUDE, which the
// schema builder cannot express: migrations/1763800910000-ReportsVersionCoverIndex.ts).
@Index('almanach_entity_version_project_cover_idx', { synchronize: false })
// The instance flavors of the reports' flavor catalogue (partial; migrations/1763801050000-ReportsFlavorIndex.ts).
@Index('almanach_entity_version_instance_flavor_idx', { synchronize: false })
@Index('almanach_entity_version_entity_start_idx', ['entityId', 'start', 'id'])
// The start and end of a version, for the fleet report's cut days (migrations/1763802030000-AlmanachVersionEdgeIndexes.ts).
@Index('almanach_entity_version_start_idx', ['start'])
@Index('almanach_entity_version_end_idx', ['end'], { where: '"end" IS NOT NULL' })
@Check('almanach_entity_version_type_ck', `"entity_type" IN ('instance', 'volume')`)
@Check('almanach_entity_version_period_ck', `"end" IS NULL OR "end" >= "start"`)
export class EntityVersion {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'almanach_entity_version_pk' })
  id: string;

  @Column('text', { name: 'entity_id' })
  entityId: string;

  @Column('text', { name: 'entity_type' })
  entityType: EntityType;

  @Column('text', { name: 'project_id' })
  projectId: string;

  @Column('timestamptz')
  start: Date;

  @Column('timestamptz', { nullable: true })
  end: Date | null;

  @Column('timestamptz', { name: 'last_event' })
  lastEvent: Date;

  @Column('timestamptz', { default: () => 'now()' })
  processed: Date;

  @Column('text', { nullable: true })
  name: string | null;

  @Column('text', { nullable: true })
  flavor: string | null;

  /** Instances: `image_meta` (= `os`), keys among distro, version, os_type. */
  @Column('jsonb', { name: 'image_meta', nullable: true })
  imageMeta: Record<string, string> | null;

  /** Instances: metadata object as given. */
  @Column('jsonb', { nullable: true })
  metadata: Record<string, unknown> | null;

  /** Volumes: the volume type's name at creation. */
  @Column('text', { name: 'volume_type', nullable: true })
  volumeType: string | null;

  /** Volumes: size in GB. */
  @Column('integer', { nullable: true })
  size: number | null;

  /** Volumes: ids of the instances it is attached to. */
  @Column('text', { name: 'attached_to', array: true, nullable: true })
  attachedTo: string[] | null;
}
