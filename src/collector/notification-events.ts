import { Micros, parseAlmanachDate, SECOND } from '../almanach/almanach-dates';
import { ImageMeta } from '../almanach/almanach-version';
import { CollectorCommand } from './collector.commands';
import { isObject, MalformedNotification, NotificationMessage } from './notification-message';

/** The twelve event types of collector.md 4.1; any other is ignored before its payload is read. */
export const HANDLED_EVENT_TYPES = [
  'compute.instance.create.end',
  'compute.instance.delete.end',
  'compute.instance.resize.confirm.end',
  'compute.instance.rebuild.end',
  'volume.create.end',
  'volume.delete.end',
  'volume.resize.end',
  'volume.attach.end',
  'volume.detach.end',
  'volume.update.end',
  'volume.exists',
  'volume_type.create',
] as const;

export type HandledEventType = (typeof HANDLED_EVENT_TYPES)[number];

const HANDLED = new Set<string>(HANDLED_EVENT_TYPES);

export function isHandledEventType(eventType: string): eventType is HandledEventType {
  return HANDLED.has(eventType);
}

/** Almanach's `instance_existence_threshold` (collector.md 4.3). */
const EXISTENCE_THRESHOLD: Micros = 900n * SECOND;

export interface EventOptions {
  /** NOTIFICATIONS_INSTANCE_METADATA: keys to keep, `*` for all. */
  instanceMetadata: string[];
}

/**
 * Reads a notification of a handled type into its command (collector.md 4.1,
 * 4.2). Throws MalformedNotification naming the field.
 */
export function toCommand(message: NotificationMessage & { eventType: HandledEventType }, options: EventOptions): CollectorCommand {
  if (!isObject(message.payload)) throw new MalformedNotification('payload is not an object');
  const p = new PayloadReader(message.payload);
  const eventTime = () => readEventTime(message);
  switch (message.eventType) {
    case 'compute.instance.create.end':
      return {
        kind: 'instance.create',
        entityId: p.id('instance_id'),
        projectId: p.project(),
        start: p.firstDate(['created_at', 'launched_at']),
        name: p.optionalString('hostname') ?? p.optionalString('display_name') ?? null,
        flavor: p.nullableString('instance_type'),
        imageMeta: p.imageMeta(),
        metadata: p.metadata(options.instanceMetadata),
      };
    case 'compute.instance.delete.end': {
      const entityId = p.id('instance_id');
      const date = p.firstDate(['terminated_at', 'deleted_at'], eventTime);
      const state = message.payload.state;
      const created = parseAlmanachDate(nonEmpty(message.payload.created_at));
      const gone = parseAlmanachDate(nonEmpty(message.payload.deleted_at) ?? nonEmpty(message.payload.terminated_at));
      return {
        kind: 'instance.delete',
        entityId,
        date,
        filter: {
          neverBuilt: state === 'error',
          shortLived: state === 'deleted' && created !== null && gone !== null && gone - created < EXISTENCE_THRESHOLD,
        },
      };
    }
    case 'compute.instance.resize.confirm.end':
      return { kind: 'instance.resize', entityId: p.id('instance_id'), date: eventTime(), flavor: p.id('instance_type') };
    case 'compute.instance.rebuild.end':
      return { kind: 'instance.rebuild', entityId: p.id('instance_id'), date: eventTime(), imageMeta: p.imageMeta() };
    case 'volume.create.end':
      return {
        kind: 'volume.create',
        entityId: p.id('volume_id'),
        projectId: p.project(),
        start: p.firstDate(['created_at', 'launched_at']),
        name: p.nullableString('display_name'),
        volumeTypeId: p.nullableString('volume_type') || null,
        size: p.size('size'),
      };
    case 'volume.delete.end':
      return { kind: 'volume.delete', entityId: p.id('volume_id'), date: eventTime() };
    case 'volume.resize.end':
      return { kind: 'volume.resize', entityId: p.id('volume_id'), date: eventTime(), size: p.size('size') };
    case 'volume.attach.end':
    case 'volume.detach.end':
      return {
        kind: message.eventType === 'volume.attach.end' ? 'volume.attach' : 'volume.detach',
        entityId: p.id('volume_id'),
        date: eventTime(),
        attachments: p.attachments(),
      };
    case 'volume.update.end':
    case 'volume.exists':
      return { kind: 'volume.rename', entityId: p.id('volume_id'), name: p.nullableString('display_name') };
    case 'volume_type.create': {
      const types = message.payload.volume_types;
      if (!isObject(types)) throw new MalformedNotification('payload.volume_types is missing or not an object');
      const t = new PayloadReader(types, 'payload.volume_types');
      return { kind: 'volume_type.create', entityId: t.id('id'), name: t.id('name') };
    }
  }
}

