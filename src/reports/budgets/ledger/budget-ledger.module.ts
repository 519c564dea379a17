import { Module } from '@nestjs/common';
import { BudgetPolicyRepository } from '../policy/budget-policy.repository';
import { BudgetPolicyService } from '../policy/budget-policy.service';
import { BudgetLedgerRepository } from './budget-ledger.repository';
import { BudgetLedgerService } from './budget-ledger.service';

/**
 * The ledger and balance rows of budgets (reports.md 6.2, 6.3) and the
 * projects' policies (6.5): imported by every budget writer, API or worker.
 */
@Module({ providers: [BudgetLedgerRepository, BudgetLedgerService, BudgetPolicyRepository, BudgetPolicyService], exports: [BudgetLedgerService, BudgetPolicyService] })
export class BudgetLedgerModule {}
