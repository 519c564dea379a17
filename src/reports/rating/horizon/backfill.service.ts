import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../../config/app-config';
import { CommonError, DomainError } from '../../../http/domain-error';
import { newJobId } from '../../jobs/job-id';
import { isoMillis } from '../../window/window.service';
import { BackfillRepository, BackfillRow, ResolvedInstant } from './backfill.repository';
import { BackfillListView, BackfillView } from './dto/backfill.views';

/** The longest a backfill window stays active (reports.md §5.4). */
export const MAX_EXPIRY_DAYS = 7;

/** A backfill window as the route received it. */
export interface CreateBackfillCommand {
  start: string;
  end: string;
  reason: string;
  expiresAt: string;
  createdBy: string;
}

/** `bf_` + a ULID (reports.md 1.9). */
export function newBackfillId(now = Date.now()): string {
  return `bf_${newJobId(now).slice('job_'.length)}`;
}

/**
 * Backfill windows (reports.md §5.4): a separate, admin-only, expiring
 * permission to write into days beyond the late-data horizon. The window is
 * day-aligned in REPORT_TIME_ZONE (PostgreSQL decides the days, §1.5), and
 * expires at most 7 days after it is opened: it is never a switch left on.
 */
@Injectable()
export class BackfillService {
  constructor(
    private readonly backfills: BackfillRepository,
    private readonly config: AppConfig,
  ) {}

  async create(command: CreateBackfillCommand): Promise<BackfillView> {
    const zone = this.config.reportTimeZone;
    const fields: Record<string, string> = {};
    const read = async (field: string, value: string): Promise<ResolvedInstant | undefined> => {
      try {
        return await this.backfills.resolve(value, zone);
      } catch (error) {
        // A value the pattern lets through but PostgreSQL refuses (month 13, hour 25, offset +99:00).
        if ((error as { code?: string }).code?.startsWith('22')) {
          fields[field] = 'not a valid date or instant';
          return undefined;
        }
        throw error;
      }
    };
    const start = await read('start', command.start);
    const end = await read('end', command.end);
    const expires = await read('expires_at', command.expiresAt);
    if (start && !start.day_aligned) fields.start = `must be the start of a day in ${zone}`;
    if (end && !end.day_aligned) fields.end = `must be the start of a day in ${zone}`;
    else if (start && end && end.at <= start.at) fields.end = 'must be later than start';
    if (expires && expires.from_now <= 0) fields.expires_at = 'must be later than now';
    else if (expires && expires.from_now > MAX_EXPIRY_DAYS * 86_400) fields.expires_at = `must be at most ${MAX_EXPIRY_DAYS} days ahead`;
    const order = ['start', 'end', 'reason', 'expires_at'].filter((f) => fields[f]);
    if (order.length) {
      const ordered = Object.fromEntries(order.map((f) => [f, fields[f]]));
      throw new DomainError(CommonError.Validation, `${order[0]}: ${fields[order[0]]}`, { fields: ordered });
    }
    const row = await this.backfills.insert({
      id: newBackfillId(),
      start: start!.at,
      end: end!.at,
      startDay: start!.day,
      endDay: end!.day,
      reason: command.reason,
      expiresAt: expires!.at,
      createdBy: command.createdBy,
    });
    return view(row);
  }

  async list(): Promise<BackfillListView> {
    return { backfills: (await this.backfills.list()).map(view) };
  }
}

function view(row: BackfillRow): BackfillView {
  return {
    id: row.id,
    start: isoMillis(row.start),
    end: isoMillis(row.end),
    reason: row.reason,
    expires_at: isoMillis(row.expires_at),
    created_at: isoMillis(row.created_at),
    created_by: row.created_by,
    active: row.active,
  };
}
