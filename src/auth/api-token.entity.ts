import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const ROLES = ['admin', 'service', 'reader', 'user'] as const;
export type Role = (typeof ROLES)[number];

/** A credential for X-Auth-Token (auth.md); only the SHA-256 of the secret is kept. */
@Entity('api_token')
export class ApiToken {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'api_token_pk' })
  id: string;

  @Column('text')
  name: string;

  @Column('text')
  role: Role;

  @Column('text', { name: 'user_id', nullable: true })
  userId: string | null;

  @Column('text', { name: 'project_ids', array: true, default: () => "'{}'" })
  projectIds: string[];

  @Index('api_token_token_hash_uq', { unique: true })
  @Column('text', { name: 'token_hash' })
  tokenHash: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
