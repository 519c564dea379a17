import { Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { Principal } from '../auth/principal';
import { AppConfig } from '../config/app-config';
import { DomainError } from '../http/domain-error';
import { AllocationsError } from './allocations.errors';
import { BodyReader, parseBool, parseInteger } from './body-reader';
import { CollectionDef, CollectionName, COLLECTIONS, FieldDef } from './catalogue.definitions';
import { updateReturning } from './sql';
import { envelope, Envelope, Query, queryValue, readPage } from './paging';

type Row = Record<string, unknown>;

const q = (name: string) => `"${name}"`;

/** The catalogue of allocations.md 8 (zones, sites, service types, resources, bundles, facilities, ARDC projects, approvers). */
@Injectable()
export class CatalogueService {
  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
  ) {}

  async list(name: CollectionName, request: FastifyRequest, query: Query): Promise<Envelope<Row>> {
    const def = COLLECTIONS[name];
    const page = readPage(query);
    const where: string[] = [];
    const params: unknown[] = [];
    // Exact filters on scalar fields; unknown parameters are ignored (allocations.md 8).
    for (const field of def.fields) {
      const text = queryValue(query, field.name);
      if (text === undefined || field.kind === 'stringList' || field.kind === 'intList') continue;
      params.push(filterValue(field, text));
      where.push(`${q(field.name)} = $${params.length}`);
    }
    if (def.pk === 'id' && queryValue(query, 'id') !== undefined) {
      params.push(filterValue({ name: 'id', kind: 'int' }, queryValue(query, 'id')!));
      where.push(`"id" = $${params.length}`);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ count }] = await this.db.query(`SELECT count(*)::int AS count FROM ${q(def.table)} ${clause}`, params);
    const rows: Row[] = await this.db.query(
      `SELECT * FROM ${q(def.table)} ${clause} ORDER BY ${def.orderBy} LIMIT ${page.limit} OFFSET ${page.offset}`,
      params,
    );
    return envelope(request, this.config.publicUrl, page, count, await this.serializeMany(def, rows));
  }

  async get(name: CollectionName, key: string): Promise<Row> {
    const def = COLLECTIONS[name];
    return (await this.serializeMany(def, [await this.find(def, key)]))[0];
  }

  async create(name: CollectionName, body: unknown): Promise<Row> {
    const def = COLLECTIONS[name];
    const reader = new BodyReader(body);
    const values = this.readFields(def, reader, null);
    reader.done();
    await this.checkRules(def, values, null, reader);
    reader.done();
    const columns = Object.keys(values);
    const rows: Row[] = await this.db.query(
      `INSERT INTO ${q(def.table)} (${columns.map(q).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
      columns.map((c) => values[c]),
    );
    return (await this.serializeMany(def, rows))[0];
  }

  async update(name: CollectionName, key: string, body: unknown): Promise<Row> {
    const def = COLLECTIONS[name];
    const existing = await this.find(def, key);
    const reader = new BodyReader(body);
    const values = this.readFields(def, reader, existing);
    reader.done();
    await this.checkRules(def, values, existing, reader);
    reader.done();
    const columns = Object.keys(values);
    let row = existing;
    if (columns.length > 0) {
      const rows: Row[] = await updateReturning(this.db,
        `UPDATE ${q(def.table)} SET ${columns.map((c, i) => `${q(c)} = $${i + 1}`).join(', ')} WHERE ${q(def.pk)} = $${columns.length + 1} RETURNING *`,
        [...columns.map((c) => values[c]), existing[def.pk]],
      );
      row = rows[0];
    }
    return (await this.serializeMany(def, [row]))[0];
  }

  /** `GET zones/compute_homes/`: allocation home → compute availability zones, from each site's `compute_zones`. */
  async computeHomes(): Promise<Record<string, string[]>> {
    const rows: { name: string; compute_zones: string[] }[] = await this.db.query(
      `SELECT "name", "compute_zones" FROM "alloc_site" WHERE cardinality("compute_zones") > 0 ORDER BY "name"`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.compute_zones]));
  }

  /** A row by path key: digits mean the integer id where there is one, anything else the natural key. */
  async find(def: CollectionDef, key: string): Promise<Row> {
    if (key.includes('\u0000')) throw notFound(def, key.replace(/\u0000/g, ''));
    let column: string = def.pk;
    let value: unknown = key;
    if (def.pk === 'id') {
      if (/^\d{1,9}$/.test(key)) value = Number(key);
      else if (def.naturalKey) column = def.naturalKey;
      else throw notFound(def, key);
    }
    const rows: Row[] = await this.db.query(`SELECT * FROM ${q(def.table)} WHERE ${q(column)} = $1`, [value]);
    if (rows.length === 0) throw notFound(def, key);
    return rows[0];
  }

  private readFields(def: CollectionDef, reader: BodyReader, existing: Row | null): Row {
    const values: Row = {};
    for (const field of def.fields) {
      if (!reader.has(field.name)) {
        if (!existing && field.required) reader.fail(field.name, 'This field is required.');
        continue;
      }
      let value: unknown;
      switch (field.kind) {
        case 'string':
          value = reader.string(field.name, { required: field.required, max: field.max, pattern: field.pattern, patternMessage: field.patternMessage, nullable: field.nullable });
          if (typeof value === 'string' && field.oneOf && !field.oneOf.includes(value)) value = reader.fail(field.name, `Must be one of ${field.oneOf.join(', ')}.`);
          break;
        case 'bool':
          value = reader.bool(field.name);
          break;
        case 'int':
          value = reader.int(field.name, { required: field.required, nullable: field.nullable, min: field.min });
          break;
        case 'stringList':
          value = reader.stringList(field.name, { max: 64 });
          break;
        case 'intList':
          value = reader.intList(field.name);
          break;
      }
      if (value === undefined) continue;
      if (existing && field.immutable && value !== existing[field.name]) {
        reader.fail(field.name, 'This field cannot be changed.');
        continue;
      }
      values[field.name] = value;
    }
    return values;
  }

  /** Uniqueness and references (unknown zone, site, service type): each a 400 on its field. */
  private async checkRules(def: CollectionDef, values: Row, existing: Row | null, reader: BodyReader): Promise<void> {
    for (const field of def.fields) {
      if (!field.unique || typeof values[field.name] !== 'string') continue;
      const params: unknown[] = [values[field.name]];
      let sql = `SELECT 1 FROM ${q(def.table)} WHERE lower(${q(field.name)}) = lower($1)`;
      if (existing) {
        params.push(existing[def.pk]);
        sql += ` AND ${q(def.pk)} <> $2`;
      }
      if ((await this.db.query(sql, params)).length > 0) reader.fail(field.name, `A ${def.label} with this ${field.name} already exists.`);
    }
    const zoneList = def.name === 'service-types' ? (values.zones as string[] | undefined) : def.name === 'bundles' && typeof values.zone === 'string' ? [values.zone] : undefined;
    if (zoneList?.length) {
      const known: { name: string }[] = await this.db.query(`SELECT "name" FROM "alloc_zone" WHERE "name" = ANY($1)`, [zoneList]);
      const missing = zoneList.filter((z) => !known.some((k) => k.name === z));
      if (missing.length) reader.fail(def.name === 'bundles' ? 'zone' : 'zones', `Unknown zone: ${missing.join(', ')}.`);
      if (new Set(zoneList).size !== zoneList.length) reader.fail('zones', 'Duplicate zones.');
    }
    if (def.name === 'approvers' && (values.sites as number[] | undefined)?.length) {
      const ids = values.sites as number[];
      const known: { id: number }[] = await this.db.query(`SELECT "id" FROM "alloc_site" WHERE "id" = ANY($1)`, [ids]);
      const missing = ids.filter((id) => !known.some((k) => k.id === id));
      if (missing.length) reader.fail('sites', `Unknown site: ${missing.join(', ')}.`);
    }
    if (def.name === 'resources') {
      const serviceType = (values.service_type ?? existing?.service_type) as string | undefined;
      const quotaName = (values.quota_name ?? existing?.quota_name) as string | undefined;
      if (values.service_type !== undefined) {
        const known = await this.db.query(`SELECT 1 FROM "alloc_service_type" WHERE "catalog_name" = $1`, [serviceType]);
        if (known.length === 0) reader.fail('service_type', `Unknown service type: ${serviceType}.`);
      }
      if ((values.service_type !== undefined || values.quota_name !== undefined) && serviceType && quotaName) {
        const params: unknown[] = [serviceType, quotaName];
        let sql = `SELECT 1 FROM "alloc_resource" WHERE "service_type" = $1 AND "quota_name" = $2`;
        if (existing) {
          params.push(existing.id);
          sql += ` AND "id" <> $3`;
        }
        if ((await this.db.query(sql, params)).length > 0) reader.fail('quota_name', 'This service type already has a resource with this quota name.');
      }
    }
  }

  private async serializeMany(def: CollectionDef, rows: Row[]): Promise<Row[]> {
    switch (def.name) {
      case 'zones':
        return rows.map((r) => ({ id: r.name, name: r.name, display_name: r.display_name, enabled: r.enabled }));
      case 'service-types': {
        const names = rows.map((r) => r.catalog_name as string);
        const resources: Row[] = names.length
          ? await this.db.query(`SELECT * FROM "alloc_resource" WHERE "service_type" = ANY($1) ORDER BY "id"`, [names])
          : [];
        return rows.map((r) => ({
          id: r.catalog_name,
          catalog_name: r.catalog_name,
          name: r.name,
          description: r.description,
          notes: r.notes,
          order: r.order,
          experimental: r.experimental,
          location_specific: r.location_specific,
          zones: r.zones,
          resource_set: resources.filter((res) => res.service_type === r.catalog_name),
        }));
      }
      case 'bundles':
        // Bundle quotas are managed outside this protocol, later (allocations.md 8): always [] for now.
        return rows.map((r) => ({ ...r, quotas: [] }));
      default:
        return rows;
    }
  }
}

function notFound(def: CollectionDef, key: string): DomainError {
  return new DomainError(AllocationsError.NotFound, `No ${def.label} ${key}`);
}

function filterValue(field: FieldDef, text: string): unknown {
  if (field.kind === 'bool') {
    const value = parseBool(text);
    if (value === undefined) throw badFilter(field.name, 'Must be a valid boolean.');
    return value;
  }
  if (field.kind === 'int') {
    const value = parseInteger(text);
    if (value === undefined) throw badFilter(field.name, 'A valid integer is required.');
    return value;
  }
  return text;
}

export function badFilter(name: string, message: string): DomainError {
  return new DomainError(AllocationsError.Validation, `${name}: ${message}`, { fields: { [name]: [message] } });
}

/** The name a principal goes by in `approver_email`, `proposed_by` and `vetted_by`. */
export function callerName(principal: Principal): string {
  return principal.userId ?? principal.name;
}
