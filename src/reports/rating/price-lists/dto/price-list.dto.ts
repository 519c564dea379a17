import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance, Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsDefined,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateIf,
  ValidateNested,
  ValidationArguments,
  ValidationOptions,
} from 'class-validator';
import { METERS } from '../../../usage/dto/usage-filters.dto';
import { PagedCsv } from '../../../export/paged-csv-query.dto';
import { ReportsInput } from '../../../window/reports-input';
import { INSTANT_OR_DATE, isNaive } from '../../../window/window.dto';
import { JsonNumber } from '../exact-json';
import { ITEM_STATES, MAX_ITEMS, priceUnitRule, subkeyRule } from '../price-rules';

/** 1 to `max` characters, counted as code points; a lone surrogate is not a character. */
const chars = (max: number) => new RegExp(`^(?:[^\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff]){1,${max}}$`);
const NAME = chars(128);
const TEXT_255 = chars(255);
export const CURRENCY = /^([A-Z]{3}|SU)$/;
const CURRENCY_RULE = 'must be a three-letter ISO 4217 code or SU';
const MAX_DESCRIPTION = 1000;
const MAX_REASON = 1000;
const MAX_PROJECTS = 10000;

/**
 * The message of the rule class-validator reports for a field (the first
 * declared after IsDefined, which it runs apart): "is required" when the
 * value is absent, else the rule. Decorator helpers below register their
 * rules last-reported-first for the same reason.
 */
const orRequired = (rule: string) => (args: ValidationArguments) => (args.value === undefined || args.value === null ? 'is required' : rule);

/**
 * A decimal input (reports.md 1.4): a string or a JSON number (read from its
 * text, exact-json.ts) holding a plain decimal ≥ 0 with at most 10
 * fractional digits (4.1); an exponent is refused by name.
 */
export function unitPriceRule(value: unknown): string | null {
  const text = value instanceof JsonNumber ? value.text : typeof value === 'string' ? value : null;
  if (text === null) return value === undefined || value === null ? 'is required' : 'must be a decimal string or number';
  if (/[eE]/.test(text) && /^[-+]?[\d.]+[eE][-+]?\d+$/.test(text)) return 'must be a plain decimal, without an exponent';
  if (/^-\d+(\.\d+)?$/.test(text)) return /^-0+(\.0+)?$/.test(text) ? 'must be a plain decimal such as "0.25"' : 'must be ≥ 0';
  if (!/^\d+(\.\d+)?$/.test(text)) return 'must be a plain decimal such as "0.25"';
  const fraction = text.split('.')[1] ?? '';
  if (fraction.length > 10) return 'must have at most 10 fractional digits';
  if (text.length > 200) return 'must have at most 200 digits';
  return null;
}

const DecimalInput = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'unitPrice',
      validator: {
        validate: (value: unknown) => unitPriceRule(value) === null,
        defaultMessage: (args?: ValidationArguments) => unitPriceRule(args?.value) ?? 'is not valid',
      },
    },
    options,
  );

/** A validity bound (4.1): `YYYY-MM-DD` (the start of that local day) or a date-time with Z or an offset; alignment is checked in the database. */
const InstantInput = () => (target: object, property: string) => {
  Matches(INSTANT_OR_DATE, {
    message: (args: ValidationArguments) =>
      typeof args.value === 'string' && isNaive(args.value) ? 'needs Z or an offset' : 'must be YYYY-MM-DD or a date-time with Z or an offset',
  })(target, property);
  IsString({ message: orRequired('must be a string: YYYY-MM-DD or a date-time with Z or an offset') })(target, property);
};

/** price_unit against the item's meter (4.1); silent while the meter itself is wrong (its own rule says so). */
const MatchesMeter = (rule: (meter: string, value: string) => string | null) =>
  ValidateBy({
    name: 'matchesMeter',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => {
        const meter = (args?.object as { meter?: unknown }).meter;
        return typeof meter !== 'string' || !(METERS as readonly string[]).includes(meter) || typeof value !== 'string' || rule(meter, value) === null;
      },
      defaultMessage: (args?: ValidationArguments) => rule((args?.object as { meter: string }).meter, args?.value as string) ?? 'is not valid',
    },
  });

