import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length, Matches, ValidateIf } from 'class-validator';
import { Role, ROLES } from '../api-token.entity';

/** Body of `POST /admin/tokens` (auth.md, "Admin API"). */
export class CreateTokenDto {
  @ApiProperty({ description: 'A label; commissions are owned by it (quotas.md 5.8). Need not be unique.', minLength: 1, maxLength: 200, example: 'billing' })
  @IsString({ message: 'name must be a string' })
  @Length(1, 200, { message: 'name must be 1 to 200 characters' })
  name: string;

  @ApiProperty({ enum: ROLES, example: 'reader' })
  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role: Role;

  /** Required for role `user` (auth.md); names the person for the others. */
  @ApiPropertyOptional({ type: String, nullable: true, minLength: 1, maxLength: 200, description: 'Required for role user; names the person for the others.', example: 'alice' })
  @ValidateIf((dto: CreateTokenDto) => dto.role === 'user' || (dto.user_id !== undefined && dto.user_id !== null))
  @IsString({ message: 'user_id must be a non-empty string (required for role user)' })
  @Length(1, 200, { message: 'user_id must be a non-empty string (required for role user)' })
  user_id?: string | null;

  @ApiPropertyOptional({ type: [String], maxItems: 10000, description: 'Projects a user token may see; default [].', example: ['p-123'] })
  @IsOptional()
  @IsArray({ message: 'project_ids must be an array of strings' })
  @ArrayMaxSize(10000, { message: 'project_ids must have at most 10000 entries' })
  @IsString({ each: true, message: 'project_ids must be an array of strings' })
  project_ids?: string[];
}

/** Body of `POST /admin/sites`. */
export class CreateSiteDto {
  @ApiProperty({ description: 'The AMIE site name clients send in XA-Site.', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$', example: 'site-a' })
  @IsString({ message: 'name must be a string' })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, {
    message: 'name must be 1 to 100 letters, digits, dots, dashes or underscores, starting with a letter or digit',
  })
  name: string;
}

/**
 * Path of `DELETE /admin/tokens/:id`. An id that is not a UUID names no
 * token: `404` like an unknown one (the service decides), not `400`.
 */
export class TokenIdParams {
  @ApiProperty({ description: 'The token id (a UUID); anything else is 404.', example: '6f1c3c1e-0f5e-4c1e-9a51-2f1f0f4d3b10' })
  @IsString({ message: 'id must be a string' })
  id: string;
}

/** Path of `POST /admin/sites/:name/rotate`; an unknown name is `404`. */
export class SiteNameParams {
  @ApiProperty({ description: 'The site name.', example: 'site-a' })
  @IsString({ message: 'name must be a string' })
  name: string;
}
