import IORedis, { Redis } from 'ioredis';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { redactUrl } from '../database/data-source';

/**
 * Where queued work runs: BullMQ on Redis when REDIS_URL is set, otherwise
 * inside this process. Feature modules enqueue through JobQueueService and
 * never look at which.
 */
export interface QueueRuntime {
  mode: 'bullmq' | 'in-process';
  /** The shared ioredis connection (BullMQ needs maxRetriesPerRequest: null). */
  redis?: Redis;
  description: string;
  close(): Promise<void>;
}

export async function openQueueRuntime(config: AppConfig, log: Logger): Promise<QueueRuntime> {
  if (!config.redisUrl) {
    return {
      mode: 'in-process',
      description: 'in-process queue (REDIS_URL unset): queued work runs inside this process, persisted in PostgreSQL first',
      async close() {},
    };
  }
  const redis = new IORedis(config.redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: true });
  redis.on('error', (error) => log.warn({ err: { message: error.message } }, 'redis connection error'));
  await redis.connect();
  return {
    mode: 'bullmq',
    redis,
    description: `BullMQ on Redis at ${redactUrl(config.redisUrl)}`,
    async close() {
      redis.disconnect();
    },
  };
}
