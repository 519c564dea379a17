import { Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { DataSource, EntityManager } from 'typeorm';
import { Principal } from '../auth/principal';
import { AppConfig } from '../config/app-config';
import { DomainError } from '../http/domain-error';
import { AllocationsError } from './allocations.errors';
import { BodyReader, parseBool, parseInteger } from './body-reader';
import { badFilter, callerName } from './catalogue.service';
import { updateReturning } from './sql';
import { envelope, Envelope, Query, queryValue, readPage } from './paging';

export interface OrganisationRow {
  id: number;
  ror_id: string;
  full_name: string;
  short_name: string;
  url: string;
  country: string;
  parent: number | null;
  precedes: number[];
  enabled: boolean;
  proposed_by: string | null;
  vetted_by: string | null;
}

/** The catch-all organisation a chief investigator may not name (allocations.md 9). */
const ALL_ORGANISATIONS = 'all organisations';

const TEXT_FILTERS: Record<string, string> = {
  ror_id: '"ror_id" = $',
  ror_id__iexact: 'lower("ror_id") = lower($)',
  short_name: '"short_name" = $',
  short_name__iexact: 'lower("short_name") = lower($)',
  full_name: '"full_name" = $',
  full_name__iexact: 'lower("full_name") = lower($)',
  full_name__icontains: `strpos(lower("full_name"), lower($)) > 0`,
  country: '"country" = $',
  country__iexact: 'lower("country") = lower($)',
  url: '"url" = $',
  url__iexact: 'lower("url") = lower($)',
};

const URL_PATTERN = /^https?:\/\/[^\s/$.?#][^\s]*$/i;

/** `organisations/` (allocations.md 8, Organisations): admin entries, proposals, vetting. */
@Injectable()
export class OrganisationsService {
  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
  ) {}

  async list(principal: Principal, request: FastifyRequest, query: Query): Promise<Envelope<Record<string, unknown>>> {
    const page = readPage(query);
    const where: string[] = [];
    const params: unknown[] = [];
    for (const [key, template] of Object.entries(TEXT_FILTERS)) {
      const value = queryValue(query, key);
      if (value === undefined) continue;
      params.push(value);
      where.push(template.replace('$', `$${params.length}`));
    }
    const enabled = queryValue(query, 'enabled');
    if (enabled !== undefined) {
      const flag = parseBool(enabled);
      if (flag === undefined) throw badFilter('enabled', 'Must be a valid boolean.');
      params.push(flag);
      where.push(`"enabled" = $${params.length}`);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ count }] = await this.db.query(`SELECT count(*)::int AS count FROM "alloc_organisation" ${clause}`, params);
    const rows: OrganisationRow[] = await this.db.query(
      `SELECT * FROM "alloc_organisation" ${clause} ORDER BY "full_name", "id" LIMIT ${page.limit} OFFSET ${page.offset}`,
      params,
    );
    return envelope(request, this.config.publicUrl, page, count, rows.map((r) => serializeOrganisation(r, principal)));
  }

  async get(principal: Principal, key: string): Promise<Record<string, unknown>> {
    return serializeOrganisation(await this.find(key), principal);
  }

  async create(principal: Principal, body: unknown): Promise<Record<string, unknown>> {
    const reader = new BodyReader(body);
    const admin = principal.role === 'admin';
    const values: Record<string, unknown> = {
      full_name: reader.text('full_name', { required: true, max: 255 }),
      short_name: reader.text('short_name', { required: true, max: 16 }),
      url: reader.text('url', { required: !admin, max: 255, pattern: URL_PATTERN, patternMessage: 'Enter a valid http or https URL.' }),
      country: reader.text('country', { pattern: /^[A-Za-z]{2}$/, patternMessage: 'Use an ISO 3166 alpha-2 code.' })?.toUpperCase(),
    };
    if (admin) {
      Object.assign(values, this.readAdminFields(reader));
    } else {
      // A proposal (allocations.md 8): vetting fields are ignored, the proposer is the caller.
      values.proposed_by = callerName(principal);
    }
    reader.done();
    await this.checkReferences(values, null, reader);
    if (!admin) {
      const clash = await this.db.query(
        `SELECT 1 FROM "alloc_organisation" WHERE lower("full_name") = lower($1) OR ($2 <> '' AND lower("url") = lower($2))`,
        [values.full_name, values.url ?? ''],
      );
      if (clash.length) reader.fail('full_name', 'An organisation with this full name or URL already exists.');
    }
    reader.done();
    const columns = Object.keys(values).filter((c) => values[c] !== undefined);
    const rows: OrganisationRow[] = await this.db.query(
      `INSERT INTO "alloc_organisation" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
      columns.map((c) => values[c]),
    );
    return serializeOrganisation(rows[0], principal);
  }

  async update(principal: Principal, key: string, body: unknown): Promise<Record<string, unknown>> {
    const existing = await this.find(key);
    const reader = new BodyReader(body);
    const values: Record<string, unknown> = {
      full_name: reader.text('full_name', { notBlank: true, max: 255 }),
      short_name: reader.text('short_name', { notBlank: true, max: 16 }),
      url: reader.text('url', { max: 255, pattern: URL_PATTERN, patternMessage: 'Enter a valid http or https URL.' }),
      country: reader.text('country', { pattern: /^[A-Za-z]{2}$/, patternMessage: 'Use an ISO 3166 alpha-2 code.' })?.toUpperCase(),
      ...this.readAdminFields(reader),
    };
    reader.done();
    await this.checkReferences(values, existing.id, reader);
    reader.done();
    const columns = Object.keys(values).filter((c) => values[c] !== undefined);
    if (columns.length === 0) return serializeOrganisation(existing, principal);
    const rows: OrganisationRow[] = await updateReturning(this.db,
      `UPDATE "alloc_organisation" SET ${columns.map((c, i) => `"${c}" = $${i + 1}`).join(', ')} WHERE "id" = $${columns.length + 1} RETURNING *`,
      [...columns.map((c) => values[c]), existing.id],
    );
    return serializeOrganisation(rows[0], principal);
  }

  /** approve/decline (admin): ROR entries are not vetted (400). */
  async vet(principal: Principal, key: string, enabled: boolean): Promise<Record<string, unknown>> {
    const existing = await this.find(key);
    if (existing.ror_id) {
      throw new DomainError(AllocationsError.BadRequest, `Organisation ${existing.id} comes from the ROR (${existing.ror_id}) and is not vetted here`);
    }
    const rows: OrganisationRow[] = await updateReturning(this.db, `UPDATE "alloc_organisation" SET "enabled" = $1, "vetted_by" = $2 WHERE "id" = $3 RETURNING *`, [
      enabled,
      callerName(principal),
      existing.id,
    ]);
    return serializeOrganisation(rows[0], principal);
  }

  private readAdminFields(reader: BodyReader): Record<string, unknown> {
    return {
      ror_id: reader.text('ror_id', { max: 64 }),
      parent: reader.int('parent', { nullable: true }),
      precedes: reader.intList('precedes'),
      enabled: reader.bool('enabled'),
      proposed_by: reader.string('proposed_by', { nullable: true, max: 254 }),
      vetted_by: reader.string('vetted_by', { nullable: true, max: 254 }),
    };
  }

  private async checkReferences(values: Record<string, unknown>, selfId: number | null, reader: BodyReader): Promise<void> {
    const ids = [...((values.precedes as number[] | undefined) ?? []), ...(typeof values.parent === 'number' ? [values.parent] : [])];
    if (ids.length === 0) return;
    if (selfId !== null && ids.includes(selfId)) reader.fail(values.parent === selfId ? 'parent' : 'precedes', 'An organisation cannot refer to itself.');
    const known: { id: number }[] = await this.db.query(`SELECT "id" FROM "alloc_organisation" WHERE "id" = ANY($1)`, [ids]);
    if (typeof values.parent === 'number' && !known.some((k) => k.id === values.parent)) reader.fail('parent', `Unknown organisation ${values.parent}.`);
    for (const id of (values.precedes as number[] | undefined) ?? []) {
      if (!known.some((k) => k.id === id)) reader.fail('precedes', `Unknown organisation ${id}.`);
    }
  }

  private async find(key: string): Promise<OrganisationRow> {
    const id = parseInteger(key);
    const rows: OrganisationRow[] = id === undefined ? [] : await this.db.query(`SELECT * FROM "alloc_organisation" WHERE "id" = $1`, [id]);
    if (rows.length === 0) throw new DomainError(AllocationsError.NotFound, `No organisation ${key}`);
    return rows[0];
  }
}

export function serializeOrganisation(row: OrganisationRow, principal: Principal): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: row.id,
    ror_id: row.ror_id,
    full_name: row.full_name,
    short_name: row.short_name,
    url: row.url,
    country: row.country,
    parent: row.parent,
    precedes: row.precedes,
    enabled: row.enabled,
  };
  if (principal.role !== 'user') {
    out.proposed_by = row.proposed_by;
    out.vetted_by = row.vetted_by;
  }
  return out;
}

/** How an organisation is written in an allocation or chief investigator: its ROR id, else its integer id. */
export function organisationRef(row: OrganisationRow): string | number {
  return row.ror_id ? row.ror_id : row.id;
}

/**
 * Matches organisation references by integer id, ROR id, or full or short name
 * (case-insensitively); unknown, disabled or ambiguous references fail on the
 * field (allocations.md 4, supported_organisations).
 */
export async function resolveOrganisations(
  m: DataSource | EntityManager,
  items: unknown[],
  field: string,
  reader: BodyReader,
  opts: { refuseCatchAll?: boolean } = {},
): Promise<number[] | undefined> {
  const ids: number[] = [];
  for (const item of items) {
    const text = String(item).trim();
    const asId = parseInteger(text);
    const rows: OrganisationRow[] = await m.query(
      `SELECT * FROM "alloc_organisation" WHERE ($1::int IS NOT NULL AND "id" = $1::int) OR ("ror_id" <> '' AND lower("ror_id") = lower($2))
         OR lower("full_name") = lower($2) OR lower("short_name") = lower($2)`,
      [asId ?? null, text],
    );
    const byId = asId !== undefined ? rows.filter((r) => r.id === asId) : [];
    const matches = byId.length ? byId : rows;
    if (matches.length === 0) return reader.fail(field, `Unknown organisation "${text}".`);
    if (matches.length > 1) return reader.fail(field, `Organisation "${text}" is ambiguous.`);
    const org = matches[0];
    if (!org.enabled) return reader.fail(field, `Organisation "${text}" is disabled.`);
    if (opts.refuseCatchAll && org.full_name.toLowerCase() === ALL_ORGANISATIONS) return reader.fail(field, 'Name the primary organisation, not "All Organisations".');
    if (ids.includes(org.id)) return reader.fail(field, `Organisation "${text}" is listed twice.`);
    ids.push(org.id);
  }
  return ids;
}
