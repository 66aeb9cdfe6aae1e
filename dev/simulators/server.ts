/**
 * The HTTP server every simulator shares: loopback only, socket tracking so `stop()` closes even
 * hanging requests, the `/__control/` API (faults, stats, request log, reset), and fault delivery
 * on the wire. A simulator only maps a request to an {@link Endpoint}.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { ZodError } from 'zod';
import {
  deprecationHeaders,
  FaultInjector,
  type DeprecationFault,
  type FaultStatus,
  type FaultType,
  type TerminalFault,
} from './faults.ts';

/** The only interface simulators bind. */
export const loopback = '127.0.0.1';

/** A request with its body read. */
export interface SimRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An answer: `body` is serialised as JSON unless it is undefined (no body). */
export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** What a simulator makes of a request before faults are considered. */
export interface Endpoint {
  /** Label in stats, e.g. `GET /v1/customers` or `PUT /customers/:id` (bounded cardinality). */
  route: string;
  /** 1-based page number when this is a list request (for `page` fault scopes). */
  page?: number;
  /** True for requests that write (counted for `afterWrites` scopes when answered 2xx). */
  write?: boolean;
  /** Processes the request; not called when a fault pre-empts it. */
  respond(): SimResponse | Promise<SimResponse>;
}

/** The provider-shaped errors a simulator must render (for faults and its own checks). */
export type ErrorKind = 'unauthorized' | 'rateLimited' | 'serverError' | 'notFound' | 'badRequest';

/** Options every simulator accepts. */
export interface SimulatorOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. Default 0. */
  port?: number;
  /** Seed of generated data and of probability faults without their own seed. Default 1. */
  seed?: number;
  /** Entries kept in the request log (oldest dropped). Default 10_000. */
  requestLogSize?: number;
}

/** How a request ended, as stats and the request log record it. */
export type Outcome = number | 'timeout' | 'reset';

/** Counters every simulator reports at `GET /__control/stats`. */
export interface SimulatorStats {
  requests: {
    /** Requests outside `/__control/`. */
    total: number;
    /** Route label → outcome (`"200"`, `"429"`, `"timeout"`, `"reset"`) → count. */
    byRoute: Record<string, Record<string, number>>;
    /** Outcome → count. */
    byStatus: Record<string, number>;
  };
  /** Write requests answered 2xx (what `afterWrites` scopes count). */
  successfulWrites: number;
  faults: {
    /** Total firings. */
    fired: number;
    byType: Partial<Record<FaultType, number>>;
    active: FaultStatus[];
  };
  /** Recorded request header (e.g. `stripe-version`) → value (`(none)` when absent) → count. */
  headers: Record<string, Record<string, number>>;
}

/** One request as the log keeps it. */
export interface RequestLogEntry {
  seq: number;
  method: string;
  path: string;
  /** The query string without `?`. */
  query: string;
  route: string;
  page?: number;
  outcome: Outcome;
  /** The simulator's recorded headers that were present (never credentials). */
  headers: Record<string, string>;
  /** Types of the faults that fired. */
  faults: FaultType[];
}

/** An error with a status, thrown by control handlers. */
export class ControlError extends Error {
  readonly status: number;
  /** `status` is the HTTP status to answer with. */
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Runs `compute`; a thrown {@link ControlError} is returned instead, to be thrown by `respond`. */
export function deferErrors<T>(compute: () => T): T | ControlError {
  try {
    return compute();
  } catch (err) {
    if (err instanceof ControlError) return err;
    throw err;
  }
}

/** A JSON answer. */
export function json(status: number, body: unknown, headers?: Record<string, string>): SimResponse {
  return { status, body, ...(headers === undefined ? {} : { headers }) };
}

/** Parses a request body as JSON; throws a 400 {@link ControlError} when it is not. */
export function parseJsonBody(req: SimRequest): unknown {
  if (req.body.length === 0) return undefined;
  try {
    return JSON.parse(req.body.toString('utf8'));
  } catch {
    throw new ControlError(400, 'request body is not valid JSON');
  }
}

/** The base of every simulator. Subclasses map requests to endpoints and render errors. */
export abstract class SimulatorServer {
  /** Seed of generated data and default fault probability seeds. */
  protected readonly seed: number;
  readonly #port: number;
  readonly #logSize: number;
  readonly #faults: FaultInjector;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #stopping = new AbortController();
  #stats = emptyStats();
  #log: RequestLogEntry[] = [];
  #seq = 0;

