import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/*
 * The allocation catalogue (allocations.md 8). Rows are read and written
 * through raw SQL in catalogue.repository.ts; these classes describe the schema
 * for migrations. Column names are the wire names.
 */

/** An availability zone; keyed by its unchangeable name. */
@Entity('alloc_zone')
export class AllocZone {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'alloc_zone_pk' })
  name: string;

  @Column('text', { name: 'display_name' })
  displayName: string;

  @Column('boolean', { default: true })
  enabled: boolean;
}

@Entity('alloc_site')
export class AllocSite {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'alloc_site_pk' })
  id: number;

  @Index('alloc_site_name_uq', { unique: true })
  @Column('text')
  name: string;

  @Column('text', { name: 'display_name' })
  displayName: string;

  @Column('boolean', { default: true })
  enabled: boolean;

  /** Compute availability zones of this allocation home (allocations.md 8, zones/compute_homes). */
  @Column('text', { name: 'compute_zones', array: true, default: () => "'{}'" })
  computeZones: string[];
}

/** A service type; keyed by its unchangeable catalog name. */
@Entity('alloc_service_type')
export class AllocServiceType {
  @PrimaryColumn('text', { name: 'catalog_name', primaryKeyConstraintName: 'alloc_service_type_pk' })
  catalogName: string;

  @Column('text')
  name: string;

  @Column('text', { nullable: true })
  description: string | null;

  @Column('text', { nullable: true })
  notes: string | null;

  @Column('integer', { nullable: true })
  order: number | null;

  @Column('boolean', { default: false })
  experimental: boolean;

  @Column('boolean', { name: 'location_specific', default: false })
  locationSpecific: boolean;

  /** Zone names. */
  @Column('text', { array: true, default: () => "'{}'" })
  zones: string[];
}

@Entity('alloc_resource')
@Index('alloc_resource_type_quota_name_uq', ['serviceType', 'quotaName'], { unique: true })
export class AllocResource {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'alloc_resource_pk' })
  id: number;

  @Column('text')
  name: string;

  @Column('text', { name: 'service_type' })
  serviceType: string;

  @ManyToOne(() => AllocServiceType, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'service_type', foreignKeyConstraintName: 'alloc_resource_service_type_fk' })
  serviceTypeRow?: AllocServiceType;

  @Column('text', { name: 'quota_name' })
  quotaName: string;

  @Column('text')
  unit: string;

  @Column('boolean', { default: true })
  requestable: boolean;

  @Column('text', { name: 'resource_type', default: 'integer' })
  resourceType: string;

  @Column('text', { name: 'help_text', nullable: true })
  helpText: string | null;

  @Column('integer', { nullable: true })
  default: number | null;
}

@Entity('alloc_bundle')
export class AllocBundle {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'alloc_bundle_pk' })
  id: number;

  @Index('alloc_bundle_name_uq', { unique: true })
  @Column('text')
  name: string;

  @Column('text')
  description: string;

  @Column('text')
  zone: string;

  @Column('integer')
  order: number;

  @Column('integer', { name: 'su_per_year' })
  suPerYear: number;
}

@Entity('alloc_facility')
export class AllocFacility {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'alloc_facility_pk' })
  id: number;

  @Index('alloc_facility_name_uq', { unique: true })
  @Column('text')
  name: string;

  @Index('alloc_facility_short_name_uq', { unique: true })
  @Column('text', { name: 'short_name' })
  shortName: string;
}

@Entity('alloc_ardc_project')
export class AllocArdcProject {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'alloc_ardc_project_pk' })
  id: number;

  @Index('alloc_ardc_project_name_uq', { unique: true })
  @Column('text')
  name: string;

  @Index('alloc_ardc_project_short_name_uq', { unique: true })
  @Column('text', { name: 'short_name' })
  shortName: string;

  @Column('boolean', { default: true })
  project: boolean;

  @Column('text', { name: 'project_id', default: '' })
  projectId: string;

  @Column('boolean', { default: true })
  enabled: boolean;

  @Column('integer', { default: 100 })
  rank: number;

  @Column('boolean', { default: false })
  explain: boolean;
}

@Entity('alloc_approver')
export class AllocApprover {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'alloc_approver_pk' })
  id: number;

  @Index('alloc_approver_username_uq', { unique: true })
  @Column('text')
  username: string;

  @Column('text', { name: 'display_name' })
  displayName: string;

  /** Site ids. */
  @Column('integer', { array: true, default: () => "'{}'" })
  sites: number[];
}

export const CATALOGUE_ENTITIES = [
  AllocZone,
  AllocSite,
  AllocServiceType,
  AllocResource,
  AllocBundle,
  AllocFacility,
  AllocArdcProject,
  AllocApprover,
];
