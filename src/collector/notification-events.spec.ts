import { parseAlmanachDate } from '../almanach/almanach-dates';
import { HandledEventType, readEventTime, toCommand } from './notification-events';
import { MalformedNotification, NotificationMessage, readNotification } from './notification-message';

const us = (text: string) => parseAlmanachDate(text)!;

function message(eventType: HandledEventType, payload: unknown, extra: Partial<NotificationMessage> = {}): NotificationMessage & { eventType: HandledEventType } {
  return { messageId: 'm1', publisherId: 'compute.host1', context: {}, payload, timestamp: '2016-01-01 19:00:00.123456', ...extra, eventType };
}

const none = { instanceMetadata: [] as string[] };

describe('notification envelope (collector.md 3)', () => {
  it('unwraps the 2.0 envelope and flattens the context', () => {
    const inner = { message_id: 'abc', event_type: 'volume.exists', publisher_id: 'volume.c1', payload: {}, timestamp: 't', _context_request_id: 'req-1', _unique_id: 'x' };
    const m = readNotification(Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) })));
    expect(m).toMatchObject({ messageId: 'abc', eventType: 'volume.exists', publisherId: 'volume.c1', context: { request_id: 'req-1' } });
  });

  it.each([
    ['not JSON', Buffer.from('nope'), 'the body is not valid JSON'],
    ['an array', Buffer.from('[]'), 'the body is not a JSON object'],
    ['oslo.version 1.0', Buffer.from(JSON.stringify({ 'oslo.version': '1.0', 'oslo.message': '{}' })), 'oslo.version is not a 2.x version'],
    ['no event type', Buffer.from(JSON.stringify({ message_id: 'x' })), 'the body is neither an oslo 2.0 envelope nor a 1.0 message'],
    ['an empty message id', Buffer.from(JSON.stringify({ event_type: 'a', message_id: '' })), 'message_id is missing or empty'],
  ])('%s is malformed', (_what, body, error) => {
    expect(() => readNotification(body)).toThrow(new MalformedNotification(error));
  });
});

describe('field rules (collector.md 4.2)', () => {
  it('instance create: hostname, else display_name; project_id when tenant_id is absent; image_meta from Glance properties', () => {
    const c = toCommand(
      message('compute.instance.create.end', {
        instance_id: 'i1',
        project_id: 'p2',
        display_name: 'shown',
        hostname: '',
        instance_type: 'm1.tiny',
        created_at: '2016-01-01 18:00:00+00:00',
        image_meta: { os_distro: 'centos', version: '9', os_type: '' },
        os_type: 'linux',
        metadata: [{ key: 'a', value: 1 }, { key: 'b', value: 2 }],
      }),
      { instanceMetadata: ['a', 'zz'] },
    );
    expect(c).toEqual({
      kind: 'instance.create',
      entityId: 'i1',
      projectId: 'p2',
      start: us('2016-01-01T18:00:00Z'),
      name: 'shown',
      flavor: 'm1.tiny',
      imageMeta: { distro: 'centos', version: '9', os_type: 'linux' },
      metadata: { a: 1 },
    });
  });

  it('keeps every metadata key with *, none by default', () => {
    const payload = { instance_id: 'i', tenant_id: 'p', created_at: '2016-01-01T00:00:00', metadata: { x: '1', y: '2' } };
    expect(toCommand(message('compute.instance.create.end', payload), { instanceMetadata: ['*'] })).toMatchObject({ metadata: { x: '1', y: '2' } });
    expect(toCommand(message('compute.instance.create.end', payload), none)).toMatchObject({ metadata: {} });
  });

  it('dates: the first present source; Nova writes "" for unset dates; every wire format parses', () => {
    const del = toCommand(message('compute.instance.delete.end', { instance_id: 'i', terminated_at: '', deleted_at: '2016-01-01T21:30:00.000000', state: 'deleted', created_at: '2016-01-01 21:20:00+00:00' }), none);
    expect(del).toMatchObject({ date: us('2016-01-01T21:30:00Z'), filter: { neverBuilt: false, shortLived: true } });
    const fallback = toCommand(message('compute.instance.delete.end', { instance_id: 'i', terminated_at: '', deleted_at: '' }), none);
    expect(fallback).toMatchObject({ date: us('2016-01-01T19:00:00.123456Z'), filter: { shortLived: false } });
    expect(() => toCommand(message('compute.instance.create.end', { instance_id: 'i', tenant_id: 'p', created_at: '', launched_at: '' }), none)).toThrow(
      'payload.created_at and payload.launched_at are missing',
    );
    expect(() => toCommand(message('volume.create.end', { volume_id: 'v', tenant_id: 'p', size: 1, created_at: 'yesterday' }), none)).toThrow(
      'payload.created_at is not a date: "yesterday"',
    );
  });

  it('event time: _context_timestamp first, else timestamp; neither is malformed', () => {
    expect(readEventTime(message('volume.delete.end', {}, { context: { timestamp: '2016-01-01T19:00:00.654321' } }))).toBe(us('2016-01-01T19:00:00.654321Z'));
    expect(readEventTime(message('volume.delete.end', {}, { timestamp: '2016-01-01 19:00:00' }))).toBe(us('2016-01-01T19:00:00Z'));
    expect(() => readEventTime(message('volume.delete.end', {}, { timestamp: undefined }))).toThrow('timestamp is missing');
  });

  it('size: an integer ≥ 0 or a string of digits', () => {
    const base = { volume_id: 'v', tenant_id: 'p', created_at: '2016-01-01T18:00:00+00:00' };
    expect(toCommand(message('volume.create.end', { ...base, size: '20' }), none)).toMatchObject({ size: 20, volumeTypeId: null, name: null });
    expect(() => toCommand(message('volume.create.end', { ...base, size: -1 }), none)).toThrow('payload.size must be a whole number ≥ 0');
    expect(() => toCommand(message('volume.resize.end', { volume_id: 'v', size: '1.5' }), none)).toThrow('payload.size must be a whole number ≥ 0');
  });

  it('attachments: volume_attachment[].instance_uuid, else instance_uuid, else []', () => {
    const at = (payload: Record<string, unknown>) => (toCommand(message('volume.attach.end', { volume_id: 'v', ...payload }), none) as { attachments: string[] }).attachments;
    expect(at({ volume_attachment: [{ instance_uuid: 'a' }, {}, { instance_uuid: 'b' }], instance_uuid: 'z' })).toEqual(['a', 'b']);
    expect(at({ instance_uuid: 'z' })).toEqual(['z']);
    expect(at({})).toEqual([]);
  });

  it('resize needs a flavor; volume types need id and name; ids must be non-empty strings', () => {
    expect(() => toCommand(message('compute.instance.resize.confirm.end', { instance_id: 'i', instance_type: '' }), none)).toThrow('payload.instance_type must be a non-empty string');
    expect(() => toCommand(message('volume_type.create', { volume_types: { id: 't' } }), none)).toThrow('payload.volume_types.name is missing');
    expect(() => toCommand(message('volume.delete.end', { volume_id: 7 }), none)).toThrow('payload.volume_id must be a non-empty string');
    expect(() => toCommand(message('volume.delete.end', 'x'), none)).toThrow('payload is not an object');
    expect(toCommand(message('volume_type.create', { volume_types: { id: 't', name: 'ssd' } }), none)).toEqual({ kind: 'volume_type.create', entityId: 't', name: 'ssd' });
  });

  it('never-built deletes are flagged for the filter', () => {
    expect(toCommand(message('compute.instance.delete.end', { instance_id: 'i', state: 'error' }), none)).toMatchObject({ filter: { neverBuilt: true } });
  });
});
