import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '../../../auth/principal';
import { AppConfig } from '../../../config/app-config';
import { DomainError } from '../../../http/domain-error';
import { Exact } from '../../decimal';
import { canonicalJson } from '../../idempotency/canonical-json';
import { newJobId } from '../../jobs/job-id';
import { projectScope } from '../../scope';
import { invalid } from '../../window/reports-input';
import { AccruedTodayService } from '../figures/accrued-today.service';
import { BudgetLedgerService } from '../ledger/budget-ledger.service';
import { BudgetPolicyService } from '../policy/budget-policy.service';
import { CreateHoldDto, instantOf, RefundHoldDto, SettleHoldDto, suAmount } from './dto/holds.dto';
import { holdView, HoldView } from './dto/holds.views';
import { HoldTransitions } from './hold-transitions.service';
import { HoldsError } from './holds.errors';
import { AmieRecordRef, HoldRow, HoldsRepository } from './holds.repository';

/** `hold_` + a ULID (reports.md 1.9), from the job ids' generator. */
export function newHoldId(): string {
  return `hold_${newJobId().slice('job_'.length)}`;
}

/** A created hold, or the one a replay of its reference answers (`200`). */
export interface HoldAnswer {
  hold: HoldView;
  replayed: boolean;
}

/**
 * The hold routes (reports.md 6.4). Creation checks the balance of the
 * project's current budget under its row lock and posts the `hold` entry in
 * the same transaction; resolving is HoldTransitions'.
 */
@Injectable()
export class HoldsService {
  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly ledger: BudgetLedgerService,
    private readonly policies: BudgetPolicyService,
    private readonly accrued: AccruedTodayService,
    private readonly holds: HoldsRepository,
    private readonly transitions: HoldTransitions,
  ) {}

  async create(projectId: string, body: CreateHoldDto, actor: string): Promise<HoldAnswer> {
    const now = new Date();
    const amount = suAmount(body.amount);
    const given = body.expires_at !== undefined ? instantOf(body.expires_at)! : undefined;
    const expiresAt = (given ?? new Date(now.getTime() + this.config.holdTtlHours * 3_600_000)).toISOString();
    const amie: AmieRecordRef | null = body.amie_record ? { site: body.amie_record.site, resource: body.amie_record.resource, local_record_id: body.amie_record.local_record_id } : null;
    const description = body.description ?? null;
    // The body as a value: an absent field and its default are the same request, `10` and "10.0" the same amount.
    const requestHash = createHash('sha256')
      .update(
        canonicalJson({
          amount,
          reference: body.reference,
          expires_at: given ? expiresAt : null,
          description,
          amie_record: amie,
          force: body.force === true,
        }),
      )
      .digest('hex');

    const earlier = await this.holds.findByReference(this.db, projectId, body.reference);
    if (earlier) return this.replay(earlier, requestHash);
    // After the replay: a repeat of a hold whose expiry has passed still answers that hold.
    if (given && given.getTime() <= now.getTime()) throw invalid('expires_at', 'must be later than now');
    // Read before the transaction, so the budget's lock is held for the balance alone: today's
    // usage and the policy are not moved by holds (and the embedded database has one
    // connection, which the transaction holds).
    const [accrued, { overdraft }] = await Promise.all([this.accrued.of([projectId]), this.policies.effective(this.db, projectId)]);
    const accruedToday = accrued.get(projectId)!;

    return this.ledger.transaction(async (m) => {
      const budget = await this.ledger.lockAt(m, projectId, now);
      if (!budget) throw new DomainError(HoldsError.NoCurrentBudget, `Project ${projectId} has no budget whose period contains now`);
      // The insert comes first: a racing create of the same reference (it waited for the lock) is
      // answered as a replay, whatever the balance now. A refusal below rolls the insert back.
      const id = newHoldId();
      const hold = await this.holds.insert(m, { id, projectId, budgetId: budget.id, amount, reference: body.reference, requestHash, createdAt: now, expiresAt, amieRecord: amie, description });
      if (!hold) return this.replay((await this.holds.findByReference(m, projectId, body.reference))!, requestHash);
      if (body.force !== true) {
        const available = new Exact(budget.granted).minus(budget.consumed).minus(accruedToday).minus(budget.held);
        if (available.plus(overdraft).lt(amount)) {
          throw new DomainError(HoldsError.InsufficientBudget, 'Insufficient budget', { data: { available: available.toFixed(6), requested: amount } });
        }
      }
      if (amie && (await this.holds.amieRecordLoaded(m, amie))) throw new DomainError(HoldsError.AmieRecordTaken, 'amie_record: this record is already loaded');
      await this.ledger.post(m, budget, [{ kind: 'hold', amount: new Exact(amount).neg().toFixed(6), at: now, actor, ref: `hold:${id}`, holdId: id }]);
      return { hold: holdView(hold), replayed: false };
    });
  }

  async get(principal: Principal, projectId: string, holdId: string): Promise<HoldView> {
    projectScope(principal, [projectId]);
    const hold = await this.holds.find(this.db, projectId, holdId);
    if (!hold) throw new DomainError(HoldsError.NotFound, `No hold ${holdId} in project ${projectId}`);
    return holdView(hold);
  }

  async settle(projectId: string, holdId: string, body: SettleHoldDto, actor: string): Promise<HoldView> {
    return holdView(await this.transitions.settle(projectId, holdId, body.amount === undefined ? undefined : suAmount(body.amount), actor));
  }

  async release(projectId: string, holdId: string, actor: string): Promise<HoldView> {
    return holdView(await this.transitions.release(projectId, holdId, actor));
  }

  async refund(projectId: string, holdId: string, body: RefundHoldDto, actor: string): Promise<HoldView> {
    return holdView(await this.transitions.refund(projectId, holdId, body.amount === undefined ? undefined : suAmount(body.amount), body.reason, actor));
  }

  private replay(hold: HoldRow, requestHash: string): HoldAnswer {
    if (hold.requestHash !== requestHash) {
      throw new DomainError(HoldsError.ReferenceReused, `reference: hold ${hold.id} of this project has this reference with another body`);
    }
    return { hold: holdView(hold), replayed: true };
  }
}
