import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** An AMIE reporting site (auth.md, /admin/sites); only the key's SHA-256 is kept. */
@Entity('amie_site')
export class Site {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'amie_site_pk' })
  name: string;

  @Index('amie_site_api_key_hash_uq', { unique: true })
  @Column('text', { name: 'api_key_hash' })
  apiKeyHash: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
