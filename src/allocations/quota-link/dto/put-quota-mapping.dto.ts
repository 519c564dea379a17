import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

/** `<service type catalog_name>.<quota_name>`; neither part may hold a dot (allocations.md 7). */
const CODENAME = /^[^.\s]{1,32}\.[^.\s]{1,32}$/;
/** Zone names of the catalogue (allocations.md 8). */
const ZONE = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * `PUT /admin/allocations/quota-mappings` (docs/allocations.md §10): a JSON
 * body under /admin, validated by the global DtoValidationPipe (unknown
 * fields are refused there, as everywhere under /admin).
 */
export class PutQuotaMappingDto {
  @ApiProperty({ description: "an allocation quota codename, as in an allocation's quotas", example: 'compute.cores' })
  @IsString({ message: "must be <service type>.<quota name> as in an allocation's quotas, e.g. compute.cores" })
  @Matches(CODENAME, { message: "must be <service type>.<quota name> as in an allocation's quotas, e.g. compute.cores" })
  codename!: string;

  @ApiPropertyOptional({ description: 'a zone name, or null (or absent) for any zone', nullable: true, type: String, example: 'melbourne' })
  @IsOptional()
  @IsString({ message: 'must be a zone name, or null for any zone' })
  @Matches(ZONE, { message: 'must be a zone name, or null for any zone' })
  zone?: string | null;

  @ApiProperty({ description: 'the name of an existing quota resource (PUT /admin/quotas/resources/<name>)', example: 'cyclades.cpu' })
  @IsString({ message: 'must be the name of a quota resource' })
  @IsNotEmpty({ message: 'must be the name of a quota resource' })
  resource!: string;

  @ApiPropertyOptional({ description: 'units of the quota resource per unit of the allocation quota', type: 'integer', default: 1, minimum: 1, example: 1073741824 })
  @IsOptional()
  @IsInt({ message: 'must be a positive integer' })
  @Min(1, { message: 'must be a positive integer' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'must be a positive integer' })
  factor?: number;
}
