import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A quota resource (quotas.md 4.2), defined through /admin/quotas/resources. */
@Entity('quota_resource')
export class QuotaResource {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'quota_resource_pk' })
  name: string;

  @Column('text')
  service: string;

  @Column('text', { default: '' })
  description: string;

  @Column('text', { nullable: true })
  unit: string | null;

  @Column('boolean', { name: 'ui_visible', default: true })
  uiVisible: boolean;

  @Column('boolean', { name: 'api_visible', default: true })
  apiVisible: boolean;

  @Column('boolean', { name: 'allow_in_projects', default: true })
  allowInProjects: boolean;
}
