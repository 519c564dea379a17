import { Injectable } from '@nestjs/common';
import { AuthService } from '../auth/auth.service';
import { AppConfig } from '../config/app-config';
import { DomainError } from '../http/domain-error';
import { QuotasError } from './quotas.errors';
import { TokensBodyDto } from './dto/identity.dto';
import { badRequest } from './quotas-values';

export const ACCOUNT_PREFIX = '/astakos/account/v1.0';
export const IDENTITY_PREFIX = '/astakos/identity/v2.0';
/**
 * Where `SNF:uiURL` points: astakosclient only reads the key (quotas.md 3),
 * and the service's one page for people is the dashboard (reports.md 8).
 * quotas.md's table names `<public>/astakos/ui`, a path nothing serves.
 */
const UI_PATH = '/dashboard';

/**
 * POST /astakos/identity/v2.0/tokens (quotas.md 3): the service catalog
 * astakosclient reads its account prefix from, and the token check services
 * make with a body.
 */
@Injectable()
export class AstakosIdentityService {
  constructor(
    private readonly auth: AuthService,
    private readonly config: AppConfig,
  ) {}

  /**
   * `requestOrigin` is the scheme and host the request came to; PUBLIC_URL
   * wins over it. `body` undefined is the catalog-only form.
   */
  async tokens(requestOrigin: string, body: TokensBodyDto | undefined): Promise<{ access: Record<string, unknown> }> {
    const serviceCatalog = this.catalog(requestOrigin);
    // No body: the catalog only; a token that is sent is not checked (3).
    if (body === undefined) return { access: { serviceCatalog } };
    const tenantName = body.auth.tenantName;
    const principal = await this.auth.authenticateToken(body.auth.token.id);
    if (!principal) throw new DomainError(QuotasError.Unauthorized, 'The token in the body (auth.token.id) is not a known token (never issued, or revoked)');
    if (typeof tenantName === 'string' && tenantName !== principal.userId) {
      throw badRequest(`tenantName ${tenantName} does not match the token's user`);
    }
    return {
      access: {
        token: { id: body.auth.token.id, expires: null, tenant: { id: principal.userId, name: principal.name } },
        serviceCatalog,
        user: {
          id: principal.userId,
          name: principal.name,
          roles: [{ id: principal.role, name: principal.role }],
          roles_links: [],
          projects: principal.projectIds,
        },
      },
    };
  }

  private catalog(requestOrigin: string) {
    // One rule for absolute URLs (spec/README.md): PUBLIC_URL, else the request's scheme and host.
    const base = this.config.publicUrl ?? requestOrigin;
    const entry = (name: string, type: string, versionId: string, path: string) => ({
      name,
      type,
      endpoints: [{ versionId, publicURL: base + path, 'SNF:uiURL': base + UI_PATH, region: 'default' }],
      endpoints_links: [],
    });
    return [entry('astakos_account', 'account', 'v1.0', ACCOUNT_PREFIX), entry('astakos_identity', 'identity', 'v2.0', IDENTITY_PREFIX)];
  }
}
