import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Principal } from '../../auth/principal';
import { DomainError } from '../../http/domain-error';
import { AllocationsError, invalidFields } from '../allocations.errors';
import { CatalogueRepository, NamedTable } from '../catalogue/catalogue.repository';
import { OrganisationsService } from '../organisations/organisations.service';
import { PendingRecompute, QuotaLinkService } from '../quota-link/quota-link.service';
import { parseInteger } from '../shared/body-reader';
import { callerName } from '../shared/caller';
import { Parsed } from '../shared/input';
import { Page, PageOf } from '../shared/paging';
import { AllocationAccess, ownerOf } from './allocation-access';
import { AllocationRow } from './allocation-view';
import { AllocationsRepository, AllocationValues } from './allocations.repository';
import { AllocationDto, DeclineDto, USER_IGNORED, USER_REFUSED } from './dto/allocation.dto';
import { AllocationCondition } from './filter';
import { Action, checkUpdate, requireRole, transition, TRANSITIONS } from './state-machine';

type Json = Record<string, unknown>;

/** Fields copied as read (after the role rules) into the row. */
const PLAIN_FIELDS = [
  'project_name',
  'project_description',
  'use_case',
  'estimated_project_duration',
  'estimated_number_users',
  'convert_trial_project',
  'usage_patterns',
  'geographic_requirements',
  'nectar_support',
  'ncris_support',
  'ncris_explanation',
  'ardc_explanation',
  'field_of_research_1',
  'for_percentage_1',
  'field_of_research_2',
  'for_percentage_2',
  'field_of_research_3',
  'for_percentage_3',
  'usage_types',
  'contact_email',
  'start_date',
  'end_date',
  'national',
  'provisioned',
  'notifications',
  'managed',
  'project_id',
  'notes',
  'status_explanation',
  'special_approval',
] as const;

/** Allocations: list, get, create, update, the actions of the state machine and approver info (allocations.md 4-6). */
@Injectable()
export class AllocationsService {
  constructor(
    private readonly allocations: AllocationsRepository,
    private readonly access: AllocationAccess,
    private readonly catalogue: CatalogueRepository,
    private readonly organisations: OrganisationsService,
    private readonly quotaLink: QuotaLinkService,
  ) {}

  async list(principal: Principal, conditions: AllocationCondition[], page: Page): Promise<PageOf<Json>> {
    for (const c of conditions) {
      if (c.kind === 'text' && c.lookup === 'regex' && !(await this.allocations.isValidRegex(c.value))) {
        throw invalidFields({ [`${c.field}__regex`]: ['Not a valid regular expression.'] });
      }
    }
    const { count, rows } = await this.allocations.list(conditions, ownerOf(principal), page);
    const ctx = await this.allocations.context(rows);
    return { page, count, results: rows.map((r) => ctx.serialize(r, principal)) };
  }

  async get(principal: Principal, id: string): Promise<Json> {
    return this.present(principal, await this.access.loadVisible(principal, parseInteger(id)));
  }

  async create(principal: Principal, body: Parsed<AllocationDto>): Promise<Json> {
    return this.allocations.transaction(async (m) => {
      const values = await this.readFields(m, principal, body, null);
      const now = new Date();
      const creator = callerName(principal);
      values.status = 'E';
      values.submit_date = now;
      values.modified_time = now;
      values.created_by = creator;
      if (values.contact_email === undefined) values.contact_email = principal.role === 'user' ? creator : principal.name;
      const id = await this.allocations.insert(values, m);
      return this.present(principal, await this.access.loadVisible(principal, id, { sql: m }), m);
    });
  }

  async update(principal: Principal, id: string, body: Parsed<AllocationDto>): Promise<Json> {
    const { answer, pending } = await this.allocations.transaction(async (m) => {
      const row = await this.access.loadVisible(principal, parseInteger(id), { forUpdate: true, sql: m });
      checkUpdate(principal, row);
      const values = await this.readFields(m, principal, body, row);
      values.modified_time = new Date();
      await this.allocations.update(row.id, values, m);
      // A new project_id moves the limits: both projects are recomputed (allocations.md §10).
      const moved = values.project_id !== undefined && values.project_id !== row.project_id;
      const pending = moved ? await this.quotaLink.markPending(m, [row.project_id, values.project_id as string | null]) : [];
      return { answer: await this.present(principal, await this.access.loadVisible(principal, row.id, { sql: m }), m), pending };
    });
    await this.quotaLink.enqueue(pending);
    return answer;
  }

