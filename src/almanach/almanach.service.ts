import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { canSeeProject, Principal } from '../auth/principal';
import { AuthError } from '../auth/auth.errors';
import { DomainError } from '../http/domain-error';
import { SERVICE_VERSION } from '../version';
import { formatAlmanachDate, Micros, nowMicros, SECOND } from './almanach-dates';
import { filterImageMeta, sameImageMeta, Version, versionToWire } from './almanach-version';
import {
  AttachVolumeCommand,
  CreateInstanceCommand,
  CreateVolumeCommand,
  CreateVolumeTypeCommand,
  DeleteInstanceCommand,
  DeleteVolumeCommand,
  DeleteVolumeTypeCommand,
  DetachVolumeCommand,
  ListWindowQuery,
  RebuildInstanceCommand,
  RenameVolumeCommand,
  ResizeInstanceCommand,
  ResizeVolumeCommand,
  UpdateInstanceCommand,
  WriteOptions,
} from './almanach.commands';
import { AlmanachError, refusedByDatabase } from './almanach.errors';
import { AlmanachRepository } from './almanach.repository';
import { EntityType } from './entity-version.entity';
import { VolumeTypeRepository, VolumeTypeRow } from './volume-type.repository';

/** `volume_existence_threshold` of the reference: 60 seconds (almanach-v1.md 5.8, 5.10, 5.11). */
const THRESHOLD: Micros = 60n * SECOND;

type Wire = Record<string, unknown>;

/**
 * The Almanach v1 rules of almanach-v1.md sections 5 and 6. Every write runs
 * in one transaction holding the entity's advisory lock, so concurrent events
 * on one entity apply one after the other and a failure writes nothing.
 */
@Injectable()
export class AlmanachService {
  constructor(
    private readonly db: DataSource,
    private readonly versions: AlmanachRepository,
    private readonly volumeTypes: VolumeTypeRepository,
  ) {}

  async info(): Promise<Wire> {
    const counts = await this.versions.counts();
    return { info: { version: SERVICE_VERSION }, database: { all_entities: counts.all, active_entities: counts.active } };
  }

  // ---- instances -------------------------------------------------------

  async createInstance(cmd: CreateInstanceCommand, options: WriteOptions = {}): Promise<void> {
    const imageMeta = filterImageMeta(cmd.imageMeta);
    await this.writeEntity(cmd.instanceId, cmd.createdAt, options, async (m, found) => {
      if (!this.mayCreate(found, cmd.instanceId, 'instance', cmd.projectId, cmd.createdAt)) return;
      await this.versions.insert(
        {
          entityId: cmd.instanceId,
          entityType: 'instance',
          projectId: cmd.projectId,
          start: cmd.createdAt,
          lastEvent: cmd.createdAt,
          name: cmd.name,
          flavor: cmd.flavor,
          imageMeta,
          metadata: cmd.metadata ?? {},
          volumeType: null,
          size: null,
          attachedTo: [],
        },
        m,
      );
    });
  }

  async deleteInstance(cmd: DeleteInstanceCommand, options: WriteOptions = {}): Promise<void> {
    await this.writeEntity(cmd.instanceId, null, options, async (m, found) => {
      const open = openOf(found, cmd.instanceId, 'instance', cmd.date);
      await this.versions.close(open.id, cmd.date, m);
    });
  }

  async resizeInstance(cmd: ResizeInstanceCommand, options: WriteOptions = {}): Promise<void> {
    await this.writeEntity(cmd.instanceId, null, options, async (m, found) => {
      const open = openOf(found, cmd.instanceId, 'instance', cmd.date);
      if (open.flavor === cmd.flavor) return;
      await this.replace(m, open, cmd.date, { flavor: cmd.flavor });
    });
  }

