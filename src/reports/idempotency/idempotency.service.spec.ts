import { DomainError } from '../../http/domain-error';
import { StoredAnswer } from '../../http/stored-answer';
import { ReportsError } from '../reports.errors';
import { IdempotencyRepository, IdempotencyRow, IdempotentRequest, StoredOutcome } from './idempotency.repository';
import { IdempotencyService } from './idempotency.service';

/** One process's view of report_idempotency_key, without expiry or lease. */
class MemoryKeys {
  rows = new Map<string, IdempotencyRow & { claim: string }>();
  async claim(r: IdempotentRequest, claim: string): Promise<boolean> {
    if (this.rows.has(r.key)) return false;
    this.rows.set(r.key, { method: r.method, path: r.path, body_hash: r.bodyHash, state: 'pending', status: null, answer: null, content_type: null, location: null, claim });
    return true;
  }
  async find(_token: string, key: string) {
    return this.rows.get(key);
  }
  async complete(_token: string, key: string, claim: string, o: StoredOutcome) {
    const row = this.rows.get(key);
    if (row?.claim === claim) Object.assign(row, { state: 'done', status: o.status, answer: o.answer, content_type: o.contentType, location: o.location });
  }
  async release(_token: string, key: string, claim: string) {
    if (this.rows.get(key)?.claim === claim) this.rows.delete(key);
  }
}

describe(IdempotencyService.name, () => {
  let keys: MemoryKeys;
  let service: IdempotencyService;
  beforeEach(() => {
    keys = new MemoryKeys();
    service = new IdempotencyService(keys as unknown as IdempotencyRepository);
  });

  it('refuses the key under another method with 409', async () => {
    await service.begin('admin', 'k', 'POST', '/admin/reports/x', { a: 1 });
    await expect(service.begin('admin', 'k', 'PUT', '/admin/reports/x', { a: 1 })).rejects.toMatchObject({ code: ReportsError.IdempotencyKeyReused });
  });

  it('keeps 2xx and 4xx answers and replays them', async () => {
    const claim = await service.begin('admin', 'k', 'POST', '/p', { b: 2, a: 1 });
    await service.finish(claim, { status: 404, payload: '{"error":"x"}', contentType: 'application/json', location: null });
    const replay = await service.begin('admin', 'k', 'POST', '/p', { a: 1, b: 2 }).catch((e: unknown) => e);
    expect(replay).toBeInstanceOf(StoredAnswer);
    expect(replay).toMatchObject({ status: 404, payload: '{"error":"x"}', headers: { 'Content-Type': 'application/json', 'Idempotent-Replayed': 'true' } });
  });

  it.each([500, 503, 429, 408])('forgets the key after a %i so a retry runs again', async (status) => {
    const claim = await service.begin('admin', 'k', 'POST', '/p', undefined);
    await service.finish(claim, { status, payload: '{}', contentType: null, location: null });
    expect(keys.rows.size).toBe(0);
    await expect(service.begin('admin', 'k', 'POST', '/p', undefined)).resolves.toMatchObject({ key: 'k' });
  });

  it('makes a repeat wait for the running first call', async () => {
    const claim = await service.begin('admin', 'k', 'POST', '/p', null);
    const repeat = service.begin('admin', 'k', 'POST', '/p', null).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 120));
    await service.finish(claim, { status: 202, payload: '{"id":"j"}', contentType: null, location: '/jobs/j' });
    expect(await repeat).toMatchObject({ status: 202, payload: '{"id":"j"}', headers: { Location: '/jobs/j' } });
  });

  it('answers 400 naming the header for a bad value', () => {
    expect(() => service.keyOf('')).toThrow(DomainError);
    expect(() => service.keyOf('x'.repeat(256))).toThrow('Idempotency-Key must be 1 to 255 printable characters');
    expect(service.keyOf('x'.repeat(255))).toBe('x'.repeat(255));
  });
});
