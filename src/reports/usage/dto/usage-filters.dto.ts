import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { WindowQueryDto } from '../../window/window.dto';

/** A repeatable, comma-separated query parameter read as a list (a comma always separates values). */
export const ListParam = () =>
  Transform(({ value }) => {
    if (value === undefined) return undefined;
    const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
    return parts.map((p) => p.trim()).filter((p) => p.length > 0);
  });

export const SOURCES = ['instance', 'volume', 'amie'] as const;
export const METERS = ['instance.time', 'instance.vcpu', 'instance.ram', 'instance.disk', 'volume.size', 'amie.charge', 'amie.node_time', 'amie.core_time'] as const;
export type Meter = (typeof METERS)[number];

const list = (description: string) => ApiPropertyOptional({ description: `${description}; repeatable or comma-separated`, type: [String] });

/** The filters of /reports/usage (§3.1), shared by the detail route (§3.2): values OR-ed within, AND-ed across. */
export class UsageFiltersDto extends WindowQueryDto {
  @list('project ids')
  @IsOptional()
  @ListParam()
  @ArrayMaxSize(1000, { message: 'at most 1000 values' })
  @IsString({ each: true, message: 'must be strings' })
  @MaxLength(255, { each: true, message: 'values are at most 255 characters' })
  project_id?: string[];

  @list('sites')
  @IsOptional()
  @ListParam()
  @ArrayMaxSize(1000, { message: 'at most 1000 values' })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, { each: true, message: 'values must be site names' })
  site?: string[];

  @list(`sources: ${SOURCES.join(', ')}`)
  @IsOptional()
  @ListParam()
  @IsIn(SOURCES, { each: true, message: `values must be among ${SOURCES.join(', ')}` })
  source?: string[];

  @list(`meters: ${METERS.join(', ')}`)
  @IsOptional()
  @ListParam()
  @IsIn(METERS, { each: true, message: `values must be among ${METERS.join(', ')}` })
  meter?: string[];

  @list('flavor names (catalogue names; stored strings when not catalogued)')
  @IsOptional()
  @ListParam()
  @ArrayMaxSize(1000, { message: 'at most 1000 values' })
  @MaxLength(255, { each: true, message: 'values are at most 255 characters' })
  flavor?: string[];

  @list('volume type names')
  @IsOptional()
  @ListParam()
  @ArrayMaxSize(1000, { message: 'at most 1000 values' })
  @MaxLength(255, { each: true, message: 'values are at most 255 characters' })
  volume_type?: string[];

  @list('AMIE resources')
  @IsOptional()
  @ListParam()
  @ArrayMaxSize(1000, { message: 'at most 1000 values' })
  @MaxLength(255, { each: true, message: 'values are at most 255 characters' })
  resource?: string[];

  @list('AMIE record types: compute, storage, adjustment:<type>')
  @IsOptional()
  @ListParam()
  @Matches(/^(compute|storage|adjustment:(credit|refund|storage-credit|debit|reservation|storage-debit))$/, {
    each: true,
    message: 'values must be compute, storage or adjustment:<credit|refund|storage-credit|debit|reservation|storage-debit>',
  })
  record_type?: string[];
}