  async rebuildInstance(cmd: RebuildInstanceCommand, options: WriteOptions = {}): Promise<void> {
    const imageMeta = filterImageMeta(cmd.imageMeta);
    await this.writeEntity(cmd.instanceId, null, options, async (m, found) => {
      const open = openOf(found, cmd.instanceId, 'instance', cmd.date);
      if (sameImageMeta(open.imageMeta, imageMeta)) return;
      await this.replace(m, open, cmd.date, { imageMeta });
    });
  }

  /** PUT /v1/entity/instance/{id}: correct the open version, or one closed version by window (5.13). */
  async updateInstance(cmd: UpdateInstanceCommand, options: WriteOptions = {}): Promise<Wire> {
    const { instanceId: entityId, window, changes } = cmd;
    return this.writeEntity(entityId, null, options, async (m, open) => {
      let target: Version;
      if (window) {
        const matches = await this.versions.listClosedWithin(entityId, window.start, window.end, m);
        if (matches.length === 0) throw notFound(entityId);
        if (matches.length > 1) throw new DomainError(AlmanachError.MultipleEntities, 'Multiple entities found while updating a closed entity');
        target = matches[0];
      } else {
        if (!open || open.end !== null || open.entityType !== 'instance') throw notFound(entityId);
        target = open;
      }
      const next: Version = { ...target };
      if (changes.name !== undefined) next.name = changes.name;
      if (changes.flavor !== undefined) next.flavor = changes.flavor;
      if (changes.os !== undefined) next.imageMeta = filterImageMeta(changes.os);
      if (changes.metadata !== undefined) next.metadata = changes.metadata;
      if (changes.startDate !== undefined) next.start = changes.startDate;
      if (changes.endDate !== undefined) next.end = changes.endDate;
      if (next.end !== null && next.end < next.start) throw outOfOrder(next.start, next.end);
      return versionToWire(await this.versions.save(next, m));
    });
  }

  // ---- volumes ---------------------------------------------------------

  async createVolume(cmd: CreateVolumeCommand, options: WriteOptions = {}): Promise<void> {
    const entityId = cmd.volumeId;
    await this.writeEntity(entityId, cmd.start, options, async (m, found) => {
      let volumeType: string | null = null;
      if (cmd.volumeTypeId !== null) {
        const type = await this.volumeTypes.find(cmd.volumeTypeId, m);
        if (!type) throw volumeTypeNotFound(cmd.volumeTypeId);
        volumeType = type.volumeTypeName;
      }
      if (!this.mayCreate(found, entityId, 'volume', cmd.projectId, cmd.start)) return;
      await this.versions.insert(
        {
          entityId,
          entityType: 'volume',
          projectId: cmd.projectId,
          start: cmd.start,
          lastEvent: cmd.start,
          name: cmd.name,
          flavor: null,
          imageMeta: {},
          metadata: {},
          volumeType,
          size: cmd.size,
          attachedTo: [...new Set(cmd.attachedTo)],
        },
        m,
      );
    });
  }

  async deleteVolume(cmd: DeleteVolumeCommand, options: WriteOptions = {}): Promise<void> {
    const { volumeId: entityId, date } = cmd;
    await this.writeEntity(entityId, null, options, async (m, found) => {
      const open = openOf(found, entityId, 'volume', date);
      // A version opened less than 60 s before the delete is discarded when an earlier one exists (5.8).
      if (date - open.start < THRESHOLD && (await this.versions.countVersions(entityId, m)) > 1) {
        await this.versions.remove(open.id, m);
      } else {
        await this.versions.close(open.id, date, m);
      }
    });
  }

  async resizeVolume(cmd: ResizeVolumeCommand, options: WriteOptions = {}): Promise<void> {
    await this.writeEntity(cmd.volumeId, null, options, async (m, found) => {
      const open = openOf(found, cmd.volumeId, 'volume', cmd.date);
      if (open.size === cmd.size) return;
      await this.replace(m, open, cmd.date, { size: cmd.size });
    });
  }

  /** 5.10: in place while attached or within 60 s of the start, else a new version. */
  attachVolume(cmd: AttachVolumeCommand, options: WriteOptions = {}): Promise<void> {
    return this.setAttachments(cmd.volumeId, cmd.date, cmd.attachments, 'attach', options);
  }

