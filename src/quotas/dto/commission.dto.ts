import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsBoolean, IsOptional, IsString, Matches, ValidateBy, ValidateIf, ValidationArguments } from 'class-validator';
import { ValidationPolicy } from '../../http/validation.pipe';
import { IsRequiredString, IsSafeInteger, IsStringOrNull, MESSAGES, NestedList } from './quota-rules';

/** One provision of a commission (quotas.md 4.6); prefixes are kept (`user:`, `project:`). */
export class ProvisionDto {
  @ApiProperty({ description: '`user:<uuid>` or `project:<uuid>`', example: 'user:c02f315b-7d84-45bc-a383-552a3f97d2ad' })
  @IsRequiredString()
  holder: string;

  @ApiProperty({ type: String, nullable: true, description: '`project:<uuid>` for a user holding, `null` for a project holding', example: 'project:0a1e7d3c-5b6a-4f1e-8c2d-9e8f7a6b5c4d' })
  @IsStringOrNull()
  source: string | null;

  @ApiProperty({ example: 'cyclades.vm' })
  @IsRequiredString()
  resource: string;

  @ApiProperty({ type: 'integer', description: 'Positive: take (import); negative: give back (release)', example: 1 })
  @IsSafeInteger()
  quantity: number;
}

/** POST {account}/commissions (quotas.md 4.6); other fields are ignored. */
@ValidationPolicy({ unknown: 'strip' })
export class IssueCommissionDto {
  @ApiProperty({ type: () => [ProvisionDto], description: 'The changes; may be empty. Same-key provisions are added together (5.3).' })
  @NestedList(() => ProvisionDto)
  provisions: ProvisionDto[];

  @ApiPropertyOptional({ default: '', description: 'Free description, returned by GET commissions/<serial>' })
  @IsOptional()
  @IsString({ message: MESSAGES.string })
  name?: string;

  @ApiPropertyOptional({ default: false, description: 'Skip the upper-limit check (5.4)' })
  @IsOptional()
  @IsBoolean({ message: MESSAGES.boolean })
  force?: boolean;

  @ApiPropertyOptional({ default: false, description: 'Issue and accept in one step (5.5)' })
  @IsOptional()
  @IsBoolean({ message: MESSAGES.boolean })
  auto_accept?: boolean;
}

/** `{serial}` in the path: decimal digits (quotas.md 4.8, 4.9). */
export class SerialParamsDto {
  @ApiProperty({ description: 'A commission serial (decimal digits)', example: '17' })
  @Matches(/^[0-9]+$/, { message: (args: ValidationArguments) => MESSAGES.serialPath(args.value) })
  serial: string;
}

/** The serial of the path as a number; `null` past the safe range, where no serial can exist (404). */
export function serialNumber(params: SerialParamsDto): number | null {
  const serial = Number(params.serial);
  return Number.isSafeInteger(serial) ? serial : null;
}

const ACTION_VALUE = { type: String, description: 'Ignored: any JSON value is accepted (astakosclient sends ""); the key alone selects the action', example: '' };

/** POST {account}/commissions/<serial>/action (quotas.md 4.9): exactly one of the keys. */
@ValidationPolicy({ unknown: 'strip' })
export class ResolveCommissionDto {
  @ApiPropertyOptional(ACTION_VALUE)
  @ValidateBy({
    name: 'acceptOrReject',
    validator: {
      validate: (_value: unknown, args?: ValidationArguments) => {
        const dto = args!.object as ResolveCommissionDto;
        return (dto.accept !== undefined) !== (dto.reject !== undefined);
      },
      defaultMessage: () => MESSAGES.acceptOrReject,
    },
  })
  accept?: unknown;

  @ApiPropertyOptional(ACTION_VALUE)
  @Allow()
  reject?: unknown;
}

/** POST {account}/commissions/action (quotas.md 4.10); a missing key means `[]`. */
@ValidationPolicy({ unknown: 'strip' })
export class ResolveCommissionsDto {
  @ApiPropertyOptional({ type: 'integer', isArray: true, description: 'Serials to accept', example: [17] })
  @ValidateIf((dto: ResolveCommissionsDto) => dto.accept !== undefined)
  @ValidateBy({ name: 'serialList', validator: { validate: isSerialList, defaultMessage: () => MESSAGES.serialList } })
  accept?: number[];

  @ApiPropertyOptional({ type: 'integer', isArray: true, description: 'Serials to reject', example: [18] })
  @ValidateIf((dto: ResolveCommissionsDto) => dto.reject !== undefined)
  @ValidateBy({ name: 'serialList', validator: { validate: isSerialList, defaultMessage: () => MESSAGES.serialList } })
  reject?: number[];
}

function isSerialList(value: unknown): boolean {
  return Array.isArray(value) && value.every((s) => typeof s === 'number' && Number.isSafeInteger(s));
}
