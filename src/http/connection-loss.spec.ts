import { isConnectionLoss } from './connection-loss';

const withCode = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error('x'), { code, ...extra });

describe(isConnectionLoss.name, () => {
  it.each([
    ['pg_terminate_backend (57P01)', withCode('57P01')],
    ['crash shutdown (57P02)', withCode('57P02')],
    ['cannot connect now (57P03)', withCode('57P03')],
    ['connection exception class 08', withCode('08006')],
    ['refused', withCode('ECONNREFUSED')],
    ['reset', withCode('ECONNRESET')],
    ['a Unix socket gone', withCode('ENOENT', { syscall: 'connect' })],
    ['node-postgres end of stream', new Error('Connection terminated unexpectedly')],
    ['node-postgres broken client', new Error('Client has encountered a connection error and is not queryable')],
    ['wrapped by TypeORM', Object.assign(new Error('query failed'), { driverError: withCode('57P01') })],
    ['chained with cause', new Error('outer', { cause: new Error('Connection terminated') })],
    ['TypeORM runner released by a connection error', Object.assign(new Error('released'), { name: 'QueryRunnerAlreadyReleasedError' })],
  ])('recognises %s', (_name, error) => {
    expect(isConnectionLoss(error)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('23505')],
    ['invalid text representation', withCode('22P02')],
    ['a missing file', withCode('ENOENT', { syscall: 'open' })],
    ['a plain error', new Error('boom')],
    ['not an error', 'Connection terminated'],
    ['nothing', undefined],
  ])('does not take %s for one', (_name, error) => {
    expect(isConnectionLoss(error)).toBe(false);
  });
});
