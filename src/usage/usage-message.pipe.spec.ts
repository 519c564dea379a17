import { AuthService } from '../auth/auth.service';
import { UsageMessageInput, UsageMessagePipe } from './usage-message.pipe';

const record = {
  Username: 'u',
  LocalProjectID: 'p',
  LocalRecordID: 'r',
  Resource: 'c',
  SubmitTime: '2024-05-01T00:00:00.000Z',
  StartTime: '2024-05-01T00:00:00.000Z',
  EndTime: '2024-05-01T01:00:00.000Z',
  Charge: '1',
  Attributes: { NodeCount: 1, JobName: 'café' },
};

describe(UsageMessagePipe.name, () => {
  // No key taken from memory (keyHash null): the pipe never asks AuthService (the e2e tests cover that path).
  const confirmSiteKey = jest.fn();
  const pipe = new UsageMessagePipe({ confirmSiteKey } as unknown as AuthService);
  const transform = (input: Omit<UsageMessageInput, 'site' | 'keyHash'>) => pipe.transform({ ...input, site: 'hpc', keyHash: null });
  afterEach(() => expect(confirmSiteKey).not.toHaveBeenCalled());
  const body = { UsageType: 'Compute', Records: [record] };
  const text = JSON.stringify(body);

  it('keeps the bytes as received as the batch text, less a leading BOM', async () => {
    const bytes = Buffer.from(text);
    expect((await transform({ body, text, bytes, numericSafe: true })).text).toBe(bytes);
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    const kept = (await transform({ body, text: `\uFEFF${text}`, bytes: withBom, numericSafe: true })).text;
    expect(Buffer.isBuffer(kept) && kept.equals(bytes)).toBe(true);
  });

  it('keeps the text without bytes, and nothing when PostgreSQL would read the text otherwise', async () => {
    expect((await transform({ body, text: `\uFEFF${text}`, bytes: undefined, numericSafe: true })).text).toBe(text);
    expect((await transform({ body, text, bytes: Buffer.from(text), numericSafe: false })).text).toBeNull();
    const escaped = text.replace('café', 'caf\\u00e9');
    expect((await transform({ body, text: escaped, bytes: Buffer.from(escaped), numericSafe: true })).text).toBeNull();
  });

  it('hands the service each accepted record in its stored form', async () => {
    expect((await transform({ body, text, bytes: Buffer.from(text), numericSafe: true })).accepted).toEqual([{ n: 0, r: 'c', i: 'r' }]);
    expect((await transform({ body, text, bytes: Buffer.from(text), numericSafe: false })).accepted).toEqual([{ n: 0, r: 'c', i: 'r', d: record }]);
  });
});
