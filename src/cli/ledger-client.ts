import { CliError } from './cli-error';

/** Where the service is and who calls it: `--url`/`LEDGER_URL`, `--token`/`LEDGER_TOKEN`. */
export interface Connection {
  url: string;
  token: string;
}

const TIMEOUT_MS = 30_000;

/**
 * The CLI's HTTP client of the service's JSON API: X-Auth-Token on every
 * call; a non-2xx answer becomes a CliError carrying the server's own
 * `error` message; a service that cannot be reached says so with the cause.
 */
export class LedgerClient {
  private readonly base: URL;

  constructor(private readonly connection: Connection) {
    try {
      this.base = new URL(connection.url);
    } catch {
      throw new CliError(`--url: not a URL: ${connection.url}`);
    }
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new CliError(`--url: must be an http or https URL: ${connection.url}`);
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path.replace(/^\//, ''), this.base.href.endsWith('/') ? this.base.href : `${this.base.href}/`);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { 'X-Auth-Token': this.connection.token, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach the service at ${this.base.origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const message = typeof (parsed as { error?: unknown })?.error === 'string' ? (parsed as { error: string }).error : text.slice(0, 200) || response.statusText;
      throw new CliError(`${method} ${url.pathname}: ${response.status} ${message}`);
    }
    if (parsed === undefined && text) throw new CliError(`${method} ${url.pathname}: the answer is not JSON`);
    return parsed as T;
  }
}
