import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runPrepared } from '../database/prepared';
import { runOne, Sql } from '../database/query-result';
import { ApiToken, Role } from './api-token.entity';
import { Site } from './site.entity';

/** A token row to insert; the id and the secret's hash are chosen by the service. */
export interface NewToken {
  id: string;
  name: string;
  role: Role;
  userId: string | null;
  projectIds: string[];
  tokenHash: string;
}

/**
 * Every statement on the credential tables (`api_token`, `amie_site`). Each
 * method takes an optional `Sql` (a transaction's manager) last.
 */
/**
 * `EXISTS` of a stored token whose hash is `param` (a placeholder such as
 * `$4`): what a statement of a `checkedByStatement` route selects beside its
 * answer to confirm `request.tokenToCheck` in the same round trip.
 */
export function tokenStoredSql(param: string): string {
  return `EXISTS (SELECT 1 FROM api_token WHERE token_hash = ${param})`;
}

@Injectable()
export class AuthRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * The token with this hash, in plain SQL: it runs on every request that
   * carries X-Auth-Token, and TypeORM's findOne (query building, entity
   * mapping) cost about 3 % of the API's CPU under the Almanach listing load
   * (issue 14). A prepared statement of the connection (runPrepared), so
   * PostgreSQL does not parse and plan it per request. What it finds is kept
   * in memory only for routes whose own statement confirms the token again
   * (AuthService.authenticateTokenForStatement): a deleted token must stop
   * working at once in every process (auth.md).
   */
  async findTokenByHash(tokenHash: string, sql: Sql = this.db): Promise<Pick<ApiToken, 'id' | 'name' | 'role' | 'userId' | 'projectIds'> | null> {
    const [row] = await runPrepared<{ id: string; name: string; role: Role; user_id: string | null; project_ids: string[] }>(
      sql,
      `SELECT id, name, role, user_id, project_ids FROM api_token WHERE token_hash = $1`,
      [tokenHash],
    );
    return row ? { id: row.id, name: row.name, role: row.role, userId: row.user_id, projectIds: row.project_ids } : null;
  }

  insertToken(token: NewToken, sql: Sql = this.db): Promise<ApiToken> {
    const tokens = sql.getRepository(ApiToken);
    return tokens.save(tokens.create(token));
  }

  /** Whether any stored token has this role. */
  hasTokenWithRole(role: Role, sql: Sql = this.db): Promise<boolean> {
    return sql.getRepository(ApiToken).exists({ where: { role } });
  }

  /** Oldest first. */
  listTokens(sql: Sql = this.db): Promise<ApiToken[]> {
    return sql.getRepository(ApiToken).find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Whether a token with this id (a UUID) existed. */
  async deleteToken(id: string, sql: Sql = this.db): Promise<boolean> {
    const result = await sql.getRepository(ApiToken).delete({ id });
    return Boolean(result.affected);
  }

  /**
   * The site's name and key hash. Plain SQL, not Repository.findOne: it runs
   * on every AMIE request (a 500-record submission included), where TypeORM's
   * query building cost several times the query (bench/usage.bench.ts).
   */
  async findSiteByName(name: string, sql: Sql = this.db): Promise<Pick<Site, 'name' | 'apiKeyHash'> | null> {
    const row = await runOne<{ name: string; api_key_hash: string }>(sql, `SELECT name, api_key_hash FROM amie_site WHERE name = $1`, [name]);
    return row ? { name: row.name, apiKeyHash: row.api_key_hash } : null;
  }

  findSiteByKeyHash(apiKeyHash: string, sql: Sql = this.db): Promise<Site | null> {
    return sql.getRepository(Site).findOne({ where: { apiKeyHash } });
  }

  /** The new site's creation time, or null when a site of that name exists already. */
  async insertSite(name: string, apiKeyHash: string, sql: Sql = this.db): Promise<Date | null> {
    const inserted = await sql
      .createQueryBuilder()
      .insert()
      .into(Site)
      .values({ name, apiKeyHash })
      .orIgnore()
      .returning(['name', 'createdAt'])
      .execute();
    const row = (inserted.raw as { created_at: string | Date }[])[0];
    return row ? new Date(row.created_at) : null;
  }

  /** By name. */
  listSites(sql: Sql = this.db): Promise<Site[]> {
    return sql.getRepository(Site).find({ order: { name: 'ASC' } });
  }

  /** Whether the site existed. */
  async updateSiteKey(name: string, apiKeyHash: string, sql: Sql = this.db): Promise<boolean> {
    const result = await sql.getRepository(Site).update({ name }, { apiKeyHash });
    return Boolean(result.affected);
  }
}
