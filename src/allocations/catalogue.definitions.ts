/**
 * The catalogue collections of allocations.md 8 as data: their tables, wire
 * fields and rules, so that one generic service (catalogue.service.ts) serves
 * them all. Column names equal the wire names.
 */
export type FieldKind = 'string' | 'bool' | 'int' | 'stringList' | 'intList';

export interface FieldDef {
  name: string;
  kind: FieldKind;
  /** Needed on create. */
  required?: boolean;
  nullable?: boolean;
  max?: number;
  min?: number;
  pattern?: RegExp;
  patternMessage?: string;
  oneOf?: readonly string[];
  /** Cannot change once created (a PATCH with another value is a 400). */
  immutable?: boolean;
  /** Unique, case-insensitively; a clash is a 400. */
  unique?: boolean;
}

export type CollectionName = 'zones' | 'sites' | 'service-types' | 'resources' | 'bundles' | 'ncris-facilities' | 'ardc-projects' | 'approvers';

export interface CollectionDef {
  name: CollectionName;
  table: string;
  /** The primary-key column. */
  pk: 'id' | 'name' | 'catalog_name';
  /** For integer-keyed collections: the natural key a non-numeric path key means (allocations.md 8). */
  naturalKey?: string;
  fields: FieldDef[];
  orderBy: string;
  /** What a singular error message calls one object. */
  label: string;
}

const NAME_32 = /^[A-Za-z0-9_.-]+$/;
const NO_DOT = /^[^.]+$/;

export const COLLECTIONS: Record<CollectionName, CollectionDef> = {
  zones: {
    name: 'zones',
    table: 'alloc_zone',
    pk: 'name',
    label: 'zone',
    orderBy: '"display_name", "name"',
    fields: [
      { name: 'name', kind: 'string', required: true, max: 32, pattern: NAME_32, patternMessage: 'Only letters, digits, "_", "." and "-" are allowed.', immutable: true, unique: true },
      { name: 'display_name', kind: 'string', required: true, max: 64 },
      { name: 'enabled', kind: 'bool' },
    ],
  },
  sites: {
    name: 'sites',
    table: 'alloc_site',
    pk: 'id',
    naturalKey: 'name',
    label: 'site',
    orderBy: '"id"',
    fields: [
      { name: 'name', kind: 'string', required: true, max: 32, unique: true },
      { name: 'display_name', kind: 'string', required: true, max: 64 },
      { name: 'enabled', kind: 'bool' },
      { name: 'compute_zones', kind: 'stringList' },
    ],
  },
  'service-types': {
    name: 'service-types',
    table: 'alloc_service_type',
    pk: 'catalog_name',
    label: 'service type',
    orderBy: '"order" NULLS LAST, "name", "catalog_name"',
    fields: [
      { name: 'catalog_name', kind: 'string', required: true, max: 32, pattern: NO_DOT, patternMessage: 'May not contain a dot.', immutable: true, unique: true },
      { name: 'name', kind: 'string', required: true, max: 64 },
      { name: 'description', kind: 'string', nullable: true },
      { name: 'notes', kind: 'string', nullable: true },
      { name: 'order', kind: 'int', nullable: true, min: 0 },
      { name: 'experimental', kind: 'bool' },
      { name: 'location_specific', kind: 'bool' },
      { name: 'zones', kind: 'stringList' },
    ],
  },
  resources: {
    name: 'resources',
    table: 'alloc_resource',
    pk: 'id',
    label: 'resource',
    orderBy: '"id"',
    fields: [
      { name: 'name', kind: 'string', required: true, max: 64 },
      { name: 'service_type', kind: 'string', required: true },
      { name: 'quota_name', kind: 'string', required: true, max: 32, pattern: NO_DOT, patternMessage: 'May not contain a dot.' },
      { name: 'unit', kind: 'string', required: true, max: 32 },
      { name: 'requestable', kind: 'bool' },
      { name: 'resource_type', kind: 'string', oneOf: ['integer', 'boolean'] },
      { name: 'help_text', kind: 'string', nullable: true },
      { name: 'default', kind: 'int', nullable: true },
    ],
  },
  bundles: {
    name: 'bundles',
    table: 'alloc_bundle',
    pk: 'id',
    naturalKey: 'name',
    label: 'bundle',
    orderBy: '"order", "id"',
    fields: [
      { name: 'name', kind: 'string', required: true, max: 64, unique: true },
      { name: 'description', kind: 'string', required: true },
      { name: 'zone', kind: 'string', required: true },
      { name: 'order', kind: 'int', required: true },
      { name: 'su_per_year', kind: 'int', required: true, min: 0 },
    ],
  },
  'ncris-facilities': {
    name: 'ncris-facilities',
    table: 'alloc_facility',
    pk: 'id',
    naturalKey: 'short_name',
    label: 'NCRIS facility',
    orderBy: '"id"',
    fields: [
      { name: 'name', kind: 'string', required: true, max: 255, unique: true },
      { name: 'short_name', kind: 'string', required: true, max: 64, unique: true },
    ],
  },
  'ardc-projects': {
    name: 'ardc-projects',
    table: 'alloc_ardc_project',
    pk: 'id',
    naturalKey: 'short_name',
    label: 'ARDC project',
    orderBy: '"rank", "name", "id"',
    fields: [
      { name: 'name', kind: 'string', required: true, max: 255, unique: true },
      { name: 'short_name', kind: 'string', required: true, max: 64, unique: true },
      { name: 'project', kind: 'bool' },
      { name: 'project_id', kind: 'string', max: 20 },
      { name: 'enabled', kind: 'bool' },
      { name: 'rank', kind: 'int' },
      { name: 'explain', kind: 'bool' },
    ],
  },
  approvers: {
    name: 'approvers',
    table: 'alloc_approver',
    pk: 'id',
    label: 'approver',
    orderBy: '"id"',
    fields: [
      { name: 'username', kind: 'string', required: true, max: 254, pattern: /^[^@\s]+@[^@\s]+$/, patternMessage: 'Enter a valid email address.', unique: true },
      { name: 'display_name', kind: 'string', required: true, max: 64 },
      { name: 'sites', kind: 'intList' },
    ],
  },
};
