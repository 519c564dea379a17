import { InitialSchema1763800000000 } from './1763800000000-InitialSchema';
import { Quotas1763800100000 } from './1763800100000-Quotas';
import { UsageRecords1763800200000 } from './1763800200000-UsageRecords';
import { Allocations1763800300000 } from './1763800300000-Allocations';
import { AllocationQuotaMapping1763800400000 } from './1763800400000-AllocationQuotaMapping';
import { NotificationCollector1763800500000 } from './1763800500000-NotificationCollector';
import { ReportJobs1763800700000 } from './1763800700000-ReportJobs';
import { Reports1763800600000 } from './1763800600000-Reports';
import { ReportDayCellSummed1763800800000 } from './1763800800000-ReportDayCellSummed';
import { ReportsDirtyKeyOrder1763800900000 } from './1763800900000-ReportsDirtyKeyOrder';
import { ReportsVersionCoverIndex1763800910000 } from './1763800910000-ReportsVersionCoverIndex';
import { ReportsTriggersWithoutJit1763800920000 } from './1763800920000-ReportsTriggersWithoutJit';
import { ReportsDirtyKeyDay1763800930000 } from './1763800930000-ReportsDirtyKeyDay';
import { ReportsDirtyKeySharedLock1763800940000 } from './1763800940000-ReportsDirtyKeySharedLock';
import { ReportsOps1763801000000 } from './1763801000000-ReportsOps';
import { ReportsFlavorIndex1763801050000 } from './1763801050000-ReportsFlavorIndex';
import { ReportsIdempotency1763801100000 } from './1763801100000-ReportsIdempotency';

/**
 * Every migration, oldest first. `npm run migration:generate -- <Name>` writes
 * a new file here and adds it to this list.
 */
export const MIGRATIONS = [InitialSchema1763800000000, Quotas1763800100000, UsageRecords1763800200000, Allocations1763800300000, AllocationQuotaMapping1763800400000, NotificationCollector1763800500000, Reports1763800600000, ReportJobs1763800700000, ReportDayCellSummed1763800800000, ReportsDirtyKeyOrder1763800900000, ReportsVersionCoverIndex1763800910000, ReportsTriggersWithoutJit1763800920000, ReportsDirtyKeyDay1763800930000, ReportsDirtyKeySharedLock1763800940000, ReportsOps1763801000000, ReportsFlavorIndex1763801050000, ReportsIdempotency1763801100000];
