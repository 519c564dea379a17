import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateBy, ValidationArguments, ValidationOptions } from 'class-validator';
import { JsonNumber } from '../../../rating/price-lists/exact-json';
import { ListParam } from '../../../usage/dto/usage-filters.dto';
import { PagedCsv } from '../../../export/paged-csv-query.dto';
import { ReportsInput } from '../../../window/reports-input';
import { INSTANT_OR_DATE, isNaive, WindowQueryDto } from '../../../window/window.dto';

export const BUDGET_STATES = ['ok', 'warning', 'exhausted', 'overdrawn'] as const;
export type BudgetState = (typeof BUDGET_STATES)[number];
export const MANUAL_KINDS = ['manual_grant', 'manual_credit', 'manual_debit'] as const;
export type ManualKind = (typeof MANUAL_KINDS)[number];

const instantMessage = (args: ValidationArguments) =>
  typeof args.value === 'string' && isNaive(args.value) ? 'needs Z or an offset' : 'must be YYYY-MM-DD or a date-time with Z or an offset';

/**
 * An SU amount (reports.md 1.4): a string or a JSON number (its exact text),
 * a plain decimal with at most 6 fractional digits; `positive` asks for > 0,
 * else ≥ 0.
 */
export function suAmountRule(value: unknown, positive: boolean): string | null {
  const text = value instanceof JsonNumber ? value.text : typeof value === 'string' ? value : null;
  if (text === null) return value === undefined || value === null ? 'is required' : 'must be a decimal string or number';
  if (/^[-+]?[\d.]+[eE][-+]?\d+$/.test(text)) return 'must be a plain decimal, without an exponent';
  if (/^-\d+(\.\d+)?$/.test(text)) return positive ? 'must be > 0' : 'must be ≥ 0';
  if (!/^\d+(\.\d+)?$/.test(text)) return 'must be a plain decimal such as "12.5"';
  if ((text.split('.')[1] ?? '').length > 6) return 'must have at most 6 fractional digits';
  if (text.length > 30) return 'must have at most 30 digits';
  if (positive && /^0+(\.0+)?$/.test(text)) return 'must be > 0';
  return null;
}

const SuAmount = (positive: boolean, options?: ValidationOptions) =>
  ValidateBy(
    {
      name: positive ? 'suPositive' : 'suNonNegative',
      validator: {
        validate: (value: unknown) => suAmountRule(value, positive) === null,
        defaultMessage: (args?: ValidationArguments) => suAmountRule(args?.value, positive) ?? 'is not valid',
      },
    },
    options,
  );

/** 1 to 10 distinct whole numbers from 1 to 1000 (6.5), JSON numbers or digit strings. */
export function thresholdsRule(value: unknown): string | null {
  if (!Array.isArray(value)) return 'must be a list of whole numbers from 1 to 1000';
  if (value.length < 1 || value.length > 10) return 'must hold 1 to 10 thresholds';
  const seen = new Set<number>();
  for (const item of value) {
    const text = item instanceof JsonNumber ? item.text : typeof item === 'number' ? String(item) : null;
    if (text === null || !/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > 1000) return 'must be whole numbers from 1 to 1000';
    if (seen.has(Number(text))) return 'must be distinct';
    seen.add(Number(text));
  }
  return null;
}

/** The thresholds as numbers, ascending (after thresholdsRule passed). */
export function thresholdNumbers(value: unknown[]): number[] {
  return value.map((v) => Number(v instanceof JsonNumber ? v.text : v)).sort((a, b) => a - b);
}

const ThresholdList = () =>
  ValidateBy({
    name: 'thresholds',
    validator: { validate: (value: unknown) => thresholdsRule(value) === null, defaultMessage: (args?: ValidationArguments) => thresholdsRule(args?.value) ?? 'is not valid' },
  });


