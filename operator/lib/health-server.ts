/**
 * The HTTP endpoints of a Tributary process (the operator, the intake): `/healthz` (the process
 * serves), `/readyz` (every registered readiness check passes), `/metrics` (the injected
 * prom-client registry) and any extra route the process adds (the intake's `GET /stats` and
 * `POST /match`). An extra route is called for every method; a request body reaches it whole,
 * read up to {@link MAX_ROUTE_BODY_BYTES} (413 above).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { readCappedBody } from './http-body.ts';

/** Largest request body an extra route is given, in bytes (1 MiB). */
export const MAX_ROUTE_BODY_BYTES = 1024 * 1024;

/**
 * An extra route: answers [status, body, content type]. `body` is undefined for GET and HEAD,
 * else the whole request body; `method` is the request's. A route answers 405 itself for a
 * method it does not serve.
 */
export type HealthRoute = (
  url: URL,
  body: Buffer | undefined,
  method: string,
) => Promise<[number, string, string?]>;

/** A named readiness condition, e.g. `informer:integrations` → `() => informer.isHealthy()`. */
export type ReadinessCheck = () => boolean;

/** Options of {@link HealthServer}. */
export interface HealthServerOptions {
  /** Registry served at `/metrics`. Required. */
  registry: Registry;
  /** TCP port; 0 picks a free one (tests). Default 8080. */
  port?: number;
  /** Interface to bind. Default `0.0.0.0`. */
  host?: string;
  /** Extra routes by path ({@link HealthRoute}). Default none. */
  routes?: Readonly<Record<string, HealthRoute>>;
}

/** Serves health, readiness and metrics. */
export class HealthServer {
  readonly #options: HealthServerOptions;
  readonly #checks = new Map<string, ReadinessCheck>();
  #server: Server | undefined;

  /** Stores options; nothing listens until `start`. */
  constructor(options: HealthServerOptions) {
    this.#options = options;
  }

  /** Adds (or replaces) the readiness check `name`; a check that throws counts as failing. */
  addReadinessCheck(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  /** Names of the readiness checks that fail now. */
  failingChecks(): string[] {
    return [...this.#checks].filter(([, check]) => !safely(check)).map(([name]) => name);
  }

  /** The bound port; throws before `start` resolved. */
  get port(): number {
    const address = this.#server?.address();
    if (address === null || address === undefined || typeof address === 'string')
      throw new Error('server not listening');
    return address.port;
  }

  /** Starts listening; resolves once bound (rejects if the port is taken). */
  async start(): Promise<void> {
    if (this.#server !== undefined) return;
    const server = createServer((req, res) => void this.#handle(req, res));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port ?? 8080, this.#options.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops accepting connections and closes idle ones; resolves when closed. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      server.closeIdleConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const [status, body, contentType] = await this.#route(req);
      // A body left unread (413) must not be parsed as the next request.
      if (!req.complete) res.setHeader('connection', 'close');
      reply(res, status, body, contentType);
    } catch (err) {
      reply(res, 500, `${err instanceof Error ? err.message : String(err)}\n`);
    }
  }

  async #route(req: IncomingMessage): Promise<[number, string, string?]> {
    const method = req.method ?? 'GET';
    const bodiless = method === 'GET' || method === 'HEAD';
    const url = new URL(req.url ?? '/', 'http://localhost');
    const extra = this.#options.routes?.[url.pathname];
    if (extra !== undefined) {
      if (bodiless) return extra(url, undefined, method);
      const body = await readCappedBody(req, MAX_ROUTE_BODY_BYTES);
      if (body === undefined) return [413, 'request body too large\n'];
      return extra(url, body, method);
    }
    if (!bodiless) return [405, 'method not allowed\n'];
    switch (url.pathname) {
      case '/healthz':
        return [200, 'ok\n'];
      case '/readyz': {
        const failing = this.failingChecks();
        return failing.length === 0 ? [200, 'ok\n'] : [503, `not ready: ${failing.join(', ')}\n`];
      }
      case '/metrics':
        return [200, await this.#options.registry.metrics(), this.#options.registry.contentType];
      default:
        return [404, 'not found\n'];
    }
  }
}

function safely(check: ReadinessCheck): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

function reply(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}
