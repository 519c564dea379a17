import { InitialSchema1763800000000 } from './1763800000000-InitialSchema';
import { Quotas1763800100000 } from './1763800100000-Quotas';
import { UsageRecords1763800200000 } from './1763800200000-UsageRecords';
import { Allocations1763800300000 } from './1763800300000-Allocations';
import { AllocationQuotaMapping1763800400000 } from './1763800400000-AllocationQuotaMapping';
import { NotificationCollector1763800500000 } from './1763800500000-NotificationCollector';
import { Reports1763800600000 } from './1763800600000-Reports';
import { ReportJobs1763800700000 } from './1763800700000-ReportJobs';
import { ReportDayCellSummed1763800800000 } from './1763800800000-ReportDayCellSummed';
import { ReportsDirtyKeyOrder1763800900000 } from './1763800900000-ReportsDirtyKeyOrder';
import { ReportsVersionCoverIndex1763800910000 } from './1763800910000-ReportsVersionCoverIndex';
import { ReportsTriggersWithoutJit1763800920000 } from './1763800920000-ReportsTriggersWithoutJit';
import { ReportsDirtyKeyDay1763800930000 } from './1763800930000-ReportsDirtyKeyDay';
import { ReportsDirtyKeySharedLock1763800940000 } from './1763800940000-ReportsDirtyKeySharedLock';
import { ReportsOps1763801000000 } from './1763801000000-ReportsOps';
import { ReportsFlavorIndex1763801050000 } from './1763801050000-ReportsFlavorIndex';
import { ReportsIdempotency1763801100000 } from './1763801100000-ReportsIdempotency';
import { Rating1763801200000 } from './1763801200000-Rating';
import { LateHorizon1763801300000 } from './1763801300000-LateHorizon';
import { AlmanachVersionTally1763801400000 } from './1763801400000-AlmanachVersionTally';
import { RatingEngine1763801600000 } from './1763801600000-RatingEngine';
import { PriceListAudit1763801700000 } from './1763801700000-PriceListAudit';
import { Budgets1763801800000 } from './1763801800000-Budgets';
import { BudgetDerivation1763801810000 } from './1763801810000-BudgetDerivation';
import { BudgetDebits1763801820000 } from './1763801820000-BudgetDebits';
import { BudgetEvents1763801840000 } from './1763801840000-BudgetEvents';
import { RatingCostInline1763801850000 } from './1763801850000-RatingCostInline';
import { PeriodLineItems1763801860000 } from './1763801860000-PeriodLineItems';
import { ReportsDirtyRange1763801900000 } from './1763801900000-ReportsDirtyRange';
import { UsageBatchText1763801930000 } from './1763801930000-UsageBatchText';
import { AlmanachVersionPartitions1763801950000 } from './1763801950000-AlmanachVersionPartitions';
import { ReportDayStartInline1763801960000 } from './1763801960000-ReportDayStartInline';
import { ReportsDirtyNoWait1763801970000 } from './1763801970000-ReportsDirtyNoWait';
import { AlmanachVersionFloor1763801980000 } from './1763801980000-AlmanachVersionFloor';
import { ReportMonthCellProjectOrder1763801990000 } from './1763801990000-ReportMonthCellProjectOrder';
import { ReportSiteDayChargeScale1763802000000 } from './1763802000000-ReportSiteDayChargeScale';
import { ReportLocalDayFold1763802010000 } from './1763802010000-ReportLocalDayFold';
import { ReportsDirtyKeyClaimOrder1763802020000 } from './1763802020000-ReportsDirtyKeyClaimOrder';
import { AlmanachVersionEdgeIndexes1763802030000 } from './1763802030000-AlmanachVersionEdgeIndexes';
import { ReportSpanBoundsInline1763802040000 } from './1763802040000-ReportSpanBoundsInline';
import { AlmanachLockOpen1763802050000 } from './1763802050000-AlmanachLockOpen';
import { AlmanachWireDate1763802060000 } from './1763802060000-AlmanachWireDate';
import { AlmanachLockOpenToken1763802070000 } from './1763802070000-AlmanachLockOpenToken';
import { AlmanachEntityEnd1763802080000 } from './1763802080000-AlmanachEntityEnd';
import { AlmanachFloorLocalDay1763802090000 } from './1763802090000-AlmanachFloorLocalDay';

/**
 * Every migration, oldest first. `npm run migration:generate -- <Name>` writes
 * a new file here and adds it to this list.
 */
export const MIGRATIONS = [InitialSchema1763800000000, Quotas1763800100000, UsageRecords1763800200000, Allocations1763800300000, AllocationQuotaMapping1763800400000, NotificationCollector1763800500000, Reports1763800600000, ReportJobs1763800700000, ReportDayCellSummed1763800800000, ReportsDirtyKeyOrder1763800900000, ReportsVersionCoverIndex1763800910000, ReportsTriggersWithoutJit1763800920000, ReportsDirtyKeyDay1763800930000, ReportsDirtyKeySharedLock1763800940000, ReportsOps1763801000000, ReportsFlavorIndex1763801050000, ReportsIdempotency1763801100000, Rating1763801200000, LateHorizon1763801300000, AlmanachVersionTally1763801400000, RatingEngine1763801600000, PriceListAudit1763801700000, Budgets1763801800000, BudgetDerivation1763801810000, BudgetDebits1763801820000, BudgetEvents1763801840000, RatingCostInline1763801850000, PeriodLineItems1763801860000, ReportsDirtyRange1763801900000, UsageBatchText1763801930000, AlmanachVersionPartitions1763801950000, ReportDayStartInline1763801960000, ReportsDirtyNoWait1763801970000, AlmanachVersionFloor1763801980000, ReportMonthCellProjectOrder1763801990000, ReportSiteDayChargeScale1763802000000, ReportLocalDayFold1763802010000, ReportsDirtyKeyClaimOrder1763802020000, AlmanachVersionEdgeIndexes1763802030000, ReportSpanBoundsInline1763802040000, AlmanachLockOpen1763802050000, AlmanachWireDate1763802060000, AlmanachLockOpenToken1763802070000, AlmanachEntityEnd1763802080000, AlmanachFloorLocalDay1763802090000];
