import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';

/*
 * Allocations and the records attached to them (allocations.md 4, 7, 9).
 * Read and written through raw SQL (allocations.repository.ts, records.repository.ts);
 * these classes describe the schema for migrations.
 */

/**
 * One allocation record: the current one (`parent_request` null) or a frozen
 * history snapshot of it (allocations.md 5).
 */
@Entity('allocation')
@Index('allocation_parent_request_idx', ['parentRequest'])
@Index('allocation_modified_idx', ['modifiedTime', 'id'])
// One current, non-deleted record per project (allocations.md 4, project_id decision).
@Index('allocation_current_project_uq', ['projectId'], { unique: true, where: `"parent_request" IS NULL AND "status" <> 'D' AND "project_id" IS NOT NULL` })
export class Allocation {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'allocation_pk' })
  id: number;

  @Column('integer', { name: 'parent_request', nullable: true })
  parentRequest: number | null;

  @ManyToOne(() => Allocation, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'parent_request', foreignKeyConstraintName: 'allocation_parent_request_fk' })
  parent?: Allocation;

  @Column('text')
  status: string;

  @Column('timestamptz', { name: 'submit_date' })
  submitDate: Date;

  @Column('timestamptz', { name: 'modified_time' })
  modifiedTime: Date;

  /** Who created it: the token's user_id, or its name (allocations.md 3, ownership); never serialised. */
  @Column('text', { name: 'created_by', nullable: true })
  createdBy: string | null;

  @Column('text', { name: 'project_name', nullable: true })
  projectName: string | null;

  @Column('text', { name: 'project_description' })
  projectDescription: string;

  @Column('text', { name: 'contact_email', default: '' })
  contactEmail: string;

  @Column('text', { name: 'approver_email', default: '' })
  approverEmail: string;

  @Column('date', { name: 'start_date', nullable: true })
  startDate: string | null;

  @Column('date', { name: 'end_date', nullable: true })
  endDate: string | null;

  @Column('integer', { name: 'estimated_project_duration', default: 12 })
  estimatedProjectDuration: number;

  @Column('integer', { name: 'estimated_number_users', nullable: true })
  estimatedNumberUsers: number | null;

  @Column('boolean', { name: 'convert_trial_project', default: false })
  convertTrialProject: boolean;

  @Column('text', { name: 'use_case' })
  useCase: string;

  @Column('text', { name: 'usage_patterns', default: '' })
  usagePatterns: string;

  @Column('text', { name: 'geographic_requirements', default: '' })
  geographicRequirements: string;

  @Column('text', { name: 'nectar_support', default: '' })
  nectarSupport: string;

  @Column('text', { name: 'ncris_support', default: '' })
  ncrisSupport: string;

  @Column('text', { name: 'ncris_explanation', default: '' })
  ncrisExplanation: string;

  @Column('text', { name: 'ardc_explanation', default: '' })
  ardcExplanation: string;

  @Column('text', { name: 'field_of_research_1', nullable: true })
  fieldOfResearch1: string | null;

  @Column('text', { name: 'field_of_research_2', nullable: true })
  fieldOfResearch2: string | null;

  @Column('text', { name: 'field_of_research_3', nullable: true })
  fieldOfResearch3: string | null;

  @Column('integer', { name: 'for_percentage_1', default: 100 })
  forPercentage1: number;

  @Column('integer', { name: 'for_percentage_2', default: 0 })
  forPercentage2: number;

  @Column('integer', { name: 'for_percentage_3', default: 0 })
  forPercentage3: number;

  /** Organisation ids, in the order given. */
  @Column('integer', { name: 'supported_organisations', array: true, default: () => "'{}'" })
  supportedOrganisations: number[];

  /** NCRIS facility ids. */
  @Column('integer', { name: 'ncris_facilities', array: true, default: () => "'{}'" })
  ncrisFacilities: number[];

  /** ARDC project ids. */
  @Column('integer', { name: 'ardc_support', array: true, default: () => "'{}'" })
  ardcSupport: number[];

  @Column('text', { name: 'usage_types', array: true, default: () => "'{}'" })
  usageTypes: string[];

  /** Site id. */
  @Column('integer', { name: 'associated_site', nullable: true })
  associatedSite: number | null;

  @Column('boolean', { default: false })
  national: boolean;

  @Column('text', { name: 'special_approval', default: '' })
  specialApproval: string;

  @Column('text', { name: 'project_id', nullable: true })
  projectId: string | null;

  @Column('boolean', { default: false })
  provisioned: boolean;

  @Column('boolean', { default: true })
  notifications: boolean;

  @Column('boolean', { default: true })
  managed: boolean;

  @Column('text', { nullable: true })
  notes: string | null;

  @Column('text', { name: 'status_explanation', nullable: true })
  statusExplanation: string | null;

  /** Bundle id. */
  @Column('integer', { nullable: true })
  bundle: number | null;
}