/** `_context_timestamp` when the message carries it (older releases), else the message's `timestamp` (collector.md 4.2). */
export function readEventTime(message: NotificationMessage): Micros {
  const fromContext = nonEmpty(message.context.timestamp);
  const source = fromContext !== undefined ? '_context_timestamp' : 'timestamp';
  const raw = fromContext ?? nonEmpty(message.timestamp);
  if (raw === undefined) throw new MalformedNotification('timestamp is missing');
  const micros = parseAlmanachDate(raw);
  if (micros === null) throw new MalformedNotification(`${source} is not a date: ${clip(raw)}`);
  return micros;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function clip(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

class PayloadReader {
  constructor(
    private readonly payload: Record<string, unknown>,
    private readonly prefix = 'payload',
  ) {}

  /** A non-empty string. */
  id(key: string): string {
    const value = this.payload[key];
    if (value === undefined || value === null) throw this.error(key, 'is missing');
    if (typeof value !== 'string' || value === '') throw this.error(key, 'must be a non-empty string');
    return value;
  }

  /** `tenant_id`, or `project_id` when `tenant_id` is absent. */
  project(): string {
    return this.id(this.payload.tenant_id === undefined && this.payload.project_id !== undefined ? 'project_id' : 'tenant_id');
  }

  optionalString(key: string): string | undefined {
    return nonEmpty(this.payload[key]);
  }

  nullableString(key: string): string | null {
    const value = this.payload[key];
    return typeof value === 'string' ? value : null;
  }

  size(key: string): number {
    const value = this.payload[key];
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
    if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
    if (value === undefined || value === null) throw this.error(key, 'is missing');
    throw this.error(key, 'must be a whole number ≥ 0');
  }

  /** The first present source; a present one that does not parse is malformed (collector.md 4.2, "Dates"). */
  firstDate(keys: string[], fallback?: () => Micros): Micros {
    for (const key of keys) {
      const raw = nonEmpty(this.payload[key]);
      if (raw === undefined) continue;
      const micros = parseAlmanachDate(raw);
      if (micros === null) throw this.error(key, `is not a date: ${clip(raw)}`);
      return micros;
    }
    if (fallback) return fallback();
    throw new MalformedNotification(`${keys.map((k) => `${this.prefix}.${k}`).join(' and ')} are missing`);
  }

  imageMeta(): ImageMeta {
    const source = isObject(this.payload.image_meta) ? this.payload.image_meta : {};
    const meta: ImageMeta = {};
    const distro = nonEmpty(source.distro) ?? nonEmpty(source.os_distro);
    const version = nonEmpty(source.version) ?? nonEmpty(source.os_version);
    const osType = nonEmpty(source.os_type) ?? nonEmpty(this.payload.os_type);
    if (distro !== undefined) meta.distro = distro;
    if (version !== undefined) meta.version = version;
    if (osType !== undefined) meta.os_type = osType;
    return meta;
  }

  metadata(keep: string[]): Record<string, unknown> {
    if (keep.length === 0) return {};
    const raw = this.payload.metadata;
    let all: Record<string, unknown> = {};
    if (Array.isArray(raw)) {
      for (const item of raw) {
        if (isObject(item) && typeof item.key === 'string') all[item.key] = item.value;
      }
    } else if (isObject(raw)) {
      all = raw;
    }
    if (keep.includes('*')) return { ...all };
    const kept: Record<string, unknown> = {};
    for (const key of keep) if (Object.prototype.hasOwnProperty.call(all, key)) kept[key] = all[key];
    return kept;
  }

  /** `volume_attachment[].instance_uuid`, else `[instance_uuid]`, else `[]` (collector.md 4.2). */
  attachments(): string[] {
    const list = this.payload.volume_attachment;
    if (Array.isArray(list)) {
      const ids: string[] = [];
      for (const item of list) {
        const id = isObject(item) ? nonEmpty(item.instance_uuid) : undefined;
        if (id !== undefined && !ids.includes(id)) ids.push(id);
      }
      return ids;
    }
    const single = nonEmpty(this.payload.instance_uuid);
    return single === undefined ? [] : [single];
  }

  private error(key: string, problem: string): MalformedNotification {
    return new MalformedNotification(`${this.prefix}.${key} ${problem}`);
  }
}
