/** Test helpers for the runtime: local HTTP servers, an instant clock, run inputs. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { resolvePolicy } from '../../../operator/api/index.ts';
import type { Clock } from '../../../operator/lib/clock.ts';
import type { Log } from '../../../operator/lib/log.ts';
import { RUN_VERSION, type RunInput } from '../../../operator/api/run-input.ts';

/** One request as the server saw it. */
export interface SeenRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Answers a request; `n` counts requests to this server from 1. */
export type Handler = (req: SeenRequest, res: ServerResponse, n: number) => void | Promise<void>;

/** A local HTTP server on 127.0.0.1 with an ephemeral port, recording every request. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** Starts a server answering with `handler`. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      requests.push(seen);
      void Promise.resolve(handler(seen, res, requests.length)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** Sends `body` as JSON with `status` and extra headers. */
export function sendJSON(
  res: ServerResponse,
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A clock whose timers fire on the next turn of the event loop, advancing time by their delay. */
export interface InstantClock extends Clock {
  /** Every delay requested, in ms, in order. */
  sleeps: number[];
}

/** An {@link InstantClock} starting at `startMs`: waits are recorded, not waited. */
export function instantClock(startMs = Date.UTC(2025, 0, 1)): InstantClock {
  let now = startMs;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    setTimeout(fn, ms) {
      sleeps.push(ms);
      let cancelled = false;
      setImmediate(() => {
        if (cancelled) return;
        now += Math.max(0, ms);
        fn();
      });
      return () => {
        cancelled = true;
      };
    },
  };
}

/** A logger that writes nothing. */
export function silentLog(): Log {
  return pino({ level: 'silent' });
}

/** A sync run input with built-in policy defaults; `overrides` replace top-level fields. */
export function runInput(overrides: Partial<RunInput> = {}): RunInput {
  return {
    version: RUN_VERSION,
    kind: 'sync',
    attempt: 1,
    dueTime: '2025-01-01T00:00:00Z',
    integration: { namespace: 'payments', name: 'customers', uid: 'uid-1' },
    policy: resolvePolicy(undefined, undefined),
    ...overrides,
  };
}