const ProjectIds = () => (target: object, property: string) => {
  ApiPropertyOptional({ type: [String], uniqueItems: true, maxItems: MAX_PROJECTS, description: 'Empty or absent: the default list of its currency for every project; otherwise only these projects.' })(target, property);
  ValidateIf((dto: Record<string, unknown>) => dto[property] !== undefined)(target, property);
  ArrayMaxSize(MAX_PROJECTS, { message: `must have at most ${MAX_PROJECTS} projects` })(target, property);
  ArrayUnique({ message: 'must not name a project twice' })(target, property);
  Matches(TEXT_255, { each: true, message: 'each project id must be 1 to 255 characters' })(target, property);
  IsString({ each: true, message: 'must be an array of project ids' })(target, property);
  IsArray({ message: 'must be an array of project ids' })(target, property);
};

const Description = () => (target: object, property: string) => {
  ApiPropertyOptional({ maxLength: MAX_DESCRIPTION, description: 'Free text (default "").' })(target, property);
  ValidateIf((dto: Record<string, unknown>) => dto[property] !== undefined)(target, property);
  MaxLength(MAX_DESCRIPTION, { message: `must be at most ${MAX_DESCRIPTION} characters` })(target, property);
  IsString({ message: 'must be a string' })(target, property);
};

const ListName = (required: boolean) => (target: object, property: string) => {
  (required ? ApiProperty : ApiPropertyOptional)({ minLength: 1, maxLength: 128, description: 'Unique among price lists, 1 to 128 characters.', example: 'Public cloud 2025' })(target, property);
  if (required) IsDefined({ message: 'is required' })(target, property);
  else ValidateIf((dto: Record<string, unknown>) => dto[property] !== undefined)(target, property);
  Matches(NAME, { message: 'must be 1 to 128 characters' })(target, property);
  IsString({ message: orRequired('must be a string') })(target, property);
};

/** One price item as written (reports.md 4.1). */
@ReportsInput()
export class PriceItemDto {
  @ApiProperty({ enum: METERS, description: 'A meter of reports.md 2.1.', example: 'instance.time' })
  @IsDefined({ message: 'is required' })
  @IsIn(METERS, { message: orRequired(`must be one of ${METERS.join(', ')}`) })
  meter: string;

  @ApiProperty({ minLength: 1, maxLength: 255, description: 'The flavor (catalogue name), volume type or resource it prices, or * (any key not priced by a more specific item).', example: 'm1.small' })
  @IsDefined({ message: 'is required' })
  @IsString({ message: orRequired('must be a string') })
  @Matches(TEXT_255, { message: 'must be 1 to 255 characters' })
  key: string;

  @ApiPropertyOptional({ description: 'AMIE meters: a record type (compute, storage, adjustment:<type>) or *; "" (the default) for other meters.', example: '' })
  @ValidateIf((dto: PriceItemDto) => dto.subkey !== undefined)
  @IsString({ message: 'must be a string' })
  @MatchesMeter(subkeyRule)
  subkey?: string;

  @ApiProperty({ oneOf: [{ type: 'string', pattern: '^\\d+(\\.\\d{1,10})?$' }, { type: 'number', minimum: 0 }], description: 'Decimal ≥ 0, at most 10 fractional digits, no exponent; a string or a JSON number (read from its text).', example: '0.25' })
  @DecimalInput()
  unit_price: string | JsonNumber;

  @ApiProperty({ enum: ['hour', 'unit'], description: 'hour for meters whose unit ends in s (per hour of the quantity); unit for amie.charge.', example: 'hour' })
  @IsDefined({ message: 'is required' })
  @IsIn(['hour', 'unit'], { message: orRequired('must be hour or unit') })
  @MatchesMeter(priceUnitRule)
  price_unit: string;

  @ApiProperty({ description: 'Start of a day of REPORT_TIME_ZONE: YYYY-MM-DD, or that instant with Z or an offset.', example: '2025-01-01' })
  @IsDefined({ message: 'is required' })
  @InstantInput()
  valid_from: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Same rule as valid_from, later than it; null or absent: open-ended.', example: null })
  @ValidateIf((dto: PriceItemDto) => dto.valid_to !== undefined && dto.valid_to !== null)
  @InstantInput()
  valid_to?: string | null;

  @ApiPropertyOptional({ maxLength: MAX_REASON, description: 'Why (kept on the item and in its audit entry).' })
  @ValidateIf((dto: PriceItemDto) => dto.reason !== undefined)
  @IsString({ message: 'must be a string' })
  @MaxLength(MAX_REASON, { message: `must be at most ${MAX_REASON} characters` })
  reason?: string;
}