  /** 5.11: in place while some remain or within 60 s of the start, else a new version. */
  detachVolume(cmd: DetachVolumeCommand, options: WriteOptions = {}): Promise<void> {
    return this.setAttachments(cmd.volumeId, cmd.date, cmd.attachments, 'detach', options);
  }

  /**
   * Section 6, last row (collector only): sets the open version's name in
   * place, `last_event` unchanged. Answers false when the volume has no open
   * version (the collector ignores such a rename, collector.md 4.1).
   */
  async renameVolume(cmd: RenameVolumeCommand, options: WriteOptions = {}): Promise<boolean> {
    return this.writeEntity(cmd.volumeId, null, options, async (m, open) => {
      if (!open || open.end !== null || open.entityType !== 'volume') return false;
      if (open.name !== cmd.name) await this.versions.save({ ...open, name: cmd.name }, m);
      return true;
    });
  }

  /** Attach and detach both carry the complete list after the event (5.10, 5.11). */
  private async setAttachments(
    entityId: string,
    date: Micros,
    list: string[],
    event: 'attach' | 'detach',
    options: WriteOptions,
  ): Promise<void> {
    const attachments = [...new Set(list)];
    await this.writeEntity(entityId, null, options, async (m, found) => {
      const open = openOf(found, entityId, 'volume', date);
      const young = date - open.start < THRESHOLD;
      const inPlace = event === 'attach' ? open.attachedTo.length > 0 || young : attachments.length > 0 || young;
      if (inPlace) {
        await this.versions.save({ ...open, attachedTo: attachments, lastEvent: date }, m);
      } else {
        await this.replace(m, open, date, { attachedTo: attachments });
      }
    });
  }

  // ---- reads -----------------------------------------------------------

  /** The answer's JSON text, as PostgreSQL writes it (AlmanachRepository.listWindow): an array of versionToWire's shapes. */
  async listWindow(principal: Principal, query: ListWindowQuery): Promise<string> {
    if (!canSeeProject(principal, query.projectId)) throw new DomainError(AuthError.Forbidden, 'Forbidden');
    const { start } = query;
    const end = query.end ?? nowMicros();
    if (end < start) throw outOfOrder(start, end);
    return this.versions.listWindow(query.projectId, start, end, query.entityType, undefined, query.credential);
  }

  async getEntity(principal: Principal, entityId: string): Promise<Wire[]> {
    const versions = (await this.versions.listEntity(entityId)).filter((v) => canSeeProject(principal, v.projectId));
    if (versions.length === 0) throw new DomainError(AlmanachError.EntityNotFound, 'Entity not found');
    return versions.map(versionToWire);
  }

  // ---- volume types ----------------------------------------------------

  async listVolumeTypes(): Promise<Wire[]> {
    const types = await this.volumeTypes.list();
    return types.map(volumeTypeToWire);
  }

  async getVolumeType(id: string): Promise<Wire> {
    const type = await this.volumeTypes.find(id);
    if (!type) throw volumeTypeNotFound(id);
    return volumeTypeToWire(type);
  }

  async createVolumeType(cmd: CreateVolumeTypeCommand, options: WriteOptions = {}): Promise<void> {
    const { volumeTypeId: id, name } = cmd;
    await this.write(`volume_type:${id}`, options, async (m) => {
      const existing = await this.volumeTypes.find(id, m);
      if (existing) {
        if (existing.volumeTypeName === name) return;
        throw new DomainError(AlmanachError.Conflict, `Volume type ${id} already exists with the name "${existing.volumeTypeName}"`);
      }
      await this.volumeTypes.insert({ volumeTypeId: id, volumeTypeName: name }, m);
    });
  }

  async deleteVolumeType(cmd: DeleteVolumeTypeCommand, options: WriteOptions = {}): Promise<void> {
    const id = cmd.volumeTypeId;
    await this.write(`volume_type:${id}`, options, async (m) => {
      if (!(await this.volumeTypes.delete(id, m))) throw volumeTypeNotFound(id);
    });
  }

