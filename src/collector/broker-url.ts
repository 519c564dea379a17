import type { Options } from 'amqplib';

/** One broker address to try, as amqplib's connect() takes it. */
export type BrokerTarget = Options.Connect & { protocol: 'amqp' | 'amqps'; hostname: string; port: number; vhost: string };

/**
 * NOTIFICATIONS_URL (collector.md 1.2): `amqp://user:pass@host:5672/vhost`,
 * `amqps://…`, or an oslo transport_url `rabbit://u:p@h1:5672,u:p@h2:5672/vhost`
 * (hosts tried in order). The path is the vhost, percent-decoded; empty → `/`.
 */
export function parseBrokerUrl(url: string): BrokerTarget[] {
  const match = /^(amqps?|rabbit):\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/.exec(url);
  if (!match) throw new Error('NOTIFICATIONS_URL is not a broker URL');
  const [, scheme, hosts, path = '', query = ''] = match;
  const protocol = scheme === 'amqps' || (scheme === 'rabbit' && /[?&]ssl=(1|true)/i.test(query)) ? 'amqps' : 'amqp';
  const vhost = path.length <= 1 ? '/' : decodeURIComponent(path.slice(1));
  const targets: BrokerTarget[] = [];
  for (const part of hosts.split(',')) {
    if (!part) continue;
    const at = part.lastIndexOf('@');
    const credentials = at >= 0 ? part.slice(0, at) : '';
    const address = at >= 0 ? part.slice(at + 1) : part;
    const colon = credentials.indexOf(':');
    const username = credentials ? decodeURIComponent(colon >= 0 ? credentials.slice(0, colon) : credentials) : 'guest';
    const password = credentials && colon >= 0 ? decodeURIComponent(credentials.slice(colon + 1)) : credentials ? '' : 'guest';
    const hostMatch = /^(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(address);
    if (!hostMatch || !hostMatch[1]) throw new Error('NOTIFICATIONS_URL names a host it cannot read');
    const hostname = hostMatch[1].replace(/^\[|\]$/g, '');
    const port = hostMatch[2] ? Number(hostMatch[2]) : protocol === 'amqps' ? 5671 : 5672;
    targets.push({ protocol, hostname, port, username, password, vhost, heartbeat: 30 });
  }
  if (targets.length === 0) throw new Error('NOTIFICATIONS_URL names no host');
  return targets;
}

/** For logs: the address without the password. */
export function describeTarget(target: BrokerTarget): string {
  const vhost = target.vhost === '/' ? '' : encodeURIComponent(target.vhost);
  return `${target.protocol}://${target.username}@${target.hostname}:${target.port}/${vhost}`;
}