/**
 * The members of an item list as instances to validate: objects become
 * PriceItemDto; anything else becomes a primitive that ValidateNested
 * refuses as "must be an item object" (a JSON number, exact-json.ts, would
 * otherwise pass for an object with a field `text`, and a nested list would
 * be walked into).
 */
function toItems(raw: unknown, value: unknown): unknown {
  if (!Array.isArray(raw)) return value;
  return raw.map((member) => {
    if (member instanceof JsonNumber || Array.isArray(member)) return false;
    if (member !== null && typeof member === 'object') return plainToInstance(PriceItemDto, member);
    return member;
  });
}

const Items = (required: boolean) => (target: object, property: string) => {
  (required ? ApiProperty : ApiPropertyOptional)({ type: [PriceItemDto], maxItems: MAX_ITEMS, description: `At most ${MAX_ITEMS} items, written in one transaction.` })(target, property);
  if (required) IsDefined({ message: 'is required' })(target, property);
  else ValidateIf((dto: Record<string, unknown>) => dto[property] !== undefined)(target, property);
  Transform(({ obj, value }) => toItems((obj as Record<string, unknown>)[property], value))(target, property);
  ValidateNested({ each: true, message: 'must be an item object' })(target, property);
  ArrayMaxSize(MAX_ITEMS, { message: `must have at most ${MAX_ITEMS} items` })(target, property);
  IsArray({ message: orRequired('must be an array of items') })(target, property);
};

/** Body of `POST /admin/reports/price-lists` (reports.md 4.2). */
@ReportsInput()
export class CreatePriceListDto {
  @ListName(true)
  name: string;

  @ApiProperty({ description: 'ISO 4217 code or SU (service units).', example: 'EUR' })
  @IsDefined({ message: 'is required' })
  @IsString({ message: orRequired('must be a string') })
  @Matches(CURRENCY, { message: CURRENCY_RULE })
  currency: string;

  @ProjectIds()
  project_ids?: string[];

  @Description()
  description?: string;

  @Items(false)
  items?: PriceItemDto[];
}

/** Body of `PATCH /admin/reports/price-lists/{id}` (reports.md 4.2): what it names changes. */
@ReportsInput()
export class PatchPriceListDto {
  @ListName(false)
  name?: string;

  @Description()
  description?: string;

  @ProjectIds()
  project_ids?: string[];
}

/** Body `{"items": [...]}` of `POST /admin/reports/price-lists/{id}/items` (its other form is one PriceItemDto). */
@ReportsInput()
export class AddPriceItemsDto {
  @Items(true)
  @ArrayMinSize(1, { message: 'must have at least one item' })
  items: PriceItemDto[];
}

/** Body of `PATCH /admin/reports/price-lists/{id}/items/{item_id}` (reports.md 4.3): what it names changes. */
@ReportsInput()
export class PatchPriceItemDto {
  @ApiPropertyOptional({ enum: METERS })
  @ValidateIf((dto: PatchPriceItemDto) => dto.meter !== undefined)
  @IsIn(METERS, { message: `must be one of ${METERS.join(', ')}` })
  meter?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 255 })
  @ValidateIf((dto: PatchPriceItemDto) => dto.key !== undefined)
  @IsString({ message: 'must be a string' })
  @Matches(TEXT_255, { message: 'must be 1 to 255 characters' })
  key?: string;

  @ApiPropertyOptional()
  @ValidateIf((dto: PatchPriceItemDto) => dto.subkey !== undefined)
  @IsString({ message: 'must be a string' })
  subkey?: string;

  @ApiPropertyOptional({ oneOf: [{ type: 'string', pattern: '^\\d+(\\.\\d{1,10})?$' }, { type: 'number', minimum: 0 }], description: 'Decimal ≥ 0, at most 10 fractional digits.' })
  @ValidateIf((dto: PatchPriceItemDto) => dto.unit_price !== undefined)
  @DecimalInput()
  unit_price?: string | JsonNumber;

  @ApiPropertyOptional({ enum: ['hour', 'unit'] })
  @ValidateIf((dto: PatchPriceItemDto) => dto.price_unit !== undefined)
  @IsIn(['hour', 'unit'], { message: 'must be hour or unit' })
  price_unit?: string;

  @ApiPropertyOptional({ description: 'Start of a local day (scheduled items only).' })
  @ValidateIf((dto: PatchPriceItemDto) => dto.valid_from !== undefined)
  @InstantInput()
  valid_from?: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Start of a local day, or null (open-ended); on a begun item only from the start of tomorrow on.' })
  @ValidateIf((dto: PatchPriceItemDto) => dto.valid_to !== undefined && dto.valid_to !== null)
  @InstantInput()
  valid_to?: string | null;

  @ApiPropertyOptional({ maxLength: MAX_REASON, description: 'Why (kept in the audit entry).' })
  @ValidateIf((dto: PatchPriceItemDto) => dto.reason !== undefined)
  @IsString({ message: 'must be a string' })
  @MaxLength(MAX_REASON, { message: `must be at most ${MAX_REASON} characters` })
  reason?: string;
}

