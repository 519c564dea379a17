import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AlmanachError } from '../almanach/almanach.errors';
import { AlmanachRepository } from '../almanach/almanach.repository';
import { AlmanachService } from '../almanach/almanach.service';
import { WriteOptions } from '../almanach/almanach.commands';
import { DomainError } from '../http/domain-error';
import { CollectorCommand } from './collector.commands';
import { CollectorRepository } from './collector.repository';

/** What writing one command came to (collector.md 5.1, 5.2). */
export type WriteResult =
  | { result: 'processed' | 'duplicate' | 'ignored' }
  | { result: 'refused' | 'malformed' | 'not_found'; error: string };

export interface Receipt {
  messageId: string;
  eventType: string;
}

/** Raised inside the write's transaction to roll it back. */
class Rollback extends Error {
  constructor(readonly result: WriteResult) {
    super(result.result);
  }
}

/**
 * The collector's one door into Almanach: each command becomes the
 * AlmanachService operation the HTTP API uses (same validation, history
 * rules, per-entity lock), with the message's receipt inserted in the same
 * transaction through the service's `within` hook (collector.md 5.3).
 * Database errors propagate; the caller classifies them.
 */
@Injectable()
export class AlmanachWriter {
  constructor(
    private readonly almanach: AlmanachService,
    private readonly receipts: CollectorRepository,
    private readonly versions: AlmanachRepository,
    private readonly db: DataSource,
  ) {}

  async apply(command: CollectorCommand, receipt: Receipt): Promise<WriteResult> {
    const record = async (m: EntityManager) => {
      if (!(await this.receipts.insertReceipt(receipt.messageId, receipt.eventType, m))) throw new Rollback({ result: 'duplicate' });
    };
    const options: WriteOptions = { within: record };
    try {
      await this.dispatch(command, options, record);
      return { result: 'processed' };
    } catch (error) {
      if (error instanceof Rollback) return error.result;
      if (!(error instanceof DomainError)) throw error;
      switch (error.code) {
        case AlmanachError.VolumeTypeNotFound:
          return { result: 'not_found', error: error.message };
        case AlmanachError.EntityNotFound:
          return this.afterNotFound(command, receipt, error.message);
        case AlmanachError.InvalidPayload:
        case AlmanachError.InvalidDate:
        case AlmanachError.MissingParam:
          return { result: 'malformed', error: error.message };
        default:
          return { result: 'refused', error: error.message };
      }
    }
  }

  private async dispatch(c: CollectorCommand, options: WriteOptions, record: (m: EntityManager) => Promise<void>): Promise<void> {
    switch (c.kind) {
      case 'instance.create':
        return this.almanach.createInstance(
          { instanceId: c.entityId, projectId: c.projectId, createdAt: c.start, name: c.name, flavor: c.flavor, imageMeta: c.imageMeta, metadata: c.metadata },
          options,
        );
      case 'instance.delete':
        return this.almanach.deleteInstance({ instanceId: c.entityId, date: c.date }, options);
      case 'instance.resize':
        return this.almanach.resizeInstance({ instanceId: c.entityId, date: c.date, flavor: c.flavor }, options);
      case 'instance.rebuild':
        return this.almanach.rebuildInstance({ instanceId: c.entityId, date: c.date, imageMeta: c.imageMeta }, options);
      case 'volume.create':
        return this.almanach.createVolume(
          { volumeId: c.entityId, projectId: c.projectId, start: c.start, name: c.name, volumeTypeId: c.volumeTypeId, size: c.size, attachedTo: [] },
          options,
        );
      case 'volume.delete':
        return this.almanach.deleteVolume({ volumeId: c.entityId, date: c.date }, options);
      case 'volume.resize':
        return this.almanach.resizeVolume({ volumeId: c.entityId, date: c.date, size: c.size }, options);
      case 'volume.attach':
        return this.almanach.attachVolume({ volumeId: c.entityId, date: c.date, attachments: c.attachments }, options);
      case 'volume.detach':
        return this.almanach.detachVolume({ volumeId: c.entityId, date: c.date, attachments: c.attachments }, options);
      case 'volume.rename':
        // A rename of a volume with no open version is ignored and leaves no receipt (collector.md 4.1, 5.3).
        return this.almanach.renameVolume(
          { volumeId: c.entityId, name: c.name },
          {
            within: async (m) => {
              const open = await this.versions.findOpen(c.entityId, m);
              if (!open || open.entityType !== 'volume') throw new Rollback({ result: 'ignored' });
              await record(m);
            },
          },
        ).then(() => undefined);
      case 'volume_type.create':
        return this.almanach.createVolumeType({ volumeTypeId: c.entityId, name: c.name }, options);
    }
  }

  /**
   * The service found no open version. No version at all: the create may
   * still be on its way (not_found, deferred). All closed: a delete dated at
   * the latest end is a re-sent delete (processed, no change, collector.md
   * 4.1); anything else is refused.
   */
  private async afterNotFound(command: CollectorCommand, receipt: Receipt, message: string): Promise<WriteResult> {
    try {
      return await this.db.transaction(async (m) => {
        await this.versions.lockEntity(command.entityId, m);
        const versions = await this.versions.listEntity(command.entityId, m);
        if (versions.length === 0) return { result: 'not_found', error: message } as WriteResult;
        const type = command.kind.startsWith('instance.') ? 'instance' : 'volume';
        const resent =
          (command.kind === 'instance.delete' || command.kind === 'volume.delete') &&
          versions.every((v) => v.entityType === type && v.end !== null) &&
          versions.reduce((latest, v) => (v.end! > latest ? v.end! : latest), versions[0].end!) === command.date;
        if (!resent) return { result: 'refused', error: message } as WriteResult;
        if (!(await this.receipts.insertReceipt(receipt.messageId, receipt.eventType, m))) throw new Rollback({ result: 'duplicate' });
        return { result: 'processed' } as WriteResult;
      });
    } catch (error) {
      if (error instanceof Rollback) return error.result;
      throw error;
    }
  }
}
