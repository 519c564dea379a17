import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Principal } from '../../../auth/principal';
import { DomainError } from '../../../http/domain-error';
import { newJobId } from '../../jobs/job-id';
import { projectScope } from '../../scope';
import { BudgetEventsError } from './budget-events.errors';
import { CreateWebhookDto, EventsFeedQuery } from './dto/events.dto';
import { CreatedWebhookView, EventsFeedView, WebhookListView, WebhookView } from './dto/events.views';
import { eventObject } from './event-types';
import { EventsRepository } from './events.repository';
import { WebhookRow, WebhooksRepository } from './webhooks.repository';

const DEFAULT_LIMIT = 1000;

/** `wh_` + a ULID (reports.md 1.9). */
export function newWebhookId(now = Date.now()): string {
  return `wh_${newJobId(now).slice('job_'.length)}`;
}

/**
 * The event feed and the webhook registry (reports.md 6.7). A `user` reads
 * the events of its own projects only (1.3: naming another is a 403), never
 * project-less ones.
 */
@Injectable()
export class EventsService {
  constructor(
    private readonly events: EventsRepository,
    private readonly webhooks: WebhooksRepository,
  ) {}

  async feed(principal: Principal, query: EventsFeedQuery): Promise<EventsFeedView> {
    const after = BigInt(query.after ?? '0').toString();
    const projectIds = projectScope(principal, query.project_id);
    const rows = projectIds?.length === 0 ? [] : await this.events.feed({ after, types: query.type, projectIds, limit: query.limit ?? DEFAULT_LIMIT });
    return { events: rows.map(eventObject), next_after: rows.length ? rows[rows.length - 1].id : after };
  }

  async createWebhook(body: CreateWebhookDto): Promise<CreatedWebhookView> {
    const secret = randomBytes(32).toString('hex');
    const row = await this.webhooks.insert({
      id: newWebhookId(),
      url: body.url,
      types: body.types ? [...new Set(body.types)] : null,
      projectIds: body.project_ids ? [...new Set(body.project_ids)] : null,
      description: body.description ?? null,
      secret,
    });
    return { id: row.id, url: row.url, types: row.types, project_ids: row.project_ids, secret, created_at: row.created_at };
  }

  async listWebhooks(): Promise<WebhookListView> {
    return { webhooks: (await this.webhooks.list()).map(webhookView) };
  }

  async removeWebhook(id: string): Promise<void> {
    if (!(await this.webhooks.remove(id))) throw new DomainError(BudgetEventsError.WebhookNotFound, `webhook ${id} not found`);
  }
}

function webhookView(row: WebhookRow): WebhookView {
  return {
    id: row.id,
    url: row.url,
    types: row.types,
    project_ids: row.project_ids,
    created_at: row.created_at,
    last_success_at: row.last_success_at,
    last_error: row.last_error,
    pending: row.pending,
  };
}
