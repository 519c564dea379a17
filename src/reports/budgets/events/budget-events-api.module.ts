import { Module } from '@nestjs/common';
import { BudgetEventsProcessingModule } from './budget-events.module';
import { EventsController, WebhooksController } from './events.controller';
import { EventsService } from './events.service';

/** `GET /reports/events` and `/admin/reports/webhooks` (API process), with the processing side (the threshold listener). */
@Module({
  imports: [BudgetEventsProcessingModule],
  controllers: [EventsController, WebhooksController],
  providers: [EventsService],
})
export class BudgetEventsApiModule {}
