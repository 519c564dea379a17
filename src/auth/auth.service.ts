import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { DomainError } from '../http/domain-error';
import { ApiToken } from './api-token.entity';
import { AuthError } from './auth.errors';
import { CreateSiteDto, CreateTokenDto } from './dto/admin.dto';
import { Principal } from './principal';
import { hashSecret, newSecret, secretsEqual } from './secrets';
import { Site } from './site.entity';

export interface TokenView {
  id: string;
  name: string;
  role: string;
  user_id: string | null;
  project_ids: string[];
  created_at: string;
}

/** Credentials of auth.md: tokens, AMIE site keys and the ADMIN_TOKEN bootstrap. */
@Injectable()
export class AuthService {
  constructor(
    private readonly db: DataSource,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  /** Resolves an X-Auth-Token value; null when missing or unknown. */
  async authenticateToken(token: string | undefined): Promise<Principal | null> {
    if (!token) return null;
    const bootstrap = this.config.adminToken;
    if (bootstrap !== undefined && secretsEqual(token, bootstrap)) {
      return { tokenId: 'bootstrap', name: 'admin', role: 'admin', userId: null, projectIds: [] };
    }
    const row = await this.db.getRepository(ApiToken).findOne({ where: { tokenHash: hashSecret(token) } });
    if (!row) return null;
    return { tokenId: row.id, name: row.name, role: row.role, userId: row.userId, projectIds: row.projectIds };
  }

  /**
   * AMIE site credentials, checked in the order of amie-usage.md 2: missing →
   * 401, unknown site → 401, the site's current key → accepted, another site's
   * current key → 403, anything else → 401.
   */
  async authenticateSite(siteName: string | undefined, key: string | undefined): Promise<string> {
    if (!siteName || !key) throw new DomainError(AuthError.Unauthorized, 'XA-Site and XA-API-Key headers are required');
    const sites = this.db.getRepository(Site);
    const site = await sites.findOne({ where: { name: siteName } });
    if (!site) throw new DomainError(AuthError.Unauthorized, 'Invalid site or API key');
    const hash = hashSecret(key);
    if (secretsEqual(hash, site.apiKeyHash)) return site.name;
    const owner = await sites.findOne({ where: { apiKeyHash: hash } });
    if (owner) throw new DomainError(AuthError.Forbidden, `This API key does not belong to site ${siteName}`);
    throw new DomainError(AuthError.Unauthorized, 'Invalid site or API key');
  }

  async createToken(dto: CreateTokenDto): Promise<TokenView & { token: string }> {
    const token = newSecret();
    const row = this.db.getRepository(ApiToken).create({
      id: randomUUID(),
      name: dto.name,
      role: dto.role,
      userId: dto.user_id ?? null,
      projectIds: [...new Set(dto.project_ids ?? [])],
      tokenHash: hashSecret(token),
    });
    const saved = await this.db.getRepository(ApiToken).save(row);
    return { ...tokenView(saved), token };
  }

  async listTokens(): Promise<TokenView[]> {
    const rows = await this.db.getRepository(ApiToken).find({ order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map(tokenView);
  }

  async deleteToken(id: string): Promise<void> {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    const result = uuid.test(id) ? await this.db.getRepository(ApiToken).delete({ id }) : { affected: 0 };
    if (!result.affected) throw new DomainError(AuthError.TokenNotFound, `token ${id} not found`);
  }

  async createSite(dto: CreateSiteDto): Promise<{ name: string; api_key: string; created_at: string }> {
    const apiKey = newSecret();
    const inserted = await this.db
      .createQueryBuilder()
      .insert()
      .into(Site)
      .values({ name: dto.name, apiKeyHash: hashSecret(apiKey) })
      .orIgnore()
      .returning(['name', 'createdAt'])
      .execute();
    if (inserted.raw.length === 0) throw new DomainError(AuthError.SiteExists, `site ${dto.name} already exists`);
    return { name: dto.name, api_key: apiKey, created_at: new Date(inserted.raw[0].created_at).toISOString() };
  }

  async listSites(): Promise<{ name: string; created_at: string }[]> {
    const rows = await this.db.getRepository(Site).find({ order: { name: 'ASC' } });
    return rows.map((s) => ({ name: s.name, created_at: s.createdAt.toISOString() }));
  }

  async rotateSite(name: string): Promise<{ name: string; api_key: string }> {
    const apiKey = newSecret();
    const result = await this.db.getRepository(Site).update({ name }, { apiKeyHash: hashSecret(apiKey) });
    if (!result.affected) throw new DomainError(AuthError.SiteNotFound, `site ${name} not found`);
    return { name, api_key: apiKey };
  }
}

function tokenView(row: ApiToken): TokenView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    user_id: row.userId,
    project_ids: row.projectIds,
    created_at: row.createdAt.toISOString(),
  };
}
