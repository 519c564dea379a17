import { fieldsOf } from '../shared/input';
import { ApproverDto, ArdcProjectDto, BundleDto, FacilityDto, ResourceDto, ServiceTypeDto, SiteDto, ZoneDto } from './dto/catalogue.dto';

/**
 * The catalogue collections of allocations.md 8 as data: their tables, keys,
 * bodies and rules, so that one generic service (catalogue.service.ts) and
 * one repository serve them all. Column names equal the wire names.
 */
export type CollectionName = 'zones' | 'sites' | 'service-types' | 'resources' | 'bundles' | 'ncris-facilities' | 'ardc-projects' | 'approvers';

export interface CollectionDef {
  name: CollectionName;
  table: string;
  /** The primary-key column. */
  pk: 'id' | 'name' | 'catalog_name';
  /** For integer-keyed collections: the natural key a non-numeric path key means (allocations.md 8). */
  naturalKey?: string;
  /** The body of a create (PATCH: the same, every field optional). */
  body: new () => object;
  /** Fields that cannot change once created (a PATCH with another value is a 400). */
  immutable?: readonly string[];
  /** Fields unique case-insensitively; a clash is a 400. */
  unique?: readonly string[];
  orderBy: string;
  /** What a singular error message calls one object. */
  label: string;
}

export const COLLECTIONS: Record<CollectionName, CollectionDef> = {
  zones: { name: 'zones', table: 'alloc_zone', pk: 'name', label: 'zone', orderBy: '"display_name", "name"', body: ZoneDto, immutable: ['name'], unique: ['name'] },
  sites: { name: 'sites', table: 'alloc_site', pk: 'id', naturalKey: 'name', label: 'site', orderBy: '"id"', body: SiteDto, unique: ['name'] },
  'service-types': {
    name: 'service-types',
    table: 'alloc_service_type',
    pk: 'catalog_name',
    label: 'service type',
    orderBy: '"order" NULLS LAST, "name", "catalog_name"',
    body: ServiceTypeDto,
    immutable: ['catalog_name'],
    unique: ['catalog_name'],
  },
  resources: { name: 'resources', table: 'alloc_resource', pk: 'id', label: 'resource', orderBy: '"id"', body: ResourceDto },
  bundles: { name: 'bundles', table: 'alloc_bundle', pk: 'id', naturalKey: 'name', label: 'bundle', orderBy: '"order", "id"', body: BundleDto, unique: ['name'] },
  'ncris-facilities': {
    name: 'ncris-facilities',
    table: 'alloc_facility',
    pk: 'id',
    naturalKey: 'short_name',
    label: 'NCRIS facility',
    orderBy: '"id"',
    body: FacilityDto,
    unique: ['name', 'short_name'],
  },
  'ardc-projects': {
    name: 'ardc-projects',
    table: 'alloc_ardc_project',
    pk: 'id',
    naturalKey: 'short_name',
    label: 'ARDC project',
    orderBy: '"rank", "name", "id"',
    body: ArdcProjectDto,
    unique: ['name', 'short_name'],
  },
  approvers: { name: 'approvers', table: 'alloc_approver', pk: 'id', label: 'approver', orderBy: '"id"', body: ApproverDto, unique: ['username'] },
};

/** The scalar fields of a collection, which are its exact list filters (allocations.md 8), with their kinds. */
export function filterFields(def: CollectionDef): { name: string; kind: 'string' | 'int' | 'bool' }[] {
  const out: { name: string; kind: 'string' | 'int' | 'bool' }[] = [];
  for (const f of fieldsOf(def.body)) {
    if (f.kind === 'string' || f.kind === 'int' || f.kind === 'bool') out.push({ name: f.name, kind: f.kind });
  }
  if (def.pk === 'id') out.push({ name: 'id', kind: 'int' });
  return out;
}
