/**
 * The one authenticated HTTP transport to the API server: every list, watch and write of the
 * operator goes through {@link KubeApi}. Credentials come from the kubeconfig per request (tokens
 * rotate); each call honours its caller's signal and has a timeout of its own; every failure
 * (HTTP status, refused connection, timeout, abort) leaves here as an {@link ApiError}. With a
 * rate limiter (the client request budget), a call first waits for its token, as client-go's
 * REST client does: before its timeout starts and before its gate is asked.
 */
import { type HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { Readable } from 'node:stream';
import { fetch as undiciFetch, type Response } from 'undici';
import { ConnectionPools } from './connections.ts';
import { ApiError } from './errors.ts';

/** Default per-call timeout of reads and writes, in ms: a hung API server fails the call. */
export const DEFAULT_API_TIMEOUT_MS = 30_000;

/** One call to the API server. */
export interface ApiRequest {
  /** HTTP method. Default `GET`. */
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute API path, e.g. `/api/v1/namespaces/x/secrets/y`. Required. */
  path: string;
  /** Query parameters; undefined values are left out. Default none. */
  query?: Readonly<Record<string, string | undefined>>;
  /** Sent as JSON. Default: no body. */
  body?: unknown;
  /** Content-Type of `body`, e.g. `application/merge-patch+json` for a PATCH. Default `application/json`. */
  contentType?: string;
  /** The Accept header. Default `application/json`. */
  accept?: string;
  /** Client-side timeout of the whole call (for a stream: until its end), in ms. Default {@link DEFAULT_API_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Aborts the call (a reconcile's or an informer's signal). Default: none. */
  signal?: AbortSignal;
  /**
   * Called synchronously as the last step before the request is sent; throwing (an ApiError)
   * stops it unsent. The lease fence's second check. Default: none.
   */
  gate?: () => void;
}

/** The port every API call goes through; {@link KubeApi} on a real server, fakes in tests. */
export interface ApiTransport {
  /** Sends the request and resolves its JSON body (undefined when empty); throws ApiError. */
  request<T>(request: ApiRequest): Promise<T>;
  /** Sends the request and resolves its body as a byte stream; the timeout covers reading it. */
  stream(request: ApiRequest): Promise<AsyncIterable<Uint8Array>>;
}

/** Minimal Kubernetes Status, as sent in ERROR watch events and error responses. */
export interface ApiStatus {
  /** HTTP status code. */
  code?: number;
  /** Machine-readable reason, e.g. `AlreadyExists`, `Conflict`, `NotFound`, `Expired`. */
  reason?: string;
  /** Human-readable description. */
  message?: string;
}

/** The client request budget's side of {@link KubeApi}: {@link RateLimiter} in production. */
export interface RequestRateLimiter {
  /** Waits for a token; resolves to the milliseconds waited; rejects when `signal` aborts. */
  wait(signal?: AbortSignal): Promise<number>;
}

/** Options of {@link KubeApi}. */
export interface KubeApiOptions {
  /** Server and credentials of the current context. Required. */
  kubeConfig: KubeConfig;
  /**
   * The User-Agent of every request, as the API server's audit log and metrics show it, e.g.
   * `tributary-operator (replica-a)`. Default: the fetch library's own.
   */
  userAgent?: string;
  /** Timeout of a call that sets none, in ms. Default {@link DEFAULT_API_TIMEOUT_MS}. */
  timeoutMs?: number;
  /**
   * The client request budget: every call but a watch waits for a token before it is sent (a
   * watch is one long request, which client-go does not rate-limit either). Default: no limit.
   */
  rateLimiter?: RequestRateLimiter;
  /**
   * Called after each wait for a token, however short, with the request's method, the API
   * server's `host[:port]` and the wait in seconds: client-go's
   * `rest_client_rate_limiter_duration_seconds`. Default: none.
   */
  onRateLimiterWait?(verb: string, host: string, seconds: number): void;
}

/** An {@link ApiTransport} over undici `fetch` to the kubeconfig's current cluster. */
export class KubeApi implements ApiTransport {
  readonly #options: KubeApiOptions;
  readonly #pools = new ConnectionPools<NonNullable<ReturnType<RequestContext['getDispatcher']>>>();

  /** Stores options; credentials are read per request. */
  constructor(options: KubeApiOptions) {
    this.#options = options;
  }

  /** Sends `request`; a 2xx body is parsed as JSON. */
  async request<T>(request: ApiRequest): Promise<T> {
    const call = this.#call(request);
    try {
      const text = await (await call.response).text();
      return (text === '' ? undefined : JSON.parse(text)) as T;
    } catch (error) {
      throw call.fail(error);
    }
  }

  /** Sends `request`; the body streams until the server ends it, the timeout or the signal. */
  async stream(request: ApiRequest): Promise<AsyncIterable<Uint8Array>> {
    const call = this.#call(request);
    let body: AsyncIterable<Uint8Array>;
    try {
      body = (await call.response).body ?? (Readable.from([]) as AsyncIterable<Uint8Array>);
    } catch (error) {
      throw call.fail(error);
    }
    return failingAs(body, call.fail);
  }

  /** Starts the call; `fail` turns anything it throws into the one ApiError of this call. */
  #call(request: ApiRequest): { response: Promise<Response>; fail: (error: unknown) => ApiError } {
    const method = request.method ?? 'GET';
    const timeoutMs = request.timeoutMs ?? this.#options.timeoutMs ?? DEFAULT_API_TIMEOUT_MS;
    let timeout: AbortSignal | undefined;
    const fail = (error: unknown): ApiError => {
      if (error instanceof ApiError) return error;
      const what = `${method} ${request.path}`;
      const message =
        timeout?.aborted === true
          ? `no answer within ${timeoutMs} ms`
          : error instanceof Error
            ? error.message
            : String(error);
      return new ApiError(0, `${what}: ${message}`, undefined, { cause: error });
    };
    const response = (async () => {
      // Throttled before the timeout starts: a throttled call does not time out unsent.
      await this.#throttle(method, request);
      timeout = AbortSignal.timeout(timeoutMs);
      const signal =
        request.signal === undefined ? timeout : AbortSignal.any([request.signal, timeout]);
      const answer = await this.#fetch(method, request, signal);
      if (answer.ok) return answer;
      throw statusError(answer.status, await answer.text().catch(() => ''));
    })();
    return { response, fail };
  }

  /** Waits for the request's token of the client request budget (none for a watch). */
  async #throttle(method: string, request: ApiRequest): Promise<void> {
    const { rateLimiter } = this.#options;
    if (rateLimiter === undefined || request.query?.watch === 'true') return;
    const server = this.#options.kubeConfig.getCurrentCluster()?.server ?? '';
    const waitedMs = await rateLimiter.wait(request.signal);
    this.#options.onRateLimiterWait?.(method, hostOf(server), waitedMs / 1000);
  }

  async #fetch(method: string, request: ApiRequest, signal: AbortSignal): Promise<Response> {
    const { kubeConfig } = this.#options;
    const cluster = kubeConfig.getCurrentCluster();
    if (cluster === null) throw new ApiError(0, 'kubeconfig has no current cluster');
    const url = new URL(cluster.server + request.path);
    for (const [name, value] of Object.entries(request.query ?? {}))
      if (value !== undefined) url.searchParams.set(name, value);
    const context = new RequestContext(url.toString(), method as HttpMethod);
    await kubeConfig.applySecurityAuthentication(context);
    const dispatcher = this.#pools.pick(kubeConfig, context.getDispatcher());
    const headers: Record<string, string> = {
      ...context.getHeaders(),
      Accept: request.accept ?? 'application/json',
      ...(this.#options.userAgent !== undefined ? { 'User-Agent': this.#options.userAgent } : {}),
    };
    if (request.body !== undefined)
      headers['Content-Type'] = request.contentType ?? 'application/json';
    request.gate?.();
    return undiciFetch(url, {
      method,
      headers,
      signal,
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      ...(dispatcher !== undefined ? { dispatcher } : {}),
    });
  }
}

