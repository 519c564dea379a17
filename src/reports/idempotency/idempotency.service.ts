import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DomainError } from '../../http/domain-error';
import { StoredAnswer } from '../../http/stored-answer';
import { ReportsError } from '../reports.errors';
import { canonicalJson } from './canonical-json';
import { IdempotencyRepository, IdempotentRequest } from './idempotency.repository';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** reports.md 1.8: 1 to 255 printable characters (visible ASCII and the space). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;
/** reports.md 1.8, "kept 24 hours". */
const KEY_TTL_HOURS = 24;
/**
 * A pending key whose call has not answered for this long is taken over by a
 * repeat of the same request: its process died between claim and answer.
 * Every POST of the reports answers in well under a second (the work itself
 * is a queued job), so a minute is generous.
 */
const PENDING_LEASE_SECONDS = 60;
/** How often a repeat looks whether the first call has answered. */
const POLL_MS = 50;

/** The key a running call owns; its answer is stored (or the key released) when it is sent. */
export interface IdempotencyClaim {
  tokenName: string;
  key: string;
  claim: string;
}

/** What the first call answered, as IdempotencyRecorder saw it leave. */
export interface SentAnswer {
  status: number;
  payload: unknown;
  contentType: string | null;
  location: string | null;
}

/**
 * The decisions of reports.md 1.8. A key is claimed by inserting it
 * `pending` before the handler runs; a repeat finds it and either replays
 * the stored answer, refuses another request (409), or waits for the first
 * call by polling the row (works across processes, holds no lock or
 * transaction while the handler runs). Answers kept: 2xx and 4xx but 408 and
 * 429 (the same request gets the same answer); 5xx, 408 and 429 release the
 * key so a retry runs again.
 */
@Injectable()
export class IdempotencyService {
  constructor(private readonly keys: IdempotencyRepository) {}

  /** The header's value, checked; undefined when the request carries none. */
  keyOf(header: string | string[] | undefined): string | undefined {
    if (header === undefined) return undefined;
    const key = Array.isArray(header) ? header.join(', ') : header;
    if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
      const message = `${IDEMPOTENCY_HEADER} must be 1 to 255 printable characters`;
      throw new DomainError(ReportsError.IdempotencyKeyInvalid, message, { fields: { [IDEMPOTENCY_HEADER]: message } });
    }
    return key;
  }

  /**
   * Owns the key for this call and returns the claim, or throws the stored
   * answer (a StoredAnswer), or a 409 for another request under the key.
   * Waits while another call owns it.
   */
  async begin(tokenName: string, key: string, method: string, path: string, body: unknown): Promise<IdempotencyClaim> {
    const request: IdempotentRequest = { tokenName, key, method, path, bodyHash: createHash('sha256').update(canonicalJson(body)).digest('hex') };
    const claim = randomUUID();
    for (;;) {
      if (await this.keys.claim(request, claim, KEY_TTL_HOURS, PENDING_LEASE_SECONDS)) return { tokenName, key, claim };
      const row = await this.keys.find(tokenName, key);
      // Gone between the two statements (released, expired): claim again.
      if (!row) continue;
      if (row.method !== method || row.path !== path || row.body_hash !== request.bodyHash) {
        throw new DomainError(
          ReportsError.IdempotencyKeyReused,
          `${IDEMPOTENCY_HEADER} ${JSON.stringify(key)} was already used with another request (${row.method} ${row.path}, or another body); use a new key`,
        );
      }
      if (row.state === 'done') {
        const headers: Record<string, string> = { 'Idempotent-Replayed': 'true' };
        if (row.content_type) headers['Content-Type'] = row.content_type;
        if (row.location) headers.Location = row.location;
        throw new StoredAnswer(row.status!, headers, row.answer ?? '');
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Keeps the first call's answer for its repeats, or forgets the key when the answer is worth retrying. */
  async finish(claim: IdempotencyClaim, sent: SentAnswer): Promise<void> {
    const answer = typeof sent.payload === 'string' ? sent.payload : Buffer.isBuffer(sent.payload) ? sent.payload.toString('utf8') : undefined;
    const kept = sent.status < 500 && sent.status !== 408 && sent.status !== 429 && answer !== undefined;
    if (!kept) return this.keys.release(claim.tokenName, claim.key, claim.claim);
    await this.keys.complete(claim.tokenName, claim.key, claim.claim, { status: sent.status, answer, contentType: sent.contentType, location: sent.location });
  }
}
