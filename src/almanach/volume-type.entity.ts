import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Almanach volume type (almanach-v1.md 3.4): a plain record without history. */
@Entity('almanach_volume_type')
export class VolumeType {
  @PrimaryColumn('text', { name: 'volume_type_id', primaryKeyConstraintName: 'almanach_volume_type_pk' })
  volumeTypeId: string;

  @Column('text', { name: 'volume_type_name' })
  volumeTypeName: string;
}
