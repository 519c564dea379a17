/**
 * Every registered route, collected with Fastify's onRoute hook, so that a
 * path asked with a method it does not serve answers 405 with `Allow` instead
 * of Fastify's 404 (spec/README.md, "404 and 405").
 */
export class RouteTable {
  private readonly routes: { pattern: RegExp; method: string }[] = [];

  add(url: string, methods: string | string[]): void {
    const pattern = new RegExp(
      '^' +
        url
          .replace(/\/+$/, '')
          .split('/')
          .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : escapeRegExp(part)))
          .join('/') +
        '/?$',
    );
    for (const method of Array.isArray(methods) ? methods : [methods]) this.routes.push({ pattern, method: method.toUpperCase() });
  }

  /** Methods served at this concrete path, sorted; empty when the path is unknown. */
  allowedMethods(url: string): string[] {
    const path = url.split('?', 1)[0];
    const methods = new Set<string>();
    for (const route of this.routes) if (route.pattern.test(path)) methods.add(route.method);
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
