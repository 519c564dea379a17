import { Feature } from '../core/feature';
import { NotificationCount, NotificationReceipt } from './collector.entities';

/** The OpenStack notification collector (collector.md): its tables; it answers no HTTP and queues no jobs. */
export const COLLECTOR_FEATURE: Feature = { name: 'collector', entities: [NotificationReceipt, NotificationCount], errorStatus: {} };
