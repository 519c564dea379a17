import { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { QueueRuntime } from '../queue/queue-runtime';
import { HealthController } from './health.controller';

function fakeReply() {
  const sent: { status?: number; body?: unknown } = {};
  const reply = {
    status(code: number) {
      sent.status = code;
      return reply;
    },
    header() {
      return reply;
    },
    send(body: string) {
      sent.body = JSON.parse(body);
      return reply;
    },
  };
  return { reply: reply as unknown as FastifyReply, sent };
}

function controllerWith(database: () => Promise<unknown>, redis?: () => Promise<unknown>): HealthController {
  const db = { query: database } as unknown as DataSource;
  const queue = { mode: redis ? 'bullmq' : 'in-process', redis: redis ? { ping: redis } : undefined } as unknown as QueueRuntime;
  return new HealthController(db, queue);
}

describe(HealthController.name, () => {
  it('answers 200 when PostgreSQL and Redis answer', async () => {
    const { reply, sent } = fakeReply();
    await controllerWith(async () => [{}], async () => 'PONG').check(reply);
    expect(sent).toEqual({ status: 200, body: { status: 'ok', checks: { database: 'up', redis: 'up', queue: 'bullmq' } } });
  });

  it('answers 503 naming the database when it fails', async () => {
    const { reply, sent } = fakeReply();
    await controllerWith(() => Promise.reject(new Error('connection refused'))).check(reply);
    expect(sent.status).toBe(503);
    expect(sent.body).toMatchObject({ status: 'down', error: 'database not answering', checks: { database: 'down', redis: 'not configured' } });
  });

  it('answers 503 naming Redis when it does not answer', async () => {
    const { reply, sent } = fakeReply();
    await controllerWith(async () => [{}], () => Promise.reject(new Error('down'))).check(reply);
    expect(sent.status).toBe(503);
    expect(sent.body).toMatchObject({ error: 'redis not answering', checks: { database: 'up', redis: 'down' } });
  });
});