  /** Stores options; nothing listens until `start`. */
  constructor(options: SimulatorOptions = {}) {
    this.seed = options.seed ?? 1;
    this.#port = options.port ?? 0;
    this.#logSize = options.requestLogSize ?? 10_000;
    this.#faults = new FaultInjector(this.seed);
  }

  /** Maps a request (outside `/__control/`) to what it does. */
  protected abstract endpoint(req: SimRequest): Endpoint;

  /** Renders an error the way the provider does. */
  protected abstract errorResponse(kind: ErrorKind, status: number, message: string): SimResponse;

  /** Provider-specific headers added next to the standard deprecation headers. */
  protected providerDeprecationHeaders(_fault: DeprecationFault): Record<string, string> {
    return {};
  }

  /** Extra control routes (`/__control/<name>`); undefined when `name` is not one. */
  protected control(_req: SimRequest, _name: string): SimResponse | undefined {
    return undefined;
  }

  /** Request headers whose values are recorded in stats and the request log (lower case). */
  protected recordedHeaders(): readonly string[] {
    return [];
  }

  /** Clears simulator-specific state on `reset`; `keepData` keeps stored data. */
  protected resetState(_keepData: boolean): void {
    // Nothing by default.
  }

  /** The base URL (`http://127.0.0.1:<port>`); throws before `start` resolved. */
  get url(): string {
    const address = this.#server?.address();
    if (address === null || address === undefined || typeof address === 'string')
      throw new Error('simulator not listening');
    return `http://${loopback}:${address.port}`;
  }

  /** Listens on 127.0.0.1; resolves with the base URL. */
  async start(): Promise<string> {
    if (this.#server !== undefined) return this.url;
    this.#stopping = new AbortController();
    const server = createServer((req, res) => void this.#handle(req, res));
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.on('clientError', (_err, socket) => socket.destroy());
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, loopback, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return this.url;
  }

  /** Stops listening and destroys every connection, hanging ones included; resolves when closed. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    this.#stopping.abort();
    const closed = new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
    const sockets = [...this.#sockets].map(
      (socket) => new Promise((resolve) => socket.once('close', resolve)),
    );
    server.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all([closed, ...sockets]);
  }

  /** Connections currently open (0 after `stop`). */
  openConnections(): number {
    return this.#sockets.size;
  }

  /** Adds faults (validated; throws on an invalid one); returns their ids. */
  addFaults(faults: readonly unknown[]): string[] {
    return this.#faults.add(faults);
  }

  /** Removes every active fault. */
  clearFaults(): void {
    this.#faults.clear();
  }

  /** Active faults with how often each fired. */
  faults(): FaultStatus[] {
    return this.#faults.list();
  }

  /** Counters since start or the last reset. */
  stats(): SimulatorStats {
    const fired = this.#faults.firedByType();
    return {
      requests: structuredClone(this.#stats.requests),
      successfulWrites: this.#stats.successfulWrites,
      faults: {
        fired: Object.values(fired).reduce((sum, n) => sum + n, 0),
        byType: fired,
        active: this.#faults.list(),
      },
      headers: structuredClone(this.#stats.headers),
    };
  }

  /** The last `limit` (default all kept) requests, oldest first. */
  requests(limit?: number): RequestLogEntry[] {
    return limit === undefined ? [...this.#log] : this.#log.slice(-limit);
  }

  /** Clears faults, counters and the request log (and data unless `keepData`). */
  reset(options: { keepData?: boolean } = {}): void {
    this.#faults.reset();
    this.#stats = emptyStats();
    this.#log = [];
    this.resetState(options.keepData ?? false);
  }

  async #handle(incoming: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const req = await readRequest(incoming);
      if (req.url.pathname.startsWith('/__control/')) {
        send(res, this.#handleControl(req));
        return;
      }
      await this.#serve(req, res);
    } catch (err) {
      if (!res.headersSent && !res.destroyed)
        send(res, json(500, { error: err instanceof Error ? err.message : String(err) }));
    }
  }

  async #serve(req: SimRequest, res: ServerResponse): Promise<void> {
    const endpoint = this.endpoint(req);
    const decision = this.#faults.decide({
      method: req.method,
      path: req.url.pathname,
      page: endpoint.page,
      successfulWrites: this.#stats.successfulWrites,
    });
    const record = (outcome: Outcome) => {
      this.#record(
        req,
        endpoint,
        outcome,
        decision.fired.map((fault) => fault.type),
      );
    };
    if (decision.latencyMs > 0) await this.#sleep(decision.latencyMs);
    if (this.#stopping.signal.aborted) return;
    const terminal = decision.terminal;
    if (terminal?.type === 'timeout') {
      record('timeout'); // never answered: the socket closes when the client gives up or on stop
      return;
    }
    const response = this.#preempt(terminal) ?? (await this.#respond(endpoint));
    for (const fault of decision.deprecations) {
      const headers = { ...deprecationHeaders(fault), ...this.providerDeprecationHeaders(fault) };
      response.headers = mergeHeaders(response.headers ?? {}, headers);
    }
    if (endpoint.write === true && response.status >= 200 && response.status < 300)
      this.#stats.successfulWrites += 1;
    if (terminal?.type === 'connectionReset') {
      record('reset');
      this.#sendAndReset(res, response);
      return;
    }
    record(response.status);
    send(
      res,
      terminal?.type === 'emptyList' ? emptied(response) : response,
      terminal?.type === 'malformedJson',
    );
  }

  /** Processes the request; a thrown {@link ControlError} becomes the provider's error. */
  async #respond(endpoint: Endpoint): Promise<SimResponse> {
    try {
      return await endpoint.respond();
    } catch (err) {
      if (!(err instanceof ControlError)) throw err;
      return this.errorResponse(errorKind(err.status), err.status, err.message);
    }
  }

