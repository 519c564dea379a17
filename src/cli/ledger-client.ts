import { CliError, withheld } from './cli-error';

/** Where the service is and who calls it: `--url`/`LEDGER_URL`, `--token`/`LEDGER_TOKEN`. */
export interface Connection {
  url: string;
  token: string;
}

const TIMEOUT_MS = 30_000;
/** A download may take as long as it needs, but not sit silent longer than this. */
const IDLE_MS = 60_000;

/** A query string's values: repeated parameters as arrays, absent ones skipped. */
export type Query = Record<string, string | string[] | undefined>;

/** What a streamed answer gives its reader: the headers, and the body chunk by chunk. */
export interface Download {
  headers: Headers;
  body: AsyncIterable<Uint8Array>;
}

/**
 * The CLI's HTTP client of the service's JSON API: X-Auth-Token on every
 * call; a non-2xx answer becomes a CliError carrying the server's own
 * `error` message; a service that cannot be reached says so with the cause.
 * The token is sent and never written anywhere else: no message here quotes
 * a header or a request body.
 */
export class LedgerClient {
  private readonly base: URL;

  constructor(private readonly connection: Connection) {
    try {
      this.base = new URL(connection.url);
    } catch {
      throw new CliError(`--url: not a URL: ${shownValue(connection.url)}`);
    }
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      const shown = new URL(this.base);
      shown.username = '';
      shown.password = '';
      throw new CliError(`--url: must be an http or https URL: ${shown.href}`);
    }
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.call<T>('GET', path, undefined, query);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  put<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
    return this.send<T>('PUT', path, body);
  }

  async delete(path: string): Promise<void> {
    await this.call<unknown>('DELETE', path);
  }

  /**
   * A GET whose body is read as a stream (the CSV exports, reports.md 1.7).
   * The answer must come within the usual timeout; after that the body may
   * take as long as it needs but never sit silent for IDLE_MS. An aborted
   * transfer surfaces as an error from the body's iterator.
   */
  async download(path: string, query: Query, accept: string): Promise<Download> {
    const url = this.url(path, query);
    const controller = new AbortController();
    let timer = setTimeout(() => controller.abort(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
    let response: Response;
    try {
      response = await fetch(url, { headers: { 'X-Auth-Token': this.connection.token, Accept: accept }, signal: controller.signal });
    } catch (error) {
      clearTimeout(timer);
      throw this.unreachable(error);
    }
    clearTimeout(timer);
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw this.failure('GET', url, response, text);
    }
    if (!response.body) throw new CliError(`GET ${url.pathname}: the answer has no body`);
    const reader = response.body.getReader();
    const idle = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new Error(`the transfer stalled for ${IDLE_MS / 1000} s`)), IDLE_MS);
    };
    async function* chunks(): AsyncIterable<Uint8Array> {
      try {
        idle();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          idle();
          yield value;
        }
      } finally {
        clearTimeout(timer);
        reader.releaseLock();
        if (!controller.signal.aborted) controller.abort();
      }
    }
    return { headers: response.headers, body: chunks() };
  }

  private async call<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    return (await this.send<T>(method, path, body, query)).body;
  }

  private async send<T>(method: string, path: string, body?: unknown, query?: Query): Promise<{ status: number; body: T }> {
    const url = this.url(path, query);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { 'X-Auth-Token': this.connection.token, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw this.unreachable(error);
    }
    const text = await response.text();
    if (!response.ok) throw this.failure(method, url, response, text);
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new CliError(`${method} ${url.pathname}: the answer is not JSON`);
    }
    return { status: response.status, body: parsed as T };
  }

  private url(path: string, query: Query = {}): URL {
    const url = new URL(path.replace(/^\//, ''), this.base.href.endsWith('/') ? this.base.href : `${this.base.href}/`);
    for (const [name, value] of Object.entries(query)) {
      for (const v of value === undefined ? [] : Array.isArray(value) ? value : [value]) url.searchParams.append(name, v);
    }
    return url;
  }

  private unreachable(error: unknown): CliError {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return new CliError(`cannot reach the service at ${this.base.origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }

  /** The server's own message (`{"error": …}`, reports and admin mounts), else the start of the body, else the status text. */
  private failure(method: string, url: URL, response: Response, text: string): CliError {
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const message = typeof (parsed as { error?: unknown })?.error === 'string' ? (parsed as { error: string }).error : text.slice(0, 200) || response.statusText;
    return new CliError(`${method} ${url.pathname}: ${response.status} ${message}`);
  }
}

/**
 * A refused --url as an error may repeat it: not when it has the shape of a
 * secret (24 or more letters, digits, `-` or `_`: a token pasted after --url
 * instead of --token).
 */
function shownValue(value: string): string {
  return /^[A-Za-z0-9_-]{24,}$/.test(value) ? withheld(value) : value;
}
