import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ReportFormat } from '../csv-negotiation';

/**
 * The query parameters of a list route that answers CSV too (reports.md
 * 1.7): a route's query DTO extends this class (and adds its own
 * parameters, `limit` and `cursor` among them).
 */
export class CsvFormatQueryDto {
  @ApiPropertyOptional({ enum: ['json', 'csv'], description: 'json (default) or csv; wins over the Accept header (Accept: text/csv also asks for CSV).' })
  @IsOptional()
  @IsIn(['json', 'csv'], { message: 'must be json or csv' })
  format?: ReportFormat;

  @ApiPropertyOptional({ enum: ['0', '1'], description: 'CSV only: 1 starts the file with a UTF-8 byte order mark (for spreadsheet programs); default 0.' })
  @IsOptional()
  @IsIn(['0', '1'], { message: 'must be 0 or 1' })
  bom?: '0' | '1';
}