  /** The answer of a fault that replaces processing; undefined when the request is processed. */
  #preempt(fault: TerminalFault | undefined): SimResponse | undefined {
    switch (fault?.type) {
      case 'rateLimit': {
        const response = this.errorResponse('rateLimited', 429, 'Too many requests');
        const retryAfter = String(fault.retryAfterSeconds ?? 1);
        response.headers = { ...response.headers, 'retry-after': retryAfter };
        return response;
      }
      case 'serverError':
        return this.errorResponse('serverError', fault.status ?? 500, 'Simulated server error');
      case 'unauthorized':
        return this.errorResponse('unauthorized', 401, 'Simulated authentication failure');
      default:
        return undefined;
    }
  }

  #sendAndReset(res: ServerResponse, response: SimResponse): void {
    const body = serialize(response.body);
    res.writeHead(response.status, {
      ...baseHeaders(),
      ...response.headers,
      'content-length': String(Buffer.byteLength(body)),
    });
    res.write(body.slice(0, Math.floor(body.length / 2)), () => {
      // Give the client a moment to read the headers, then reset (RST) the connection.
      const timer = setTimeout(() => {
        res.socket?.resetAndDestroy();
      }, 10);
      this.#stopping.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
        },
        { once: true },
      );
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#stopping.signal;
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #record(req: SimRequest, endpoint: Endpoint, outcome: Outcome, faults: FaultType[]): void {
    const stats = this.#stats.requests;
    const key = String(outcome);
    stats.total += 1;
    stats.byStatus[key] = (stats.byStatus[key] ?? 0) + 1;
    const route = (stats.byRoute[endpoint.route] ??= {});
    route[key] = (route[key] ?? 0) + 1;
    const headers: Record<string, string> = {};
    for (const name of this.recordedHeaders()) {
      const value = headerValue(req.headers, name);
      const counts = (this.#stats.headers[name] ??= {});
      counts[value ?? '(none)'] = (counts[value ?? '(none)'] ?? 0) + 1;
      if (value !== undefined) headers[name] = value;
    }
    this.#seq += 1;
    this.#log.push({
      seq: this.#seq,
      method: req.method,
      path: req.url.pathname,
      query: req.url.search.slice(1),
      route: endpoint.route,
      ...(endpoint.page === undefined ? {} : { page: endpoint.page }),
      outcome,
      headers,
      faults,
    });
    if (this.#log.length > this.#logSize) this.#log.splice(0, this.#log.length - this.#logSize);
  }

  #handleControl(req: SimRequest): SimResponse {
    try {
      return this.#controlRoute(req);
    } catch (err) {
      if (err instanceof ZodError)
        return json(400, { error: 'invalid request', issues: err.issues });
      if (err instanceof ControlError) return json(err.status, { error: err.message });
      if (err instanceof RangeError) return json(400, { error: err.message });
      throw err;
    }
  }

  #controlRoute(req: SimRequest): SimResponse {
    const name = req.url.pathname.slice('/__control/'.length);
    const route = `${req.method} ${name}`;
    switch (route) {
      case 'GET stats':
        return json(200, this.stats());
      case 'GET faults':
        return json(200, { faults: this.faults() });
      case 'POST faults': {
        const body = parseJsonBody(req);
        const list = Array.isArray(body)
          ? body
          : (body as { faults?: unknown } | undefined)?.faults;
        if (!Array.isArray(list)) throw new ControlError(400, 'expected a list of faults');
        return json(201, { ids: this.addFaults(list) });
      }
      case 'DELETE faults':
        this.clearFaults();
        return json(200, { faults: [] });
      case 'GET requests': {
        const limit = req.url.searchParams.get('limit');
        return json(200, { requests: this.requests(limit === null ? undefined : Number(limit)) });
      }
      case 'POST reset': {
        const body = parseJsonBody(req) as { keepData?: unknown } | undefined;
        this.reset({ keepData: body?.keepData === true });
        return json(200, { reset: true });
      }
      default:
        return this.control(req, name) ?? json(404, { error: `no control route ${route}` });
    }
  }
}

