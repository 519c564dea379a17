import { validateEnv } from '../config/env.schema';
import { describeTarget, parseBrokerUrl } from './broker-url';

describe(parseBrokerUrl.name, () => {
  it('reads amqp:// with a percent-encoded vhost', () => {
    const [t] = parseBrokerUrl('amqp://u:p%40ss@rabbit:5673/open%2Fstack');
    expect(t).toMatchObject({ protocol: 'amqp', hostname: 'rabbit', port: 5673, username: 'u', password: 'p@ss', vhost: 'open/stack' });
  });

  it('an empty path is the vhost "/", and amqps defaults to 5671', () => {
    expect(parseBrokerUrl('amqp://u:p@h')[0]).toMatchObject({ vhost: '/', port: 5672 });
    expect(parseBrokerUrl('amqps://u:p@h/')[0]).toMatchObject({ protocol: 'amqps', vhost: '/', port: 5671 });
  });

  it('reads an oslo transport_url with several hosts, in order', () => {
    const targets = parseBrokerUrl('rabbit://a:1@h1:5672,b:2@h2:5673/nova');
    expect(targets.map((t) => [t.username, t.password, t.hostname, t.port, t.vhost])).toEqual([
      ['a', '1', 'h1', 5672, 'nova'],
      ['b', '2', 'h2', 5673, 'nova'],
    ]);
  });

  it('never puts the password in the description', () => {
    expect(describeTarget(parseBrokerUrl('amqp://user:secret@h:5672/v')[0])).toBe('amqp://user@h:5672/v');
  });
});

describe('NOTIFICATIONS_URL validation', () => {
  it.each(['amqp://u:p@h:5672/v', 'amqps://h', 'rabbit://a:b@h1:5672,c:d@h2:5673/nova', 'amqp://u:p@[::1]:5672/'])('accepts %s', (url) => {
    expect(() => validateEnv({ NOTIFICATIONS_URL: url })).not.toThrow();
  });
  it.each(['rabbit://', 'http://h', 'amqp://u:p@/v', 'amqp://h:port/'])('refuses %s naming the variable, never echoing it', (url) => {
    expect(() => validateEnv({ NOTIFICATIONS_URL: url })).toThrow(/\n  NOTIFICATIONS_URL must be/);
  });
  it('names every bad NOTIFICATIONS_* variable', () => {
    expect(() =>
      validateEnv({ NOTIFICATIONS_PREFETCH: '0', NOTIFICATIONS_RETRY_DELAY_S: '0', NOTIFICATIONS_MAX_RETRIES: '-1', NOTIFICATIONS_DURABLE_EXCHANGES: 'yes', NOTIFICATIONS_EXCHANGES: 'a,,b', NOTIFICATIONS_TOPIC: 'a b' }),
    ).toThrow(/NOTIFICATIONS_EXCHANGES must[\s\S]*NOTIFICATIONS_TOPIC may[\s\S]*NOTIFICATIONS_PREFETCH must[\s\S]*NOTIFICATIONS_DURABLE_EXCHANGES must[\s\S]*NOTIFICATIONS_RETRY_DELAY_S must[\s\S]*NOTIFICATIONS_MAX_RETRIES must/);
  });
});
