import { Module } from '@nestjs/common';
import { QueueModule } from '../../../queue/queue.module';
import { BudgetFiguresModule } from '../figures/budget-figures.module';
import { BudgetLedgerModule } from '../ledger/budget-ledger.module';
import { ArmingsRepository } from './armings.repository';
import { EventDeliverySettings } from './event-delivery.settings';
import { EventQueueRelay } from './event-queue.relay';
import { EventsLoops } from './events-loops.service';
import { EventsRepository } from './events.repository';
import { ThresholdCheck } from './threshold-check.service';
import { ThresholdEvaluator } from './threshold-evaluator.service';
import { ThresholdService } from './threshold.service';
import { WebhookDeliverer } from './webhook-deliverer.service';
import { WebhooksRepository } from './webhooks.repository';

/**
 * Threshold events and their delivery, the processing side (reports.md 6.6,
 * 6.7): the ledger's threshold listener (every process that posts: the API
 * and the worker import this module), and, wherever the queue is consumed,
 * the live evaluator, webhook delivery, the events queue relay and
 * retention (EventsLoops).
 */
@Module({
  imports: [BudgetLedgerModule, BudgetFiguresModule, QueueModule],
  providers: [EventsRepository, ArmingsRepository, WebhooksRepository, EventDeliverySettings, ThresholdService, ThresholdCheck, ThresholdEvaluator, WebhookDeliverer, EventQueueRelay, EventsLoops],
  exports: [EventsRepository, WebhooksRepository, EventDeliverySettings, ThresholdCheck, ThresholdEvaluator, WebhookDeliverer, EventQueueRelay, EventsLoops],
})
export class BudgetEventsProcessingModule {}
