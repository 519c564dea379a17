import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsDefined, IsObject, IsString, Matches, MaxLength, ValidateBy, ValidateIf, ValidateNested, ValidationArguments } from 'class-validator';
import { Exact } from '../../../decimal';
import { JsonNumber } from '../../../rating/price-lists/exact-json';
import { ReportsInput } from '../../../window/reports-input';

/** 1 to `max` characters, counted as code points; a lone surrogate is not a character. */
const chars = (max: number) => new RegExp(`^(?:[^\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff]){1,${max}}$`);
const TEXT_255 = chars(255);
/** A date-time with `Z` or an offset (reports.md 1.5), at most six fractional digits. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/;
/** The instant of an INSTANT text, or null when its calendar fields do not exist (February 30, hour 24). */
export function instantOf(text: string): Date | null {
  const [, y, mo, d, h, mi, sec] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(text) ?? [];
  if (y === undefined) return null;
  const days = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > days || Number(h) > 23 || Number(mi) > 59 || Number(sec ?? 0) > 59) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : new Date(at);
}

const MAX_DESCRIPTION = 1000;
const MAX_REASON = 1000;
/** numeric(30,6): 24 integer digits. */
const LIMIT = new Exact('1e24');

const orRequired = (rule: string) => (args: ValidationArguments) => (args.value === undefined || args.value === null ? 'is required' : rule);

/**
 * An SU amount as input (reports.md 1.4): a string or a JSON number (read
 * from its text, exact-json.ts) holding a plain decimal with at most 6
 * fractional digits; > 0, or ≥ 0 where `zero` allows it.
 */
export function suAmountRule(value: unknown, zero: boolean): string | null {
  const text = value instanceof JsonNumber ? value.text : typeof value === 'string' ? value : null;
  if (text === null) return value === undefined || value === null ? 'is required' : 'must be a decimal string or number';
  if (/^[-+]?[\d.]+[eE][-+]?\d+$/.test(text)) return 'must be a plain decimal, without an exponent';
  if (!/^-?\d+(\.\d+)?$/.test(text)) return 'must be a plain decimal such as "10.5"';
  const exact = new Exact(text);
  if (zero ? exact.isNegative() && !exact.isZero() : exact.lte(0)) return zero ? 'must be ≥ 0' : 'must be > 0';
  if ((text.split('.')[1] ?? '').length > 6) return 'must have at most 6 fractional digits';
  if (exact.gte(LIMIT)) return 'must be less than 10^24';
  return null;
}

/** The amount as an exact decimal string with 6 places (the rule has passed). */
export function suAmount(value: string | JsonNumber): string {
  return new Exact(value instanceof JsonNumber ? value.text : value).abs().toFixed(6);
}

const SuAmount = (zero: boolean) =>
  ValidateBy({
    name: zero ? 'suAmountOrZero' : 'suAmount',
    validator: {
      validate: (value: unknown) => suAmountRule(value, zero) === null,
      defaultMessage: (args?: ValidationArguments) => suAmountRule(args?.value, zero) ?? 'is not valid',
    },
  });

const Text = (max: number, what: string) => (target: object, property: string) => {
  ValidateIf((dto: Record<string, unknown>) => dto[property] !== undefined)(target, property);
  Matches(chars(max), { message: `must be 1 to ${max} characters` })(target, property);
  IsString({ message: `must be a string${what}` })(target, property);
};

/** Path `/reports/budgets/{project_id}/holds`. */
@ReportsInput()
export class HoldProjectParams {
  @ApiProperty({ description: 'The project id (percent-encoded in the path).', example: 'p-123' })
  @IsString({ message: 'must be a string' })
  @Matches(TEXT_255, { message: 'must be 1 to 255 characters' })
  project_id: string;
}

/** Path `/reports/budgets/{project_id}/holds/{hold_id}`. */
@ReportsInput()
export class HoldParams extends HoldProjectParams {
  @ApiProperty({ description: 'The hold id (`hold_…`).', example: 'hold_01JD3X4Y5Z6A7B8C9D0E1F2G3H' })
  @IsString({ message: 'must be a string' })
  hold_id: string;
}

/** An AMIE compute record identity (reports.md 6.4). */
@ReportsInput()
export class AmieRecordDto {
  @ApiProperty({ description: 'The AMIE site name (XA-Site).', example: 'hpc-a' })
  @IsDefined({ message: 'is required' })
  @IsString({ message: orRequired('must be a string') })
  @Matches(TEXT_255, { message: 'must be 1 to 255 characters' })
  site: string;

