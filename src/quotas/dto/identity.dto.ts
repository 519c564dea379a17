import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { ValidationPolicy } from '../../http/validation.pipe';
import { IsRequiredString, MESSAGES, NestedObject } from './quota-rules';

export class TokenReferenceDto {
  @ApiProperty({ description: 'The token to check', example: '0123abcd...' })
  @IsRequiredString()
  id: string;
}

export class TokenAuthDto {
  @ApiProperty({ type: () => TokenReferenceDto })
  @NestedObject(() => TokenReferenceDto)
  token: TokenReferenceDto;

  @ApiPropertyOptional({ type: String, nullable: true, description: "When given, must equal the token's user id (else 400)" })
  @IsOptional()
  @IsString({ message: MESSAGES.string })
  tenantName?: string | null;
}

/**
 * POST /astakos/identity/v2.0/tokens (quotas.md 3). No body at all is the
 * catalog-only form (the handler receives `undefined`); other fields are
 * ignored, as Astakos ignores them.
 */
@ValidationPolicy({ unknown: 'strip', optional: true })
export class TokensBodyDto {
  @ApiProperty({ type: () => TokenAuthDto })
  @NestedObject(() => TokenAuthDto)
  auth: TokenAuthDto;
}
