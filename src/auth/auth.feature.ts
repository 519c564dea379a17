import { Feature } from '../core/feature';
import { ApiToken } from './api-token.entity';
import { AUTH_ERROR_STATUS } from './auth.errors';
import { Site } from './site.entity';

export const AUTH_FEATURE: Feature = { name: 'auth', entities: [ApiToken, Site], errorStatus: AUTH_ERROR_STATUS };