  @ApiProperty({ description: 'The record Resource.', example: 'cluster.hpc-a.example.org' })
  @IsDefined({ message: 'is required' })
  @IsString({ message: orRequired('must be a string') })
  @Matches(TEXT_255, { message: 'must be 1 to 255 characters' })
  resource: string;

  @ApiProperty({ description: 'The record LocalRecordID.', example: 'job-8812' })
  @IsDefined({ message: 'is required' })
  @IsString({ message: orRequired('must be a string') })
  @Matches(TEXT_255, { message: 'must be 1 to 255 characters' })
  local_record_id: string;
}

/** `POST /reports/budgets/{project_id}/holds` (reports.md 6.4). */
@ReportsInput()
export class CreateHoldDto {
  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'number' }], description: 'SU to hold: a plain decimal > 0, at most 6 fractional digits.', example: '10' })
  @IsDefined({ message: 'is required' })
  @SuAmount(false)
  amount: string | JsonNumber;

  @ApiProperty({ minLength: 1, maxLength: 255, description: "The caller's key of the hold, unique per project: a repeat with the same body answers the same hold.", example: 'slurm-job-8812' })
  @IsDefined({ message: 'is required' })
  @IsString({ message: orRequired('must be a string') })
  @Matches(TEXT_255, { message: 'must be 1 to 255 characters' })
  reference: string;

  @ApiPropertyOptional({ description: 'When the hold expires unless resolved: a date-time with Z or an offset, later than now. Default now + HOLD_TTL_HOURS.', example: '2025-03-08T12:00:00Z' })
  @ValidateIf((dto: CreateHoldDto) => dto.expires_at !== undefined)
  @IsString({ message: 'must be a string: a date-time with Z or an offset' })
  @ValidateBy({
    name: 'instant',
    validator: { validate: (value: unknown) => typeof value !== 'string' || !INSTANT.test(value) || instantOf(value) !== null, defaultMessage: () => 'is not a valid date-time' },
  })
  @Matches(INSTANT, { message: 'must be a date-time with Z or an offset' })
  expires_at?: string;

  @ApiPropertyOptional({ maxLength: MAX_DESCRIPTION, description: 'Free text.' })
  @Text(MAX_DESCRIPTION, '')
  description?: string;

  @ApiPropertyOptional({ type: AmieRecordDto, description: 'The AMIE compute record this hold stands for: its loading settles the hold.' })
  @ValidateIf((dto: CreateHoldDto) => dto.amie_record !== undefined)
  @IsObject({ message: 'must be an object {site, resource, local_record_id}' })
  @ValidateNested({ message: 'must be an object {site, resource, local_record_id}' })
  @Type(() => AmieRecordDto)
  amie_record?: AmieRecordDto;

  @ApiPropertyOptional({ description: 'Skip the balance check (as Astakos force).', default: false })
  @ValidateIf((dto: CreateHoldDto) => dto.force !== undefined)
  @IsBoolean({ message: 'must be true or false' })
  force?: boolean;
}

/** `POST …/holds/{hold_id}/settle`; the body may be absent. */
@ReportsInput({ optional: true })
export class SettleHoldDto {
  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'number' }],
    description: 'SU to debit: a plain decimal ≥ 0, more or less than held; default the held amount.',
    example: '15',
  })
  @ValidateIf((dto: SettleHoldDto) => dto.amount !== undefined)
  @SuAmount(true)
  amount?: string | JsonNumber;
}

/** `POST …/holds/{hold_id}/refund`. */
@ReportsInput()
export class RefundHoldDto {
  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'number' }], description: 'SU to give back: > 0; default what is settled and not yet refunded.', example: '5' })
  @ValidateIf((dto: RefundHoldDto) => dto.amount !== undefined)
  @SuAmount(false)
  amount?: string | JsonNumber;

  @ApiProperty({ maxLength: MAX_REASON, description: 'Why (recorded on the refund entry).', example: 'node failure' })
  @IsDefined({ message: 'is required' })
  @IsString({ message: orRequired('must be a string') })
  @Matches(/\S/, { message: 'must not be empty' })
  @MaxLength(MAX_REASON, { message: `must be at most ${MAX_REASON} characters` })
  reason: string;
}
