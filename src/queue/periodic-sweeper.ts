import { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';

const SWEEP_EVERY_MS = 30_000;
/** Work younger than this is left to its own job. */
const SWEEP_MIN_AGE_S = 30;

/**
 * The "nothing accepted is lost" loop shared by every producer that stores its
 * work in PostgreSQL before enqueueing it: at start-up everything still owed
 * is looked at (minimum age 0), then every 30 s whatever has been owed for 30 s
 * or more; `sweepOnce` enqueues again what has no job. One sweep runs at a
 * time; a failed sweep is logged and retried at the next tick.
 */
export abstract class PeriodicSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  protected constructor(protected readonly log: Logger) {}

  /** Enqueues again the owed work at least `minAgeSeconds` old. */
  protected abstract sweepOnce(minAgeSeconds: number): Promise<void>;

  onApplicationBootstrap(): void {
    this.running = this.sweep(0);
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sweep(SWEEP_MIN_AGE_S);
    }, SWEEP_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async sweep(minAgeSeconds: number): Promise<void> {
    try {
      await this.sweepOnce(minAgeSeconds);
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message } }, 'sweep failed');
    } finally {
      this.running = undefined;
    }
  }
}
