import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsArray, IsOptional, IsString } from 'class-validator';
import { ValidationPolicy } from '../../http/validation.pipe';
import { MESSAGES } from './quota-rules';

/**
 * One uuid or a comma-separated list (quotas.md 4.4); astakosclient joins
 * lists with `,`. Repeated keys are accepted too; an empty value (`?user=`)
 * filters nothing, as Astakos reads it.
 */
export function uuidList(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
  const list = [...new Set(parts.map((p) => p.trim()).filter((p) => p !== ''))];
  return list.length ? list : undefined;
}

const UUID_LIST = { type: String, description: 'One uuid, or a comma-separated list of uuids', example: 'c02f315b-7d84-45bc-a383-552a3f97d2ad' };

/** GET {account}/service_quotas (quotas.md 4.4); unknown parameters are ignored. */
@ValidationPolicy({ unknown: 'strip' })
export class ServiceQuotasQueryDto {
  @ApiPropertyOptional({ ...UUID_LIST, description: 'Users (holders `user:<uuid>`): one uuid or a comma-separated list' })
  @Transform(({ value }) => uuidList(value))
  @IsOptional()
  @IsArray()
  @IsString({ each: true, message: MESSAGES.string })
  user?: string[];

  @ApiPropertyOptional({ ...UUID_LIST, description: 'Projects (sources `project:<uuid>`): one uuid or a comma-separated list' })
  @Transform(({ value }) => uuidList(value))
  @IsOptional()
  @IsArray()
  @IsString({ each: true, message: MESSAGES.string })
  project?: string[];
}

/** GET {account}/service_project_quotas (quotas.md 4.5). */
@ValidationPolicy({ unknown: 'strip' })
export class ServiceProjectQuotasQueryDto {
  @ApiPropertyOptional({ ...UUID_LIST, description: 'Projects (holders `project:<uuid>`): one uuid or a comma-separated list' })
  @Transform(({ value }) => uuidList(value))
  @IsOptional()
  @IsArray()
  @IsString({ each: true, message: MESSAGES.string })
  project?: string[];
}