  /** approve: E, X → A; needs an associated_site (allocations.md 5). */
  approve(principal: Principal, id: string): Promise<Json> {
    return this.act(principal, id, 'approve', async (m, row, now) => {
      if (row.associated_site === null) {
        throw new DomainError(AllocationsError.Validation, 'An allocation needs an associated_site before it can be approved', {
          fields: { associated_site: ['This field must be set before approval.'] },
        });
      }
      await this.allocations.snapshot(row.id, m);
      await this.allocations.markApproved(row.id, callerName(principal), now, m);
    });
  }

  /** decline: E → R, X → J, with an optional status_explanation (this service's own, allocations.md 5). */
  decline(principal: Principal, id: string, body: Parsed<DeclineDto>): Promise<Json> {
    return this.act(principal, id, 'decline', async (m, row, now, to) => {
      body.check();
      await this.allocations.snapshot(row.id, m);
      await this.allocations.markDeclined(row.id, to, now, body.values.status_explanation, m);
    });
  }

  /** amend: A, R, J → X; admin, service or the owner (allocations.md 5). */
  amend(principal: Principal, id: string): Promise<Json> {
    return this.act(principal, id, 'amend', async (m, row, now) => {
      await this.allocations.snapshot(row.id, m);
      await this.allocations.markAmended(row.id, now, m);
    });
  }

  /** delete: any → D, idempotent on D (allocations.md 5). */
  remove(principal: Principal, id: string): Promise<Json> {
    return this.act(principal, id, 'delete', async (m, row, now) => {
      await this.allocations.snapshot(row.id, m);
      await this.allocations.markDeleted(row.id, now, m);
    });
  }

  async approverInfo(principal: Principal, id: string): Promise<Json> {
    const row = await this.access.loadVisible(principal, parseInteger(id));
    requireRole(principal, ['admin', 'service', 'reader'], 'read approver info');
    if (row.parent_request !== null) {
      throw new DomainError(AllocationsError.BadRequest, `Allocation ${row.id} is a history record; ask for its current record ${row.parent_request}`);
    }
    const now = Date.now();
    const day = 86_400_000;
    let urgency = 'N/A';
    if (['N', 'E', 'X'].includes(row.status)) {
      const age = (now - row.modified_time.getTime()) / day;
      urgency = age > 21 ? 'Overdue' : age > 14 ? 'Warning' : age > 7 ? 'Attention' : 'New';
    }
    let expiry = 'None';
    const today = new Date(now).toISOString().slice(0, 10);
    if (row.end_date !== null && row.end_date < today) {
      const records = await this.allocations.history(row.id);
      const lastApproval = [...records].reverse().find((r) => r.status === 'A');
      const clockStop = records.find((r) => r.status === 'X' && (!lastApproval || r.modified_time.getTime() > lastApproval.modified_time.getTime()));
      if (!clockStop) {
        expiry = 'Unknown';
      } else {
        const stop = clockStop.modified_time.getTime();
        const end = Date.parse(`${row.end_date}T00:00:00Z`);
        if (now - stop > 150 * day) expiry = 'Danger';
        else if (stop > end + 28 * day) expiry = 'Archived';
        else if (stop > end + 14 * day) expiry = 'Stopped';
        else if (stop > end) expiry = 'Expired';
      }
    }
    const site = row.associated_site !== null ? await this.catalogue.siteName(row.associated_site) : undefined;
    return { approval_urgency: urgency, expiry_state: expiry, concerned_sites: site !== undefined ? [site] : [] };
  }

  /**
   * Locks the record, checks the transition (state-machine.ts), runs it
   * (unless it changes nothing) and answers the record as the caller sees
   * it. An action that may change the approval in force owes the project a
   * limit recomputation, recorded in the transaction and enqueued after the
   * commit (allocations.md §10).
   */
  private async act(
    principal: Principal,
    id: string,
    action: Action,
    run: (m: EntityManager, row: AllocationRow, now: Date, to: string) => Promise<void>,
  ): Promise<Json> {
    const { answer, pending } = await this.allocations.transaction(async (m) => {
      const row = await this.access.loadVisible(principal, parseInteger(id), { forUpdate: true, sql: m });
      const to = transition(principal, row, action);
      let pending: PendingRecompute[] = [];
      if (to !== null) {
        await run(m, row, new Date(), to);
        if (TRANSITIONS[action].movesLimits) pending = await this.quotaLink.markPending(m, [row.project_id]);
      }
      return { answer: await this.present(principal, await this.access.loadVisible(principal, row.id, { sql: m }), m), pending };
    });
    await this.quotaLink.enqueue(pending);
    return answer;
  }

  private async present(principal: Principal, row: AllocationRow, m?: EntityManager): Promise<Json> {
    return (await this.allocations.context([row], m)).serialize(row, principal);
  }

