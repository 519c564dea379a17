import { Injectable } from '@nestjs/common';
import { DomainError } from '../../http/domain-error';
import { AllocationsError } from '../allocations.errors';
import { Parsed } from '../shared/input';
import { Page, PageOf } from '../shared/paging';
import { CatalogueFilter } from './catalogue-filter';
import { CollectionDef, CollectionName, COLLECTIONS } from './catalogue.definitions';
import { CatalogueRepository, Row } from './catalogue.repository';

/** The catalogue of allocations.md 8 (zones, sites, service types, resources, bundles, facilities, ARDC projects, approvers). */
@Injectable()
export class CatalogueService {
  constructor(private readonly catalogue: CatalogueRepository) {}

  async list(name: CollectionName, filter: CatalogueFilter, page: Page): Promise<PageOf<Row>> {
    const def = COLLECTIONS[name];
    const { count, rows } = await this.catalogue.list(def, filter, page);
    return { page, count, results: await this.serializeMany(def, rows) };
  }

  async get(name: CollectionName, key: string): Promise<Row> {
    const def = COLLECTIONS[name];
    return (await this.serializeMany(def, [await this.find(def, key)]))[0];
  }

  async create(name: CollectionName, body: Parsed<object>): Promise<Row> {
    const def = COLLECTIONS[name];
    body.check();
    const values = { ...body.values } as Row;
    await this.checkRules(def, values, null, body);
    body.check();
    return (await this.serializeMany(def, [await this.catalogue.insert(def, values)]))[0];
  }

  async update(name: CollectionName, key: string, body: Parsed<object>): Promise<Row> {
    const def = COLLECTIONS[name];
    const existing = await this.find(def, key);
    const values = { ...body.values } as Row;
    for (const field of def.immutable ?? []) {
      if (values[field] !== undefined && values[field] !== existing[field]) {
        body.fail(field, 'This field cannot be changed.');
        delete values[field];
      }
    }
    body.check();
    await this.checkRules(def, values, existing, body);
    body.check();
    const row = Object.keys(values).length > 0 ? await this.catalogue.update(def, existing[def.pk], values) : existing;
    return (await this.serializeMany(def, [row]))[0];
  }

  /** `GET zones/compute_homes/`: allocation home → compute availability zones, from each site's `compute_zones`. */
  async computeHomes(): Promise<Record<string, string[]>> {
    return Object.fromEntries((await this.catalogue.computeHomes()).map((r) => [r.name, r.compute_zones]));
  }

  /** A row by path key: digits mean the integer id where there is one, anything else the natural key. */
  private async find(def: CollectionDef, key: string): Promise<Row> {
    if (key.includes('\u0000')) throw notFound(def, key.replace(/\u0000/g, ''));
    let column: string = def.pk;
    let value: unknown = key;
    if (def.pk === 'id') {
      if (/^\d{1,9}$/.test(key)) value = Number(key);
      else if (def.naturalKey) column = def.naturalKey;
      else throw notFound(def, key);
    }
    const row = await this.catalogue.findBy(def, column, value);
    if (!row) throw notFound(def, key);
    return row;
  }

  /** Uniqueness and references (unknown zone, site, service type): each a 400 on its field. */
  private async checkRules(def: CollectionDef, values: Row, existing: Row | null, body: Parsed<object>): Promise<void> {
    for (const field of def.unique ?? []) {
      const value = values[field];
      if (typeof value !== 'string') continue;
      if (await this.catalogue.taken(def, field, value, existing ? existing[def.pk] : undefined)) body.fail(field, `A ${def.label} with this ${field} already exists.`);
    }
    const zoneList = def.name === 'service-types' ? (values.zones as string[] | undefined) : def.name === 'bundles' && typeof values.zone === 'string' ? [values.zone] : undefined;
    if (zoneList?.length) {
      const known = await this.catalogue.knownZones(zoneList);
      const missing = zoneList.filter((z) => !known.includes(z));
      if (missing.length) body.fail(def.name === 'bundles' ? 'zone' : 'zones', `Unknown zone: ${missing.join(', ')}.`);
      if (new Set(zoneList).size !== zoneList.length) body.fail('zones', 'Duplicate zones.');
    }
    if (def.name === 'approvers' && (values.sites as number[] | undefined)?.length) {
      const ids = values.sites as number[];
      const known = await this.catalogue.knownSites(ids);
      const missing = ids.filter((id) => !known.includes(id));
      if (missing.length) body.fail('sites', `Unknown site: ${missing.join(', ')}.`);
    }
    if (def.name === 'resources') {
      const serviceType = (values.service_type ?? existing?.service_type) as string | undefined;
      const quotaName = (values.quota_name ?? existing?.quota_name) as string | undefined;
      if (values.service_type !== undefined && !(await this.catalogue.serviceTypeExists(serviceType!))) body.fail('service_type', `Unknown service type: ${serviceType}.`);
      if ((values.service_type !== undefined || values.quota_name !== undefined) && serviceType && quotaName) {
        if (await this.catalogue.quotaNameTaken(serviceType, quotaName, existing?.id)) body.fail('quota_name', 'This service type already has a resource with this quota name.');
      }
    }
  }

  private async serializeMany(def: CollectionDef, rows: Row[]): Promise<Row[]> {
    switch (def.name) {
      case 'zones':
        return rows.map((r) => ({ id: r.name, name: r.name, display_name: r.display_name, enabled: r.enabled }));
      case 'service-types': {
        const resources = await this.catalogue.resourcesOfServiceTypes(rows.map((r) => r.catalog_name as string));
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