/** One resource in one zone for one allocation (allocations.md 7). */
@Entity('allocation_quota')
@Index('allocation_quota_allocation_resource_zone_uq', ['allocation', 'resource', 'zone'], { unique: true })
export class AllocationQuota {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'allocation_quota_pk' })
  id: number;

  @Column('integer')
  allocation: number;

  @ManyToOne(() => Allocation, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'allocation', foreignKeyConstraintName: 'allocation_quota_allocation_fk' })
  allocationRow?: Allocation;

  @Column('integer')
  resource: number;

  @Column('text')
  zone: string;

  @Column('integer', { name: 'requested_quota' })
  requestedQuota: number;

  @Column('integer')
  quota: number;
}

@Entity('allocation_chief_investigator')
@Index('allocation_chief_investigator_allocation_idx', ['allocation'])
export class AllocationChiefInvestigator {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'allocation_chief_investigator_pk' })
  id: number;

  @Column('integer')
  allocation: number;

  @ManyToOne(() => Allocation, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'allocation', foreignKeyConstraintName: 'allocation_chief_investigator_allocation_fk' })
  allocationRow?: Allocation;

  @Column('text')
  title: string;

  @Column('text', { name: 'given_name' })
  givenName: string;

  @Column('text')
  surname: string;

  @Column('text')
  email: string;

  /** Organisation id. */
  @Column('integer', { name: 'primary_organisation' })
  primaryOrganisation: number;

  @Column('text', { name: 'additional_researchers', default: '' })
  additionalResearchers: string;
}

@Entity('allocation_grant')
@Index('allocation_grant_allocation_idx', ['allocation'])
export class AllocationGrant {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'allocation_grant_pk' })
  id: number;

  @Column('integer')
  allocation: number;

  @ManyToOne(() => Allocation, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'allocation', foreignKeyConstraintName: 'allocation_grant_allocation_fk' })
  allocationRow?: Allocation;

  @Column('text', { name: 'grant_type' })
  grantType: string;

  @Column('text', { name: 'grant_subtype' })
  grantSubtype: string;

  @Column('text', { name: 'funding_body_scheme', default: '' })
  fundingBodyScheme: string;

  @Column('text', { name: 'grant_id', default: '' })
  grantId: string;

  @Column('integer', { name: 'first_year_funded' })
  firstYearFunded: number;

  @Column('integer', { name: 'last_year_funded' })
  lastYearFunded: number;

  @Column('double precision', { name: 'total_funding' })
  totalFunding: number;
}

@Entity('allocation_publication')
@Index('allocation_publication_allocation_idx', ['allocation'])
export class AllocationPublication {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'allocation_publication_pk' })
  id: number;

  @Column('integer')
  allocation: number;

  @ManyToOne(() => Allocation, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'allocation', foreignKeyConstraintName: 'allocation_publication_allocation_fk' })
  allocationRow?: Allocation;

  @Column('text', { name: 'output_type' })
  outputType: string;

  @Column('text', { default: '' })
  publication: string;

  @Column('text', { default: '' })
  doi: string;
}

export const ALLOCATION_ENTITIES = [Allocation, AllocationQuota, AllocationChiefInvestigator, AllocationGrant, AllocationPublication];
