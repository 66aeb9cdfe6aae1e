/**
 * The runtime's HTTP client on undici: one keep-alive Agent per run, a per-request timeout, a
 * token-bucket rate limit, retries of transient failures with capped full jitter that honour
 * `Retry-After`, and classification of every failure into a {@link SyncError} — once, here.
 *
 * Retries are written here rather than with undici's RetryAgent because they must use the
 * run's injected clock, classify malformed JSON bodies as retryable, and share one error family.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { TokenBucket } from '../../lib/ratelimit.ts';
import { sleep, type Clock } from '../../lib/clock.ts';
import type { Log } from '../../lib/log.ts';
import { SyncError, redact } from '../errors.ts';
import { classifyFailure, classifyStatus } from './classify.ts';
import {
  parseDeprecation,
  parseRetryAfter,
  type DeprecationNotice,
  type HeaderLookup,
} from './headers.ts';

/** How transient failures are retried within one request. */
export interface RetryOptions {
  /** Retries after the first attempt. Default 4. */
  maxRetries?: number;
  /** Base of the exponential delay, in milliseconds. Default 200. */
  baseDelayMs?: number;
  /** Cap of the exponential delay before jitter, in milliseconds. Default 10_000. */
  maxDelayMs?: number;
  /** Longest `Retry-After` honoured, in milliseconds; a longer one fails the request. Default 60_000. */
  maxRetryAfterMs?: number;
}

/** Default retries: 4 retries, 200 ms doubling to a 10 s cap, full jitter, Retry-After ≤ 60 s. */
export const DEFAULT_RETRY: Required<RetryOptions> = {
  maxRetries: 4,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
};

/** Options of {@link HttpClient}. */
export interface HttpClientOptions {
  /** The run's keep-alive dispatcher (see {@link createAgent}). */
  dispatcher: Dispatcher;
  /** Limit for receiving the headers, and for each gap in the body, of one request, in ms. */
  timeoutMs: number;
  /** Token bucket toward this system; undefined means unlimited. */
  rateLimit?: { requestsPerSecond: number; burst: number } | undefined;
  /** Retry tuning. Default {@link DEFAULT_RETRY}. */
  retry?: RetryOptions | undefined;
  /** Time source for the rate limit, Retry-After dates and retry delays. */
  clock: Clock;
  /** Uniform random in [0, 1) for full jitter. Default Math.random. */
  random?: (() => number) | undefined;
  /** Headers sent with every request (e.g. authentication). */
  headers?: Record<string, string> | undefined;
  /** Secret values that must never appear in errors or logs. */
  secrets?: readonly string[] | undefined;
  /** Aborts in-flight requests and waits; the request then fails as `Interrupted`. */
  signal?: AbortSignal | undefined;
  /** Logger for retries; never receives headers. */
  log: Log;
}

/** One request. */
export interface HttpRequest {
  /** Default GET. */
  method?: 'GET' | 'PUT' | 'POST' | 'PATCH';
  url: URL;
  /** Extra headers for this request. */
  headers?: Record<string, string>;
  /** Sent as JSON when defined. */
  json?: unknown;
  /** Parse a 2xx body as JSON; a body that is not JSON is a retryable ServerError. */
  expectJSON?: boolean;
  /** Non-2xx statuses returned to the caller instead of thrown (e.g. 409, 422). */
  passThrough?: (status: number) => boolean;
}

/** An answer with a 2xx or passed-through status. */
export interface HttpResponse {
  status: number;
  /** Response header by lower-case name. */
  header: HeaderLookup;
  /** The body as text (already redacted of known secrets only when used in messages). */
  text: string;
  /** The parsed body when `expectJSON` and the status is 2xx; otherwise undefined. */
  json: unknown;
  /** Deprecation announced by this response, if any. */
  deprecation: DeprecationNotice | undefined;
}

/** A keep-alive Agent for one run; `timeoutMs` also bounds connecting. Close it at the end. */
export function createAgent(timeoutMs: number): Agent {
  return new Agent({ keepAliveTimeout: 30_000, connect: { timeout: timeoutMs } });
}

/** `GET https://host/path` without the query string, which may carry cursors or keys. */
export function describeRequest(method: string, url: URL): string {
  return `${method} ${url.origin}${url.pathname}`;
}

