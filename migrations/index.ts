import { InitialSchema1763800000000 } from './1763800000000-InitialSchema';
import { UsageRecords1763800200000 } from './1763800200000-UsageRecords';

/**
 * Every migration, oldest first. `npm run migration:generate -- <Name>` writes
 * a new file here and adds it to this list.
 */
export const MIGRATIONS = [InitialSchema1763800000000, UsageRecords1763800200000];
