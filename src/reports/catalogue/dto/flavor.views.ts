import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** A catalogue entry (reports.md 2.4) as GET lists it and PUT answers it. */
export class FlavorView {
  @ApiProperty({ example: 'm1.small' })
  name: string;

  @ApiProperty({ example: true, description: 'Always true for a catalogue entry.' })
  sized: true;

  @ApiProperty({ type: [String], example: ['2'], description: 'In byte order.' })
  aliases: string[];

  @ApiProperty({ type: 'integer', example: 1 })
  vcpus: number;

  @ApiProperty({ type: 'integer', example: 2048 })
  ram_mb: number;

  @ApiProperty({ type: 'integer', example: 20 })
  disk_gb: number;

  @ApiProperty({ type: 'integer', example: 0 })
  gpus: number;

  @ApiProperty({ example: '' })
  description: string;

  @ApiProperty({ type: String, format: 'date-time', example: '2025-03-01T12:00:00.000Z' })
  updated_at: string;

  @ApiProperty({ example: 'ops-admin', description: 'The name of the token that wrote it.' })
  updated_by: string;
}

/** A flavor string seen in history that is neither a name nor an alias of the catalogue (reports.md 3.5). */
export class UnsizedFlavorView {
  @ApiProperty({ example: 'c1.huge' })
  name: string;

  @ApiProperty({ example: false })
  sized: false;
}

/** `GET /reports/flavors`: catalogue entries and unsized strings together, by name in byte order. */
export class FlavorListView {
  @ApiProperty({ oneOf: [{ $ref: '#/components/schemas/FlavorView' }, { $ref: '#/components/schemas/UnsizedFlavorView' }], isArray: true })
  flavors: (FlavorView | UnsizedFlavorView)[];
}

/** `PUT /admin/reports/flavors/{name}`: the entry, and the re-rate job it queued (reports.md 3.5). */
export class PutFlavorView extends FlavorView {
  @ApiPropertyOptional({ type: Object, nullable: true, example: null, description: 'The re-rate job queued for the change (cause flavor_change), or null; always null until rating exists.' })
  rerate_job: null;
}
