import { EntityType } from './entity-version.entity';
import { formatAlmanachDate, Micros } from './almanach-dates';

/** One stored version as the service works with it (dates in microseconds). */
export interface Version {
  id: string;
  entityId: string;
  entityType: EntityType;
  projectId: string;
  start: Micros;
  end: Micros | null;
  lastEvent: Micros;
  processed: Micros;
  name: string | null;
  flavor: string | null;
  imageMeta: ImageMeta;
  metadata: Record<string, unknown>;
  volumeType: string | null;
  size: number | null;
  attachedTo: string[];
}

export interface ImageMeta {
  distro?: string;
  version?: string;
  os_type?: string;
}

/** Keeps distro, version and os_type when not null, drops the rest (almanach-v1.md 3.2). */
export function filterImageMeta(source: { distro?: unknown; version?: unknown; os_type?: unknown }): ImageMeta {
  const meta: ImageMeta = {};
  for (const key of ['distro', 'version', 'os_type'] as const) {
    const value = source[key];
    if (value !== null && value !== undefined) meta[key] = String(value);
  }
  return meta;
}

export function sameImageMeta(a: ImageMeta, b: ImageMeta): boolean {
  return a.distro === b.distro && a.version === b.version && a.os_type === b.os_type;
}

/** The wire shape of a version (almanach-v1.md 3.2 and 3.3). */
export function versionToWire(v: Version): Record<string, unknown> {
  const dates = {
    start: formatAlmanachDate(v.start),
    end: v.end === null ? null : formatAlmanachDate(v.end),
    last_event: formatAlmanachDate(v.lastEvent),
  };
  if (v.entityType === 'instance') {
    return {
      entity_id: v.entityId,
      entity_type: v.entityType,
      project_id: v.projectId,
      ...dates,
      name: v.name,
      flavor: v.flavor,
      image_meta: v.imageMeta,
      os: v.imageMeta,
      metadata: v.metadata,
      processed: formatAlmanachDate(v.processed),
    };
  }
  return {
    entity_id: v.entityId,
    entity_type: v.entityType,
    project_id: v.projectId,
    ...dates,
    processed: formatAlmanachDate(v.processed),
    name: v.name,
    volume_type: v.volumeType,
    size: v.size,
    attached_to: v.attachedTo,
  };
}
