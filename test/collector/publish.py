#!/usr/bin/python3
"""Publishes notifications exactly as Nova and Cinder do: oslo.messaging's
Notifier, driver messagingv2, rabbit transport (collector.md 3.1).

Reads one JSON object on stdin:
  {"url": "rabbit://guest:guest@127.0.0.1:5672/vhost",
   "notifications": [{"exchange": "nova", "publisher_id": "compute.host1",
                      "event_type": "...", "payload": {...},
                      "topic": "notifications",          # optional
                      "priority": "info",                # optional
                      "timestamp": "2016-01-01T19:00:00.123456",  # optional: the message's timestamp (utcnow)
                      "message_id": "...",               # optional: a fixed message_id (a re-sent message)
                      "context": {...}}]}                # optional request context
Prints {"published": n, "message_ids": [...], "published_at": [epoch seconds, ...]} on stdout.

Debian's python3-oslo.messaging and python3-kombu; run with /usr/bin/python3.
"""
import datetime
import json
import sys
import time
import uuid

from oslo_config import cfg
import oslo_messaging
from oslo_messaging.notify import notifier as notifier_module
from oslo_utils import timeutils


class _FixedUuid:
    """Stands in for the uuid module inside oslo's notifier to fix one message_id."""

    def __init__(self):
        self.next_id = None
        self.last_id = None

    def uuid4(self):
        value = uuid.UUID(self.next_id) if self.next_id else uuid.uuid4()
        self.last_id = str(value)
        return value

    def __getattr__(self, name):
        return getattr(uuid, name)


def parse_time(text):
    for fmt in ('%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%d %H:%M:%S'):
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise ValueError('unreadable timestamp %r' % text)


def main():
    spec = json.load(sys.stdin)
    url = spec['url']
    fixed = _FixedUuid()
    notifier_module.uuid = fixed
    transports = {}
    notifiers = {}
    ids = []
    stamps = []

    def notifier_for(exchange, publisher_id, topic):
        key = (exchange, publisher_id, topic)
        if key not in notifiers:
            if exchange not in transports:
                conf = cfg.ConfigOpts()
                conf([], project='usage-ledger-test')
                # The first transport registers control_exchange; each exchange gets a transport of its own.
                oslo_messaging.get_notification_transport(conf, url=url)
                conf.set_override('control_exchange', exchange)
                transports[exchange] = oslo_messaging.get_notification_transport(conf, url=url)
            notifiers[key] = oslo_messaging.Notifier(
                transports[exchange], publisher_id=publisher_id, driver='messagingv2', topics=[topic])
        return notifiers[key]

    try:
        for n in spec['notifications']:
            notifier = notifier_for(n.get('exchange', 'nova'), n.get('publisher_id', 'compute.host1'),
                                    n.get('topic', 'notifications'))
            fixed.next_id = n.get('message_id')
            if n.get('timestamp'):
                timeutils.set_time_override(parse_time(n['timestamp']))
            try:
                method = getattr(notifier, n.get('priority', 'info'))
                method(n.get('context', {}), n['event_type'], n['payload'])
            finally:
                timeutils.clear_time_override()
            ids.append(fixed.last_id)
            stamps.append(time.time())
    finally:
        for transport in transports.values():
            transport.cleanup()
    json.dump({'published': len(ids), 'message_ids': ids, 'published_at': stamps}, sys.stdout)


if __name__ == '__main__':
    main()
