import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length, Matches, ValidateIf } from 'class-validator';
import { Role, ROLES } from '../api-token.entity';

export class CreateTokenDto {
  @IsString({ message: 'name must be a string' })
  @Length(1, 200, { message: 'name must be 1 to 200 characters' })
  name: string;

  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role: Role;

  /** Required for role `user` (auth.md); names the person for the others. */
  @ValidateIf((dto: CreateTokenDto) => dto.role === 'user' || (dto.user_id !== undefined && dto.user_id !== null))
  @IsString({ message: 'user_id must be a non-empty string (required for role user)' })
  @Length(1, 200, { message: 'user_id must be a non-empty string (required for role user)' })
  user_id?: string | null;

  @IsOptional()
  @IsArray({ message: 'project_ids must be an array of strings' })
  @ArrayMaxSize(10000, { message: 'project_ids must have at most 10000 entries' })
  @IsString({ each: true, message: 'project_ids must be an array of strings' })
  project_ids?: string[];
}

export class CreateSiteDto {
  @IsString({ message: 'name must be a string' })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, {
    message: 'name must be 1 to 100 letters, digits, dots, dashes or underscores, starting with a letter or digit',
  })
  name: string;
}
