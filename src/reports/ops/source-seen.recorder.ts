import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'pino';
import { AppConfig } from '../../config/app-config';
import { LOGGER } from '../../core/tokens';
import { mountOf } from '../../http/mounts';
import { MetricCounts } from './metric-counts.service';
import { FreshnessSource, OpsRepository } from './ops.repository';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The AMIE submission route as registered (amie-usage.md 4; ignoreTrailingSlash also serves `usage/`). */
const AMIE_SUBMIT = '/amie/usage';
/**
 * The fixed start of an AMIE submission answer (amie-usage.md 4.9, "decision"):
 * `Message` is its first key, so the counts are read without parsing a body
 * that may echo 5,000 failed records.
 */
const AMIE_MESSAGE = /^\{"Message":"(\d+) records received, (\d+) queued for processing, (\d+) failed validation"/;

/**
 * The fixed start of the Almanach answer to a write refused by the late-data
 * horizon (reports.md 5.4): the only Almanach 400 that is not a validation
 * failure, so it is recognised by its text rather than by a flag the
 * Almanach module would have to set for reports.
 */
const HORIZON_REFUSAL = '{"error":"Change reaches ';

declare module 'fastify' {
  interface FastifyRequest {
    /** Queued and failed record counts of an AMIE submission answer, read in onSend. */
    amieCounts?: { queued: number; failed: number };
    /** An Almanach write refused by the late-data horizon, seen in onSend. */
    refusedByHorizon?: boolean;
  }
}

/**
 * Source freshness from the front door (reports.md §9.1, "source
 * freshness"): a Fastify onResponse hook records, in report_source_seen, the
 * time of each accepted write — a 2xx to an Almanach write route (site
 * CLOUD_SITE, collector the token's name) and a 200 to `POST usage/` that
 * queued at least one record (site and collector the site's name) — at most
 * once per key and second, so the protocol modules stay unchanged. The same
 * hook counts `ledger_ingest_total` for both, and Almanach writes the
 * late-data horizon refused (`outcome="refused_horizon"`).
 */
@Injectable()
export class SourceSeenRecorder implements OnModuleInit {
  /** key → the second last written. Keys are tokens and sites: a small, bounded set. */
  private readonly written = new Map<string, number>();
  private readonly log: Logger;

  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly repository: OpsRepository,
    private readonly counts: MetricCounts,
    private readonly config: AppConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'freshness' });
  }

  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    fastify.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      if (reply.statusCode === 200 && request.method === 'POST' && request.routeOptions.url === AMIE_SUBMIT && typeof payload === 'string') {
        const m = AMIE_MESSAGE.exec(payload);
        if (m) request.amieCounts = { queued: Number(m[2]), failed: Number(m[3]) };
      } else if (reply.statusCode === 400 && typeof payload === 'string' && payload.startsWith(HORIZON_REFUSAL) && mountOf(request.url) === 'almanach') {
        request.refusedByHorizon = true;
      }
      return payload;
    });
    fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
      this.seen(request, reply);
    });
  }

  /** Forgets which keys were written this second: for a database emptied under a running app (tests' reset). */
  forgetWrites(): void {
    this.written.clear();
  }

  private seen(request: FastifyRequest, reply: FastifyReply): void {
    const at = new Date(Date.now() - reply.elapsedTime);
    if (request.amieCounts && request.siteName) {
      const site = request.siteName;
      this.counts.add('ledger_ingest_total', { source: 'amie', site, outcome: 'accepted' }, request.amieCounts.queued);
      this.counts.add('ledger_ingest_total', { source: 'amie', site, outcome: 'failed' }, request.amieCounts.failed);
      if (request.amieCounts.queued > 0) this.touch('amie', site, site, at);
      return;
    }
    const status = reply.statusCode;
    if (request.refusedByHorizon) {
      this.counts.add('ledger_ingest_total', { source: 'almanach', site: this.config.cloudSite, outcome: 'refused_horizon' });
      return;
    }
    if (status >= 200 && status < 300 && WRITE_METHODS.has(request.method) && request.principal && mountOf(request.url) === 'almanach') {
      const site = this.config.cloudSite;
      this.counts.add('ledger_ingest_total', { source: 'almanach', site, outcome: 'accepted' });
      this.touch('almanach', site, request.principal.name, at);
    }
  }

  private touch(source: FreshnessSource, site: string, collector: string, at: Date): void {
    const key = `${source}\u0000${site}\u0000${collector}`;
    const second = Math.floor(at.getTime() / 1000);
    if (this.written.get(key) === second) return;
    this.written.set(key, second);
    this.repository.touchSources([{ source, site, collector, at }]).catch((error: unknown) => {
      // Tried again by the next write of the key (another second).
      this.written.delete(key);
      this.log.warn({ err: { message: (error as Error).message }, source, site }, 'freshness: last event not recorded');
    });
  }
}
