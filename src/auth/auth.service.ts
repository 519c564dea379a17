import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DomainError } from '../http/domain-error';
import { ApiToken } from './api-token.entity';
import { AuthError } from './auth.errors';
import { AuthRepository } from './auth.repository';
import { CreateSiteDto, CreateTokenDto } from './dto/admin.dto';
import { CreatedSiteView, CreatedTokenView, RotatedSiteView, SiteView, TokenView } from './dto/admin.views';
import { Principal } from './principal';
import { hashSecret, newSecret, secretsEqual } from './secrets';

/**
 * AMIE's 401 messages (amie-usage.md 2): which header is missing, or that the
 * pair is not known. An unknown site and a wrong key read the same, so the
 * answer never tells whether a site exists.
 */
export const SITE_KEY_UNKNOWN = 'XA-API-Key is not the current key of the site named in XA-Site (unknown site, or a key rotated out)';

function siteKeyMissing(siteName: string | undefined, key: string | undefined): string {
  const missing = [siteName ? undefined : 'XA-Site', key ? undefined : 'XA-API-Key'].filter(Boolean);
  return `No ${missing.join(' and ')} header${missing.length > 1 ? 's' : ''}: /amie needs both XA-Site and XA-API-Key (an X-Auth-Token is not read here)`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Credentials of auth.md: tokens, AMIE site keys and the ADMIN_TOKEN bootstrap. Decisions only; SQL is in AuthRepository. */
@Injectable()
export class AuthService {
  /**
   * Site name → the hash of the key this process last found current
   * (authenticateSite). Read only by authenticateSiteForWrite, whose callers
   * check the key again in their write; never an answer by itself.
   */
  private readonly currentSiteKeys = new LRUCache<string, string>({ max: 10_000 });
  /**
   * Token hash → what this process last found stored under it (a token's
   * name, role, user and projects never change; revoking deletes it). Read
   * only by authenticateTokenForStatement, whose callers confirm the token
   * is still stored before any answer leaves; never an answer by itself.
   */
  private readonly knownTokens = new LRUCache<string, Principal>({ max: 10_000 });

  constructor(
    private readonly credentials: AuthRepository,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  /** Resolves an X-Auth-Token value; null when missing or unknown. */
  async authenticateToken(token: string | undefined): Promise<Principal | null> {
    if (!token) return null;
    if (this.isBootstrap(token)) {
      return { tokenId: 'bootstrap', name: 'admin', role: 'admin', userId: null, projectIds: [] };
    }
    const hash = hashSecret(token);
    const row = await this.credentials.findTokenByHash(hash);
    if (!row) {
      this.knownTokens.delete(hash);
      return null;
    }
    const principal: Principal = Object.freeze({ tokenId: row.id, name: row.name, role: row.role, userId: row.userId, projectIds: Object.freeze([...row.projectIds]) });
    this.knownTokens.set(hash, principal);
    return principal;
  }

  /**
   * For a route whose statement confirms the token itself (AccessRule
   * `checkedByStatement`): a token this process has found stored before is
   * taken from memory without a query, with its hash (`hash`) for the
   * statement to confirm; otherwise authenticateToken, and `hash` null
   * (nothing left to confirm). A token revoked through any process then
   * stops working at once: the statement, or TokenCheckHook before the
   * answer leaves, finds it gone.
   */
  async authenticateTokenForStatement(token: string | undefined): Promise<{ principal: Principal | null; hash: string | null }> {
    if (token && !this.isBootstrap(token)) {
      const hash = hashSecret(token);
      const known = this.knownTokens.get(hash);
      if (known !== undefined) return { principal: known, hash };
    }
    return { principal: await this.authenticateToken(token), hash: null };
  }

  /** Forgets a token taken from memory that a statement found gone. */
  forgetToken(hash: string): void {
    this.knownTokens.delete(hash);
  }

  /** Whether a token taken from memory is still stored (forgotten when not). */
  async tokenStillStored(hash: string): Promise<boolean> {
    if (await this.credentials.findTokenByHash(hash)) return true;
    this.forgetToken(hash);
    return false;
  }

  /** ADMIN_TOKEN, compared in constant time; never looked up, never kept in memory. */
  private isBootstrap(token: string): boolean {
    const bootstrap = this.config.adminToken;
    return bootstrap !== undefined && secretsEqual(token, bootstrap);
  }

  /**
   * AMIE site credentials, checked in the order of amie-usage.md 2: missing →
   * 401, unknown site → 401, the site's current key → accepted, another site's
   * current key → 403, anything else → 401.
   */
  async authenticateSite(siteName: string | undefined, key: string | undefined): Promise<string> {
    if (!siteName || !key) throw new DomainError(AuthError.Unauthorized, siteKeyMissing(siteName, key));
    return this.checkSiteKeyHash(siteName, hashSecret(key));
  }

  /** authenticateSite from the key's hash; remembers a current key for authenticateSiteForWrite. */
  private async checkSiteKeyHash(siteName: string, hash: string): Promise<string> {
    const site = await this.credentials.findSiteByName(siteName);
    if (!site) throw new DomainError(AuthError.Unauthorized, SITE_KEY_UNKNOWN);
    if (secretsEqual(hash, site.apiKeyHash)) {
      this.currentSiteKeys.set(site.name, site.apiKeyHash);
      return site.name;
    }
    this.currentSiteKeys.delete(site.name);
    const owner = await this.credentials.findSiteByKeyHash(hash);
    if (owner) throw new DomainError(AuthError.Forbidden, `This API key does not belong to site ${siteName}`);
    throw new DomainError(AuthError.Unauthorized, SITE_KEY_UNKNOWN);
  }

  /**
   * For a route whose write holds the key to the database itself (POST
   * /amie/usage, UsageService.submit): when the key is the one this process
   * last found current for the site, the site without a query, and the key's
   * hash (`keyHash`) for the write to check in its own statement; otherwise
   * authenticateSite, and `keyHash` null (nothing left to check). A key
   * rotated by any process then stops working at once: the write finds it
   * no longer current and the caller answers as refuseStaleSiteKey says.
   */
  async authenticateSiteForWrite(siteName: string | undefined, key: string | undefined): Promise<{ site: string; keyHash: string | null }> {
    if (siteName && key) {
      const hash = hashSecret(key);
      const known = this.currentSiteKeys.get(siteName);
      if (known !== undefined && secretsEqual(hash, known)) return { site: siteName, keyHash: hash };
    }
    return { site: await this.authenticateSite(siteName, key), keyHash: null };
  }

  /**
   * Holds a key authenticateSiteForWrite took from memory to the database:
   * returns when it is still the site's current key, throws what
   * authenticateSite would (401 or 403) when it is not.
   */
  async confirmSiteKey(siteName: string, keyHash: string): Promise<void> {
    await this.checkSiteKeyHash(siteName, keyHash);
  }

  /** The write found `keyHash` not (or no longer) the site's current key: the 401 or 403 that authenticateSite answers now. */
  async refuseStaleSiteKey(siteName: string, keyHash: string): Promise<never> {
    this.currentSiteKeys.delete(siteName);
    await this.checkSiteKeyHash(siteName, keyHash);
    // Current again after the write missed it: a key is random, so only a restored row makes this; still refused.
    throw new DomainError(AuthError.Unauthorized, SITE_KEY_UNKNOWN);
  }

  /** Whether anything can reach /admin: ADMIN_TOKEN is set, or an admin token is stored. */
  async adminReachable(): Promise<boolean> {
    return this.config.adminToken !== undefined || (await this.credentials.hasTokenWithRole('admin'));
  }

  async createToken(dto: CreateTokenDto): Promise<CreatedTokenView> {
    const token = newSecret();
    const saved = await this.credentials.insertToken({
      id: randomUUID(),
      name: dto.name,
      role: dto.role,
      userId: dto.user_id ?? null,
      projectIds: [...new Set(dto.project_ids ?? [])],
      tokenHash: hashSecret(token),
    });
    return { ...tokenView(saved), token };
  }

  async listTokens(): Promise<TokenView[]> {
    return (await this.credentials.listTokens()).map(tokenView);
  }

  /** An id that is not a UUID names no token: 404 like an unknown one. */
  async deleteToken(id: string): Promise<void> {
    const deleted = UUID.test(id) && (await this.credentials.deleteToken(id));
    if (!deleted) throw new DomainError(AuthError.TokenNotFound, `token ${id} not found`);
  }

  async createSite(dto: CreateSiteDto): Promise<CreatedSiteView> {
    const apiKey = newSecret();
    const createdAt = await this.credentials.insertSite(dto.name, hashSecret(apiKey));
    if (!createdAt) throw new DomainError(AuthError.SiteExists, `site ${dto.name} already exists`);
    return { name: dto.name, api_key: apiKey, created_at: createdAt.toISOString() };
  }

  async listSites(): Promise<SiteView[]> {
    return (await this.credentials.listSites()).map((s) => ({ name: s.name, created_at: s.createdAt.toISOString() }));
  }

  async rotateSite(name: string): Promise<RotatedSiteView> {
    const apiKey = newSecret();
    if (!(await this.credentials.updateSiteKey(name, hashSecret(apiKey)))) throw new DomainError(AuthError.SiteNotFound, `site ${name} not found`);
    this.currentSiteKeys.delete(name);
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
