import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DomainError } from '../../../http/domain-error';
import { Exact } from '../../decimal';
import { BudgetLedgerService, LockedBudget, NewEntry } from '../ledger/budget-ledger.service';
import { HoldsError } from './holds.errors';
import { HoldRow, HoldsRepository } from './holds.repository';

/** The worker's actor on ledger entries (reports.md 6.2). */
export const SYSTEM_ACTOR = 'system';

/**
 * The ways out of `held`, and refunds (reports.md 6.4): each state change
 * and its ledger entries (6.2) in one transaction, under the budget's row
 * lock and then the hold's, so a hold is resolved once whatever races it
 * (a settle against the expiry loop, two settles). Used by the hold routes
 * and the expiry loop; `settleLocked` is the primitive for a writer that
 * already holds both locks (the AMIE load settling the hold of its record).
 */
@Injectable()
export class HoldTransitions {
  constructor(
    private readonly ledger: BudgetLedgerService,
    private readonly holds: HoldsRepository,
  ) {}

  /** Settles a held hold: releases what it held and debits `amount` (default: the held amount), which may be more or less. */
  settle(projectId: string, holdId: string, amount: string | undefined, actor: string): Promise<HoldRow> {
    return this.underLock(projectId, holdId, (m, budget, hold) => this.settleLocked(m, budget, hold, amount ?? hold.amount, actor, new Date()));
  }

  /** Frees a held hold without a debit. */
  release(projectId: string, holdId: string, actor: string): Promise<HoldRow> {
    return this.underLock(projectId, holdId, (m, budget, hold) => this.free(m, budget, hold, 'released', actor, new Date()));
  }

  /**
   * Gives back part of what a settled hold debited (default: all that is
   * not yet refunded), as a `refund` entry carrying `reason`.
   */
  refund(projectId: string, holdId: string, amount: string | undefined, reason: string, actor: string): Promise<HoldRow> {
    return this.underLock(projectId, holdId, async (m, budget, hold) => {
      if (hold.state !== 'settled') throw new DomainError(HoldsError.WrongState, `Hold ${hold.id} is ${hold.state}; only a settled hold is refunded`);
      const left = new Exact(hold.settledAmount!).minus(hold.refundedAmount);
      const refund = new Exact(amount ?? left);
      if (refund.lte(0)) throw new DomainError(HoldsError.RefundTooLarge, `Hold ${hold.id} has nothing settled left to refund`);
      if (refund.gt(left)) {
        throw new DomainError(HoldsError.RefundTooLarge, `Refund of ${refund.toFixed(6)} is more than the ${left.toFixed(6)} settled and not yet refunded`);
      }
      const text = refund.toFixed(6);
      await this.ledger.post(m, budget, [{ ...this.entryOf(hold, 'refund', text, actor, new Date()), reason }]);
      return this.holds.addRefund(m, hold.id, text);
    });
  }

  /**
   * Expires a hold still held at its `expires_at` (`hold_expire`, actor
   * `system`); false when it was resolved or its expiry moved meanwhile.
   */
  async expire(holdId: string, budgetId: string): Promise<boolean> {
    return this.ledger.transaction(async (m) => {
      const budget = await this.ledger.lock(m, budgetId);
      const hold = await this.holds.lock(m, holdId);
      if (!budget || !hold || hold.state !== 'held' || Date.parse(hold.expiresAt) > Date.now()) return false;
      await this.free(m, budget, hold, 'expired', SYSTEM_ACTOR, new Date());
      return true;
    });
  }

  /**
   * Settles a held hold whose budget and row the caller has locked (in that
   * order): `hold_release` of the held amount and `hold_settle` of `amount`
   * (≥ 0, 6 places or fewer) at `at`. `extra` fields go on the settle entry
   * (an AMIE settlement's `source`, say).
   */
  async settleLocked(m: EntityManager, budget: LockedBudget, hold: HoldRow, amount: string, actor: string, at: Date, extra: Partial<NewEntry> = {}): Promise<HoldRow> {
    this.mustBeHeld(hold, 'settled');
    const settled = new Exact(amount).toFixed(6);
    await this.ledger.post(m, budget, [
      this.entryOf(hold, 'hold_release', hold.amount, actor, at),
      { ...this.entryOf(hold, 'hold_settle', new Exact(settled).neg().toFixed(6), actor, at), ...extra },
    ]);
    return this.holds.resolve(m, hold.id, 'settled', at, settled);
  }

  private async free(m: EntityManager, budget: LockedBudget, hold: HoldRow, state: 'released' | 'expired', actor: string, at: Date): Promise<HoldRow> {
    this.mustBeHeld(hold, state);
    await this.ledger.post(m, budget, [this.entryOf(hold, state === 'released' ? 'hold_release' : 'hold_expire', hold.amount, actor, at)]);
    return this.holds.resolve(m, hold.id, state, at, null);
  }

  private mustBeHeld(hold: HoldRow, to: string): void {
    if (hold.state !== 'held') throw new DomainError(HoldsError.WrongState, `Hold ${hold.id} is ${hold.state}; only a held hold is ${to}`);
  }

  private entryOf(hold: HoldRow, kind: NewEntry['kind'], amount: string, actor: string, at: Date): NewEntry {
    return { kind, amount, at, actor, ref: `hold:${hold.id}`, holdId: hold.id };
  }

  /** Runs `change` in a transaction holding the hold's budget row and then the hold; a hold of another project is not found. */
  private underLock(projectId: string, holdId: string, change: (m: EntityManager, budget: LockedBudget, hold: HoldRow) => Promise<HoldRow>): Promise<HoldRow> {
    return this.ledger.transaction(async (m) => {
      const found = await this.holds.find(m, projectId, holdId);
      if (!found) throw new DomainError(HoldsError.NotFound, `No hold ${holdId} in project ${projectId}`);
      const budget = (await this.ledger.lock(m, found.budgetId))!;
      const hold = (await this.holds.lock(m, holdId))!;
      return change(m, budget, hold);
    });
  }
}
