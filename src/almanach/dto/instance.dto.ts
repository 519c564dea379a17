import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsString, ValidateBy, ValidateIf } from 'class-validator';
import { Micros } from '../almanach-dates';
import { AlmanachInput, AlmanachUpdateInput, API_BODY_DATE, API_QUERY_DATE, BodyDate, IfSent, Present, QueryDate, UnlessNull } from './almanach-input';


/** POST /v1/project/{project_id}/instance (almanach-v1.md 5.2); keys checked in this order, all required. */
@AlmanachInput()
export class CreateInstanceDto {
  @ApiProperty({ description: 'Instance id (entity_id)', example: '5b5bb4d4-a1d0-4b7e-9a31-6f1a3c8f2e10' })
  @Present()
  @IsString()
  id: string;

  @ApiProperty({ ...API_BODY_DATE, description: 'Start of the first version', example: '2016-01-01T18:30:00.000000Z' })
  @Present()
  @BodyDate()
  created_at: Micros;

  @ApiProperty({ type: String, nullable: true, example: 'web-1' })
  @Present()
  @UnlessNull()
  @IsString()
  name: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Flavor name or id, stored verbatim', example: 'm1.small' })
  @Present()
  @UnlessNull()
  @IsString()
  flavor: string | null;

  @ApiProperty({ type: String, nullable: true, description: '→ image_meta.distro', example: 'ubuntu' })
  @Present()
  @UnlessNull()
  @IsString()
  os_distro: string | null;

  @ApiProperty({ type: String, nullable: true, description: '→ image_meta.version', example: '14.04' })
  @Present()
  @UnlessNull()
  @IsString()
  os_version: string | null;

  @ApiProperty({ type: String, nullable: true, description: '→ image_meta.os_type', example: 'linux' })
  @Present()
  @UnlessNull()
  @IsString()
  os_type: string | null;
}

/** DELETE /v1/instance/{id} and /v1/volume/{id} (5.3, 5.8). */
@AlmanachInput()
export class DeleteEventDto {
  @ApiProperty({ ...API_BODY_DATE, description: 'When the entity was deleted', example: '2016-01-02T00:00:00.000000Z' })
  @Present()
  @BodyDate()
  date: Micros;
}

/** PUT /v1/instance/{id}/resize (5.4): date, then flavor. */
@AlmanachInput()
export class ResizeInstanceDto {
  @ApiProperty({ ...API_BODY_DATE, example: '2016-01-01T19:00:00.000000Z' })
  @Present()
  @BodyDate()
  date: Micros;

  @ApiProperty({ description: 'The new flavor; the same flavor changes nothing', example: 'm1.large' })
  @Present()
  @IsString()
  flavor: string;
}

/** PUT /v1/instance/{id}/rebuild (5.5): rebuild_date, distro, version, os_type (no `os_` prefix here). */
@AlmanachInput()
export class RebuildInstanceDto {
  @ApiProperty({ ...API_BODY_DATE, example: '2016-01-01T19:00:00.000000Z' })
  @Present()
  @BodyDate()
  rebuild_date: Micros;

  @ApiProperty({ type: String, nullable: true, example: 'debian' })
  @Present()
  @UnlessNull()
  @IsString()
  distro: string | null;

  @ApiProperty({ type: String, nullable: true, example: '12' })
  @Present()
  @UnlessNull()
  @IsString()
  version: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'linux' })
  @Present()
  @UnlessNull()
  @IsString()
  os_type: string | null;
}

export const OS_KEYS = ['distro', 'version', 'os_type'] as const;
export type OsObject = Record<(typeof OS_KEYS)[number], string>;

/** The `os` object of the update route: all three keys, strings, nothing else (5.13). */
function IsOsObject(): PropertyDecorator {
  const problem = (value: unknown): string | null => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'expected dict';
    const object = value as Record<string, unknown>;
    const missing = OS_KEYS.filter((k) => !(k in object));
    if (missing.length) return `required key not provided: ${missing.join(', ')}`;
    const extra = Object.keys(object).filter((k) => !(OS_KEYS as readonly string[]).includes(k));
    if (extra.length) return `extra keys not allowed: ${extra.join(', ')}`;
    const wrong = OS_KEYS.filter((k) => typeof object[k] !== 'string');
    if (wrong.length) return `expected str for ${wrong.join(', ')}`;
    return null;
  };
  return ValidateBy({ name: 'almanachOs', validator: { validate: (value) => problem(value) === null, defaultMessage: (args) => problem(args?.value) ?? '' } });
}

/**
 * PUT /v1/entity/instance/{instance_id} (5.13): any subset of these keys;
 * every problem is reported keyed by field; `{}` changes nothing.
 */
@AlmanachUpdateInput()
export class UpdateInstanceDto {
  @ApiPropertyOptional({ example: 'web-1-renamed' })
  @IfSent()
  @IsString({ message: 'expected str' })
  name?: string;

  @ApiPropertyOptional({ description: 'Set in place; no new version', example: 'm1.large' })
  @IfSent()
  @IsString({ message: 'expected str' })
  flavor?: string;

  @ApiPropertyOptional({
    type: 'object',
    description: 'Sets image_meta and os; all three keys required',
    required: [...OS_KEYS],
    properties: Object.fromEntries(OS_KEYS.map((k) => [k, { type: 'string' }])),
    additionalProperties: false,
    example: { distro: 'ubuntu', version: '16.04', os_type: 'linux' },
  })
  @IfSent()
  @IsOsObject()
  os?: OsObject;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Stored as given, dotted keys included', example: { team: 'db' } })
  @IfSent()
  @IsObject({ message: 'expected dict' })
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ ...API_BODY_DATE, description: 'Moves the version start', example: '2016-01-01T18:00:00Z' })
  @IfSent()
  @BodyDate()
  start_date?: Micros;

  @ApiPropertyOptional({ ...API_BODY_DATE, description: 'Sets the version end: closes it', example: '2016-01-02T00:00:00Z' })
  @IfSent()
  @BodyDate()
  end_date?: Micros;
}

/** The query of the update route: without `start`, the open version; with `start` and `end`, the one closed version inside (5.13). */
@AlmanachInput()
export class UpdateInstanceQueryDto {
  @ApiPropertyOptional({ ...API_QUERY_DATE, description: 'With `end`: edit the closed version inside [start, end]' })
  @IfSent()
  @QueryDate()
  start?: Micros;

  @ApiPropertyOptional({ ...API_QUERY_DATE, description: 'Required with `start`', example: '2016-02-01 00:00:00.000000' })
  @ValidateIfStart()
  @Present()
  @QueryDate()
  end?: Micros;
}

function ValidateIfStart(): PropertyDecorator {
  return ValidateIf((query: UpdateInstanceQueryDto) => query.start !== undefined);
}
