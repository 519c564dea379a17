import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { DataSource } from 'typeorm';
import { QUEUE_CONNECTION } from '../core/tokens';
import { pingDatabase } from '../database/query-result';
import { RETRY_AFTER_SECONDS } from '../http/connection-loss';
import { QueueRuntime } from '../queue/queue-runtime';

const CHECK_TIMEOUT_MS = 2000;

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly db: DataSource,
    @Inject(QUEUE_CONNECTION) private readonly queue: QueueRuntime,
  ) {}

  /** 200 when PostgreSQL (and Redis, when configured) answer; 503 naming what is down. */
  @Public()
  @Get()
  async check(@Res() reply: FastifyReply) {
    const [database, redis] = await Promise.all([
      probe(() => pingDatabase(this.db)),
      this.queue.redis ? probe(() => this.queue.redis!.ping()) : Promise.resolve('not configured' as const),
    ]);
    const checks = { database, redis, queue: this.queue.mode };
    const down = [database === 'down' ? 'database' : null, redis === 'down' ? 'redis' : null].filter(Boolean);
    const body = down.length === 0 ? { status: 'ok', checks } : { status: 'down', error: `${down.join(' and ')} not answering`, checks };
    if (down.length > 0) void reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
    void reply
      .status(down.length === 0 ? 200 : 503)
      .header('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify(body));
  }
}

async function probe(check: () => Promise<unknown>): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'up';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}
