import { ApiProperty } from '@nestjs/swagger';
import { Role, ROLES } from '../api-token.entity';

/** A token as `GET /admin/tokens` lists it: never its secret. */
export class TokenView {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty({ type: String, nullable: true })
  user_id: string | null;

  @ApiProperty({ type: [String] })
  project_ids: string[];

  @ApiProperty({ format: 'date-time', example: '2024-05-01T10:19:15.037Z' })
  created_at: string;
}

/** The answer to `POST /admin/tokens`: the one time the secret is shown. */
export class CreatedTokenView extends TokenView {
  @ApiProperty({ description: 'The secret for X-Auth-Token; shown only in this answer.' })
  token: string;
}

/** A site as `GET /admin/sites` lists it. */
export class SiteView {
  @ApiProperty({ example: 'site-a' })
  name: string;

  @ApiProperty({ format: 'date-time', example: '2024-05-01T10:19:15.037Z' })
  created_at: string;
}

/** The answer to `POST /admin/sites`: the one time the key is shown. */
export class CreatedSiteView extends SiteView {
  @ApiProperty({ description: 'The secret for XA-API-Key; shown only in this answer.' })
  api_key: string;
}

/** The answer to `POST /admin/sites/:name/rotate`; the old key stops working at once. */
export class RotatedSiteView {
  @ApiProperty({ example: 'site-a' })
  name: string;

  @ApiProperty({ description: 'The new secret for XA-API-Key; shown only in this answer.' })
  api_key: string;
}
