import pino from 'pino';
import { AppConfig } from '../config/app-config';
import { JobQueueService } from './job-queue.service';
import { JobName } from './job-payloads';
import { QueueRuntime } from './queue-runtime';

const inProcess: QueueRuntime = { mode: 'in-process', description: 'in-process', async close() {} };
const config = AppConfig.fromValues({ DATA_DIR: 'memory://' });

function queueDeclaring(...names: string[]): JobQueueService {
  return new JobQueueService(config, pino({ level: 'silent' }), inProcess, names);
}

const handler = { process: async () => undefined };

describe('JobQueueService: the job registry', () => {
  it('accepts exactly one handler for each declared job', () => {
    const jobs = queueDeclaring('a.one', 'b.two');
    jobs.handle('a.one' as JobName, handler);
    jobs.handle('b.two' as JobName, handler);
    expect(() => jobs.assertComplete()).not.toThrow();
    expect(() => jobs.onApplicationBootstrap()).not.toThrow();
  });

  it('refuses a second handler for the same job', () => {
    const jobs = queueDeclaring('a.one');
    jobs.handle('a.one' as JobName, handler);
    expect(() => jobs.handle('a.one' as JobName, handler)).toThrow('job a.one has two handlers');
  });

  it('refuses a handler for a job no feature declares', () => {
    const jobs = queueDeclaring('a.one');
    expect(() => jobs.handle('z.unknown' as JobName, handler)).toThrow('job z.unknown has a handler but no feature declares it');
  });

  it('refuses to start consuming in-process while a declared job has no handler', () => {
    const jobs = queueDeclaring('a.one', 'b.two');
    jobs.handle('a.one' as JobName, handler);
    expect(() => jobs.onApplicationBootstrap()).toThrow('declared job(s) without a handler in this process: b.two');
  });

  it('runs an in-process job through its handler', async () => {
    const jobs = queueDeclaring('a.one');
    const seen: unknown[] = [];
    jobs.handle('a.one' as JobName, { process: async (payload: unknown) => void seen.push(payload) } as never);
    await jobs.enqueue('a.one' as JobName, { id: 7 } as never, { jobId: 'a-7' });
    await jobs.idle();
    expect(seen).toEqual([{ id: 7 }]);
    await jobs.onModuleDestroy();
  });
});
