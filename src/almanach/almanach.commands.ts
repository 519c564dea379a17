import { EntityManager } from 'typeorm';
import { Micros } from './almanach-dates';
import { ImageMeta } from './almanach-version';
import { StatementCredential } from '../auth/statement-credential';

/**
 * The write operations of Almanach v1 (almanach-v1.md sections 5 and 6), as
 * the service receives them: ids as given, dates already parsed to
 * microseconds, values already checked. Every caller builds these at its own
 * edge — the HTTP controller from validated DTOs (src/almanach/dto/), the
 * notification collector from OpenStack events (collector.md 4) — and both get
 * the same history rules and per-entity lock from AlmanachService.
 */

/** 5.2: opens an instance's first version (or a re-creation, 5.14). */
export interface CreateInstanceCommand {
  projectId: string;
  instanceId: string;
  /** Start of the first version (`created_at`). */
  createdAt: Micros;
  name: string | null;
  flavor: string | null;
  /** Image data; keys other than distro, version, os_type and null values are dropped (3.2). */
  imageMeta: ImageMeta;
  /** Instance metadata stored as given; the API always sends `{}` (the collector may keep some keys). */
  metadata?: Record<string, unknown>;
}

/** 5.3: closes the open version at `date`. */
export interface DeleteInstanceCommand {
  instanceId: string;
  date: Micros;
}

/** 5.4: a new version with `flavor` at `date`; the same flavor changes nothing. */
export interface ResizeInstanceCommand {
  instanceId: string;
  date: Micros;
  flavor: string;
}

/** 5.5: a new version with `imageMeta` at `date`; the same image data changes nothing. */
export interface RebuildInstanceCommand {
  instanceId: string;
  date: Micros;
  imageMeta: ImageMeta;
}

/** The corrections of 5.13; an absent key leaves the field unchanged. */
export interface InstanceChanges {
  name?: string;
  flavor?: string;
  os?: ImageMeta;
  metadata?: Record<string, unknown>;
  startDate?: Micros;
  endDate?: Micros;
}

/**
 * 5.13: corrects the open version in place, or — with `window` — the one
 * closed version whose period lies inside it.
 */
export interface UpdateInstanceCommand {
  instanceId: string;
  window?: { start: Micros; end: Micros };
  changes: InstanceChanges;
}

/** 5.7: opens a volume's first version. */
export interface CreateVolumeCommand {
  projectId: string;
  volumeId: string;
  start: Micros;
  /** A volume type id, resolved to its name (404 when unknown); null for none. */
  volumeTypeId: string | null;
  /** Size in GB, a whole number ≥ 0. */
  size: number;
  name: string | null;
  /** Instance ids, without duplicates. */
  attachedTo: string[];
}

/** 5.8: closes the open version at `date`, or removes it under the 60-second rule. */
export interface DeleteVolumeCommand {
  volumeId: string;
  date: Micros;
}

/** 5.9: a new version with `size` at `date`; the same size changes nothing. */
export interface ResizeVolumeCommand {
  volumeId: string;
  date: Micros;
  size: number;
}

/** 5.10: `attachments` is the complete list after the attach. */
export interface AttachVolumeCommand {
  volumeId: string;
  date: Micros;
  attachments: string[];
}

/** 5.11: `attachments` is the list that remains after the detach. */
export interface DetachVolumeCommand {
  volumeId: string;
  date: Micros;
  attachments: string[];
}

/**
 * Section 6, last row (collector only, no HTTP route): the open version's
 * name is set in place, `last_event` unchanged.
 */
export interface RenameVolumeCommand {
  volumeId: string;
  name: string | null;
}

/** 5.16: duplicates as in 5.14 (same name: no-op; another name: 409). */
export interface CreateVolumeTypeCommand {
  volumeTypeId: string;
  name: string;
}

/** 5.16: unknown → 404. */
export interface DeleteVolumeTypeCommand {
  volumeTypeId: string;
}

/** 5.6: the versions of a project overlapping [start, end]. */
export interface ListWindowQuery {
  projectId: string;
  start: Micros;
  /** Absent: now. */
  end?: Micros;
  /** Absent: both types (`/entities`). */
  entityType?: 'instance' | 'volume';
  /** A token taken from memory: the listing's statement confirms it, or the listing answers 401. */
  credential?: StatementCredential;
}

/**
 * Options of every write. `within` runs inside the write's transaction, under
 * the entity's lock, after the history change (also after a no-op): the
 * collector records its receipt there so that the change and the receipt
 * commit together (collector.md 5.3). An error it throws rolls everything
 * back.
 */
export interface WriteOptions {
  within?: (m: EntityManager) => Promise<void>;
  /** A token taken from memory (an entity write over HTTP): the transaction's first statement confirms it, or the write answers 401 and writes nothing. */
  credential?: StatementCredential;
}