/** Query of `GET /reports/budgets` (6.5). */
@ReportsInput()
export class ListBudgetsQuery extends PagedCsv(class {}) {
  @ApiPropertyOptional({ enum: BUDGET_STATES, description: 'Only budgets in this state (6.3).' })
  @IsOptional()
  @IsIn(BUDGET_STATES, { message: `must be one of ${BUDGET_STATES.join(', ')}` })
  state?: BudgetState;

  @ApiPropertyOptional({ description: 'Only these projects; repeatable or comma-separated', type: [String] })
  @IsOptional()
  @ListParam()
  @ArrayMaxSize(1000, { message: 'at most 1000 values' })
  @IsString({ each: true, message: 'must be strings' })
  @MaxLength(255, { each: true, message: 'values are at most 255 characters' })
  project_id?: string[];
}

/** Query of `GET /reports/budgets/{project_id}` (6.5). */
@ReportsInput()
export class GetBudgetQuery {
  @ApiPropertyOptional({ description: 'The budget whose period starts then (an instant, or a bare date: the start of that local day of REPORT_TIME_ZONE); default the current one', example: '2025-01-01' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(INSTANT_OR_DATE, { message: instantMessage })
  period_start?: string;

  @ApiPropertyOptional({ enum: ['day'], description: 'day adds a daily series of consumption over the period' })
  @IsOptional()
  @IsIn(['day'], { message: 'must be day' })
  series?: 'day';
}

/** Query of `GET /reports/budgets/{project_id}/ledger` (6.5): an optional window on posted_at (1.5), paging, CSV, a budget. */
@ReportsInput()
export class BudgetLedgerQuery extends PagedCsv(WindowQueryDto) {
  @ApiPropertyOptional({ description: 'The budget whose period starts then (instant or bare date); default the current one', example: '2025-01-01' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(INSTANT_OR_DATE, { message: instantMessage })
  period_start?: string;
}

/** Path `/…/budgets/{project_id}`. */
@ReportsInput()
export class BudgetProjectParams {
  @ApiProperty({ description: 'The project id (percent-encoded in the path).', example: 'p-123' })
  @IsString({ message: 'must be a string' })
  @MaxLength(255, { message: 'must be at most 255 characters' })
  project_id: string;
}

/** Body of `POST /admin/reports/budgets/{project_id}/entries` (6.5). */
@ReportsInput()
export class ManualEntryDto {
  @ApiProperty({ enum: MANUAL_KINDS, description: 'manual_grant adds to granted; manual_credit lowers consumed; manual_debit raises it' })
  @IsIn(MANUAL_KINDS, { message: `must be one of ${MANUAL_KINDS.join(', ')}` })
  kind: ManualKind;

  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'number' }], description: 'SU > 0, at most 6 fractional digits; the sign comes from kind', example: '250.000000' })
  @SuAmount(true)
  amount: string | JsonNumber;

  @ApiProperty({ description: 'Why (1 to 1000 characters)', example: 'compensation for outage 2025-03-02' })
  @IsString({ message: 'is required' })
  @Matches(/\S/, { message: 'must not be empty' })
  @MaxLength(1000, { message: 'must be at most 1000 characters' })
  reason: string;

  @ApiPropertyOptional({ description: 'What the entry belongs to (default now): an instant with Z or an offset, or a bare date (start of that local day); must fall in a budget period of the project', example: '2025-03-02T00:00:00Z' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(INSTANT_OR_DATE, { message: instantMessage })
  at?: string;
}

/** Body of `PUT /admin/reports/budgets/{project_id}/policy` (6.5): `{}` resets to the defaults. */
@ReportsInput()
export class BudgetPolicyDto {
  @ApiPropertyOptional({ type: [Number], description: '1 to 10 distinct whole numbers from 1 to 1000 (percent of granted); default BUDGET_THRESHOLDS', example: [80, 100, 120] })
  @IsOptional()
  @ThresholdList()
  thresholds?: (number | JsonNumber)[];

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'number' }], description: 'SU ≥ 0 that available may go below zero before the state is overdrawn; default 0', example: '100' })
  @IsOptional()
  @SuAmount(false)
  overdraft?: string | JsonNumber;
}