  /**
   * The writable fields of a create (existing null) or partial update, by role
   * (allocations.md 4): privileged fields from a user are ignored, except
   * associated_site, allocation_home and special_approval, which are refused
   * with 403 when non-empty (an unknown allocation home is a 400 first).
   * Server-managed and unknown fields were already dropped at the edge.
   */
  private async readFields(m: EntityManager, principal: Principal, body: Parsed<AllocationDto>, existing: AllocationRow | null): Promise<AllocationValues> {
    const privileged = principal.role !== 'user';
    const home = body.values.allocation_home;
    let homeSite: number | undefined;
    if (typeof home === 'string' && home !== 'national' && home !== 'unassigned') {
      homeSite = await this.catalogue.siteIdByName(home, m);
      if (homeSite === undefined) body.fail('allocation_home', `Unknown allocation home "${home}".`);
      body.check(['allocation_home']);
    }
    if (!privileged) {
      for (const key of USER_REFUSED) {
        if (body.sentNonEmpty(key)) throw new DomainError(AllocationsError.Forbidden, `A user token may not set ${key}`);
      }
      body.ignore(USER_IGNORED);
    }

    const input = body.values;
    const v: AllocationValues = {};
    for (const key of PLAIN_FIELDS) v[key] = input[key];
    if (input.supported_organisations) {
      v.supported_organisations = await this.organisations.resolve(
        input.supported_organisations.filter((o) => o !== ''),
        'supported_organisations',
        body,
        { sql: m },
      );
    }
    v.ncris_facilities = await this.resolveNamed(m, body, 'ncris_facilities', input.ncris_facilities, 'alloc_facility', 'NCRIS facility');
    v.ardc_support = await this.resolveNamed(m, body, 'ardc_support', input.ardc_support, 'alloc_ardc_project', 'ARDC project');
    if (typeof input.bundle === 'string') {
      const bundle = await this.catalogue.bundleIdByKey(input.bundle, m);
      if (bundle === undefined) body.fail('bundle', `Unknown bundle "${input.bundle}".`);
      else v.bundle = bundle;
    } else if (input.bundle === null) v.bundle = null;

    if (privileged) {
      if (typeof input.associated_site === 'string') {
        const site = await this.catalogue.siteIdByName(input.associated_site, m);
        if (site === undefined) body.fail('associated_site', `Unknown site "${input.associated_site}".`);
        else v.associated_site = site;
      } else if (input.associated_site === null) v.associated_site = null;
      if (home !== undefined) {
        if (body.has('national') || body.has('associated_site')) {
          body.fail('allocation_home', 'Send allocation_home alone, not together with national or associated_site.');
        } else if (home === 'national') v.national = true;
        else if (home === 'unassigned' || home === null) {
          v.national = false;
          v.associated_site = null;
        } else if (homeSite !== undefined) {
          v.national = false;
          v.associated_site = homeSite;
        }
      }
    }
    body.check();

    // Rules across fields and rows.
    const percentage = (n: 1 | 2 | 3): number => {
      const sent = v[`for_percentage_${n}`] as number | undefined;
      if (sent !== undefined) return sent;
      return existing ? existing[`for_percentage_${n}`] : n === 1 ? 100 : 0;
    };
    const sum = percentage(1) + percentage(2) + percentage(3);
    if (sum > 100) body.fail('for_percentage_1', `The field of research percentages add up to ${sum}; at most 100.`);
    if (typeof v.project_name === 'string' && v.project_name.toLowerCase() !== existing?.project_name?.toLowerCase()) {
      if (await this.allocations.projectNameTaken(v.project_name, existing?.id ?? 0, m)) body.fail('project_name', `An allocation with project name "${v.project_name}" already exists.`);
    }
    body.check();
    if (typeof v.project_id === 'string' && v.project_id !== existing?.project_id && existing?.status !== 'D') {
      if (await this.allocations.projectIdTaken(v.project_id, existing?.id ?? 0, m)) {
        throw new DomainError(AllocationsError.ProjectIdTaken, `Project ${v.project_id} already has a current allocation`);
      }
    }
    return v;
  }

  /** NCRIS facilities and ARDC projects by short name or name, case-insensitively. */
  private async resolveNamed(
    m: EntityManager,
    body: Parsed<AllocationDto>,
    field: string,
    items: string[] | undefined,
    table: NamedTable,
    label: string,
  ): Promise<number[] | undefined> {
    if (!items) return undefined;
    const ids: number[] = [];
    for (const item of items.filter((i) => i !== '')) {
      const id = await this.catalogue.namedId(table, item, m);
      if (id === undefined) return body.fail(field, `Unknown ${label} "${item}".`);
      if (!ids.includes(id)) ids.push(id);
    }
    return ids;
  }
}
