import { Module } from '@nestjs/common';
import { DashboardAssetsService } from './dashboard-assets.service';
import { DashboardController } from './dashboard.controller';

/** The dashboard page (reports.md §8): static files only; its data comes from the reports routes. */
@Module({
  controllers: [DashboardController],
  providers: [DashboardAssetsService],
})
export class DashboardModule {}
