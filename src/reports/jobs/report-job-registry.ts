import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';

/** What a handler sees of its job: the scope it was created with, and where its last chunk left it. */
export interface JobContext<Scope = unknown, Cursor = unknown, Result = unknown> {
  id: string;
  kind: string;
  scope: Scope;
  cursor: Cursor;
  result: Result;
}

/** A job's plan, made once when it first runs. */
export interface JobPlan<Cursor = unknown, Result = unknown> {
  /** Units of work (`progress.total`: project-days, days for close_period). */
  total: number;
  /** Where the first chunk starts; null when there is nothing to do (the job succeeds at once). */
  cursor: Cursor | null;
  /** The result before any chunk (counters at zero). */
  result: Result;
}

/** What one chunk did. */
export interface ChunkOutcome<Cursor = unknown, Result = unknown> {
  /** Where the next chunk starts; null when this was the last one. */
  cursor: Cursor | null;
  /** Units of work this chunk finished. */
  done: number;
  /** The job's result including this chunk. */
  result: Result;
  /**
   * Wait this long after the chunk's commit before the next one (a kind
   * that polls, as close_period waiting for the rollups to drain, without
   * holding a transaction while it waits); default no wait.
   */
  pauseMs?: number;
}

/**
 * One kind of report job (consistency_check here; rerate, correction and
 * close_period come with issue 10). The runner calls `plan` once, then
 * `chunk` until it answers a null cursor; each chunk runs in one transaction
 * (`sql`), in which the runner also stores the chunk's cursor, progress and
 * result: a chunk is done entirely or not at all, so a resumed job continues
 * from its last finished chunk and never counts one twice. Between chunks
 * the runner honours cancel requests.
 */
export interface ReportJobHandler<Scope = unknown, Cursor = unknown, Result = unknown> {
  /** Isolation of each chunk's transaction (default READ COMMITTED). */
  isolation?(scope: Scope): IsolationLevel;
  plan(job: JobContext<Scope, null, null>, sql: EntityManager): Promise<JobPlan<Cursor, Result>>;
  chunk(job: JobContext<Scope, Cursor, Result>, sql: EntityManager): Promise<ChunkOutcome<Cursor, Result>>;
}

/**
 * Kind → handler. Each kind's processing module registers its handler in
 * onModuleInit (as processors do on JobQueueService); the runner looks the
 * kind up when the job runs. A kind registered twice is a start-up error.
 */
@Injectable()
export class ReportJobRegistry {
  private readonly handlers = new Map<string, ReportJobHandler>();

  register<S, C, R>(kind: string, handler: ReportJobHandler<S, C, R>): void {
    if (this.handlers.has(kind)) throw new Error(`report job kind ${kind} has two handlers`);
    this.handlers.set(kind, handler as unknown as ReportJobHandler);
  }

  get(kind: string): ReportJobHandler | undefined {
    return this.handlers.get(kind);
  }

  kinds(): string[] {
    return [...this.handlers.keys()];
  }
}
