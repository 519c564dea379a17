import { Micros } from '../almanach/almanach-dates';
import { ImageMeta } from '../almanach/almanach-version';

/**
 * What one handled notification asks of Almanach (collector.md 4.1), read
 * from the event by src/collector/notification-events.ts: ids checked, dates
 * parsed to microseconds. src/collector/almanach-writer.ts turns each into
 * the AlmanachService operation.
 */
export type CollectorCommand =
  | CreateInstance
  | DeleteInstance
  | ResizeInstance
  | RebuildInstance
  | CreateVolume
  | DeleteVolume
  | ResizeVolume
  | SetVolumeAttachments
  | RenameVolume
  | CreateVolumeType;

export interface CreateInstance {
  kind: 'instance.create';
  entityId: string;
  projectId: string;
  start: Micros;
  name: string | null;
  flavor: string | null;
  imageMeta: ImageMeta;
  metadata: Record<string, unknown>;
}

export interface DeleteInstance {
  kind: 'instance.delete';
  entityId: string;
  date: Micros;
  /** Almanach's filters for an unknown instance (collector.md 4.3). */
  filter: {
    /** `payload.state` is `error`: never built, ignored at once. */
    neverBuilt: boolean;
    /** `state` is `deleted` and it was deleted less than 900 s after `created_at`. */
    shortLived: boolean;
  };
}

export interface ResizeInstance {
  kind: 'instance.resize';
  entityId: string;
  date: Micros;
  flavor: string;
}

export interface RebuildInstance {
  kind: 'instance.rebuild';
  entityId: string;
  date: Micros;
  imageMeta: ImageMeta;
}

export interface CreateVolume {
  kind: 'volume.create';
  entityId: string;
  projectId: string;
  start: Micros;
  name: string | null;
  volumeTypeId: string | null;
  size: number;
}

export interface DeleteVolume {
  kind: 'volume.delete';
  entityId: string;
  date: Micros;
}

export interface ResizeVolume {
  kind: 'volume.resize';
  entityId: string;
  date: Micros;
  size: number;
}

export interface SetVolumeAttachments {
  kind: 'volume.attach' | 'volume.detach';
  entityId: string;
  date: Micros;
  /** The complete list after the event. */
  attachments: string[];
}

export interface RenameVolume {
  kind: 'volume.rename';
  entityId: string;
  name: string | null;
}

export interface CreateVolumeType {
  kind: 'volume_type.create';
  /** The volume type id. */
  entityId: string;
  name: string;
}

/** The key that orders messages (collector.md 5.4): one entity's messages apply one after another. */
export function orderingKey(command: CollectorCommand): string {
  return command.kind === 'volume_type.create' ? `volume_type:${command.entityId}` : command.entityId;
}