  // ---- shared rules ----------------------------------------------------

  /** One transaction holding a lock (a volume type's): the change, then the caller's `within` (WriteOptions). */
  private async write<T>(lockKey: string, options: WriteOptions, work: (m: EntityManager) => Promise<T>): Promise<T> {
    return refused(() =>
      this.db.transaction(async (m) => {
        await this.versions.lockEntity(lockKey, m);
        return within(m, options, await work(m));
      }),
    );
  }

  /**
   * One transaction holding the entity's lock, with what its first statement
   * found (inEntityTransaction: the open version; for a create, `after` its
   * start, else the version of latest end when that is after it): the
   * change, then the caller's `within`.
   */
  private async writeEntity<T>(
    entityId: string,
    after: Micros | null,
    options: WriteOptions,
    work: (m: EntityManager, found: Version | null) => Promise<T>,
  ): Promise<T> {
    return refused(() => this.versions.inEntityTransaction(entityId, after, async (m, found) => within(m, options, await work(m, found)), options.credential));
  }

  /**
   * Duplicate rules of 5.14, on what inEntityTransaction found for the create's start:
   * an open version of the same type and project makes the create a no-op
   * (false); any other open version, or a version ending after the start, is
   * a conflict.
   */
  private mayCreate(found: Version | null, entityId: string, type: EntityType, projectId: string, start: Micros): boolean {
    if (found && found.end === null) {
      if (found.entityType === type && found.projectId === projectId) return false;
      throw new DomainError(
        AlmanachError.Conflict,
        `Entity ${entityId} already exists as an active ${found.entityType} of another project or type`,
      );
    }
    if (found && start < found.end!) {
      throw new DomainError(
        AlmanachError.Conflict,
        `Entity ${entityId} cannot be created again at ${formatAlmanachDate(start)}, before its previous end ${formatAlmanachDate(found.end!)}`,
      );
    }
    return true;
  }

  /** Closes the open version at `date` and opens its successor with `changes` (section 6). */
  private async replace(m: EntityManager, open: Version, date: Micros, changes: Partial<Version>): Promise<void> {
    await this.versions.closeAndInsert(open.id, date, { ...open, ...changes, start: date, lastEvent: date, end: null }, m);
  }
}

/** A write's result, after the caller's `within` (WriteOptions) ran in its transaction. */
async function within<T>(m: EntityManager, options: WriteOptions, result: T): Promise<T> {
  if (options.within) await options.within(m);
  return result;
}

/** A write, its database refusals (a constraint) answered as the protocol's errors. */
async function refused<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw refusedByDatabase(error) ?? error;
  }
}

/** The open version of the given type (inEntityTransaction's answer); an event dated before its start is refused (5.15). */
function openOf(open: Version | null, entityId: string, type: EntityType, date: Micros): Version {
  // Only a create asks for a closed version (its `after`): anywhere else `found` is open or null.
  if (!open || open.end !== null || open.entityType !== type) throw notFound(entityId);
  if (date < open.start) throw outOfOrder(open.start, date);
  return open;
}

function notFound(entityId: string): DomainError {
  return new DomainError(AlmanachError.EntityNotFound, `Entity ${entityId} not found`);
}

function volumeTypeNotFound(id: string): DomainError {
  return new DomainError(AlmanachError.VolumeTypeNotFound, `Unable to find volume_type_id "${id}"`);
}

function outOfOrder(start: Micros, end: Micros): DomainError {
  return new DomainError(
    AlmanachError.DatesOutOfOrder,
    `The end date ${formatAlmanachDate(end)} is earlier than the start date ${formatAlmanachDate(start)}`,
  );
}

function volumeTypeToWire(type: VolumeTypeRow): Wire {
  return { volume_type_id: type.volumeTypeId, volume_type_name: type.volumeTypeName };
}
