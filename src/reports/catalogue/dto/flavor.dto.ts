import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsDefined, IsInt, IsString, Matches, Max, MaxLength, Min, ValidateIf, ValidationArguments } from 'class-validator';
import { ReportsInput } from '../../window/reports-input';

/**
 * 1 to 255 characters, counted as code points (a name of 255 emoji is 255
 * characters); a lone surrogate, which UTF-8 cannot carry and would be
 * stored as U+FFFD, is not a character.
 */
const NAME = /^(?:[^\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff]){1,255}$/;
const NAME_RULE = 'must be 1 to 255 characters';
const INT4_MAX = 2147483647;
const SIZE_RULE = `must be a whole number from 0 to ${INT4_MAX}`;
export const MAX_ALIASES = 100;
export const MAX_DESCRIPTION = 1000;

/** A required size (reports.md 2.4): an integer ≥ 0 that fits the column. */
const Size = (description: string, required: boolean) => (target: object, property: string) => {
  (required ? ApiProperty : ApiPropertyOptional)({ type: 'integer', minimum: 0, maximum: INT4_MAX, description })(target, property);
  // A missing (or null) required size says so, whichever rule reports it.
  const message = required ? (args: ValidationArguments) => (args.value === undefined || args.value === null ? 'is required' : SIZE_RULE) : SIZE_RULE;
  if (required) IsDefined({ message })(target, property);
  else ValidateIf((dto: Record<string, unknown>) => dto[property] !== undefined)(target, property);
  IsInt({ message })(target, property);
  Min(0, { message })(target, property);
  Max(INT4_MAX, { message })(target, property);
};

/** Path of `PUT` and `DELETE /admin/reports/flavors/{name}`: the stored flavor string (reports.md 2.4). */
@ReportsInput()
export class FlavorNameParams {
  @ApiProperty({ description: 'The flavor string versions store (name or id), 1 to 255 characters; percent-encode it in the path.', example: 'm1.small' })
  @IsString({ message: 'must be a string' })
  @Matches(NAME, { message: NAME_RULE })
  name: string;
}

/**
 * Body of `PUT /admin/reports/flavors/{name}` (reports.md 2.4, 3.5): the
 * whole entry but its name. A PUT replaces the entry: an absent `aliases`,
 * `gpus` or `description` is `[]`, `0`, `""`. Unknown fields are a `400`.
 */
@ReportsInput()
export class PutFlavorDto {
  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_ALIASES,
    uniqueItems: true,
    description: 'Other stored strings meaning this flavor (its id when versions store names, or the reverse); each the name or alias of no other entry. Default [].',
    example: ['2'],
  })
  @ValidateIf((dto: PutFlavorDto) => dto.aliases !== undefined)
  @IsArray({ message: 'must be an array of strings' })
  @IsString({ each: true, message: 'must be an array of strings' })
  @Matches(NAME, { each: true, message: `each alias ${NAME_RULE}` })
  @ArrayUnique({ message: 'must not name an alias twice' })
  @ArrayMaxSize(MAX_ALIASES, { message: `must have at most ${MAX_ALIASES} aliases` })
  aliases?: string[];

  @Size('virtual CPUs', true)
  vcpus: number;

  @Size('RAM in MB', true)
  ram_mb: number;

  @Size('root disk in GB', true)
  disk_gb: number;

  @Size('GPUs, informative (default 0)', false)
  gpus?: number;

  @ApiPropertyOptional({ maxLength: MAX_DESCRIPTION, description: 'Free text (default "").', example: '1 vCPU, 2 GB' })
  @ValidateIf((dto: PutFlavorDto) => dto.description !== undefined)
  @IsString({ message: 'must be a string' })
  @MaxLength(MAX_DESCRIPTION, { message: `must be at most ${MAX_DESCRIPTION} characters` })
  description?: string;
}
