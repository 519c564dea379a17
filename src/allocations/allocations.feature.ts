import { Feature } from '../core/feature';
import { ALLOCATION_ENTITIES } from './requests/allocation.entities';
import { ALLOCATIONS_ERROR_STATUS } from './allocations.errors';
import { CATALOGUE_ENTITIES } from './catalogue/catalogue.entities';
import { ORGANISATION_ENTITIES } from './organisations/organisation.entity';
import { QUOTA_LINK_ENTITIES } from './quota-link/quota-link.entities';

declare module '../queue/job-payloads' {
  interface JobPayloads {
    /** Recompute one project's quota limits from its approval in force (allocations.md §10). */
    'allocations.apply-quotas': { projectId: string };
  }
}

export const ALLOCATIONS_FEATURE: Feature = {
  name: 'allocations',
  entities: [...CATALOGUE_ENTITIES, ...ORGANISATION_ENTITIES, ...ALLOCATION_ENTITIES, ...QUOTA_LINK_ENTITIES],
  errorStatus: ALLOCATIONS_ERROR_STATUS,
  jobs: ['allocations.apply-quotas'],
};
