import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ReportsInput } from '../window/reports-input';

const PAGE_RULE = 'must be a whole number from 1 to 10000';

/** A whole number written in decimal digits becomes a number; anything else stays as sent and fails the rule. */
const toWholeNumber = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : value);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Ctor = new (...args: any[]) => object;

/**
 * The paging (reports.md 1.6) and CSV (1.7) parameters of a list route, after
 * those of `Base`: `limit`, `cursor`, `format`, `bom`. One declaration for
 * every list that pages and exports (budgets, their ledger, price-list audit).
 */
export function PagedCsv<B extends Ctor>(Base: B) {
  @ReportsInput()
  class PagedCsvQuery extends Base {
    @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 10000, default: 1000, description: 'Page size; more than 10000 is a 400, never clamped.' })
    @IsOptional()
    @Transform(toWholeNumber)
    @IsInt({ message: PAGE_RULE })
    @Min(1, { message: PAGE_RULE })
    @Max(10000, { message: PAGE_RULE })
    limit?: number;

    @ApiPropertyOptional({ description: "The previous page's next_cursor." })
    @IsOptional()
    @IsString({ message: 'must be a string' })
    @MaxLength(1000, { message: 'is not a cursor of this list' })
    cursor?: string;

    @ApiPropertyOptional({ enum: ['json', 'csv'], description: 'json (default) or csv; wins over the Accept header (Accept: text/csv also asks for CSV)' })
    @IsOptional()
    @IsIn(['json', 'csv'], { message: 'must be json or csv' })
    format?: 'json' | 'csv';

    @ApiPropertyOptional({ enum: ['0', '1'], description: 'CSV only: 1 adds a UTF-8 byte-order mark' })
    @IsOptional()
    @IsIn(['0', '1'], { message: 'must be 0 or 1' })
    bom?: '0' | '1';
  }
  return PagedCsvQuery;
}
