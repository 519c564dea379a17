import { ApiProperty } from '@nestjs/swagger';

const decimal = (description: string, example: string, nullable = false) => ApiProperty({ type: String, nullable, description, example });

export class ReportWindowView {
  @ApiProperty({ example: '2025-02-28T23:00:00.000Z' }) start: string;
  @ApiProperty({ example: '2025-03-31T22:00:00.000Z' }) end: string;
  @ApiProperty({ example: 'Europe/Berlin' }) tz: string;
  @ApiProperty({ type: String, nullable: true, example: '2025-03' }) period: string | null;
}

export class DetailLineView {
  @ApiProperty({ enum: ['instance', 'volume', 'amie'] }) source: string;
  @ApiProperty({ example: 'p-123' }) project_id: string;
  @ApiProperty({ example: 'cloud' }) site: string;
  @ApiProperty({ description: 'the entity; for AMIE "<site>/<compute|storage|adjustment>/<Resource>/<LocalRecordID>"' }) entity_id: string;
  @ApiProperty({ type: String, nullable: true, description: 'version name, or JobName' }) name: string | null;
  @ApiProperty({ example: 'instance.time' }) meter: string;
  @ApiProperty({ example: 'm1.small' }) key: string;
  @ApiProperty({ example: '' }) subkey: string;
  @ApiProperty({ example: 's' }) unit: string;
  @ApiProperty({ description: 'UTC with six fractional digits', example: '2025-03-10T12:00:00.500000Z' }) span_start: string;
  @ApiProperty({ description: 'UTC with six fractional digits', example: '2025-03-20T00:00:00.000000Z' }) span_end: string;
  @decimal('exact decimal', '820799.500000') quantity: string;
  @decimal('quantity ÷ 3600, half-even, 6 digits; null unless the unit ends in s', '227.999861', true) quantity_hours: string | null;
  @ApiProperty({ description: 'the flavor is missing from the catalogue' }) unsized: boolean;
  @ApiProperty({ type: Number, nullable: true }) vcpus: number | null;
  @ApiProperty({ type: Number, nullable: true }) ram_mb: number | null;
  @ApiProperty({ type: Number, nullable: true }) disk_gb: number | null;
  @ApiProperty({ type: Number, nullable: true }) size_gb: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'AMIE only; hidden from a user token unless it is its own user id' }) username: string | null;
  @ApiProperty({ type: String, nullable: true }) local_record_id: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'compute' }) record_type: string | null;
  @decimal('informative line cost; null without a price', '1.250000', true) cost: string | null;
  @ApiProperty({ type: Boolean, nullable: true, description: 'null without a currency' }) priced: boolean | null;
}

export class MeterTotalView {
  @ApiProperty({ example: 'instance.time' }) meter: string;
  @ApiProperty({ example: 's' }) unit: string;
  @decimal('exact sum over the whole result', '1641600.000000') quantity: string;
  @decimal('display only', '456.000000', true) quantity_hours: string | null;
}

export class DetailTotalsView {
  @ApiProperty({ type: [MeterTotalView] }) by_meter: MeterTotalView[];
  @decimal('sum of the priced part; null without a currency', '0.000000', true) cost: string | null;
  @ApiProperty({ type: Boolean, nullable: true }) cost_complete: boolean | null;
}

export class ReportWarningView {
  @ApiProperty({ enum: ['unpriced', 'unsized'] }) code: string;
  @ApiProperty() meter: string;
  @ApiProperty() key: string;
  @ApiProperty() message: string;
}

export class DetailAnswerView {
  @ApiProperty({ type: ReportWindowView, description: 'the window asked for' }) window: ReportWindowView;
  @ApiProperty({ description: 'the evaluation instant of this page' }) as_of: string;
  @ApiProperty() complete: boolean;
  @ApiProperty() pending_cells: number;
  @ApiProperty() lag_seconds: number;
  @ApiProperty({ type: String, nullable: true }) currency: string | null;
  @ApiProperty({ type: [DetailLineView] }) rows: DetailLineView[];
  @ApiProperty({ type: DetailTotalsView }) totals: DetailTotalsView;
  @ApiProperty({ type: String, nullable: true }) next_cursor: string | null;
  @ApiProperty({ type: [ReportWarningView] }) warnings: ReportWarningView[];
}