/** Builds an {@link ApiError} from an HTTP status and a response body that may be a Status. */
export function statusError(status: number, body: string): ApiError {
  let parsed: ApiStatus = {};
  try {
    parsed = JSON.parse(body) as ApiStatus;
  } catch {
    // Not a Status document: keep the raw text as the message.
  }
  return new ApiError(
    status,
    parsed.message ?? (body.slice(0, 200) || `HTTP ${status}`),
    parsed.reason,
  );
}

/**
 * The `host[:port]` of a server URL as written, as Go's `url.URL.Host` has it (the label of
 * client-go's REST client metrics): `https://10.96.0.1:443` is `10.96.0.1:443`.
 */
export function hostOf(server: string): string {
  return server.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split(/[/?#]/)[0] ?? '';
}

/** A path with every interpolated value URI-encoded, e.g. apiPath`/api/v1/namespaces/${ns}/secrets/${name}`. */
export function apiPath(strings: TemplateStringsArray, ...values: string[]): string {
  return strings.reduce(
    (path, part, index) => path + encodeURIComponent(values[index - 1] ?? '') + part,
  );
}

/** Re-raises a failure while reading a stream (timeout, reset, abort) as the call's ApiError. */
async function* failingAs(
  body: AsyncIterable<Uint8Array>,
  fail: (error: unknown) => ApiError,
): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch (error) {
    throw fail(error);
  }
}
