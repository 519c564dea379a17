import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';

/*
 * Path parameters of the allocation mount, validated by the global
 * DtoValidationPipe. A key that names nothing is a 404, not a 400
 * (allocations.md 3: a user never learns what exists), so they are only
 * required to be strings here; the service looks them up.
 */

export class IdParam {
  @ApiProperty({ description: 'integer id' })
  @IsString()
  id!: string;
}

export class KeyParam {
  @ApiProperty({ description: 'integer id, or the natural key (site name, bundle name, facility or ARDC project short name)' })
  @IsString()
  key!: string;
}

export class ZoneNameParam {
  @ApiProperty({ description: 'zone name' })
  @IsString()
  name!: string;
}

export class CatalogNameParam {
  @ApiProperty({ description: 'service type catalog name' })
  @IsString()
  catalog_name!: string;
}