/** Header lookup over undici's header record. */
function lookup(headers: Record<string, string | string[] | undefined>): HeaderLookup {
  return (name) => {
    const value = headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

/** Sends requests with timeouts, rate limit, retries and classification. See module doc. */
export class HttpClient {
  readonly #options: HttpClientOptions;
  readonly #retry: Required<RetryOptions>;
  readonly #bucket: TokenBucket | undefined;

  /** Stores the options; no I/O. */
  constructor(options: HttpClientOptions) {
    this.#options = options;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    const limit = options.rateLimit;
    this.#bucket = limit && new TokenBucket({ qps: limit.requestsPerSecond, burst: limit.burst });
  }

  /** The secrets this client redacts; callers building messages from bodies use them too. */
  get secrets(): readonly string[] {
    return this.#options.secrets ?? [];
  }

  /** Sends `req`, retrying transient failures; throws a classified {@link SyncError}. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const label = describeRequest(req.method ?? 'GET', req.url);
    for (let retry = 0; ; retry++) {
      await this.#throttle();
      const outcome = await this.#attempt(req, label);
      if (!(outcome instanceof SyncError)) return outcome;
      const waitMs = this.#retryDelay(outcome, retry);
      if (waitMs === undefined) throw outcome;
      this.#options.log.warn(
        { request: label, code: outcome.code, status: outcome.status, retry: retry + 1, waitMs },
        'retrying a transient failure',
      );
      await sleep(this.#options.clock, waitMs, this.#options.signal);
      if (this.#options.signal?.aborted === true) {
        throw new SyncError('Interrupted', `${label}: interrupted while waiting to retry`);
      }
    }
  }

  /** Waits for a token of the rate limit. */
  async #throttle(): Promise<void> {
    if (!this.#bucket) return;
    const waitMs = this.#bucket.reserve(this.#options.clock.now());
    if (waitMs > 0) await sleep(this.#options.clock, waitMs, this.#options.signal);
  }

  /** Delay before retry number `retry + 1`, or undefined when the error must be thrown. */
  #retryDelay(error: SyncError, retry: number): number | undefined {
    const { maxRetries, baseDelayMs, maxDelayMs, maxRetryAfterMs } = this.#retry;
    if (!error.retryable || error.code === 'Interrupted' || retry >= maxRetries) return undefined;
    if (error.retryAfterMs !== undefined) {
      return error.retryAfterMs <= maxRetryAfterMs ? error.retryAfterMs : undefined;
    }
    const random = this.#options.random ?? Math.random;
    return random() * Math.min(maxDelayMs, baseDelayMs * 2 ** retry);
  }

  /** One attempt: the answer, or the classified failure. */
  async #attempt(req: HttpRequest, label: string): Promise<HttpResponse | SyncError> {
    const { dispatcher, timeoutMs, signal } = this.#options;
    try {
      const res = await request(req.url, {
        dispatcher,
        method: req.method ?? 'GET',
        headers: {
          accept: 'application/json',
          ...this.#options.headers,
          ...(req.json === undefined ? {} : { 'content-type': 'application/json' }),
          ...req.headers,
        },
        body: req.json === undefined ? null : JSON.stringify(req.json),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal,
      });
      const text = await res.body.text();
      return this.#answer(req, label, res.statusCode, lookup(res.headers), text);
    } catch (error) {
      const code = classifyFailure(error);
      const reason =
        code === 'Timeout'
          ? `no answer within ${timeoutMs} ms`
          : code === 'Interrupted'
            ? 'interrupted before an answer'
            : failureText(error);
      return new SyncError(code, this.#redact(`${label}: ${reason}`), { cause: error });
    }
  }

  /** Turns a received answer into a response or a classified failure. */
  #answer(
    req: HttpRequest,
    label: string,
    status: number,
    header: HeaderLookup,
    text: string,
  ): HttpResponse | SyncError {
    const deprecation = parseDeprecation(header, label);
    const ok = status >= 200 && status <= 299;
    if (!ok && req.passThrough?.(status) !== true) {
      const code = classifyStatus(status);
      const retryAfterMs =
        status === 429 || status === 503
          ? parseRetryAfter(header('retry-after'), this.#options.clock.now())
          : undefined;
      const detail = snippet(text);
      const message = `${label} answered ${status}${detail ? `: ${detail}` : ''}`;
      return new SyncError(code, this.#redact(message), { status, retryAfterMs });
    }
    let json: unknown;
    if (ok && req.expectJSON === true) {
      try {
        json = JSON.parse(text);
      } catch {
        const message = `${label} answered ${status} with a body that is not JSON`;
        return new SyncError('ServerError', message, { status });
      }
    }
    return { status, header, text, json, deprecation };
  }

  #redact(text: string): string {
    return redact(text, this.secrets);
  }
}

/** The first 200 characters of a body, on one line. */
export function snippet(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** A short description of a transport failure: its code, else its message. */
function failureText(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  return typeof code === 'string' ? `${code} (${text})` : text;
}