function errorKind(status: number): ErrorKind {
  switch (status) {
    case 400:
    case 409:
    case 422:
      return 'badRequest';
    case 401:
    case 403:
      return 'unauthorized';
    case 404:
      return 'notFound';
    case 429:
      return 'rateLimited';
    default:
      return 'serverError';
  }
}

function emptyStats(): {
  requests: SimulatorStats['requests'];
  successfulWrites: number;
  headers: SimulatorStats['headers'];
} {
  return { requests: { total: 0, byRoute: {}, byStatus: {} }, successfulWrites: 0, headers: {} };
}

/** The first value of header `name` (lower case), if present. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readRequest(incoming: IncomingMessage): Promise<SimRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return {
    method: incoming.method ?? 'GET',
    url: new URL(incoming.url ?? '/', `http://${loopback}`),
    headers: incoming.headers,
    body: Buffer.concat(chunks),
  };
}

function baseHeaders(): Record<string, string> {
  return { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
}

function serialize(body: unknown): string {
  return body === undefined ? '' : JSON.stringify(body);
}

function mergeHeaders(
  headers: Record<string, string>,
  extra: Record<string, string>,
): Record<string, string> {
  const merged = lowerCase(headers);
  for (const [name, value] of Object.entries(extra)) {
    const key = name.toLowerCase();
    const existing = merged[key];
    // Link is a list: pagination and deprecation links coexist.
    merged[key] = key === 'link' && existing !== undefined ? `${existing}, ${value}` : value;
  }
  return merged;
}

/** A list answer with every array emptied and the pagination ended (the emptyList fault). */
function emptied(response: SimResponse): SimResponse {
  const body = response.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ...response, body: Array.isArray(body) ? [] : body };
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    out[key] = Array.isArray(value)
      ? []
      : key === 'has_more'
        ? false
        : key.startsWith('next')
          ? null
          : value;
  }
  const headers = Object.fromEntries(
    Object.entries(response.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'link'),
  );
  return { ...response, headers, body: out };
}

function send(res: ServerResponse, response: SimResponse, truncate = false): void {
  if (res.destroyed) return;
  let body = serialize(response.body);
  if (truncate) body = body.slice(0, Math.max(1, Math.floor(body.length / 2)));
  const headers = { ...baseHeaders(), ...lowerCase(response.headers ?? {}) };
  res.writeHead(response.status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function lowerCase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
