import { ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyRequest } from 'fastify';
import pino from 'pino';
import { IdempotencyGuard } from './idempotency.guard';
import { IdempotencyService } from './idempotency.service';

describe('IdempotencyGuard', () => {
  const claim = { tokenName: 'billing', key: 'k-1', claim: 'c-1' };
  let begin: jest.Mock;
  let guard: IdempotencyGuard;

  beforeEach(() => {
    begin = jest.fn().mockResolvedValue(claim);
    const service = { keyOf: (value: unknown) => (typeof value === 'string' ? value : undefined), begin } as unknown as IdempotencyService;
    guard = new IdempotencyGuard(service, {} as HttpAdapterHost, pino({ level: 'silent' }));
  });

  const contextOf = (request: Partial<FastifyRequest>): ExecutionContext =>
    ({ getType: () => 'http', switchToHttp: () => ({ getRequest: () => request }) }) as unknown as ExecutionContext;
  const request = (over: Partial<FastifyRequest>): Partial<FastifyRequest> =>
    ({ method: 'POST', url: '/reports/exports', routeOptions: { url: '/reports/exports' }, headers: { 'idempotency-key': 'k-1' }, body: { a: 1 }, ...over }) as Partial<FastifyRequest>;

  it('lets every other route through at once, with no promise and no claim', () => {
    for (const other of [request({ method: 'GET' }), request({ routeOptions: { url: '/v1/info' } } as Partial<FastifyRequest>), request({ headers: {} })]) {
      expect(guard.canActivate(contextOf(other))).toBe(true);
    }
    expect(begin).not.toHaveBeenCalled();
  });

  it('claims the key under the token name once the credential was checked', async () => {
    const checked = request({ accessChecked: true, principal: { tokenId: 't', name: 'billing', role: 'service', userId: null, projectIds: [] } });
    await expect(guard.canActivate(contextOf(checked))).resolves.toBe(true);
    expect(begin).toHaveBeenCalledWith('billing', 'k-1', 'POST', '/reports/exports', { a: 1 });
    expect(checked.idempotencyClaim).toBe(claim);
  });

  it('refuses to claim before the access guard ran, rather than claim a key scoped to nobody', () => {
    expect(() => guard.canActivate(contextOf(request({})))).toThrow(/before AccessGuard/);
    expect(begin).not.toHaveBeenCalled();
  });
});
