import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runCount, runOne, runRows, Sql } from '../database/query-result';

/** A volume type as stored (almanach-v1.md 3.4). */
export interface VolumeTypeRow {
  volumeTypeId: string;
  volumeTypeName: string;
}

const COLUMNS = 'volume_type_id AS "volumeTypeId", volume_type_name AS "volumeTypeName"';

/** Every SQL statement on almanach_volume_type; `sql` is the caller's transaction when it has one. */
@Injectable()
export class VolumeTypeRepository {
  constructor(private readonly db: DataSource) {}

  list(sql: Sql = this.db): Promise<VolumeTypeRow[]> {
    return runRows<VolumeTypeRow>(sql, `SELECT ${COLUMNS} FROM almanach_volume_type ORDER BY volume_type_id`);
  }

  async find(id: string, sql: Sql = this.db): Promise<VolumeTypeRow | null> {
    return (await runOne<VolumeTypeRow>(sql, `SELECT ${COLUMNS} FROM almanach_volume_type WHERE volume_type_id = $1`, [id])) ?? null;
  }

  async insert(type: VolumeTypeRow, sql: Sql = this.db): Promise<void> {
    await runCount(sql, 'INSERT INTO almanach_volume_type (volume_type_id, volume_type_name) VALUES ($1, $2)', [type.volumeTypeId, type.volumeTypeName]);
  }

  /** Answers whether a row was deleted. */
  async delete(id: string, sql: Sql = this.db): Promise<boolean> {
    return (await runCount(sql, 'DELETE FROM almanach_volume_type WHERE volume_type_id = $1', [id])) > 0;
  }
}
