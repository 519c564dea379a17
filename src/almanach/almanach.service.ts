import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { canSeeProject, Principal } from '../auth/principal';
import { AuthError } from '../auth/auth.errors';
import { DomainError } from '../http/domain-error';
import { SERVICE_VERSION } from '../version';
import { AlmanachBody } from './almanach-body';
import { formatAlmanachDate, Micros, nowMicros, parseAlmanachDate, SECOND } from './almanach-dates';
import { filterImageMeta, sameImageMeta, Version, versionToWire } from './almanach-version';
import { AlmanachError, INVALID_PAYLOAD, missingParam } from './almanach.errors';
import { AlmanachRepository as repo } from './almanach.repository';
import { parseInstanceUpdate } from './instance-update';
import { EntityType } from './entity-version.entity';
import { VolumeType } from './volume-type.entity';

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
  constructor(private readonly db: DataSource) {}

  async info(): Promise<Wire> {
    const counts = await repo.counts(this.db.manager);
    return { info: { version: SERVICE_VERSION }, database: { all_entities: counts.all, active_entities: counts.active } };
  }

  // ---- instances -------------------------------------------------------

  async createInstance(projectId: string, payload: unknown): Promise<void> {
    const body = new AlmanachBody(payload);
    const entityId = body.string('id');
    const start = body.date('created_at');
    const name = body.nullableString('name');
    const flavor = body.nullableString('flavor');
    const imageMeta = filterImageMeta({
      distro: body.nullableString('os_distro'),
      version: body.nullableString('os_version'),
      os_type: body.nullableString('os_type'),
    });
    await this.write(entityId, async (m) => {
      if (!(await this.mayCreate(m, entityId, 'instance', projectId, start))) return;
      await repo.insert(m, {
        entityId,
        entityType: 'instance',
        projectId,
        start,
        lastEvent: start,
        name,
        flavor,
        imageMeta,
        metadata: {},
        volumeType: null,
        size: null,
        attachedTo: [],
      });
    });
  }

  async deleteInstance(entityId: string, payload: unknown): Promise<void> {
    const date = new AlmanachBody(payload).date('date');
    await this.write(entityId, async (m) => {
      const open = await this.openOf(m, entityId, 'instance', date);
      await repo.close(m, open.id, date);
    });
  }

  async resizeInstance(entityId: string, payload: unknown): Promise<void> {
    const body = new AlmanachBody(payload);
    const date = body.date('date');
    const flavor = body.string('flavor');
    await this.write(entityId, async (m) => {
      const open = await this.openOf(m, entityId, 'instance', date);
      if (open.flavor === flavor) return;
      await this.replace(m, open, date, { flavor });
    });
  }

  async rebuildInstance(entityId: string, payload: unknown): Promise<void> {
    const body = new AlmanachBody(payload);
    const date = body.date('rebuild_date');
    const imageMeta = filterImageMeta({
      distro: body.nullableString('distro'),
      version: body.nullableString('version'),
      os_type: body.nullableString('os_type'),
    });
    await this.write(entityId, async (m) => {
      const open = await this.openOf(m, entityId, 'instance', date);
      if (sameImageMeta(open.imageMeta, imageMeta)) return;
      await this.replace(m, open, date, { imageMeta });
    });
  }

  /** PUT /v1/entity/instance/{id}: correct the open version, or one closed version by window (5.13). */
  async updateInstance(entityId: string, query: Record<string, unknown>, payload: unknown): Promise<Wire> {
    const window = query.start === undefined ? null : { start: queryDate(query, 'start'), end: queryDate(query, 'end') };
    const update = parseInstanceUpdate(payload);
    return this.write(entityId, async (m) => {
      let target: Version;
      if (window) {
        const matches = await repo.listClosedWithin(m, entityId, window.start, window.end);
        if (matches.length === 0) throw notFound(entityId);
        if (matches.length > 1) throw new DomainError(AlmanachError.MultipleEntities, 'Multiple entities found while updating a closed entity');
        target = matches[0];
      } else {
        const open = await repo.findOpen(m, entityId);
        if (!open || open.entityType !== 'instance') throw notFound(entityId);
        target = open;
      }
      const next: Version = { ...target };
      if (update.name !== undefined) next.name = update.name;
      if (update.flavor !== undefined) next.flavor = update.flavor;
      if (update.os !== undefined) next.imageMeta = update.os;
      if (update.metadata !== undefined) next.metadata = update.metadata;
      if (update.startDate !== undefined) next.start = update.startDate;
      if (update.endDate !== undefined) next.end = update.endDate;
      if (next.end !== null && next.end < next.start) throw outOfOrder(next.start, next.end);
      return versionToWire(await repo.save(m, next));
    });
  }

  // ---- volumes ---------------------------------------------------------

  async createVolume(projectId: string, payload: unknown): Promise<void> {
    const body = new AlmanachBody(payload);
    const entityId = body.string('volume_id');
    const start = body.date('start');
    const volumeTypeId = body.nullableString('volume_type');
    const size = body.size('size');
    const name = body.nullableString('volume_name');
    const attachedTo = body.idList('attached_to', true);
    await this.write(entityId, async (m) => {
      let volumeType: string | null = null;
      if (volumeTypeId !== null) {
        const type = await m.getRepository(VolumeType).findOne({ where: { volumeTypeId } });
        if (!type) throw volumeTypeNotFound(volumeTypeId);
        volumeType = type.volumeTypeName;
      }
      if (!(await this.mayCreate(m, entityId, 'volume', projectId, start))) return;
      await repo.insert(m, {
        entityId,
        entityType: 'volume',
        projectId,
        start,
        lastEvent: start,
        name,
        flavor: null,
        imageMeta: {},
        metadata: {},
        volumeType,
        size,
        attachedTo,
      });
    });
  }

  async deleteVolume(entityId: string, payload: unknown): Promise<void> {
    const date = new AlmanachBody(payload).date('date');
    await this.write(entityId, async (m) => {
      const open = await this.openOf(m, entityId, 'volume', date);
      // A version opened less than 60 s before the delete is discarded when an earlier one exists (5.8).
      if (date - open.start < THRESHOLD && (await repo.countVersions(m, entityId)) > 1) {
        await repo.remove(m, open.id);
      } else {
        await repo.close(m, open.id, date);
      }
    });
  }

  async resizeVolume(entityId: string, payload: unknown): Promise<void> {
    const body = new AlmanachBody(payload);
    const size = body.size('size');
    const date = body.date('date');
    await this.write(entityId, async (m) => {
      const open = await this.openOf(m, entityId, 'volume', date);
      if (open.size === size) return;
      await this.replace(m, open, date, { size });
    });
  }

  /** Attach and detach both carry the complete list after the event (5.10, 5.11). */
  async setAttachments(entityId: string, payload: unknown, event: 'attach' | 'detach'): Promise<void> {
    const body = new AlmanachBody(payload);
    const date = body.date('date');
    const attachments = body.idList('attachments');
    await this.write(entityId, async (m) => {
      const open = await this.openOf(m, entityId, 'volume', date);
      const young = date - open.start < THRESHOLD;
      const inPlace = event === 'attach' ? open.attachedTo.length > 0 || young : attachments.length > 0 || young;
      if (inPlace) {
        await repo.save(m, { ...open, attachedTo: attachments, lastEvent: date });
      } else {
        await this.replace(m, open, date, { attachedTo: attachments });
      }
    });
  }

  // ---- reads -----------------------------------------------------------

  async listWindow(principal: Principal, projectId: string, query: Record<string, unknown>, type?: EntityType): Promise<Wire[]> {
    if (!canSeeProject(principal, projectId)) throw new DomainError(AuthError.Forbidden, 'Forbidden');
    const start = queryDate(query, 'start');
    const end = query.end === undefined ? nowMicros() : queryDate(query, 'end');
    if (end < start) throw outOfOrder(start, end);
    const versions = await repo.listWindow(this.db.manager, projectId, start, end, type);
    return versions.map(versionToWire);
  }

  async getEntity(principal: Principal, entityId: string): Promise<Wire[]> {
    const versions = (await repo.listEntity(this.db.manager, entityId)).filter((v) => canSeeProject(principal, v.projectId));
    if (versions.length === 0) throw new DomainError(AlmanachError.EntityNotFound, 'Entity not found');
    return versions.map(versionToWire);
  }

  // ---- volume types ----------------------------------------------------

  async listVolumeTypes(): Promise<Wire[]> {
    const types = await this.db.getRepository(VolumeType).find({ order: { volumeTypeId: 'ASC' } });
    return types.map(volumeTypeToWire);
  }

  async getVolumeType(id: string): Promise<Wire> {
    const type = await this.db.getRepository(VolumeType).findOne({ where: { volumeTypeId: id } });
    if (!type) throw volumeTypeNotFound(id);
    return volumeTypeToWire(type);
  }

  async createVolumeType(payload: unknown): Promise<void> {
    const body = new AlmanachBody(payload);
    const id = body.string('type_id');
    const name = body.string('type_name');
    await this.write(`volume_type:${id}`, async (m) => {
      const existing = await m.getRepository(VolumeType).findOne({ where: { volumeTypeId: id } });
      if (existing) {
        if (existing.volumeTypeName === name) return;
        throw new DomainError(AlmanachError.Conflict, `Volume type ${id} already exists with the name "${existing.volumeTypeName}"`);
      }
      await m.getRepository(VolumeType).insert({ volumeTypeId: id, volumeTypeName: name });
    });
  }

  async deleteVolumeType(id: string): Promise<void> {
    const result = await this.db.getRepository(VolumeType).delete({ volumeTypeId: id });
    if (!result.affected) throw volumeTypeNotFound(id);
  }

  // ---- shared rules ----------------------------------------------------

  private write<T>(lockKey: string, work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(async (m) => {
      await repo.lockEntity(m, lockKey);
      return work(m);
    });
  }

  /**
   * Duplicate rules of 5.14: an open version of the same type and project
   * makes the create a no-op (false); any other open version, or a start
   * before the latest end, is a conflict.
   */
  private async mayCreate(m: EntityManager, entityId: string, type: EntityType, projectId: string, start: Micros): Promise<boolean> {
    const open = await repo.findOpen(m, entityId);
    if (open) {
      if (open.entityType === type && open.projectId === projectId) return false;
      throw new DomainError(
        AlmanachError.Conflict,
        `Entity ${entityId} already exists as an active ${open.entityType} of another project or type`,
      );
    }
    const latestEnd = await repo.latestEnd(m, entityId);
    if (latestEnd !== null && start < latestEnd) {
      throw new DomainError(
        AlmanachError.Conflict,
        `Entity ${entityId} cannot be created again at ${formatAlmanachDate(start)}, before its previous end ${formatAlmanachDate(latestEnd)}`,
      );
    }
    return true;
  }

  /** The open version of the given type; an event dated before its start is refused (5.15). */
  private async openOf(m: EntityManager, entityId: string, type: EntityType, date: Micros): Promise<Version> {
    const open = await repo.findOpen(m, entityId);
    if (!open || open.entityType !== type) throw notFound(entityId);
    if (date < open.start) throw outOfOrder(open.start, date);
    return open;
  }

  /** Closes the open version at `date` and opens its successor with `changes` (section 6). */
  private async replace(m: EntityManager, open: Version, date: Micros, changes: Partial<Version>): Promise<void> {
    await repo.close(m, open.id, date);
    await repo.insert(m, { ...open, ...changes, start: date, lastEvent: date, end: null });
  }
}

/** A query-string date (almanach-v1.md 2.2); absent → 400 naming it, unparseable → 400. */
function queryDate(query: Record<string, unknown>, key: string): Micros {
  const raw = query[key];
  if (raw === undefined) throw new DomainError(AlmanachError.MissingParam, missingParam(key));
  const micros = parseAlmanachDate(Array.isArray(raw) ? undefined : raw);
  if (micros === null) throw new DomainError(AlmanachError.InvalidPayload, INVALID_PAYLOAD);
  return micros;
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

function volumeTypeToWire(type: VolumeType): Wire {
  return { volume_type_id: type.volumeTypeId, volume_type_name: type.volumeTypeName };
}