/** Body of `POST /admin/reports/price-lists/{id}/corrections` (reports.md 4.3). */
@ReportsInput()
export class CorrectionDto {
  @ApiProperty({ minLength: 1, maxLength: MAX_REASON, description: 'Required: kept on the correction, its new items and every audit entry it writes.', example: 'March GPU price typo' })
  @IsDefined({ message: 'is required' })
  @IsString({ message: orRequired('must be a string') })
  @Matches(/\S/, { message: 'must not be empty' })
  @MaxLength(MAX_REASON, { message: `must be at most ${MAX_REASON} characters` })
  reason: string;

  @ApiPropertyOptional({ type: [String], uniqueItems: true, maxItems: MAX_ITEMS, description: 'Ids of live items of this list to supersede.', example: ['pi_8f2'] })
  @ValidateIf((dto: CorrectionDto) => dto.supersede !== undefined)
  @IsArray({ message: 'must be an array of item ids' })
  @IsString({ each: true, message: 'must be an array of item ids' })
  @ArrayUnique({ message: 'must not name an item twice' })
  @ArrayMaxSize(MAX_ITEMS, { message: `must have at most ${MAX_ITEMS} ids` })
  supersede?: string[];

  @Items(false)
  items?: PriceItemDto[];
}

/** Query of `GET /reports/price-lists` (reports.md 4.2). */
@ReportsInput()
export class ListPriceListsQuery {
  @ApiPropertyOptional({ description: 'Only lists of this currency.', example: 'EUR' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(CURRENCY, { message: CURRENCY_RULE })
  currency?: string;

  @ApiPropertyOptional({ description: 'Only the lists that apply to this project: per currency, the list naming it, else the default list.', example: 'p1' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(TEXT_255, { message: 'must be 1 to 255 characters' })
  project_id?: string;
}

/** Query of `GET /reports/price-lists/{id}` (reports.md 4.2). */
@ReportsInput()
export class GetPriceListQuery {
  @ApiPropertyOptional({ description: 'Only the items in force at this instant (YYYY-MM-DD: the start of that local day).', example: '2025-03-01T00:00:00Z' })
  @IsOptional()
  @InstantInput()
  at?: string;

  @ApiPropertyOptional({ enum: ITEM_STATES, description: 'Only items in this state.' })
  @IsOptional()
  @IsIn(ITEM_STATES, { message: `must be one of ${ITEM_STATES.join(', ')}` })
  state?: (typeof ITEM_STATES)[number];
}

/** Query of `GET /reports/price-lists/{id}/audit` (reports.md 4.4, paging 1.6, CSV 1.7). */
@ReportsInput()
export class PriceListAuditQuery extends PagedCsv(class {}) {}

/** Path `/…/price-lists/{id}`: an id that names no list is a 404, whatever its form. */
@ReportsInput()
export class PriceListIdParams {
  @ApiProperty({ description: 'The price list id (`pl_…`).', example: 'pl_5f0c2a9e8b7d6c5b4a392817' })
  @IsString({ message: 'must be a string' })
  id: string;
}

/** Path `/…/price-lists/{id}/items/{item_id}`. */
@ReportsInput()
export class PriceItemParams extends PriceListIdParams {
  @ApiProperty({ description: 'The price item id (`pi_…`).', example: 'pi_8f2a9e8b7d6c5b4a39281706' })
  @IsString({ message: 'must be a string' })
  item_id: string;
}
